/**
 * The observability of one Portico process: the StreamSink the data plane reports every
 * finished stream to. It feeds the metrics and the access logs, and is reconfigured from each
 * new snapshot's Telemetry result (`configure`) — MeshConfig decides the defaults.
 *
 * Which access logs are written (Istio's rules):
 *  - no Telemetry access logging and no defaultProviders.accessLogging → the MeshConfig log:
 *    accessLogFile ('' = none) in accessLogEncoding / accessLogFormat;
 *  - else one log per provider in effect: an envoyFileAccessLog provider writes to its path in
 *    its logFormat (text, or labels = JSON; `{}` = Istio's default keys); the built-in `envoy`
 *    provider without logFormat uses the MeshConfig encoding and format; a Telemetry
 *    `disabled: true` leaves no provider, so nothing is logged.
 */
import type net from 'node:net';
import type { GatewayIR } from '../config/ir/types.js';
import { findProvider, type MeshConfig } from '../config/mesh/mesh-config.js';
import type { Logger } from '../runtime/gateway.js';
import { AccessLogs, meshLogFormat, type AccessLogSpec } from './access-log.js';
import { ISTIO_JSON_FORMAT } from './format/index.js';
import { destinationOf, Metrics, sourceWorkload, type MetricOverrides } from './metrics/index.js';
import type { ScalarSeries } from './metrics/registry.js';
import type { StreamInfo, StreamSink } from './stream-info.js';

export interface ObservabilityOptions {
  readonly mesh: MeshConfig;
  /** The gateway workload (source_* metric labels). */
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly log?: Logger;
  /** --no-access-log: no access log at all, whatever the config says. */
  readonly accessLogDisabled?: boolean;
  /** Stream for `/dev/stdout` lines (tests capture it). */
  readonly stdout?: NodeJS.WritableStream;
}

export class Observability implements StreamSink {
  readonly metrics: Metrics;
  readonly accessLogs: AccessLogs;
  readonly #opts: ObservabilityOptions;
  readonly #dropped: ScalarSeries;
  #lastTelemetry = '\u0000';

  constructor(opts: ObservabilityOptions) {
    this.#opts = opts;
    this.metrics = new Metrics(sourceWorkload(opts.namespace, opts.labels));
    this.#dropped = this.metrics.portico.accessLogDropped;
    this.accessLogs = new AccessLogs({
      ...(opts.stdout ? { stdout: opts.stdout } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      onDropped: (n) => { this.#dropped.value += n; },
    });
    this.configure(undefined);
  }

  /** Every finished stream (hot path): metrics, then access logs. Never throws. */
  onStreamDone(info: StreamInfo): void {
    if (info.endHr === 0) info.endHr = performance.now();
    try { this.metrics.onStream(info); } catch { /* never into the data plane */ }
    try { this.accessLogs.onStream(info); } catch { /* never into the data plane */ }
  }

  /** A client connection was accepted (downstream connection metrics). */
  onConnection(listener: string, socket: net.Socket): void {
    this.metrics.onConnection(listener, socket);
  }

  /** Apply a new snapshot's IR: Telemetry result and cluster → destination labels. */
  configure(ir: GatewayIR | undefined): void {
    const clusters = new Map((ir?.clusters ?? []).map((c) => [c.name, c]));
    this.metrics.setDestinationResolver((name, host) => {
      const c = clusters.get(name);
      return destinationOf(c?.serviceHost ?? host, c?.serviceNamespace);
    });
    const t = ir?.telemetry;
    const key = JSON.stringify(t ?? null);
    if (key === this.#lastTelemetry) return;
    this.#lastTelemetry = key;
    const mesh = this.#opts.mesh;
    const metricProviders = t?.metrics?.providers ?? mesh.defaultProviders.metrics;
    const prometheus = metricProviders.some((p) => findProvider(mesh, p)?.prometheus !== undefined);
    try {
      this.metrics.configureIstio(prometheus, (t?.metrics?.overrides ?? {}) as MetricOverrides);
    } catch (e) {
      this.#opts.log?.error(`OBS_CEL_INVALID: Cannot apply the metric overrides: ${(e as Error).message}; the previous ones stay`, { code: 'OBS_CEL_INVALID' });
    }
    try {
      this.accessLogs.set(this.#opts.accessLogDisabled ? [] : accessLogSpecs(mesh, t?.accessLogging));
    } catch (e) {
      this.#opts.log?.error(`OBS_FORMAT_INVALID: Cannot apply the access-log configuration: ${(e as Error).message}; the previous one stays`, { code: 'OBS_FORMAT_INVALID' });
    }
  }

  /** Render /stats/prometheus. */
  renderMetrics(accept?: string): { body: string; contentType: string } {
    return this.metrics.render(accept);
  }

  /** Write every queued access-log line (clean shutdown). */
  async flush(): Promise<void> { await this.accessLogs.flush(); }

  /**
   * Flush and close (shutdown). Bounded: an output that stays blocked (a stalled log reader)
   * cannot hold the process forever; what is still queued after `timeoutMs` is reported.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), timeoutMs); timer.unref(); });
    const late = await Promise.race([this.accessLogs.close().then(() => false), expired]);
    clearTimeout(timer);
    if (late) this.#opts.log?.warn(`OBS_ACCESS_LOG_DROPPED: Access-log output still blocked after ${timeoutMs} ms at shutdown; queued lines are lost`, { code: 'OBS_ACCESS_LOG_DROPPED' });
    this.metrics.close();
  }
}

/** The access logs in effect for a Telemetry result (see the module comment). */
export function accessLogSpecs(mesh: MeshConfig, logging: readonly { provider: string; filter?: string }[] | undefined): AccessLogSpec[] {
  if (logging === undefined) {
    if (mesh.accessLogFile === '') return [];
    return [{ path: mesh.accessLogFile, format: meshLogFormat(mesh.accessLogEncoding, mesh.accessLogFormat), provider: 'meshConfig.accessLogFile' }];
  }
  const out: AccessLogSpec[] = [];
  for (const { provider, filter } of logging) {
    const p = findProvider(mesh, provider);
    const f = p?.envoyFileAccessLog;
    if (f === undefined) continue; // unknown or not a file logger: reported at translation
    const path = f.path || '/dev/stdout';
    let format: AccessLogSpec['format'];
    if (f.logFormat?.labels !== undefined) {
      format = { kind: 'json', spec: Object.keys(f.logFormat.labels).length === 0 ? ISTIO_JSON_FORMAT : f.logFormat.labels };
    } else if (f.logFormat?.text !== undefined && f.logFormat.text !== '') {
      format = meshLogFormat('TEXT', f.logFormat.text);
    } else if (p!.name === 'envoy' && f.logFormat === undefined && !f.omitEmptyValues) {
      // Istio: the built-in provider without a format follows the MeshConfig encoding and format.
      format = meshLogFormat(mesh.accessLogEncoding, mesh.accessLogFormat);
    } else {
      format = meshLogFormat('TEXT', '');
    }
    out.push({ path, format, provider: p!.name, ...(f.omitEmptyValues ? { omitEmptyValues: true } : {}), ...(filter ? { filter } : {}) });
  }
  return out;
}
