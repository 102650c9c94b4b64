/**
 * Access log sink: one line per finished stream, Istio's default JSON object by default.
 * Lines are batched and written once per event-loop turn so logging never blocks the request
 * path; a clean shutdown flushes what is queued. The observability release adds the TEXT
 * format, custom Envoy operator formats and Telemetry API control on top of this sink.
 */
import type { StreamInfo, StreamSink } from './stream-info.js';

export interface AccessLogOptions {
  readonly enabled: boolean;
  /** Where lines go; default process.stdout. */
  readonly out?: NodeJS.WritableStream;
}

const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

function dash(s: string): string { return s === '' ? '-' : s; }

function header(names: readonly string[], values: readonly string[], lname: string): string {
  for (let i = 0; i < names.length; i++) if (names[i] === lname) return values[i]!;
  return '';
}

/** Istio's default JSON access-log object (key order as Istio emits it). */
export function istioJson(i: StreamInfo): string {
  const ust = i.upstreamServiceTimeMs();
  return JSON.stringify({
    start_time: new Date(i.startMs).toISOString(),
    route_name: dash(i.routeName),
    method: dash(i.method),
    path: dash(i.originalPath),
    protocol: dash(i.protocol),
    response_code: String(i.responseCode),
    response_flags: dash(i.flags),
    response_code_details: dash(i.detail),
    connection_termination_details: dash(i.connectionTerminationDetails),
    bytes_received: String(i.bytesReceived),
    bytes_sent: String(i.bytesSent),
    duration: String(i.durationMs()),
    upstream_service_time: ust < 0 ? '-' : String(ust),
    x_forwarded_for: dash(i.xForwardedFor || header(i.reqNames, i.reqValues, 'x-forwarded-for')),
    user_agent: dash(header(i.reqNames, i.reqValues, 'user-agent')),
    request_id: dash(i.requestId || header(i.reqNames, i.reqValues, 'x-request-id')),
    authority: dash(i.authority),
    upstream_host: dash(i.upstreamHost),
    upstream_cluster: dash(i.upstreamCluster),
    upstream_local_address: dash(i.upstreamLocalAddress),
    downstream_local_address: dash(i.downstreamLocalAddress),
    downstream_remote_address: dash(i.downstreamRemoteAddress),
    requested_server_name: dash(i.requestedServerName),
    upstream_transport_failure_reason: dash(i.upstreamTransportFailureReason),
  });
}

export class AccessLog implements StreamSink {
  readonly #out: NodeJS.WritableStream;
  readonly #enabled: boolean;
  #queue: string[] = [];
  #queuedBytes = 0;
  #scheduled = false;
  /** Lines dropped because the output could not keep up (bounded memory). */
  dropped = 0;
  readonly #listeners: ((i: StreamInfo) => void)[] = [];

  constructor(opts: AccessLogOptions) {
    this.#out = opts.out ?? process.stdout;
    this.#enabled = opts.enabled;
  }

  /** Extra per-stream consumers (metrics). Must not throw. */
  onDone(fn: (i: StreamInfo) => void): void { this.#listeners.push(fn); }

  onStreamDone(info: StreamInfo): void {
    if (info.endHr === 0) info.endHr = performance.now();
    for (const fn of this.#listeners) {
      try { fn(info); } catch { /* never throw into the data plane */ }
    }
    if (!this.#enabled) return;
    const line = istioJson(info);
    if (this.#queuedBytes > MAX_QUEUED_BYTES) { this.dropped++; return; }
    this.#queue.push(line);
    this.#queuedBytes += line.length;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    if (this.#queue.length === 0) return;
    const text = `${this.#queue.join('\n')}\n`;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#out.write(text);
  };

  /** Write everything queued (clean shutdown). */
  flush(): Promise<void> {
    this.#flush();
    return new Promise((resolve) => {
      const out = this.#out as NodeJS.WritableStream & { writableNeedDrain?: boolean };
      if (out.writableNeedDrain) out.once('drain', () => resolve());
      else resolve();
    });
  }
}
