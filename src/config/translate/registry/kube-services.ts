/**
 * Kubernetes Services → registry services. Endpoints come from EndpointSlices when any exist
 * for the Service, else from the v1 Endpoints object, else from the Pods its selector matches
 * (targetPort resolved against container ports), like the endpoints controller would.
 */
import type { EndpointIR } from '../../ir/types.js';
import type { LoadedResource } from '../../resources/types.js';
import type { ServicePortInfo } from '../context.js';
import {
  type DiagnosticSink,
  type RegistryPort,
  type RegistryService,
  cmp,
  isIpLiteral,
  labelMap,
  labelsMatch,
  makeEndpoint,
  portNumber,
  sortEndpoints,
} from './shared.js';

/** What the Kubernetes builder reads. */
export interface KubeInput {
  readonly byKind: (kind: string) => readonly LoadedResource[];
  readonly clusterDomain: string;
  readonly pods: PodIndex;
  readonly sink: DiagnosticSink;
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Istio reads Service visibility from this annotation (comma-separated namespaces). */
const EXPORT_TO_ANNOTATION = 'networking.istio.io/exportTo';
const H2C_APP_PROTOCOLS = new Set(['kubernetes.io/h2c', 'http2', 'grpc', 'h2c']);
const H2C_PORT_NAMES = ['http2', 'grpc', 'h2c'];

/** Upstream protocol of a Service port, from appProtocol, else from the port name prefix. */
export function servicePortProtocol(name: string | undefined, appProtocol: string | undefined): 'http1' | 'h2c' {
  if (appProtocol !== undefined) return H2C_APP_PROTOCOLS.has(appProtocol.toLowerCase()) ? 'h2c' : 'http1';
  const n = (name ?? '').toLowerCase();
  return H2C_PORT_NAMES.some((p) => n === p || n.startsWith(`${p}-`)) ? 'h2c' : 'http1';
}

/** Pods by namespace, by name and by IP, for selector fallback and endpoint labels. */
export interface PodIndex {
  /** Ready pods with an IP in a namespace, in key order. */
  inNamespace(ns: string): readonly LoadedResource[];
  /** Labels of the pod a targetRef or an IP points to (undefined when unknown or ambiguous). */
  labelsFor(ns: string, ip: string, targetRef: unknown): Record<string, string> | undefined;
}

/** Index the Pod objects. */
export function indexPods(byKind: (kind: string) => readonly LoadedResource[]): PodIndex {
  const byNs = new Map<string, LoadedResource[]>();
  const byName = new Map<string, LoadedResource>();
  const byIp = new Map<string, LoadedResource[]>();
  const pods = [...byKind('Pod')].sort((a, b) => cmp(a.key.namespace, b.key.namespace) || cmp(a.key.name, b.key.name));
  for (const p of pods) {
    const ns = p.key.namespace;
    byName.set(`${ns}/${p.key.name}`, p);
    const ip = p.object.status?.podIP;
    if (typeof ip !== 'string' || ip === '') continue;
    // hostNetwork pods share the node IP, so an IP may name several pods.
    byIp.set(`${ns}/${ip}`, [...(byIp.get(`${ns}/${ip}`) ?? []), p]);
    if (podReady(p)) byNs.set(ns, [...(byNs.get(ns) ?? []), p]);
  }
  return {
    inNamespace: (ns) => byNs.get(ns) ?? [],
    labelsFor(ns, ip, targetRef) {
      const ref = targetRef as { kind?: unknown; name?: unknown; namespace?: unknown } | undefined;
      if (ref?.kind === 'Pod' && typeof ref.name === 'string') {
        const refNs = typeof ref.namespace === 'string' && ref.namespace ? ref.namespace : ns;
        const pod = byName.get(`${refNs}/${ref.name}`);
        if (pod) return labelMap(pod.object.metadata.labels);
      }
      const same = byIp.get(`${ns}/${ip}`);
      return same?.length === 1 ? labelMap(same[0]!.object.metadata.labels) : undefined;
    },
  };
}

/** Running, not terminating, and not reported unready (a pod without conditions counts as ready). */
function podReady(p: LoadedResource): boolean {
  const o = p.object;
  if (o.metadata.deletionTimestamp) return false;
  if (o.status?.phase === 'Succeeded' || o.status?.phase === 'Failed') return false;
  const conditions: unknown = o.status?.conditions;
  if (!Array.isArray(conditions)) return true;
  return !conditions.some((c) => c?.type === 'Ready' && c?.status === 'False');
}

interface ServicePortSpec {
  readonly info: ServicePortInfo;
  readonly targetPort: number | string;
}

/** A Service's exportTo, from the Istio annotation (undefined when absent = everywhere). */
export function serviceExportTo(r: LoadedResource): string[] | undefined {
  const annotation = r.object.metadata.annotations?.[EXPORT_TO_ANNOTATION];
  return typeof annotation === 'string' ? annotation.split(',').map((s) => s.trim()).filter((s) => s !== '') : undefined;
}

/** Build every v1 Service. */
export function buildKubeServices(input: KubeInput): RegistryService[] {
  const { byKind, sink } = input;
  const slices = new Map<string, LoadedResource[]>();
  for (const s of byKind('EndpointSlice')) {
    const svc = s.object.metadata.labels?.[SERVICE_NAME_LABEL];
    if (typeof svc !== 'string' || svc === '') {
      sink.add(s, 'REGISTRY_ENDPOINTSLICE_NO_SERVICE', 'warning', 'metadata.labels',
        `Ignoring EndpointSlice "${s.key.name}": label "${SERVICE_NAME_LABEL}" is missing`);
      continue;
    }
    const k = `${s.key.namespace}/${svc}`;
    slices.set(k, [...(slices.get(k) ?? []), s]);
  }
  const endpointsObjects = new Map<string, LoadedResource>();
  for (const e of byKind('Endpoints')) endpointsObjects.set(`${e.key.namespace}/${e.key.name}`, e);

  const out: RegistryService[] = [];
  for (const r of byKind('Service')) {
    if (r.object.apiVersion !== 'v1') continue;
    const ns = r.key.namespace;
    const k = `${ns}/${r.key.name}`;
    const ports = servicePorts(r, sink);
    const resolve = endpointResolver(r, slices.get(k) ?? [], endpointsObjects.get(k), input.pods);
    const portMap = new Map<number, RegistryPort>();
    for (const p of ports) portMap.set(p.info.port, { info: p.info, endpoints: resolve(p) });
    const exportTo = serviceExportTo(r);
    out.push({
      info: {
        host: `${r.key.name}.${ns}.svc.${input.clusterDomain}`.toLowerCase(),
        namespace: ns,
        name: r.key.name,
        kind: 'Service',
        ports: ports.map((p) => p.info),
        ...(exportTo ? { exportTo } : {}),
        source: { kind: r.key.kind, namespace: r.key.namespace, name: r.key.name },
      },
      ports: portMap,
      resource: r,
    });
  }
  return out;
}

/** TCP ports of a Service (UDP/SCTP ports cannot carry HTTP and are left out). */
function servicePorts(r: LoadedResource, sink: DiagnosticSink): ServicePortSpec[] {
  const raw: unknown = r.object.spec?.ports;
  if (!Array.isArray(raw)) return [];
  const out: ServicePortSpec[] = [];
  raw.forEach((p: any, i: number) => {
    const protocol = typeof p?.protocol === 'string' ? p.protocol.toUpperCase() : 'TCP';
    if (protocol !== 'TCP') return;
    const port = portNumber(p?.port);
    if (port === undefined) {
      sink.add(r, 'REGISTRY_INVALID_FIELD', 'warning', `spec.ports[${i}].port`,
        `Ignoring port ${JSON.stringify(p?.port ?? null)} of Service "${r.key.name}": not a port number`);
      return;
    }
    if (out.some((o) => o.info.port === port)) {
      sink.add(r, 'REGISTRY_INVALID_FIELD', 'warning', `spec.ports[${i}].port`,
        `Ignoring port ${port} of Service "${r.key.name}": the port is declared twice`);
      return;
    }
    const name = typeof p.name === 'string' && p.name !== '' ? p.name : undefined;
    const appProtocol = typeof p.appProtocol === 'string' && p.appProtocol !== '' ? p.appProtocol : undefined;
    if (!name && raw.length > 1) {
      sink.add(r, 'REGISTRY_SERVICE_PORT_UNNAMED', 'warning', `spec.ports[${i}].name`,
        `Cannot match endpoint ports reliably for port ${port} of Service "${r.key.name}": a Service with several ports must name each one`);
    }
    const tp: unknown = p.targetPort;
    const targetPort = typeof tp === 'string' && tp !== '' ? tp : portNumber(tp) ?? port;
    out.push({
      info: {
        ...(name ? { name } : {}),
        port,
        protocol: servicePortProtocol(name, appProtocol),
        ...(appProtocol ? { appProtocol } : {}),
      },
      targetPort,
    });
  });
  return out;
}

/** A raw endpoint before deduplication. */
interface RawEndpoint {
  readonly address: string;
  readonly port: number;
  readonly ready: boolean;
  readonly targetRef?: unknown;
  readonly dns?: boolean;
}

/** The endpoint port for a Service port: same name; an unnamed Service port takes a lone endpoint port. */
function endpointPort(sp: ServicePortInfo, ports: unknown): number | undefined {
  if (!Array.isArray(ports)) return undefined;
  const name = sp.name ?? '';
  const named = ports.find((p) => (typeof p?.name === 'string' ? p.name : '') === name);
  if (named) return portNumber(named.port);
  return name === '' && ports.length === 1 ? portNumber(ports[0]?.port) : undefined;
}

function endpointResolver(
  svc: LoadedResource,
  slices: readonly LoadedResource[],
  endpoints: LoadedResource | undefined,
  pods: PodIndex,
): (p: ServicePortSpec) => EndpointIR[] {
  const ns = svc.key.namespace;
  const spec = svc.object.spec ?? {};
  return (p) => {
    if (spec.type === 'ExternalName' && typeof spec.externalName === 'string' && spec.externalName !== '') {
      const host: string = spec.externalName;
      return [makeEndpoint(host, p.info.port, { dns: !isIpLiteral(host) })];
    }
    let raw: RawEndpoint[];
    if (slices.length > 0) raw = fromSlices(slices, p.info);
    else if (endpoints) raw = fromEndpoints(endpoints, p.info);
    else return fromPods(labelMap(spec.selector), p, pods.inNamespace(ns));
    return finish(raw, (e) => (e.dns ? undefined : pods.labelsFor(ns, e.address, e.targetRef)));
  };
}

/** Deduplicate by address and port (ready wins), attach labels, sort. */
function finish(raw: readonly RawEndpoint[], labelsOf: (e: RawEndpoint) => Record<string, string> | undefined): EndpointIR[] {
  const seen = new Map<string, RawEndpoint>();
  for (const e of raw) {
    const k = `${e.address}|${e.port}`;
    const prev = seen.get(k);
    if (!prev || (!prev.ready && e.ready)) seen.set(k, e);
  }
  const out: EndpointIR[] = [];
  for (const e of seen.values()) {
    if (!e.ready) continue;
    const labels = labelsOf(e);
    out.push(makeEndpoint(e.address, e.port, { ...(labels ? { labels } : {}), ...(e.dns ? { dns: true } : {}) }));
  }
  return sortEndpoints(out);
}

function fromSlices(slices: readonly LoadedResource[], sp: ServicePortInfo): RawEndpoint[] {
  const out: RawEndpoint[] = [];
  for (const s of slices) {
    const o = s.object;
    const port = endpointPort(sp, o.ports);
    if (port === undefined) continue;
    const type = o.addressType;
    if (type !== 'IPv4' && type !== 'IPv6' && type !== 'FQDN') continue;
    for (const e of Array.isArray(o.endpoints) ? o.endpoints : []) {
      // discovery.k8s.io/v1: an unset `ready` condition is to be read as ready.
      const ready = e?.conditions?.ready !== false;
      for (const address of Array.isArray(e?.addresses) ? e.addresses : []) {
        if (typeof address !== 'string' || address === '') continue;
        out.push({ address, port, ready, targetRef: e.targetRef, ...(type === 'FQDN' ? { dns: true } : {}) });
      }
    }
  }
  return out;
}

function fromEndpoints(ep: LoadedResource, sp: ServicePortInfo): RawEndpoint[] {
  const out: RawEndpoint[] = [];
  const subsets: unknown = ep.object.subsets;
  for (const subset of Array.isArray(subsets) ? subsets : []) {
    const port = endpointPort(sp, subset?.ports);
    if (port === undefined) continue;
    for (const [list, ready] of [[subset.addresses, true], [subset.notReadyAddresses, false]] as const) {
      for (const a of Array.isArray(list) ? list : []) {
        if (typeof a?.ip === 'string' && a.ip !== '') out.push({ address: a.ip, port, ready, targetRef: a.targetRef });
      }
    }
  }
  return out;
}

/** Selector fallback: ready pods with an IP whose labels match; named targetPorts via container ports. */
function fromPods(selector: Record<string, string> | undefined, p: ServicePortSpec, pods: readonly LoadedResource[]): EndpointIR[] {
  // A Service without a selector has manually managed endpoints, never pod endpoints.
  if (!selector || Object.keys(selector).length === 0) return [];
  const out: EndpointIR[] = [];
  for (const pod of pods) {
    const labels = labelMap(pod.object.metadata.labels);
    if (!labelsMatch(selector, labels)) continue;
    const port = typeof p.targetPort === 'number' ? p.targetPort : containerPort(pod, p.targetPort);
    if (port === undefined) continue;
    out.push(makeEndpoint(pod.object.status.podIP, port, labels ? { labels } : {}));
  }
  return sortEndpoints(dedupe(out));
}

function dedupe(list: readonly EndpointIR[]): EndpointIR[] {
  const seen = new Set<string>();
  return list.filter((e) => {
    const k = `${e.address}|${e.port}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}

/** `containerPort` of the container port with this name (Kubernetes skips pods without it). */
export function containerPort(pod: LoadedResource, name: string): number | undefined {
  const containers: unknown = pod.object.spec?.containers;
  for (const c of Array.isArray(containers) ? containers : []) {
    for (const cp of Array.isArray(c?.ports) ? c.ports : []) {
      if (cp?.name === name) return portNumber(cp.containerPort);
    }
  }
  return undefined;
}
