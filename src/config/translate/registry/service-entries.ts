/**
 * ServiceEntries (and the WorkloadEntries / Pods their workloadSelector picks) → registry
 * services, one per host. Endpoints follow `resolution` (istio-networking.md §4).
 */
import type { EndpointIR } from '../../ir/types.js';
import type { LoadedResource } from '../../resources/types.js';
import type { ServicePortInfo } from '../context.js';
import type { PodIndex } from './kube-services.js';
import {
  type DiagnosticSink,
  type RegistryPort,
  type RegistryService,
  exportList,
  isIpLiteral,
  labelMap,
  labelsMatch,
  makeEndpoint,
  portNumber,
  sortEndpoints,
} from './shared.js';

/** What the ServiceEntry builder reads. */
export interface ServiceEntryInput {
  readonly byKind: (kind: string) => readonly LoadedResource[];
  readonly pods: PodIndex;
  readonly sink: DiagnosticSink;
}

/** A ServiceEntry port with the port its endpoints listen on by default. */
interface SePort {
  readonly info: ServicePortInfo;
  readonly targetPort: number;
}

/** One workload behind a ServiceEntry before it is expanded per port. */
interface Workload {
  readonly address: string;
  /** portName → endpoint port; overrides targetPort. */
  readonly ports: Readonly<Record<string, number>>;
  readonly labels?: Record<string, string>;
  readonly weight: number;
  /** Where a bad address is reported. */
  readonly at: { readonly r: LoadedResource; readonly path: string };
}

const ISTIO_GROUP = 'networking.istio.io/';

/** Upstream protocol of a ServiceEntry port protocol (HTTP2 and GRPC speak cleartext h2). */
export function seProtocol(protocol: unknown): ServicePortInfo['protocol'] {
  const p = typeof protocol === 'string' ? protocol.toUpperCase() : '';
  if (p === 'HTTP2' || p === 'GRPC') return 'h2c';
  if (p === 'HTTPS' || p === 'TLS') return 'tls';
  if (p === 'HTTP' || p === 'GRPC-WEB' || p === '') return 'http1';
  return 'tcp';
}

/** Build every ServiceEntry host. Wildcard hosts are kept (they are routable names). */
export function buildServiceEntries(input: ServiceEntryInput): RegistryService[] {
  const { sink } = input;
  const workloadEntries = input.byKind('WorkloadEntry').filter((w) => w.object.apiVersion.startsWith(ISTIO_GROUP));
  const out: RegistryService[] = [];
  for (const r of input.byKind('ServiceEntry')) {
    if (!r.object.apiVersion.startsWith(ISTIO_GROUP)) continue;
    const spec = r.object.spec ?? {};
    const hosts = seHosts(r, sink);
    const ports = sePorts(r, sink);
    const resolution = typeof spec.resolution === 'string' ? spec.resolution.toUpperCase() : 'NONE';
    const workloads = seWorkloads(r, resolution, workloadEntries, input, sink);
    for (const host of hosts) {
      const portMap = new Map<number, RegistryPort>();
      for (const p of ports) {
        portMap.set(p.info.port, { info: p.info, endpoints: expand(workloads(host), p, resolution, sink) });
      }
      const exportTo = exportList(spec.exportTo);
      out.push({
        // Istio names a ServiceEntry service after its host (destination_service_name).
        info: {
          host,
          namespace: r.key.namespace,
          name: host,
          kind: 'ServiceEntry',
          ports: ports.map((p) => p.info),
          ...(exportTo ? { exportTo } : {}),
          source: { kind: r.key.kind, namespace: r.key.namespace, name: r.key.name },
        },
        ports: portMap,
        resource: r,
      });
    }
  }
  return out;
}

function seHosts(r: LoadedResource, sink: DiagnosticSink): string[] {
  const raw: unknown = r.object.spec?.hosts;
  const out: string[] = [];
  (Array.isArray(raw) ? raw : []).forEach((h: unknown, i) => {
    if (typeof h !== 'string' || h === '' || h === '*') {
      sink.add(r, 'REGISTRY_INVALID_FIELD', 'warning', `spec.hosts[${i}]`,
        `Ignoring host ${JSON.stringify(h ?? null)} of ServiceEntry "${r.key.name}": not a DNS name or wildcard prefix`);
      return;
    }
    const host = h.toLowerCase();
    if (!out.includes(host)) out.push(host);
  });
  return out;
}

function sePorts(r: LoadedResource, sink: DiagnosticSink): SePort[] {
  const raw: unknown = r.object.spec?.ports;
  const out: SePort[] = [];
  (Array.isArray(raw) ? raw : []).forEach((p: any, i) => {
    const port = portNumber(p?.number);
    if (port === undefined || out.some((o) => o.info.port === port)) {
      sink.add(r, 'REGISTRY_INVALID_FIELD', 'warning', `spec.ports[${i}].number`,
        `Ignoring port ${JSON.stringify(p?.number ?? null)} of ServiceEntry "${r.key.name}": ${port === undefined ? 'not a port number' : 'the port is declared twice'}`);
      return;
    }
    const name = typeof p.name === 'string' && p.name !== '' ? p.name : undefined;
    out.push({
      info: { ...(name ? { name } : {}), port, protocol: seProtocol(p.protocol) },
      targetPort: portNumber(p.targetPort) ?? port,
    });
  });
  return out;
}

/**
 * The workloads of a ServiceEntry, per host: explicit `endpoints`, else what
 * `workloadSelector` selects, else (DNS only) the host itself.
 */
function seWorkloads(
  r: LoadedResource,
  resolution: string,
  workloadEntries: readonly LoadedResource[],
  input: ServiceEntryInput,
  sink: DiagnosticSink,
): (host: string) => readonly Workload[] {
  const spec = r.object.spec ?? {};
  const none = () => [];
  switch (resolution) {
    case 'STATIC':
    case 'DNS':
    case 'DNS_ROUND_ROBIN':
      break;
    case 'NONE':
      sink.add(r, 'REGISTRY_RESOLUTION_NONE', 'warning', 'spec.resolution',
        `Using no endpoints for ServiceEntry "${r.key.name}": resolution NONE forwards to the original destination, which a gateway does not have`);
      return none;
    case 'DYNAMIC_DNS':
      sink.add(r, 'REGISTRY_UNSUPPORTED_FIELD', 'warning', 'spec.resolution',
        `Using no endpoints for ServiceEntry "${r.key.name}": resolution DYNAMIC_DNS is not yet supported`);
      return none;
    default:
      sink.add(r, 'REGISTRY_INVALID_FIELD', 'warning', 'spec.resolution',
        `Using no endpoints for ServiceEntry "${r.key.name}": unknown resolution ${JSON.stringify(spec.resolution)}`);
      return none;
  }
  const explicit = Array.isArray(spec.endpoints) && spec.endpoints.length > 0;
  const selector = labelMap(spec.workloadSelector?.labels);
  if (explicit) {
    if (selector) {
      sink.add(r, 'REGISTRY_INVALID_FIELD', 'warning', 'spec.workloadSelector',
        `Ignoring workloadSelector of ServiceEntry "${r.key.name}": endpoints and workloadSelector are exclusive, endpoints are used`);
    }
    const list = (spec.endpoints as unknown[]).flatMap((e, i) => workloadOf(e, { r, path: `spec.endpoints[${i}]` }, sink));
    return () => list;
  }
  if (selector) {
    const list = selected(r, selector, workloadEntries, input, sink);
    return () => list;
  }
  if (resolution === 'STATIC') {
    sink.add(r, 'REGISTRY_STATIC_NO_ENDPOINTS', 'warning', 'spec.endpoints',
      `Using no endpoints for ServiceEntry "${r.key.name}": resolution STATIC needs endpoints or a workloadSelector`);
    return none;
  }
  // DNS without endpoints: resolve each host itself; a wildcard cannot be resolved.
  return (host) => {
    if (!host.startsWith('*')) return [{ address: host, ports: {}, weight: 1, at: { r, path: 'spec.hosts' } }];
    const i = (spec.hosts as unknown[]).findIndex((h) => typeof h === 'string' && h.toLowerCase() === host);
    sink.add(r, 'REGISTRY_DNS_WILDCARD_HOST', 'warning', `spec.hosts[${i}]`,
      `Using no endpoints for "${host}": a wildcard host cannot be resolved by DNS, list endpoints instead`);
    return [];
  };
}

/** WorkloadEntries (spec.labels over metadata.labels) and ready Pods in the ServiceEntry namespace. */
function selected(
  r: LoadedResource,
  selector: Record<string, string>,
  workloadEntries: readonly LoadedResource[],
  input: ServiceEntryInput,
  sink: DiagnosticSink,
): Workload[] {
  const ns = r.key.namespace;
  const out: Workload[] = [];
  for (const w of workloadEntries) {
    if (w.key.namespace !== ns) continue;
    const labels = { ...labelMap(w.object.metadata.labels), ...labelMap(w.object.spec?.labels) };
    if (!labelsMatch(selector, labels) || !workloadHealthy(w)) continue;
    out.push(...workloadOf({ ...w.object.spec, labels }, { r: w, path: 'spec' }, sink));
  }
  for (const pod of input.pods.inNamespace(ns)) {
    const labels = labelMap(pod.object.metadata.labels);
    if (!labelsMatch(selector, labels)) continue;
    out.push({ address: pod.object.status.podIP, ports: {}, ...(labels ? { labels } : {}), weight: 1, at: { r: pod, path: 'status.podIP' } });
  }
  return out;
}

/** Istio's health checks set condition Healthy=False on WorkloadEntries that fail. */
function workloadHealthy(w: LoadedResource): boolean {
  const conditions: unknown = w.object.status?.conditions;
  return !(Array.isArray(conditions) && conditions.some((c) => c?.type === 'Healthy' && c?.status === 'False'));
}

/** A WorkloadEntry-shaped object → Workload (empty when it has no address). */
function workloadOf(raw: any, at: Workload['at'], sink: DiagnosticSink): Workload[] {
  const address: unknown = raw?.address;
  if (typeof address !== 'string' || address === '') {
    sink.add(at.r, 'REGISTRY_INVALID_ENDPOINT', 'warning', `${at.path}.address`,
      `Ignoring endpoint of ${at.r.key.kind} "${at.r.key.name}": address is missing`);
    return [];
  }
  const ports: Record<string, number> = {};
  if (raw.ports && typeof raw.ports === 'object') {
    for (const [name, v] of Object.entries(raw.ports)) {
      const n = portNumber(v);
      if (n !== undefined) ports[name] = n;
    }
  }
  const labels = labelMap(raw.labels);
  // Envoy load-balancing weights start at 1; Istio treats an unset (0) weight as 1.
  const weight = typeof raw.weight === 'number' && Number.isInteger(raw.weight) && raw.weight > 0 ? raw.weight : 1;
  return [{ address, ports, ...(labels ? { labels } : {}), weight, at: { r: at.r, path: `${at.path}.address` } }];
}

/** Workloads → endpoints of one port. Port: `ports[portName]`, else targetPort, else the number. */
function expand(workloads: readonly Workload[], p: SePort, resolution: string, sink: DiagnosticSink): EndpointIR[] {
  const out: EndpointIR[] = [];
  for (const w of workloads) {
    if (w.address.startsWith('unix://')) {
      sink.add(w.at.r, 'REGISTRY_UNSUPPORTED_FIELD', 'warning', w.at.path,
        `Ignoring endpoint "${w.address}": unix domain socket endpoints are not yet supported`);
      continue;
    }
    const ip = isIpLiteral(w.address);
    if (!ip && resolution === 'STATIC') {
      sink.add(w.at.r, 'REGISTRY_INVALID_ENDPOINT', 'warning', w.at.path,
        `Ignoring endpoint "${w.address}": resolution STATIC needs an IP address`);
      continue;
    }
    const port = (p.info.name !== undefined ? w.ports[p.info.name] : undefined) ?? p.targetPort;
    out.push(makeEndpoint(w.address, port, { weight: w.weight, ...(w.labels ? { labels: w.labels } : {}), dns: !ip }));
  }
  return sortEndpoints(out);
}
