/**
 * The service registry: Services (with Endpoints, EndpointSlices or Pods), ServiceEntries
 * (with WorkloadEntries) and DestinationRules, as the gateway workload sees them. Built once
 * per translation, purely; clusters are made on demand, memoized by name. See docs/upstreams.md.
 */
import type { Diagnostic, ResourceKey } from '../../../errors/diagnostic.js';
import type { ClusterIR, ClusterTlsIR, EndpointIR } from '../../ir/types.js';
import type { LoadedResource, WorkloadIdentity } from '../../resources/types.js';
import type { ClusterRequest, ClusterResult, ServiceRegistry } from '../context.js';
import { type DestinationRuleEntry, buildDestinationRules, hostMatchScore, selectRule } from './destination-rules.js';
import { buildKubeServices, indexPods, serviceExportTo } from './kube-services.js';
import { buildServiceEntries } from './service-entries.js';
import { type RegistryService, cmp, compareAge, createSink, deepFreeze, isExportedTo, labelsMatch } from './shared.js';
import { type CredentialMaterial, fileCredential, mergeMaterial, readSecret } from '../tls/credentials.js';
import { type ClientTlsPolicy, clusterSettings, effectivePolicy } from './traffic-policy.js';

export { servicePortProtocol } from './kube-services.js';
export { seProtocol } from './service-entries.js';
export { expandHost, hostMatchScore } from './destination-rules.js';

/** What the registry is built from; independent of the full TranslateContext so it is unit-testable. */
export interface RegistryInput {
  readonly identity: WorkloadIdentity;
  /** Resources of one kind, in input order. */
  byKind(kind: string): readonly LoadedResource[];
  /**
   * Called once per diagnostic, in sorted order, before createServiceRegistry returns. Every
   * registry diagnostic names its resource, so `TranslateContext.report` can be passed as is.
   */
  readonly report?: (d: Diagnostic & { readonly resource: ResourceKey }) => void;
}

/** A ServiceRegistry that also lists the diagnostics found while building it. */
export type ServiceRegistryWithDiagnostics = ServiceRegistry & { diagnostics(): Diagnostic[] };

/**
 * Build the registry for the gateway identity. Pure: reads only `input`. Visibility (exportTo,
 * DestinationRule choice) is relative to `identity.namespace`, the namespace of the gateway
 * workload, so `ClusterRequest.fromNamespace` does not change the result and clusters can be
 * memoized by name alone.
 */
export function createServiceRegistry(input: RegistryInput): ServiceRegistryWithDiagnostics {
  const { identity } = input;
  const sink = createSink();
  // Services and ServiceEntries not exported to the gateway namespace are skipped before they
  // are read, so they cost nothing and report nothing.
  const visible = (r: LoadedResource) => isExportedTo(
    r.key.kind === 'Service' ? serviceExportTo(r) : r.object.spec?.exportTo, r.key.namespace, identity.namespace);
  const byKind = (kind: string) =>
    kind === 'Service' || kind === 'ServiceEntry' ? input.byKind(kind).filter(visible) : input.byKind(kind);
  const pods = indexPods(byKind);
  const services = indexServices(
    [
      ...buildKubeServices({ byKind, clusterDomain: identity.clusterDomain, pods, sink }),
      ...buildServiceEntries({ byKind, pods, sink }),
    ],
    sink,
  );
  const rules = buildDestinationRules({ byKind, identity, sink });
  const hosts = [...services.keys()];
  for (const rule of rules) {
    if (!hosts.some((h) => hostMatchScore(rule.host, h) !== undefined)) {
      sink.add(rule.resource, 'REGISTRY_DR_HOST_NOT_FOUND', 'warning', 'spec.host',
        `Cannot apply DestinationRule "${rule.resource.key.name}" to "${rule.host}": no Service or ServiceEntry with this host is visible to the gateway`);
    }
  }
  const diagnostics = sink.list();
  for (const d of diagnostics) input.report?.(d);

  const ruleFor = memo((host: string) => selectRule(rules, host));
  const built = new Map<string, ClusterIR>();
  const material = new Map<string, CredentialMaterial>();
  const secrets = new Map(input.byKind('Secret').map((r) => [`${r.key.namespace}/${r.key.name}`, r]));
  // Origination problems are found lazily (per requested cluster): reported straight through.
  const tlsEnv: TlsEnv = {
    identityNamespace: identity.namespace,
    secret: (ns, name) => secrets.get(`${ns}/${name}`),
    material,
    report: (r, path, message) => {
      const origin = r.positionOf(path) ?? r.origin;
      input.report?.({ code: 'TLS_ORIGINATION_INVALID', severity: 'warning', resource: r.key, path, ...(origin ? { origin } : {}), message });
    },
  };

  return {
    service: (host) => services.get(host.toLowerCase())?.info,
    endpoints(host, port) {
      return services.get(host.toLowerCase())?.ports.get(port)?.endpoints ?? [];
    },
    cluster(req) {
      return resolveCluster(req, services, ruleFor, built, tlsEnv);
    },
    credentials: () => material,
    clusters() {
      return [...built.values()].sort((a, b) => cmp(a.name, b.name));
    },
    diagnostics: () => [...diagnostics],
  };
}

/**
 * Host → service. A Kubernetes Service wins over a ServiceEntry with the same host (the entry
 * then only adds metadata in Istio); between ServiceEntries the oldest wins.
 */
function indexServices(list: readonly RegistryService[], sink: ReturnType<typeof createSink>): Map<string, RegistryService> {
  const sorted = [...list].sort(
    (a, b) => Number(a.info.kind !== 'Service') - Number(b.info.kind !== 'Service') || compareAge(a.resource, b.resource),
  );
  const out = new Map<string, RegistryService>();
  for (const s of sorted) {
    const prev = out.get(s.info.host);
    if (!prev) {
      // Frozen: info and endpoints are handed out as is by service() and endpoints().
      deepFreeze(s.info);
      for (const p of s.ports.values()) deepFreeze(p.endpoints);
      out.set(s.info.host, s);
    } else if (prev.info.kind === 'ServiceEntry' && s.resource !== prev.resource) {
      const hosts: unknown = s.resource.object.spec?.hosts;
      const i = Array.isArray(hosts) ? hosts.findIndex((h) => typeof h === 'string' && h.toLowerCase() === s.info.host) : -1;
      const owner = prev.resource.key;
      sink.add(s.resource, 'REGISTRY_DUPLICATE_HOST', 'warning', `spec.hosts[${i}]`,
        `Ignoring host "${s.info.host}": ServiceEntry "${owner.namespace}/${owner.name}" is older and declares it too`);
    }
  }
  return out;
}

function resolveCluster(
  req: ClusterRequest,
  services: ReadonlyMap<string, RegistryService>,
  ruleFor: (host: string) => DestinationRuleEntry | undefined,
  built: Map<string, ClusterIR>,
  tlsEnv: TlsEnv,
): ClusterResult {
  const host = req.host.toLowerCase();
  const svc = services.get(host);
  if (!svc) {
    return { ok: false, reason: 'service_not_found', message: `Cannot resolve host "${req.host}": no Service or ServiceEntry with this host is visible to the gateway` };
  }
  const numbers = [...svc.ports.keys()];
  const list = numbers.join(', ') || 'none';
  let portNo = req.port;
  if (portNo === undefined) {
    if (numbers.length !== 1) {
      return numbers.length === 0
        ? { ok: false, reason: 'port_not_found', message: `Cannot pick a port of "${host}": the service has no ports` }
        : { ok: false, reason: 'port_required', message: `Cannot pick a port of "${host}": the service has ports ${list}, set one` };
    }
    portNo = numbers[0]!;
  }
  const port = svc.ports.get(portNo);
  if (!port) {
    return { ok: false, reason: 'port_not_found', message: `Cannot resolve port ${portNo} of "${host}": the service has ports ${list}` };
  }
  const name = `outbound|${portNo}|${req.subset ?? ''}|${host}`;
  const cached = built.get(name);
  if (cached) return { ok: true, name, cluster: cached };

  const rule = ruleFor(host);
  let endpoints: readonly EndpointIR[] = port.endpoints;
  const subset = req.subset !== undefined ? rule?.subsets.get(req.subset) : undefined;
  if (req.subset !== undefined) {
    // An undefined subset answers 503 at the caller; it never falls back to all endpoints.
    if (!subset) {
      const why = rule
        ? `DestinationRule "${rule.resource.key.namespace}/${rule.resource.key.name}" defines ${subsetList(rule)}`
        : 'no DestinationRule applies to this host';
      return { ok: false, reason: 'subset_not_found', message: `Cannot resolve subset "${req.subset}" of "${host}": ${why}` };
    }
    endpoints = endpoints.filter((e) => labelsMatch(subset.labels, e.labels));
  }
  const block = effectivePolicy(rule?.policy, subset?.policy, portNo);
  const settings = clusterSettings(block, port.info.protocol);
  const tls = block.tls && rule ? clusterTls(block.tls, rule, tlsEnv) : undefined;
  const cluster: ClusterIR = deepFreeze({
    name,
    serviceHost: host,
    serviceNamespace: svc.info.namespace,
    servicePort: portNo,
    ...(req.subset !== undefined ? { subset: req.subset } : {}),
    protocol: settings.protocol,
    lb: settings.lb,
    endpoints,
    connectTimeoutMs: settings.connectTimeoutMs,
    ...(settings.maxConnections !== undefined ? { maxConnections: settings.maxConnections } : {}),
    ...(settings.maxPendingRequests !== undefined ? { maxPendingRequests: settings.maxPendingRequests } : {}),
    ...(settings.maxRequests !== undefined ? { maxRequests: settings.maxRequests } : {}),
    ...(settings.maxRequestsPerConnection !== undefined ? { maxRequestsPerConnection: settings.maxRequestsPerConnection } : {}),
    idleTimeoutMs: settings.idleTimeoutMs,
    ...(tls ? { tls } : {}),
    source: svc.info.source,
  });
  built.set(name, cluster);
  return { ok: true, name, cluster };
}

/** What origination needs besides the policy: Secrets, the material sink, diagnostics. */
interface TlsEnv {
  readonly identityNamespace: string;
  secret(ns: string, name: string): LoadedResource | undefined;
  readonly material: Map<string, CredentialMaterial>;
  report(r: LoadedResource, path: string, message: string): void;
}

/**
 * DestinationRule ClientTLSSettings → ClusterTlsIR. DISABLE gives none; ISTIO_MUTUAL needs a mesh
 * identity Portico does not have (warning, plaintext). MUTUAL without a client certificate
 * falls back to SIMPLE with a warning. `credentialName` Secrets are read from the gateway
 * workload's namespace (Istio applies DestinationRule credentials at gateways from there).
 */
function clusterTls(p: ClientTlsPolicy, rule: DestinationRuleEntry, env: TlsEnv): ClusterTlsIR | undefined {
  const r = rule.resource;
  if (p.mode === 'DISABLE') return undefined;
  if (p.mode === 'ISTIO_MUTUAL') {
    env.report(r, `${p.path}.mode`, 'Connecting without TLS: ISTIO_MUTUAL needs an Istio mesh identity, which Portico does not have');
    return undefined;
  }
  let mode: 'SIMPLE' | 'MUTUAL' = p.mode;
  let credential;
  if (p.credentialName) {
    const ns = env.identityNamespace;
    const got = readSecret((kind, n, name) => (kind === 'Secret' ? env.secret(n, name) : undefined), ns, p.credentialName,
      { certificate: false, ca: true, istio: true });
    if (!got.ok) {
      env.report(r, `${p.path}.credentialName`, `${got.message} in the gateway namespace "${ns}"; verifying the upstream with the system CAs${mode === 'MUTUAL' ? ' and sending no client certificate' : ''}`);
      if (mode === 'MUTUAL') mode = 'SIMPLE';
    } else {
      const full = readSecret((kind, n, name) => (kind === 'Secret' ? env.secret(n, name) : undefined), ns, p.credentialName,
        { certificate: mode === 'MUTUAL', ca: true, istio: true });
      if (mode === 'MUTUAL' && !full.ok) {
        env.report(r, `${p.path}.credentialName`, `${full.message}; sending no client certificate (SIMPLE)`);
        mode = 'SIMPLE';
      }
      const use = full.ok ? full : got;
      credential = use.credential;
      mergeMaterial(env.material, use.credential.key, use.material);
    }
  } else {
    const cert = mode === 'MUTUAL' ? p.clientCertificate : undefined;
    const key = mode === 'MUTUAL' ? p.privateKey : undefined;
    if (mode === 'MUTUAL' && (!cert || !key)) {
      env.report(r, p.path, 'Originating SIMPLE TLS: mode MUTUAL needs clientCertificate and privateKey (or credentialName)');
      mode = 'SIMPLE';
    }
    if ((mode === 'MUTUAL' && cert && key) || p.caCertificates) {
      credential = fileCredential(mode === 'MUTUAL' ? cert : undefined, mode === 'MUTUAL' ? key : undefined, p.caCertificates);
    }
  }
  return {
    mode,
    ...(credential ? { credential } : {}),
    ...(p.sni ? { sni: p.sni } : {}),
    ...(p.subjectAltNames?.length ? { subjectAltNames: p.subjectAltNames } : {}),
    ...(p.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
  };
}

function subsetList(rule: DestinationRuleEntry): string {
  const names = [...rule.subsets.keys()];
  return names.length === 0 ? 'no subsets' : `subsets ${names.map((n) => `"${n}"`).join(', ')}`;
}

function memo<K, V>(f: (k: K) => V): (k: K) => V {
  const cache = new Map<K, V>();
  return (k) => {
    if (!cache.has(k)) cache.set(k, f(k));
    return cache.get(k) as V;
  };
}

