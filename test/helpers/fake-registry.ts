/**
 * A table-driven ServiceRegistry and a TranslateContext over in-memory fixtures, for
 * translator unit tests that must not depend on the real registry.
 */
import type { Diagnostic } from '../../src/errors/diagnostic.js';
import { keyString } from '../../src/errors/diagnostic.js';
import type { ClusterIR } from '../../src/config/ir/types.js';
import type { LoadedResource, WorkloadIdentity } from '../../src/config/resources/types.js';
import type { ClusterResult, ResourceStatus, ServiceInfo, ServiceRegistry, TranslateContext } from '../../src/config/translate/context.js';

/** One fake service: FQDN → ports and DestinationRule subsets. */
export interface FakeService {
  readonly host: string;
  readonly ports: readonly number[];
  readonly subsets?: readonly string[];
}

/** A ServiceRegistry backed by a table; clusters are named `outbound|port|subset|host`. */
export function createFakeRegistry(table: readonly FakeService[]): ServiceRegistry {
  const byHost = new Map(table.map((s) => [s.host, s]));
  const built = new Map<string, ClusterIR>();
  const info = (s: FakeService): ServiceInfo => {
    const [name = '', namespace = ''] = s.host.split('.');
    return {
      host: s.host, name, namespace, kind: 'Service',
      ports: s.ports.map((port) => ({ port, protocol: 'http1' as const })),
      source: { kind: 'Service', namespace, name },
    };
  };
  return {
    service: (host) => {
      const s = byHost.get(host);
      return s ? info(s) : undefined;
    },
    cluster(req): ClusterResult {
      const s = byHost.get(req.host);
      if (!s) return { ok: false, reason: 'service_not_found', message: `Cannot resolve host "${req.host}": no Service or ServiceEntry with this host` };
      let port = req.port;
      if (port === undefined) {
        if (s.ports.length !== 1) return { ok: false, reason: 'port_required', message: `Cannot resolve "${req.host}": the service has several ports, set destination.port` };
        port = s.ports[0]!;
      }
      if (!s.ports.includes(port)) return { ok: false, reason: 'port_not_found', message: `Cannot resolve port ${port} of "${req.host}": the service has no such port` };
      if (req.subset !== undefined && !(s.subsets ?? []).includes(req.subset)) {
        return { ok: false, reason: 'subset_not_found', message: `Cannot resolve subset "${req.subset}" of "${req.host}": no DestinationRule defines it` };
      }
      const name = `outbound|${port}|${req.subset ?? ''}|${req.host}`;
      let cluster = built.get(name);
      if (!cluster) {
        cluster = {
          name, serviceHost: req.host, servicePort: port, protocol: 'http1', lb: 'LEAST_REQUEST', endpoints: [],
          connectTimeoutMs: 10_000, idleTimeoutMs: 3_600_000, ...(req.subset !== undefined ? { subset: req.subset } : {}),
        };
        built.set(name, cluster);
      }
      return { ok: true, name, cluster };
    },
    clusters: () => [...built.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    endpoints: () => [],
  };
}

/** Default gateway identity used by translator tests. */
export const TEST_IDENTITY: WorkloadIdentity = {
  namespace: 'istio-system',
  labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' },
  ingressPort: 80,
  bindAddress: '0.0.0.0',
  clusterDomain: 'cluster.local',
};

/** A TranslateContext that records diagnostics and statuses. */
export interface FakeContext extends TranslateContext {
  readonly diagnostics: Diagnostic[];
  readonly statuses: Map<string, ResourceStatus>;
}

/** Builds a context over fixtures (see test/helpers/resources.ts `res`). */
export function createFakeContext(opts: {
  resources: readonly LoadedResource[];
  services?: readonly FakeService[];
  identity?: Partial<WorkloadIdentity>;
}): FakeContext {
  const identity = { ...TEST_IDENTITY, ...opts.identity };
  const diagnostics: Diagnostic[] = [];
  const statuses = new Map<string, ResourceStatus>();
  return {
    identity,
    resources: new Map(opts.resources.map((r) => [keyString(r.key), r])),
    byKind: (kind) => opts.resources.filter((r) => r.key.kind === kind),
    registry: createFakeRegistry(opts.services ?? []),
    report: (d) => void diagnostics.push(d),
    setStatus: (s) => void statuses.set(keyString(s.key), s),
    fqdn: (host, namespace) => (host.includes('.') || host.includes('*') ? host : `${host}.${namespace}.svc.${identity.clusterDomain}`),
    diagnostics,
    statuses,
  };
}
