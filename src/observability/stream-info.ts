/**
 * Everything recorded about one request (or TCP connection), in one monomorphic object.
 * The data plane only writes fields here; access logs and metrics read them in `onDone`.
 * Keeping the recording central lets the observability layer change formats freely.
 */
export class StreamInfo {
  /** Wall-clock start (ms since epoch) and monotonic start (performance.now()). */
  startMs = 0;
  startHr = 0;
  /** Monotonic time the upstream request was sent / first upstream byte arrived (-1 = never). */
  upstreamSentHr = -1;
  upstreamFirstByteHr = -1;
  endHr = 0;
  /** Monotonic time the last request body byte arrived from downstream (-1 = not recorded). */
  requestEndHr = -1;
  method = '';
  /** Path and query as received (before any rewrite): %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%. */
  originalPath = '';
  /** Path and query sent upstream when a rewrite changed it ('' = unchanged): %REQ(:PATH)%. */
  upstreamPath = '';
  authority = '';
  /** `HTTP/1.1`, `HTTP/1.0`, `HTTP/2`. */
  protocol = '';
  scheme = 'http';
  requestId = '';
  /** X-Forwarded-For as sent upstream (Envoy logs request headers after its own mutation). */
  xForwardedFor = '';
  responseCode = 0;
  /** Comma-separated short flags; '' = none (rendered `-`). */
  flags = '';
  detail = '';
  connectionTerminationDetails = '';
  upstreamTransportFailureReason = '';
  /** Body bytes. */
  bytesReceived = 0;
  bytesSent = 0;
  /** Wire bytes (head + body) for istio_request_bytes / istio_response_bytes. */
  requestWireBytes = 0;
  responseWireBytes = 0;
  upstreamHost = '';
  upstreamCluster = '';
  /** `HTTP/1.1` or `HTTP/2` towards the upstream ('' = no upstream): %UPSTREAM_PROTOCOL%. */
  upstreamProtocol = '';
  /** Failed upstream connection attempts of this stream (retried ones included). */
  connectFailures = 0;
  upstreamLocalAddress = '';
  downstreamLocalAddress = '';
  downstreamRemoteAddress = '';
  /** TCP peer when the remote address was derived from XFF/PROXY ('' = same as downstreamRemoteAddress). */
  downstreamDirectRemoteAddress = '';
  requestedServerName = '';
  routeName = '';
  /** Stable route id (metrics label), '' when no route matched. */
  routeId = '';
  /** Destination service FQDN of the chosen cluster (metrics). */
  destinationService = '';
  listenerPort = 0;
  retries = 0;
  /** Request headers (lower-case names / values), kept for %REQ()% — only valid in onDone. */
  reqNames: readonly string[] = EMPTY;
  reqValues: readonly string[] = EMPTY;
  resNames: readonly string[] = EMPTY;
  resValues: readonly string[] = EMPTY;
  /** Response trailers (lower-case names / values): %TRAILER()%, gRPC status. */
  trailerNames: readonly string[] = EMPTY;
  trailerValues: readonly string[] = EMPTY;

  addFlag(f: string): void {
    if (this.flags === '') this.flags = f;
    else if (!this.flags.split(',').includes(f)) this.flags += `,${f}`;
  }

  /** Total duration in ms (integer, as Envoy logs it). */
  durationMs(): number {
    return Math.max(0, Math.round(this.endHr - this.startHr));
  }

  /** Upstream service time (request sent → first response byte), or -1. */
  upstreamServiceTimeMs(): number {
    if (this.upstreamSentHr < 0 || this.upstreamFirstByteHr < 0) return -1;
    return Math.max(0, Math.round(this.upstreamFirstByteHr - this.upstreamSentHr));
  }
}

const EMPTY: readonly string[] = Object.freeze([]);

/** Receives every finished stream (access log, metrics). Must never throw. */
export interface StreamSink {
  onStreamDone(info: StreamInfo): void;
  /** A new snapshot is serving: Telemetry settings and cluster metadata of its IR. */
  configure?(ir: import('../config/ir/types.js').GatewayIR): void;
  /** A client connection was accepted on a listener (connection metrics). */
  onConnection?(listener: string, socket: import('node:net').Socket): void;
}
