/** Fixture builders for the Istio translator tests (src/config/translate/istio/*.test.ts). */
import type { Diagnostic } from '../../src/errors/diagnostic.js';
import type { ListenerIR, RouteIR, VirtualHostIR } from '../../src/config/ir/types.js';
import type { LoadedResource, WorkloadIdentity } from '../../src/config/resources/types.js';
import type { ResourceStatus, TranslatorOutput } from '../../src/config/translate/context.js';
import { translateIstio } from '../../src/config/translate/istio/index.js';
import { createFakeContext, type FakeContext, type FakeService } from './fake-registry.js';
import { res } from './resources.js';

interface Meta {
  namespace?: string;
  apiVersion?: string;
  creationTimestamp?: string;
  seq?: number;
}

function object(kind: string, name: string, spec: unknown, meta: Meta): LoadedResource {
  const metadata: Record<string, unknown> = { name, namespace: meta.namespace ?? 'default' };
  if (meta.creationTimestamp) metadata['creationTimestamp'] = meta.creationTimestamp;
  return res({ apiVersion: meta.apiVersion ?? 'networking.istio.io/v1', kind, metadata, spec }, meta.seq);
}

/** An Istio Gateway (namespace default istio-system). */
export function gateway(name: string, spec: unknown, meta: Meta = {}): LoadedResource {
  return object('Gateway', name, spec, { namespace: 'istio-system', ...meta });
}

/** An Istio VirtualService (namespace default "default"). */
export function virtualService(name: string, spec: unknown, meta: Meta = {}): LoadedResource {
  return object('VirtualService', name, spec, meta);
}

/** A plaintext HTTP server. */
export function httpServer(port: number, hosts: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { port: { number: port, name: `http-${port}`, protocol: 'HTTP' }, hosts, ...extra };
}

/** `istio-system/main`: selector istio=ingressgateway, HTTP :80 for `*`. */
export function mainGateway(servers: unknown[] = [httpServer(80, ['*'])]): LoadedResource {
  return gateway('main', { selector: { istio: 'ingressgateway' }, servers });
}

/** Services known to the fake registry in the tests. */
export const SERVICES: readonly FakeService[] = [
  { host: 'reviews.default.svc.cluster.local', ports: [9080], subsets: ['v1', 'v2', 'v3'] },
  { host: 'ratings.default.svc.cluster.local', ports: [9080] },
  { host: 'productpage.default.svc.cluster.local', ports: [9080] },
  { host: 'multi.default.svc.cluster.local', ports: [80, 8080] },
  { host: 'api.shop.svc.cluster.local', ports: [8080] },
  { host: 'web.shop.svc.cluster.local', ports: [8080] },
  { host: 'mirror.default.svc.cluster.local', ports: [80] },
  { host: 'httpbin.org', ports: [443] },
];

/** The result of one translation, with lookups. */
export interface Run {
  readonly out: TranslatorOutput;
  readonly ctx: FakeContext;
  readonly diagnostics: Diagnostic[];
  status(key: string): ResourceStatus | undefined;
  listener(port: number): ListenerIR;
  vhost(port: number, domain: string): VirtualHostIR | undefined;
  routes(port: number, domain: string): RouteIR[];
  codes(): string[];
}

/** Runs translateIstio over fixtures. */
export function run(resources: readonly LoadedResource[], opts: { services?: readonly FakeService[]; identity?: Partial<WorkloadIdentity> } = {}): Run {
  const ctx = createFakeContext({ resources, services: opts.services ?? SERVICES, ...(opts.identity ? { identity: opts.identity } : {}) });
  const out = translateIstio(ctx);
  const listener = (port: number) => {
    const l = out.listeners.find((x) => x.port === port);
    if (!l) throw new Error(`no listener on port ${port}`);
    return l;
  };
  const vhost = (port: number, domain: string) =>
    listener(port).servers.flatMap((s) => s.virtualHosts).find((v) => v.domains.includes(domain));
  return {
    out, ctx, diagnostics: ctx.diagnostics,
    status: (key) => ctx.statuses.get(key),
    listener,
    vhost,
    routes: (port, domain) => [...(vhost(port, domain)?.routes ?? [])],
    codes: () => ctx.diagnostics.map((d) => d.code),
  };
}

/** Translates one VirtualService (hosts ["*"], gateway main) with the given http routes. */
export function runHttp(http: unknown[], opts: { vs?: Record<string, unknown>; extra?: LoadedResource[] } = {}): Run {
  return run([mainGateway(), virtualService('vs', { hosts: ['*'], gateways: ['istio-system/main'], http, ...opts.vs }), ...(opts.extra ?? [])]);
}

/** Routes of `runHttp` on port 80, domain `*`. */
export function httpRoutes(http: unknown[], opts: { vs?: Record<string, unknown>; extra?: LoadedResource[] } = {}): { routes: RouteIR[]; r: Run } {
  const r = runHttp(http, opts);
  return { routes: r.routes(80, '*'), r };
}
