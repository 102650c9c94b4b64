/**
 * Istio standard metrics as a gateway reports them (reporter="source", client-side only),
 * with Telemetry API overrides: a metric can be disabled, and tagOverrides add, replace or
 * remove one label of the metric they name.
 *
 * Labels and values (envoy-behaviour.md §6): the gateway's own workload fills `source_*`;
 * `destination_service*` come from the chosen cluster (never from the Host header: Istio
 * disables the host fallback on gateways, which also bounds cardinality); peer-metadata labels
 * Portico cannot know are `unknown` (`latest` for canonical revisions);
 * connection_security_policy is `unknown` for reporter=source.
 *
 * Per request: one Map lookup for the destination (by cluster name), one for the label tuple
 * (a short key of the response code, flags, protocol and gRPC status), then increments. The
 * four HTTP metrics share one series object when their labels are the same (no overrides).
 */
import { compileStringExpr } from '../cel/compile.js';
import { grpcStatus, headerValue } from '../format/operators.js';
import type { StreamInfo } from '../stream-info.js';
import { ENVOY_BUCKETS, labelText, type Family, type HistogramSeries, type Registry, type ScalarSeries } from './registry.js';

/** Telemetry API metric names → Prometheus names. */
export const ISTIO_METRICS = {
  REQUEST_COUNT: 'istio_requests_total',
  REQUEST_DURATION: 'istio_request_duration_milliseconds',
  REQUEST_SIZE: 'istio_request_bytes',
  RESPONSE_SIZE: 'istio_response_bytes',
  TCP_OPENED_CONNECTIONS: 'istio_tcp_connections_opened_total',
  TCP_CLOSED_CONNECTIONS: 'istio_tcp_connections_closed_total',
  TCP_SENT_BYTES: 'istio_tcp_sent_bytes_total',
  TCP_RECEIVED_BYTES: 'istio_tcp_received_bytes_total',
  GRPC_REQUEST_MESSAGES: 'istio_request_messages_total',
  GRPC_RESPONSE_MESSAGES: 'istio_response_messages_total',
} as const;

export type IstioMetric = keyof typeof ISTIO_METRICS;

/** Label names in Istio's order. */
export const ISTIO_LABELS: readonly string[] = Object.freeze([
  'reporter', 'source_workload', 'source_canonical_service', 'source_canonical_revision', 'source_workload_namespace',
  'source_principal', 'source_app', 'source_version', 'source_cluster', 'destination_workload',
  'destination_workload_namespace', 'destination_principal', 'destination_app', 'destination_version',
  'destination_service', 'destination_canonical_service', 'destination_canonical_revision', 'destination_service_name',
  'destination_service_namespace', 'destination_cluster', 'request_protocol', 'response_code', 'grpc_response_status',
  'response_flags', 'connection_security_policy',
]);

/** TCP metrics carry every label except the HTTP-only ones. */
const HTTP_ONLY = new Set(['response_code', 'grpc_response_status']);

/** One tag override of one metric (already merged root → namespace → workload). */
export interface TagOverride {
  readonly name: string;
  readonly remove: boolean;
  /** CEL expression (UPSERT). */
  readonly value?: string;
}

/** Effective configuration of one metric. */
export interface MetricOverride {
  readonly disabled?: boolean;
  readonly tags?: readonly TagOverride[];
}

/** Metric overrides by Telemetry metric name; absent metrics use the defaults. */
export type MetricOverrides = Readonly<Partial<Record<IstioMetric, MetricOverride>>>;

/** The gateway workload (source_* labels). */
export interface SourceWorkload {
  readonly workload: string;
  readonly namespace: string;
  readonly app: string;
  readonly version: string;
  readonly canonicalService: string;
  readonly canonicalRevision: string;
  readonly cluster: string;
}

/**
 * The gateway's workload labels from its identity: `app` / `app.kubernetes.io/name`, else
 * `istio-<istio label>` (Istio's ingress gateway deployment is `istio-ingressgateway` with
 * label `istio: ingressgateway`), else `portico`.
 */
export function sourceWorkload(namespace: string, labels: Readonly<Record<string, string>>): SourceWorkload {
  const app = labels['app'] ?? labels['app.kubernetes.io/name'];
  const workload = labels['service.istio.io/workload-name'] ?? app ?? (labels['istio'] ? `istio-${labels['istio']}` : 'portico');
  const version = labels['version'] ?? labels['app.kubernetes.io/version'];
  return {
    workload,
    namespace,
    app: app ?? workload,
    version: version ?? 'unknown',
    canonicalService: labels['service.istio.io/canonical-name'] ?? app ?? workload,
    canonicalRevision: labels['service.istio.io/canonical-revision'] ?? version ?? 'latest',
    cluster: labels['topology.istio.io/cluster'] ?? 'Kubernetes',
  };
}

/** Destination labels of a cluster. */
export interface Destination {
  readonly service: string;
  readonly name: string;
  readonly namespace: string;
}

/** `reviews.default.svc.cluster.local` → name reviews, namespace default; other hosts keep the host as name. */
export function destinationOf(serviceHost: string, namespace: string | undefined): Destination {
  if (serviceHost === '') return { service: 'unknown', name: 'unknown', namespace: 'unknown' };
  const svc = serviceHost.indexOf('.svc.');
  if (svc > 0) {
    const [name, ns] = serviceHost.slice(0, svc).split('.');
    return { service: serviceHost, name: name!, namespace: namespace ?? ns ?? 'unknown' };
  }
  return { service: serviceHost, name: serviceHost, namespace: namespace ?? 'unknown' };
}

/** How one output label gets its value. */
type LabelSource =
  | { readonly k: 'const'; readonly v: string }
  | { readonly k: 'dest'; readonly f: keyof Destination }
  | { readonly k: 'req'; readonly f: (i: StreamInfo, proto: string) => string }
  | { readonly k: 'expr'; readonly f: (i: StreamInfo) => string };

/** A group of metrics sharing one label layout, hence one series per label tuple. */
interface Group {
  readonly metrics: readonly IstioMetric[];
  readonly names: readonly string[];
  readonly sources: readonly LabelSource[];
  /** Indexes of the labels whose value varies per request (part of the key). */
  readonly varying: readonly number[];
  readonly index: number;
}

interface HttpSeries {
  count: ScalarSeries | undefined;
  duration: HistogramSeries | undefined;
  reqSize: HistogramSeries | undefined;
  respSize: HistogramSeries | undefined;
}

const MAX_KEYS_PER_DESTINATION = 10_000;

const HTTP_METRICS: readonly IstioMetric[] = ['REQUEST_COUNT', 'REQUEST_DURATION', 'REQUEST_SIZE', 'RESPONSE_SIZE'];

function isGrpc(i: StreamInfo): boolean {
  const ct = headerValue(i.reqNames, i.reqValues, 'content-type');
  return ct.startsWith('application/grpc');
}

/** The default label sources, before overrides. */
function baseSources(src: SourceWorkload, tcp: boolean): [string, LabelSource][] {
  const c = (v: string): LabelSource => ({ k: 'const', v });
  const all: [string, LabelSource][] = [
    ['reporter', c('source')],
    ['source_workload', c(src.workload)],
    ['source_canonical_service', c(src.canonicalService)],
    ['source_canonical_revision', c(src.canonicalRevision)],
    ['source_workload_namespace', c(src.namespace)],
    ['source_principal', c('unknown')],
    ['source_app', c(src.app)],
    ['source_version', c(src.version)],
    ['source_cluster', c(src.cluster)],
    ['destination_workload', c('unknown')],
    ['destination_workload_namespace', c('unknown')],
    ['destination_principal', c('unknown')],
    ['destination_app', c('unknown')],
    ['destination_version', c('unknown')],
    ['destination_service', { k: 'dest', f: 'service' }],
    ['destination_canonical_service', c('unknown')],
    ['destination_canonical_revision', c('latest')],
    ['destination_service_name', { k: 'dest', f: 'name' }],
    ['destination_service_namespace', { k: 'dest', f: 'namespace' }],
    ['destination_cluster', c('unknown')],
    ['request_protocol', tcp ? c('tcp') : { k: 'req', f: (_i, proto) => proto }],
    ['response_code', { k: 'req', f: (i) => String(i.responseCode) }],
    ['grpc_response_status', { k: 'req', f: (i, proto) => (proto === 'grpc' ? grpcStatus(i) : '') }],
    ['response_flags', { k: 'req', f: (i) => i.flags || '-' }],
    ['connection_security_policy', c('unknown')],
  ];
  return tcp ? all.filter(([n]) => !HTTP_ONLY.has(n)) : all;
}

function layout(src: SourceWorkload, tcp: boolean, o: MetricOverride | undefined): [string, LabelSource][] {
  const labels = baseSources(src, tcp);
  for (const t of o?.tags ?? []) {
    const at = labels.findIndex(([n]) => n === t.name);
    if (t.remove) { if (at !== -1) labels.splice(at, 1); continue; }
    const s: LabelSource = { k: 'expr', f: compileStringExpr(t.value ?? "''") };
    if (at === -1) labels.push([t.name, s]);
    else labels[at] = [t.name, s];
  }
  return labels;
}

/** Istio's standard metrics for one gateway; rebuilt (series kept) when overrides change. */
export class IstioMetrics {
  readonly #src: SourceWorkload;
  readonly #families: Record<IstioMetric, Family>;
  #groups: Group[] = [];
  /** Groups of the HTTP metrics, with which of the four each serves. */
  #http: { group: Group; has: Readonly<Record<IstioMetric, boolean>> }[] = [];
  #tcpOn: Readonly<Partial<Record<IstioMetric, Group>>> = {};
  /** Destination → per group: key → series. */
  readonly #dests = new Map<string, { dest: Destination; series: Map<string, HttpSeries>[] }>();
  readonly #tcp = new Map<string, ScalarSeries>();
  #destination: (cluster: string, serviceHost: string) => Destination = (_c, host) => destinationOf(host, undefined);
  #overridesJson = '';

  constructor(registry: Registry, src: SourceWorkload) {
    this.#src = src;
    // Label names vary with overrides, so series carry their own label text (free families).
    const h = (name: string, help: string): Family => registry.freeFamily(name, help, 'histogram', ENVOY_BUCKETS) as unknown as Family;
    const c = (name: string, help: string): Family => registry.freeFamily(name, help, 'counter') as unknown as Family;
    this.#families = {
      REQUEST_COUNT: c(ISTIO_METRICS.REQUEST_COUNT, 'Requests completed (Istio standard metric, reporter="source")'),
      REQUEST_DURATION: h(ISTIO_METRICS.REQUEST_DURATION, 'Request duration in milliseconds (Istio standard metric)'),
      REQUEST_SIZE: h(ISTIO_METRICS.REQUEST_SIZE, 'Request size in bytes, head and body as on the wire (Istio standard metric)'),
      RESPONSE_SIZE: h(ISTIO_METRICS.RESPONSE_SIZE, 'Response size in bytes, head and body as on the wire (Istio standard metric)'),
      TCP_OPENED_CONNECTIONS: c(ISTIO_METRICS.TCP_OPENED_CONNECTIONS, 'TCP connections opened (Istio standard metric; TCP routes only)'),
      TCP_CLOSED_CONNECTIONS: c(ISTIO_METRICS.TCP_CLOSED_CONNECTIONS, 'TCP connections closed (Istio standard metric; TCP routes only)'),
      TCP_SENT_BYTES: c(ISTIO_METRICS.TCP_SENT_BYTES, 'Bytes sent to the client on TCP connections (Istio standard metric; TCP routes only)'),
      TCP_RECEIVED_BYTES: c(ISTIO_METRICS.TCP_RECEIVED_BYTES, 'Bytes received from the client on TCP connections (Istio standard metric; TCP routes only)'),
      GRPC_REQUEST_MESSAGES: c(ISTIO_METRICS.GRPC_REQUEST_MESSAGES, 'gRPC messages sent by clients (Istio standard metric; not counted yet)'),
      GRPC_RESPONSE_MESSAGES: c(ISTIO_METRICS.GRPC_RESPONSE_MESSAGES, 'gRPC messages sent by servers (Istio standard metric; not counted yet)'),
    };
    this.configure({});
  }

  /** How cluster names map to destination labels (set from the snapshot's clusters). */
  setDestinationResolver(fn: (cluster: string, serviceHost: string) => Destination): void {
    this.#destination = fn;
  }

  /**
   * Apply merged Telemetry overrides. Unchanged overrides keep everything; changed ones start
   * new series (old ones stay exported: counters never go backwards).
   */
  configure(overrides: MetricOverrides): void {
    const json = JSON.stringify(overrides);
    if (json === this.#overridesJson && this.#groups.length > 0) return;
    const groups: Group[] = [];
    const byLayout = new Map<string, { metrics: IstioMetric[]; labels: [string, LabelSource][] }>();
    for (const m of Object.keys(ISTIO_METRICS) as IstioMetric[]) {
      const o = overrides[m];
      if (o?.disabled) continue;
      const tcp = m.startsWith('TCP_') || m.startsWith('GRPC_');
      const labels = layout(this.#src, tcp, o);
      const key = `${tcp ? 'tcp' : 'http'}|${JSON.stringify(o?.tags ?? [])}`;
      const g = byLayout.get(key);
      if (g) g.metrics.push(m);
      else byLayout.set(key, { metrics: [m], labels });
    }
    for (const { metrics, labels } of byLayout.values()) {
      const sources = labels.map(([, s]) => s);
      const varying = sources.flatMap((s, k) => (s.k === 'req' || s.k === 'expr' ? [k] : []));
      groups.push({ metrics, names: labels.map(([n]) => n), sources, varying, index: groups.length });
    }
    // Everything compiled (a bad CEL value throws above and leaves the previous state).
    this.#overridesJson = json;
    this.#groups = groups;
    this.#http = groups
      .filter((g) => g.metrics.some((m) => HTTP_METRICS.includes(m)))
      .map((group) => ({ group, has: Object.fromEntries(HTTP_METRICS.map((m) => [m, group.metrics.includes(m)])) as Record<IstioMetric, boolean> }));
    const tcpOn: Partial<Record<IstioMetric, Group>> = {};
    for (const g of groups) for (const m of g.metrics) if (!HTTP_METRICS.includes(m)) tcpOn[m] = g;
    this.#tcpOn = tcpOn;
    // Series maps are per layout generation: reset the per-destination maps.
    for (const d of this.#dests.values()) d.series = groups.map(() => new Map());
    this.#tcp.clear();
  }

  /** Record one finished HTTP stream. */
  onStream(i: StreamInfo): void {
    const http = this.#http;
    if (http.length === 0) return;
    const cluster = i.upstreamCluster;
    let d = this.#dests.get(cluster);
    if (d === undefined) {
      d = { dest: this.#destination(cluster, i.destinationService), series: this.#groups.map(() => new Map()) };
      this.#dests.set(cluster, d);
    }
    const proto = isGrpc(i) ? 'grpc' : 'http';
    const dur = i.durationMs();
    const reqBytes = i.requestWireBytes + i.bytesReceived;
    const respBytes = i.responseWireBytes;
    for (let h = 0; h < http.length; h++) {
      const { group, has } = http[h]!;
      const src = group.sources;
      const vary = group.varying;
      let key = '';
      for (let k = 0; k < vary.length; k++) {
        const s = src[vary[k]!]!;
        key += `${s.k === 'req' ? s.f(i, proto) : (s as { f: (i: StreamInfo) => string }).f(i)}\u0001`;
      }
      const map = d.series[group.index]!;
      let s = map.get(key);
      if (s === undefined) {
        const text = labelText(group.names, src.map((x) => valueOf(x, d!.dest, i, proto)));
        s = this.#newSeries(text, has);
        // Bounded like the families (a tag read from a header may be unbounded).
        if (map.size < MAX_KEYS_PER_DESTINATION) map.set(key, s);
      }
      if (s.count !== undefined) s.count.value++;
      if (s.duration !== undefined) s.duration.observe(dur);
      if (s.reqSize !== undefined) s.reqSize.observe(reqBytes);
      if (s.respSize !== undefined) s.respSize.observe(respBytes);
    }
  }

  /** Series of the label text in each family (two clusters of one service share them, as in Istio). */
  #newSeries(text: string, has: Readonly<Record<IstioMetric, boolean>>): HttpSeries {
    const f = this.#families;
    const t = (): string => text;
    return {
      count: has.REQUEST_COUNT ? (f.REQUEST_COUNT.seriesText(text, t) as ScalarSeries) : undefined,
      duration: has.REQUEST_DURATION ? (f.REQUEST_DURATION.seriesText(text, t) as HistogramSeries) : undefined,
      reqSize: has.REQUEST_SIZE ? (f.REQUEST_SIZE.seriesText(text, t) as HistogramSeries) : undefined,
      respSize: has.RESPONSE_SIZE ? (f.RESPONSE_SIZE.seriesText(text, t) as HistogramSeries) : undefined,
    };
  }

  /**
   * TCP connection metrics (for TCP routes; HTTP listeners report none, like Istio gateways):
   * `opened`/`closed` +1, byte counters by delta.
   */
  onTcp(cluster: string, serviceHost: string, delta: { opened?: number; closed?: number; sent?: number; received?: number }): void {
    const pairs: [IstioMetric, number | undefined][] = [
      ['TCP_OPENED_CONNECTIONS', delta.opened], ['TCP_CLOSED_CONNECTIONS', delta.closed],
      ['TCP_SENT_BYTES', delta.sent], ['TCP_RECEIVED_BYTES', delta.received],
    ];
    for (const [m, n] of pairs) {
      if (!n) continue;
      const g = this.#tcpOn[m];
      if (g === undefined) continue;
      const key = `${m}|${cluster}`;
      let s = this.#tcp.get(key);
      if (s === undefined) {
        const dest = this.#destination(cluster, serviceHost);
        const text = labelText(g.names, g.sources.map((x) => valueOf(x, dest, undefined, 'tcp')));
        s = this.#families[m].seriesText(text, () => text) as ScalarSeries;
        this.#tcp.set(key, s);
      }
      s.value += n;
    }
  }
}

function valueOf(s: LabelSource, d: Destination, i: StreamInfo | undefined, proto: string): string {
  switch (s.k) {
    case 'const': return s.v;
    case 'dest': return d[s.f];
    case 'req': return i === undefined ? '' : s.f(i, proto);
    case 'expr': return i === undefined ? 'unknown' : s.f(i);
  }
}
