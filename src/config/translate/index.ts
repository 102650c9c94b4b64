/**
 * translate(): loaded resources → validated → GatewayIR + diagnostics + per-resource status.
 * Pure. Invalid resources are quarantined alone (validateAll); every translator sees the same
 * service registry; listeners from all translators are merged by address:port.
 */
import type { Diagnostic, ResourceKey } from '../../errors/diagnostic.js';
import { keyString } from '../../errors/diagnostic.js';
import type { GatewayIR, ListenerIR, ServerIR, VirtualHostIR } from '../ir/types.js';
import type { LoadedResource, WorkloadIdentity } from '../resources/types.js';
import { isSupportedKind, skippedKindWarning, validateAll } from '../resources/validate.js';
import type { ResourceStatus, TranslateContext, Translator } from './context.js';
import { translateGatewayApi } from './gatewayapi/index.js';
import { translateIngress } from './ingress/index.js';
import { translateIstio } from './istio/index.js';
import { createServiceRegistry } from './registry/index.js';
import { translateTelemetry } from './telemetry/index.js';
import type { MeshConfig } from '../mesh/mesh-config.js';
import { type CredentialMaterial, mergeMaterial } from './tls/credentials.js';

export interface TranslateResult {
  readonly ir: GatewayIR;
  readonly diagnostics: readonly Diagnostic[];
  /** By `Kind/namespace/name`. */
  readonly statuses: ReadonlyMap<string, ResourceStatus>;
  /** Resources rejected by validation (quarantined), by key. */
  readonly rejected: ReadonlySet<string>;
  /**
   * PEM material of every Secret a TLS server or cluster uses, by credential key. Kept out of
   * the IR (so out of its hash, goldens and /config_dump); the runtime's certificate store
   * takes it on every apply, so a rotated Secret reaches new handshakes without a new snapshot.
   */
  readonly credentials: ReadonlyMap<string, CredentialMaterial>;
}

const TRANSLATORS: readonly Translator[] = [translateIstio, translateGatewayApi, translateIngress];

export const DEFAULT_IDENTITY: WorkloadIdentity = Object.freeze({
  namespace: 'istio-system',
  labels: Object.freeze({ istio: 'ingressgateway' }),
  ingressPort: 80,
  bindAddress: '0.0.0.0',
  clusterDomain: 'cluster.local',
});

/** `mesh`: the --mesh-config (Telemetry providers, root namespace); absent = Portico's defaults. */
export function translate(resources: readonly LoadedResource[], identity: WorkloadIdentity = DEFAULT_IDENTITY, mesh?: MeshConfig): TranslateResult {
  const diagnostics: Diagnostic[] = [];
  const statuses = new Map<string, ResourceStatus>();
  const supported: LoadedResource[] = [];
  for (const r of resources) {
    if (isSupportedKind(r.object.apiVersion, r.object.kind)) supported.push(r);
    else {
      diagnostics.push(skippedKindWarning(r));
      statuses.set(keyString(r.key), { key: r.key, state: 'ignored', reasons: [`Kind ${r.object.apiVersion}/${r.object.kind} is not served by Portico`] });
    }
  }
  const v = validateAll(supported);
  diagnostics.push(...v.diagnostics);
  const rejected = new Set<string>();
  for (const [k, ds] of v.rejected) {
    rejected.add(k);
    const r = supported.find((x) => keyString(x.key) === k);
    if (r) statuses.set(k, { key: r.key, state: 'rejected', reasons: ds.filter((d: Diagnostic) => d.severity === 'error').map((d: Diagnostic) => `${d.path}: ${d.message}`) });
  }
  const valid = v.valid;
  const byKindMap = new Map<string, LoadedResource[]>();
  const all = new Map<string, LoadedResource>();
  for (const r of valid) {
    let l = byKindMap.get(r.key.kind);
    if (!l) byKindMap.set(r.key.kind, (l = []));
    l.push(r);
    all.set(keyString(r.key), r);
  }
  const byKind = (kind: string): readonly LoadedResource[] => byKindMap.get(kind) ?? [];
  const report = (d: Omit<Diagnostic, 'origin'> & { resource?: ResourceKey }): void => {
    const r = d.resource ? all.get(keyString(d.resource)) : undefined;
    const origin = r ? (r.positionOf(d.path) ?? r.origin) : undefined;
    diagnostics.push(origin ? { ...d, origin } : d);
  };
  const registry = createServiceRegistry({ identity, byKind, report });
  const ctx: TranslateContext = {
    identity,
    resources: all,
    byKind,
    registry,
    report,
    setStatus: (s) => { statuses.set(keyString(s.key), s); },
    fqdn: (host, ns) => (host.includes('.') || host === '*' ? host : `${host}.${ns}.svc.${identity.clusterDomain}`),
  };
  const listeners: ListenerIR[] = [];
  const credentials = new Map<string, CredentialMaterial>();
  for (const t of TRANSLATORS) {
    const out = t(ctx);
    listeners.push(...out.listeners);
    for (const [k, m] of out.credentials ?? []) mergeMaterial(credentials, k, m);
  }
  const merged = mergeListeners(listeners, (l, message) => diagnostics.push({
    code: 'TLS_LISTENER_PROTOCOL_CONFLICT', severity: 'warning', path: '', message,
    ...(l.sources[0] ? { resource: l.sources[0] } : {}),
  }));
  const telemetry = translateTelemetry(ctx, mesh);
  const ir: GatewayIR = { listeners: merged, clusters: registry.clusters(), ...(telemetry ? { telemetry } : {}) };
  for (const [k, m] of registry.credentials?.() ?? []) mergeMaterial(credentials, k, m);
  for (const d of registry.diagnostics()) if (!diagnostics.includes(d)) diagnostics.push(d);
  // Every remaining valid resource without a status was read as data (Service, Endpoints...).
  for (const [k, r] of all) if (!statuses.has(k)) statuses.set(k, { key: r.key, state: 'accepted', reasons: [] });
  return { ir, diagnostics: dedupe(diagnostics), statuses, rejected, credentials };
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const k = `${d.code}|${d.resource ? keyString(d.resource) : ''}|${d.path}|${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Merge listeners with the same address:port; plaintext servers with the same hostnames share
 * vhosts. TLS servers never merge: each keeps its own settings and route table (one filter
 * chain per server). A plaintext listener and a TLS listener on one port cannot be served
 * together: the first keeps the port and `conflict` is told about the other.
 */
export function mergeListeners(list: readonly ListenerIR[], conflict?: (dropped: ListenerIR, message: string) => void): ListenerIR[] {
  const byName = new Map<string, ListenerIR>();
  for (const l of list) {
    const prev = byName.get(l.name);
    if (!prev) { byName.set(l.name, l); continue; }
    if (isTls(prev) !== isTls(l)) {
      conflict?.(l, `Skipping ${isTls(l) ? 'TLS' : 'plaintext HTTP'} servers ${l.servers.map((s) => `"${s.name}"`).join(', ')} on ${l.name}: the port already serves ${isTls(prev) ? 'TLS' : 'plaintext HTTP'}`);
      continue;
    }
    const servers = [...prev.servers];
    for (const s of l.servers) {
      const i = s.tls ? -1 : servers.findIndex((x) => !x.tls && sameHosts(x, s) && !x.httpsRedirect && !s.httpsRedirect);
      if (i === -1) servers.push(s);
      else servers[i] = { ...servers[i]!, virtualHosts: mergeVhosts(servers[i]!.virtualHosts, s.virtualHosts) };
    }
    const protocol = prev.protocol === 'HTTPS' || l.protocol === 'HTTPS' ? 'HTTPS' : prev.protocol;
    byName.set(l.name, { ...prev, protocol, servers, sources: [...prev.sources, ...l.sources] });
  }
  return [...byName.values()].sort((a, b) => a.port - b.port || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function isTls(l: ListenerIR): boolean {
  return l.protocol === 'HTTPS' || l.protocol === 'TLS';
}

function sameHosts(a: ServerIR, b: ServerIR): boolean {
  const x = [...a.hostnames].sort().join(',');
  const y = [...b.hostnames].sort().join(',');
  return x === y;
}

function mergeVhosts(a: readonly VirtualHostIR[], b: readonly VirtualHostIR[]): VirtualHostIR[] {
  const out = [...a];
  for (const v of b) {
    const i = out.findIndex((x) => x.domains.join(',') === v.domains.join(','));
    if (i === -1) out.push(v);
    else out[i] = { ...out[i]!, routes: [...out[i]!.routes, ...v.routes] };
  }
  return out;
}
