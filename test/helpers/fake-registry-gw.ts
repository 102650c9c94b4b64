/**
 * A small in-memory ServiceRegistry and TranslateContext for Gateway API / Ingress translator unit
 * tests (the real registry lives in src/config/translate/registry/).
 */
import type { Diagnostic } from '../../src/errors/diagnostic.js';
import { keyString } from '../../src/errors/diagnostic.js';
import type { BackendIR, ClusterIR, EndpointIR, ListenerIR, MatchIR, RouteIR, StringMatchIR } from '../../src/config/ir/types.js';
import { CLUSTER_DEFAULTS } from '../../src/config/ir/types.js';
import type { LoadedResource, WorkloadIdentity } from '../../src/config/resources/types.js';
import type {
  ClusterRequest, ClusterResult, ResourceStatus, ServiceInfo, ServiceRegistry, TranslateContext,
} from '../../src/config/translate/context.js';
import { byKindOf, res } from './resources.js';

/** A Service as the fake registry knows it. */
export interface FakeService {
  readonly name: string;
  readonly namespace?: string;
  readonly ports: readonly { readonly port: number; readonly name?: string }[];
}

export const TEST_IDENTITY: WorkloadIdentity = {
  namespace: 'istio-system',
  labels: { istio: 'ingressgateway' },
  ingressPort: 80,
  bindAddress: '0.0.0.0',
  clusterDomain: 'cluster.local',
};

/** Registry over a fixed list of Services; clusters are named `outbound|<port>||<fqdn>`. */
export function fakeRegistry(services: readonly FakeService[], clusterDomain = 'cluster.local'): ServiceRegistry & { requested(): string[] } {
  const byHost = new Map<string, ServiceInfo>();
  for (const s of services) {
    const namespace = s.namespace ?? 'default';
    const host = `${s.name}.${namespace}.svc.${clusterDomain}`;
    byHost.set(host, {
      host, namespace, name: s.name, kind: 'Service',
      ports: s.ports.map((p) => ({ port: p.port, ...(p.name ? { name: p.name } : {}), protocol: 'http1' as const })),
      source: { kind: 'Service', namespace, name: s.name },
    });
  }
  const made = new Map<string, ClusterIR>();
  return {
    service: (host) => byHost.get(host),
    cluster(req: ClusterRequest): ClusterResult {
      const svc = byHost.get(req.host);
      if (!svc) return { ok: false, reason: 'service_not_found', message: `service "${req.host}" not found` };
      const p = svc.ports.find((x) => x.port === req.port);
      if (!p) return { ok: false, reason: 'port_not_found', message: `port ${String(req.port)} not found on service "${req.host}"` };
      const name = `outbound|${p.port}||${svc.host}`;
      if (!made.has(name)) {
        made.set(name, {
          name, serviceHost: svc.host, serviceNamespace: svc.namespace, servicePort: p.port, protocol: 'http1',
          lb: CLUSTER_DEFAULTS.lb, endpoints: [], connectTimeoutMs: CLUSTER_DEFAULTS.connectTimeoutMs,
          idleTimeoutMs: CLUSTER_DEFAULTS.idleTimeoutMs,
        });
      }
      return { ok: true, name, cluster: made.get(name)! };
    },
    clusters: () => [...made.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    endpoints: (): readonly EndpointIR[] => [],
    requested: () => [...made.keys()].sort(),
  };
}

/** What a test context collects. */
export interface FakeRun {
  readonly ctx: TranslateContext;
  readonly diagnostics: Diagnostic[];
  readonly statuses: Map<string, ResourceStatus>;
  readonly registry: ReturnType<typeof fakeRegistry>;
}

/** A TranslateContext over fixtures (see test/helpers/resources.ts `res`). */
export function fakeContext(
  list: readonly LoadedResource[],
  services: readonly FakeService[] = [],
  identity: Partial<WorkloadIdentity> = {},
): FakeRun {
  const id = { ...TEST_IDENTITY, ...identity };
  const diagnostics: Diagnostic[] = [];
  const statuses = new Map<string, ResourceStatus>();
  const registry = fakeRegistry(services, id.clusterDomain);
  const ctx: TranslateContext = {
    identity: id,
    resources: new Map(list.map((r) => [keyString(r.key), r])),
    byKind: byKindOf(list),
    registry,
    report: (d) => { diagnostics.push(d); },
    setStatus: (s) => { statuses.set(keyString(s.key), s); },
    fqdn: (host, ns) => (host.includes('.') || host === '*' ? host : `${host}.${ns}.svc.${id.clusterDomain}`),
  };
  return { ctx, diagnostics, statuses, registry };
}

/* ------------------------------------------------------------------------------------------ */
/* A minimal reference router over ListenerIR, for IR-level conformance assertions.           */
/* It implements the IR contract (server → vhost → first matching route); it is not the       */
/* dataplane router.                                                                          */
/* ------------------------------------------------------------------------------------------ */

export interface ProbeRequest {
  readonly host: string;
  readonly path: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Raw query string without `?`. */
  readonly query?: string;
  readonly port?: number;
}

export type ProbeResult =
  | { readonly status: 404; readonly reason: 'no_listener' | 'no_server' | 'no_vhost' | 'no_route'; readonly route?: undefined; readonly cluster?: undefined }
  | { readonly status: number; readonly route: RouteIR; readonly server: string; readonly vhost: string; readonly cluster?: string; readonly detail?: string };

/** Pattern covers host (exact, `*.suffix` = one or more labels, `*`). */
function hostCovers(p: string, h: string): boolean {
  if (p === '*' || p === h) return true;
  return p.startsWith('*.') && h.length > p.length - 1 && h.endsWith(p.slice(1));
}

function pickMostSpecific<T>(items: readonly T[], patterns: (t: T) => readonly string[], host: string): T | undefined {
  let best: T | undefined;
  let score = -1;
  for (const it of items) {
    for (const p of patterns(it)) {
      if (!hostCovers(p, host)) continue;
      const s = p === '*' ? 0 : p.startsWith('*.') ? p.length : 100_000 + p.length;
      if (s > score) { score = s; best = it; }
    }
  }
  return best;
}

function re(v: string): RegExp {
  const i = v.startsWith('(?i)');
  return new RegExp(`^(?:${i ? v.slice(4) : v})$`, i ? 'i' : '');
}

function strMatch(m: StringMatchIR, v: string | undefined): boolean {
  if (m.type === 'Present') return v !== undefined;
  if (v === undefined) return false;
  switch (m.type) {
    case 'Exact': return v === m.value;
    case 'Prefix': return v.startsWith(m.value);
    case 'Suffix': return v.endsWith(m.value);
    case 'Regex': return re(m.value).test(v);
  }
}

function matches(m: MatchIR, req: ProbeRequest): boolean {
  const p = m.path;
  if (p) {
    if (p.type === 'Exact' && req.path !== p.value) return false;
    if (p.type === 'Prefix' && !req.path.startsWith(p.value)) return false;
    if (p.type === 'Regex' && !re(p.value).test(req.path)) return false;
    if (p.type === 'PathPrefix') {
      const v = p.value.replace(/\/+$/, '');
      if (v !== '' && req.path !== v && !req.path.startsWith(`${v}/`)) return false;
    }
  }
  if (m.method && !strMatch(m.method, req.method ?? 'GET')) return false;
  const headers = Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  for (const h of m.headers ?? []) if (strMatch(h.match, headers[h.name]) === Boolean(h.invert)) return false;
  const query = new URLSearchParams(req.query ?? '');
  for (const q of m.queryParams ?? []) if (!strMatch(q.match, query.get(q.name) ?? undefined)) return false;
  if (m.authority && !strMatch(m.authority, req.host)) return false;
  return true;
}

/** Routes a request through listeners the way the IR contract describes. */
export function probe(listeners: readonly ListenerIR[], req: ProbeRequest): ProbeResult {
  const l = listeners.find((x) => x.port === (req.port ?? 80));
  if (!l) return { status: 404, reason: 'no_listener' };
  const host = req.host.replace(/:\d+$/, '').toLowerCase();
  const server = pickMostSpecific(l.servers, (s) => s.hostnames, host);
  if (!server) return { status: 404, reason: 'no_server' };
  const vhost = pickMostSpecific(server.virtualHosts, (v) => v.domains, host);
  if (!vhost) return { status: 404, reason: 'no_vhost' };
  const route = vhost.routes.find((r) => matches(r.match, req));
  if (!route) return { status: 404, reason: 'no_route' };
  const base = { route, server: server.name, vhost: vhost.name };
  const a = route.action;
  if (a.type === 'redirect') return { ...base, status: a.statusCode };
  if (a.type === 'direct') return { ...base, status: a.status };
  const b = a.backends[0]!;
  return b.invalid ? { ...base, status: b.invalid.status, detail: b.invalid.detail } : { ...base, status: 200, cluster: b.cluster! };
}

/* ------------------------------------------------------------------------------------------ */
/* Gateway API fixtures                                                                        */
/* ------------------------------------------------------------------------------------------ */


const GW_API = 'gateway.networking.k8s.io/v1';

/** GatewayClass `portico` (ours unless another controllerName is given). */
export function gatewayClass(name = 'portico', controllerName = 'portico.dev/gateway-controller'): LoadedResource {
  return res({ apiVersion: GW_API, kind: 'GatewayClass', metadata: { name }, spec: { controllerName } });
}

/** Gateway with HTTP listeners (port 80 unless given). */
export function gateway(name: string, listeners: readonly Record<string, unknown>[], opts: { namespace?: string; className?: string; created?: string } = {}): LoadedResource {
  return res({
    apiVersion: GW_API, kind: 'Gateway',
    metadata: { name, namespace: opts.namespace ?? 'default', ...(opts.created ? { creationTimestamp: opts.created } : {}) },
    spec: { gatewayClassName: opts.className ?? 'portico', listeners: listeners.map((l) => ({ port: 80, protocol: 'HTTP', ...l })) },
  });
}

/** HTTPRoute; parentRefs default to the Gateway `gw` in the route namespace. */
export function httpRoute(name: string, spec: Record<string, unknown>, opts: { namespace?: string; created?: string } = {}): LoadedResource {
  return res({
    apiVersion: GW_API, kind: 'HTTPRoute',
    metadata: { name, namespace: opts.namespace ?? 'default', ...(opts.created ? { creationTimestamp: opts.created } : {}) },
    spec: { parentRefs: [{ name: 'gw' }], ...spec },
  });
}

/** A rule forwarding `matches` to Service `svc` port 8080. */
export function rule(matches: unknown[] | undefined, svc = 'v1', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...(matches ? { matches } : {}), backendRefs: [{ name: svc, port: 8080 }], ...extra };
}

/** Backends of a forward route (throws on other actions). */
export function backendsOf(route: RouteIR): readonly BackendIR[] {
  if (route.action.type !== 'forward') throw new TypeError(`Route "${route.id}" does not forward`);
  return route.action.backends;
}
