/**
 * Portico's own metrics (`portico_*`): per route and per cluster request counts and latency,
 * upstream pool state, config reloads, listeners and downstream connections, process health
 * (memory, CPU, event loop, GC) and certificate expiry. Route and cluster labels are config
 * names (route ids like `virtualservice/demo/shop/http/0/match/0`, cluster names), never raw
 * paths or hosts, so their cardinality is bounded by the configuration.
 *
 * Per-request counters are found with one Map lookup (route id, cluster name); pool, listener
 * and process values are read at scrape time from the gateway.
 */
import net from 'node:net';
import { monitorEventLoopDelay, performance, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import type { ClusterHandle } from '../../dataplane/upstream/cluster.js';
import type { StreamInfo } from '../stream-info.js';
import { ENVOY_BUCKETS, labelText, type Family, type HistogramSeries, type Registry, type ScalarSeries } from './registry.js';

/** What the metrics read from the running gateway at scrape time. */
export interface GatewayView {
  readonly snapshot: { readonly clusters: ReadonlyMap<string, ClusterHandle> } | undefined;
  readonly generation: number;
  readonly stats: { readonly applied: number; readonly rejected: number };
  listenerStates(): readonly { readonly name: string; readonly bound: boolean; readonly connections: number }[];
}

const CODE_CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** 0 (no response) → `none`, 404 → `4xx`. */
export function codeClass(code: number): string {
  const c = Math.floor(code / 100);
  return c >= 1 && c <= 5 ? CODE_CLASSES[c]! : 'none';
}

interface RouteEntry {
  readonly byClass: (ScalarSeries | undefined)[];
  readonly duration: HistogramSeries;
}

interface ClusterEntry {
  readonly byClass: (ScalarSeries | undefined)[];
  readonly connectFailures: ScalarSeries;
  readonly retries: ScalarSeries;
  readonly timeouts: ScalarSeries;
  readonly overflow: ScalarSeries;
  readonly duration: HistogramSeries;
}

const GC_KINDS: Readonly<Record<number, string>> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };

export class PorticoMetrics {
  readonly #routeRequests: Family<'counter'>;
  readonly #routeDuration: Family<'histogram'>;
  readonly #clusterRequests: Family<'counter'>;
  readonly #clusterDuration: Family<'histogram'>;
  readonly #connectFailures: Family<'counter'>;
  readonly #retries: Family<'counter'>;
  readonly #timeouts: Family<'counter'>;
  readonly #overflow: Family<'counter'>;
  readonly #dsOpened: Family<'counter'>;
  readonly #dsClosed: Family<'counter'>;
  readonly #dsRx: Family<'counter'>;
  readonly #dsTx: Family<'counter'>;
  readonly #certs: Family<'gauge'>;
  readonly #routes = new Map<string, RouteEntry>();
  readonly #clusters = new Map<string, ClusterEntry>();
  #gateway: GatewayView | undefined;
  readonly #loopDelay: IntervalHistogram;
  #elu = performance.eventLoopUtilization();
  readonly #gcObserver: PerformanceObserver | undefined;
  readonly #gcCount: Family<'counter'>;
  readonly #gcSeconds: Family<'counter'>;
  /** Access-log lines dropped (the access logs count into it). */
  readonly accessLogDropped: ScalarSeries;

  constructor(r: Registry) {
    this.#routeRequests = r.counter('portico_route_requests_total', 'Requests by matched route (route id, "-" when no route matched) and response code class', ['route', 'code_class']);
    this.#routeDuration = r.histogram('portico_route_request_duration_milliseconds', 'Request duration by matched route, start to last response byte', ['route']);
    this.#clusterRequests = r.counter('portico_cluster_upstream_requests_total', 'Requests routed to a cluster by response code class', ['cluster', 'code_class']);
    this.#clusterDuration = r.histogram('portico_cluster_upstream_request_duration_milliseconds', 'Request duration by cluster, start to last response byte', ['cluster']);
    this.#connectFailures = r.counter('portico_cluster_upstream_connect_failures_total', 'Failed upstream connection attempts (retried ones included)', ['cluster']);
    this.#retries = r.counter('portico_cluster_upstream_retries_total', 'Upstream request retries', ['cluster']);
    this.#timeouts = r.counter('portico_cluster_upstream_timeouts_total', 'Requests that hit the route or per-try timeout (flag UT)', ['cluster']);
    this.#overflow = r.counter('portico_cluster_upstream_overflow_total', 'Requests refused by a circuit breaker (flag UO)', ['cluster']);
    const pool = {
      active: r.gauge('portico_cluster_upstream_connections_active', 'Open upstream connections (idle, busy and connecting) over the cluster\'s endpoints', ['cluster']),
      idle: r.gauge('portico_cluster_upstream_connections_idle', 'Idle pooled upstream connections over the cluster\'s endpoints', ['cluster']),
      opened: r.gauge('portico_cluster_upstream_connections_opened', 'Upstream connections opened since start by the cluster\'s current endpoints (pools are shared by clusters with the same endpoints)', ['cluster']),
      requests: r.gauge('portico_cluster_upstream_requests_active', 'Requests in flight on the cluster', ['cluster']),
      endpoints: r.gauge('portico_cluster_endpoints', 'Endpoints of the cluster by health', ['cluster', 'health']),
    };
    const reloads = r.counter('portico_config_reloads_total', 'Configuration applies by result (rejected = an update with errors, or a build that failed)', ['result']);
    const generation = r.gauge('portico_config_generation', 'Generation of the configuration snapshot serving traffic');
    const listenerUp = r.gauge('portico_listener_up', '1 when the listener is bound, else 0', ['listener']);
    const dsActive = r.gauge('portico_downstream_connections_active', 'Open client connections by listener', ['listener']);
    this.#dsOpened = r.counter('portico_downstream_connections_opened_total', 'Client connections accepted by listener', ['listener']);
    this.#dsClosed = r.counter('portico_downstream_connections_closed_total', 'Client connections closed by listener', ['listener']);
    this.#dsRx = r.counter('portico_downstream_received_bytes_total', 'Bytes received from clients (counted when the connection closes)', ['listener']);
    this.#dsTx = r.counter('portico_downstream_sent_bytes_total', 'Bytes sent to clients (counted when the connection closes)', ['listener']);
    this.#certs = r.freeFamily('portico_certificate_expiry_timestamp_seconds', 'Certificate notAfter as Unix time, by certificate', 'gauge');
    const rss = r.gauge('portico_process_resident_memory_bytes', 'Resident set size');
    const heap = r.gauge('portico_process_heap_used_bytes', 'V8 heap in use');
    const cpu = r.counter('portico_process_cpu_seconds_total', 'User and system CPU time');
    const start = r.gauge('portico_process_start_time_seconds', 'Process start as Unix time');
    const delay = r.gauge('portico_event_loop_delay_milliseconds', 'Event-loop delay since the previous scrape, by quantile (max = largest)', ['quantile']);
    const util = r.gauge('portico_event_loop_utilization', 'Share of time the event loop was busy since the previous scrape (0–1)');
    const active = r.counter('portico_event_loop_active_seconds_total', 'Time the event loop spent busy');
    this.#gcCount = r.counter('portico_gc_collections_total', 'Garbage collections by kind', ['kind']);
    this.#gcSeconds = r.counter('portico_gc_duration_seconds_total', 'Time spent in garbage collection by kind', ['kind']);
    this.accessLogDropped = r.counter('portico_access_log_dropped_lines_total', 'Access-log lines dropped because an output could not keep up or failed').with();

    this.#loopDelay = monitorEventLoopDelay({ resolution: 10 });
    this.#loopDelay.enable();
    try {
      const obs = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          const kind = GC_KINDS[(e as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
          this.#gcCount.with(kind).value++;
          this.#gcSeconds.with(kind).value += e.duration / 1000;
        }
      });
      obs.observe({ entryTypes: ['gc'] });
      this.#gcObserver = obs;
    } catch { this.#gcObserver = undefined; }
    const startSeconds = Math.round((performance.timeOrigin) / 1000);

    r.onCollect(() => {
      const gw = this.#gateway;
      for (const f of [pool.active, pool.idle, pool.opened, pool.requests, pool.endpoints, listenerUp, dsActive]) f.reset();
      if (gw !== undefined) {
        for (const c of gw.snapshot?.clusters.values() ?? []) {
          let open = 0; let idle = 0; let opened = 0;
          for (const e of c.endpoints) {
            if (e.h1) { open += e.h1.total; idle += e.h1.idleCount; opened += e.h1.opened; }
            if (e.h2) { open += e.h2.total; opened += e.h2.opened; }
          }
          const name = c.ir.name;
          pool.active.with(name).set(open);
          pool.idle.with(name).set(idle);
          pool.opened.with(name).set(opened);
          pool.requests.with(name).set(c.active);
          pool.endpoints.with(name, 'healthy').set(c.endpoints.length);
        }
        reloads.with('applied').set(gw.stats.applied);
        reloads.with('rejected').set(gw.stats.rejected);
        generation.with().set(gw.generation);
        for (const l of gw.listenerStates()) {
          listenerUp.with(l.name).set(l.bound ? 1 : 0);
          dsActive.with(l.name).set(l.connections);
        }
      }
      const mem = process.memoryUsage();
      rss.with().set(mem.rss);
      heap.with().set(mem.heapUsed);
      const u = process.cpuUsage();
      cpu.with().set((u.user + u.system) / 1e6);
      start.with().set(startSeconds);
      const h = this.#loopDelay;
      const toMs = (ns: number): number => Math.round(ns / 1e4) / 100;
      if (h.count > 0) {
        delay.with('0.5').set(toMs(h.percentile(50)));
        delay.with('0.9').set(toMs(h.percentile(90)));
        delay.with('0.99').set(toMs(h.percentile(99)));
        delay.with('max').set(toMs(h.max));
      }
      h.reset();
      const now = performance.eventLoopUtilization();
      util.with().set(Math.round(performance.eventLoopUtilization(now, this.#elu).utilization * 1000) / 1000);
      this.#elu = now;
      active.with().set(now.active / 1000);
    });
  }

  /** Read pools, listeners and reload counts from this gateway at scrape time. */
  attach(gw: GatewayView): void { this.#gateway = gw; }

  /** Per finished stream. */
  onStream(i: StreamInfo): void {
    const ci = classIndex(i.responseCode);
    const dur = i.durationMs();
    const routeId = i.routeId || '-';
    let r = this.#routes.get(routeId);
    if (r === undefined) {
      r = { byClass: [], duration: this.#routeDuration.with(routeId) };
      if (this.#routes.size < 50_000) this.#routes.set(routeId, r);
    }
    (r.byClass[ci] ??= this.#routeRequests.with(routeId, CODE_CLASSES[ci]!)).value++;
    r.duration.observe(dur);
    const cluster = i.upstreamCluster;
    if (cluster === '') return;
    let c = this.#clusters.get(cluster);
    if (c === undefined) {
      c = {
        byClass: [],
        connectFailures: this.#connectFailures.with(cluster),
        retries: this.#retries.with(cluster),
        timeouts: this.#timeouts.with(cluster),
        overflow: this.#overflow.with(cluster),
        duration: this.#clusterDuration.with(cluster),
      };
      if (this.#clusters.size < 50_000) this.#clusters.set(cluster, c);
    }
    (c.byClass[ci] ??= this.#clusterRequests.with(cluster, CODE_CLASSES[ci]!)).value++;
    c.duration.observe(dur);
    if (i.connectFailures > 0) c.connectFailures.value += i.connectFailures;
    if (i.retries > 0) c.retries.value += i.retries;
    const f = i.flags;
    if (f !== '') {
      if (f.includes('UT')) c.timeouts.value++;
      if (f.includes('UO')) c.overflow.value++;
    }
  }

  /** A client connection was accepted on `listener`; counted again (bytes) when it closes. */
  onConnection(listener: string, socket: net.Socket): void {
    this.#dsOpened.with(listener).value++;
    socket.once('close', () => {
      this.#dsClosed.with(listener).value++;
      this.#dsRx.with(listener).value += socket.bytesRead;
      this.#dsTx.with(listener).value += socket.bytesWritten;
    });
  }

  /**
   * Set (or, with `seconds` undefined, remove) the expiry of one certificate, e.g.
   * `{secret: 'istio-system/shop-cert', listener: '0.0.0.0:443'}`. Labels are the caller's;
   * keep them bounded (one series per certificate).
   */
  setCertificateExpiry(labels: Readonly<Record<string, string>>, seconds: number | undefined): void {
    const names = Object.keys(labels).sort();
    const text = labelText(names, names.map((n) => labels[n]!));
    if (seconds === undefined) { this.#certs.delete(text); return; }
    this.#certs.seriesText(text, () => text).value = seconds;
  }

  close(): void {
    this.#loopDelay.disable();
    this.#gcObserver?.disconnect();
  }
}

function classIndex(code: number): number {
  const c = Math.floor(code / 100);
  return c >= 1 && c <= 5 ? c : 0;
}

export { ENVOY_BUCKETS };
