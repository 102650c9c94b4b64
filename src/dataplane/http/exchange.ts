/**
 * The proxy core: one request/response exchange from route action to upstream and back.
 * Protocol-neutral on both sides (Downstream interface; H1 pool or H2 pool upstream),
 * callback-driven (no promises on the hot path), streaming with backpressure both ways.
 */
import type http2 from 'node:http2';
import type { StreamInfo, StreamSink } from '../../observability/stream-info.js';
import {
  applyHeaderOps, mergeHeaderOps, pickBackend, retriableStatus, type CompiledAction, type CompiledBackend, type HeaderOps,
} from '../../runtime/actions.js';
import type { RequestView } from '../router/request-view.js';
import type { ClusterHandle, Endpoint } from '../upstream/cluster.js';
import type { H1Conn, UpstreamHandler } from '../upstream/h1-pool.js';
import { ChunkDecoder } from './chunk-decoder.js';
import { Detail, failureReply, Flag, type UpstreamFailure } from './details.js';
import type { Downstream } from './downstream.js';
import type { ResponseHead } from './parser.js';
import type { ListenerRuntime } from './dispatch.js';
import { appendForwardedFor, forwardedClientCert, trustedClientAddress } from './forwarded.js';
import { localReply, textReply } from './local-reply.js';
import { newRequestId } from './request-id.js';

/** Request body framing as it arrives from downstream. */
export const BODY_NONE = 0;
export const BODY_LENGTH = 1;
/** HTTP/1.1 chunked bytes, passed through raw to an HTTP/1.1 upstream. */
export const BODY_CHUNKED_RAW = 2;
/** Unknown length (HTTP/2 without content-length): chunk-encoded for an HTTP/1.1 upstream. */
export const BODY_STREAM = 3;

/** Retry buffer limit: request bodies larger than this are streamed and not retried or mirrored. */
const RETRY_BUFFER_LIMIT = 64 * 1024;

/** Per-connection facts the exchange needs. */
export interface ConnFacts {
  readonly peerIp: string;
  readonly listenerPort: number;
  /** The connection's listener runtime: trusted proxies, XFCC policy, TLS facts. */
  readonly lr?: ListenerRuntime;
}

type ForwardAction = Extract<CompiledAction, { type: 'forward' }>;

const NO_STR: readonly string[] = [];

/** Hop-by-hop and framing headers never forwarded (RFC 9110 §7.6.1), plus ones we regenerate. */
function skipRequestHeader(n: string): boolean {
  switch (n.length) {
    case 2: return n === 'te';
    case 4: return n === 'host';
    case 7: return n === 'upgrade' || n === 'trailer';
    case 10: return n === 'connection' || n === 'keep-alive';
    case 14: return n === 'content-length';
    case 16: return n === 'proxy-connection';
    case 17: return n === 'transfer-encoding' || n === 'x-forwarded-proto';
    case 23: return n === 'x-forwarded-client-cert';
    default: return false;
  }
}

function skipResponseHeader(n: string): boolean {
  switch (n.length) {
    case 7: return n === 'upgrade' || n === 'trailer';
    case 10: return n === 'connection' || n === 'keep-alive';
    case 14: return n === 'content-length';
    case 16: return n === 'proxy-connection';
    case 17: return n === 'transfer-encoding';
    default: return false;
  }
}

export class Exchange implements UpstreamHandler {
  readonly ds: Downstream;
  readonly info: StreamInfo;
  readonly req: RequestView;
  readonly sink: StreamSink;
  readonly headRequest: boolean;
  readonly #action: ForwardAction;
  readonly #conn: ConnFacts;
  #cluster: ClusterHandle | undefined;
  #endpoint: Endpoint | undefined;
  #upstream: H1Conn | null = null;
  #h2stream: http2.ClientHttp2Stream | null = null;
  #head = '';
  #h2names: readonly string[] = NO_STR;
  #h2values: readonly string[] = NO_STR;
  #upPath = '';
  #upAuthority = '';
  readonly #bodyFraming: number;
  #reqEnded: boolean;
  /**
   * Copy of the request body for retries and mirrors: undefined while nothing was kept (no
   * allocation for bodiless requests), null once the body exceeded the limit.
   */
  #reqBuf: Buffer[] | null | undefined = undefined;
  #reqBufLen = 0;
  #attempt = 0;
  #transparentRetried = false;
  #responseStarted = false;
  #done = false;
  #timer: NodeJS.Timeout | undefined;
  #tryTimer: NodeJS.Timeout | undefined;
  #respOps: HeaderOps | undefined;
  #decoder: ChunkDecoder | undefined;
  #upstreamPaused = false;
  #waiter: (() => void) | undefined;
  #waitPool: import('../upstream/h1-pool.js').H1Pool | undefined;
  #overloaded = false;
  #lastEndpoint: Endpoint | undefined;
  /** HTTP/2 request body of unknown length going to an HTTP/1.1 upstream: we chunk-encode it. */
  #encodeChunks = false;

  constructor(ds: Downstream, req: RequestView, info: StreamInfo, action: ForwardAction, conn: ConnFacts,
    sink: StreamSink, bodyFraming: number, reqEnded: boolean) {
    this.ds = ds;
    this.req = req;
    this.info = info;
    this.#action = action;
    this.#conn = conn;
    this.sink = sink;
    this.headRequest = req.method === 'HEAD';
    this.#bodyFraming = bodyFraming;
    this.#reqEnded = reqEnded;
  }

  /** Pick the backend, build the upstream request once, and send the first attempt. */
  start(): void {
    const a = this.#action;
    const info = this.info;
    const b = pickBackend(a);
    if (b === undefined || b.invalid !== undefined) {
      const inv = b?.invalid ?? { status: 500, detail: Detail.noBackend, flag: Flag.NoClusterFound };
      info.addFlag(inv.flag);
      this.#local(inv.status, inv.detail, inv.status === 500 ? 'Internal Server Error' : 'no healthy upstream');
      return;
    }
    const cluster = b.cluster!;
    this.#cluster = cluster;
    info.upstreamCluster = cluster.ir.name;
    info.destinationService = cluster.ir.serviceHost;
    info.upstreamProtocol = cluster.ir.protocol === 'h2c' ? 'HTTP/2' : 'HTTP/1.1';
    if (this.#reqEnded) info.requestEndHr = performance.now();
    this.#respOps = b.responseOps === undefined ? a.responseOps
      : a.responseOps === undefined ? b.responseOps : mergeHeaderOps(b.responseOps, a.responseOps);
    this.#buildRequest(a, b);
    if (cluster.ir.maxRequests !== undefined && cluster.active >= cluster.ir.maxRequests) {
      // Circuit breaker (Istio http2MaxRequests): too many requests in flight to this cluster.
      this.#overflow();
      return;
    }
    cluster.active++;
    cluster.total++;
    if (a.timeoutMs > 0) this.#timer = setTimeout(() => this.#onTimeout(false), a.timeoutMs);
    this.#send(undefined);
    if (this.#reqEnded) this.#mirror();
  }

  #buildRequest(a: ForwardAction, b: CompiledBackend): void {
    const req = this.req;
    const info = this.info;
    let lnames = req.lnames;
    let values = req.values;
    // Envoy order: destination-level ops, then route-level.
    if (b.requestOps) ({ lnames, values } = applyHeaderOps(b.requestOps, lnames, values, info));
    if (a.requestOps) ({ lnames, values } = applyHeaderOps(a.requestOps, lnames, values, info));
    // Envoy logs request headers after the route mutated them (%REQ(x)% sees added headers).
    if (lnames !== req.lnames) { info.reqNames = lnames; info.reqValues = values; }
    let path = req.path;
    if (a.pathRewrite) {
      const np = a.pathRewrite(path);
      if (np !== path) {
        path = np;
      }
    }
    this.#upPath = req.query.length ? `${path}?${req.query}` : path;
    if (path !== req.path) info.upstreamPath = this.#upPath; // %REQ(:PATH)% after rewrite
    this.#upAuthority = a.authority ?? b.authority ?? req.authority;
    const h2 = this.#cluster!.ir.protocol === 'h2c';

    let xff: string | undefined;
    let requestId: string | undefined;
    const outN: string[] = h2 ? [] : (NO_STR as string[]);
    const outV: string[] = h2 ? [] : (NO_STR as string[]);
    let head = h2 ? '' : `${req.method} ${this.#upPath} HTTP/1.1\r\nhost: ${this.#upAuthority}\r\n`;
    for (let i = 0; i < lnames.length; i++) {
      const n = lnames[i]!;
      if (skipRequestHeader(n)) continue;
      if (n === 'x-forwarded-for') { xff = xff === undefined ? values[i]! : `${xff}, ${values[i]!}`; continue; }
      if (n === 'x-request-id') { if (requestId === undefined) requestId = values[i]!; continue; }
      if (n === 'expect') continue; // 100-continue is answered by the front end
      if (h2) { outN.push(n); outV.push(values[i]!); }
      else head += `${n}: ${values[i]!}\r\n`;
    }
    // RFC 7239-style X-Forwarded-For append (Envoy use_remote_address: true).
    const peer = this.#conn.peerIp;
    const lr = this.#conn.lr;
    // Trusted hops (F19/F32): the client is the N-th address from the right, computed before appending.
    const trusted = lr?.trustedProxies ? trustedClientAddress(xff, lr.trustedProxies) : undefined;
    xff = appendForwardedFor(xff, peer);
    info.xForwardedFor = xff;
    if (trusted !== undefined) {
      info.downstreamRemoteAddress = trusted.includes(':') ? `[${trusted}]:0` : `${trusted}:0`;
      if (h2) { outN.push('x-envoy-external-address'); outV.push(trusted); } else head += `x-envoy-external-address: ${trusted}\r\n`;
    }
    // X-Forwarded-Client-Cert: a client's own value was skipped above; set per policy (forwarded.ts).
    const xfcc = forwardedClientCert(lr, lnames, values);
    if (xfcc !== undefined) {
      if (h2) { outN.push('x-forwarded-client-cert'); outV.push(xfcc); } else head += `x-forwarded-client-cert: ${xfcc}\r\n`;
    }
    if (requestId === undefined || requestId === '') requestId = newRequestId();
    info.requestId = requestId;
    if (h2) {
      outN.push('x-forwarded-for', 'x-forwarded-proto', 'x-request-id');
      outV.push(xff, req.scheme, requestId);
      if (this.#bodyFraming === BODY_LENGTH) { outN.push('content-length'); outV.push(String(this.#contentLength())); }
      this.#h2names = outN;
      this.#h2values = outV;
    } else {
      this.#encodeChunks = this.#bodyFraming === BODY_STREAM;
      head += `x-forwarded-for: ${xff}\r\nx-forwarded-proto: ${req.scheme}\r\nx-request-id: ${requestId}\r\n`;
      // WebSocket and other HTTP/1.1 upgrades (RFC 9110 §7.8): the only hop-by-hop pair we pass on.
      if (req.upgrade !== undefined) head += `connection: upgrade\r\nupgrade: ${req.upgrade}\r\n`;
      const f = this.#bodyFraming;
      if (f === BODY_LENGTH) head += `content-length: ${this.#contentLength()}\r\n`;
      else if (f === BODY_CHUNKED_RAW || f === BODY_STREAM) head += 'transfer-encoding: chunked\r\n';
      this.#head = `${head}\r\n`;
    }
  }

  #contentLength(): number {
    const cl = this.req.lnames.indexOf('content-length');
    return cl === -1 ? 0 : Number(this.req.values[cl]);
  }

  /** One attempt: pick an endpoint and write the request. */
  #send(exclude: Endpoint | undefined): void {
    const cluster = this.#cluster!;
    const ep = cluster.pick(exclude);
    if (ep === undefined) {
      this.info.addFlag(Flag.NoHealthyUpstream);
      this.#local(503, Detail.noHealthyUpstream, 'no healthy upstream');
      return;
    }
    this.#endpoint = ep;
    ep.active++;
    ep.totalRequests++;
    const info = this.info;
    info.upstreamHost = ep.address.includes(':') ? `[${ep.address}]:${ep.port}` : `${ep.address}:${ep.port}`;
    info.upstreamSentHr = performance.now();
    const retry = this.#action.retry;
    if (retry !== undefined && retry.perTryTimeoutMs > 0) {
      this.#tryTimer = setTimeout(() => this.#onTimeout(true), retry.perTryTimeoutMs);
    }
    const rb = this.#reqBuf;
    const body = rb && this.#reqBufLen > 0 ? (rb.length === 1 ? rb[0]! : Buffer.concat(rb)) : null;
    if (ep.h2 !== undefined) {
      if (this.#bodyFraming === BODY_CHUNKED_RAW) this.#decoder = new ChunkDecoder();
      const ended = this.#reqEnded && (this.#bodyFraming === BODY_NONE || body !== null);
      const s = ep.h2.request(this, this.req.method, this.#upAuthority, this.#upPath, 'http', this.#h2names, this.#h2values, ended && body === null);
      if (s === null) return;
      this.#h2stream = s;
      s.on('drain', () => this.ds.resumeRequest());
      if (body !== null) this.#h2write(body, this.#reqEnded);
      return;
    }
    const c = ep.h1!.acquire();
    if (c === null) { this.#queue(ep, body); return; }
    this.#upstream = c;
    c.start(this, this.#head, body, this.#reqEnded);
    if (this.#reqEnded && this.#encodeChunks && body === null) c.writeBody(LAST_CHUNK);
  }

  /** The upstream socket drained: request body bytes may flow again. */
  onRequestDrain(): void { if (!this.#done) this.ds.resumeRequest(); }

  /**
   * The endpoint's connection limit is reached: wait as a pending request (Istio
   * http1MaxPendingRequests), or answer 503 UO with x-envoy-overloaded when that queue is full.
   */
  #queue(ep: Endpoint, body: Buffer | null): void {
    const pool = ep.h1!;
    const max = this.#cluster!.ir.maxPendingRequests ?? Infinity;
    if (pool.pendingCount >= max) {
      this.#overflow();
      return;
    }
    const waiter = (): void => {
      this.#waiter = undefined;
      if (this.#done) return;
      const c = pool.acquire();
      if (c === null) { this.#waiter = waiter; pool.wait(waiter); return; }
      this.#upstream = c;
        const b = this.#reqBuf && this.#reqBufLen > 0 ? Buffer.concat(this.#reqBuf) : body;
      c.start(this, this.#head, b, this.#reqEnded);
      if (this.#reqEnded && this.#encodeChunks && b === null) c.writeBody(LAST_CHUNK);
    };
    this.#waiter = waiter;
    this.#waitPool = pool;
    pool.wait(waiter);
  }

  #overflow(): void {
    const r = failureReply('overflow');
    this.info.addFlag(r.flag);
    this.#overloaded = true;
    this.#local(r.status, r.detail, r.body);
  }

  #h2write(chunk: Buffer, end: boolean): void {
    const s = this.#h2stream!;
    if (this.#decoder !== undefined) {
      const parts = this.#decoder.decode(chunk);
      for (const p of parts) s.write(p);
      if (end) s.end();
      return;
    }
    if (end) s.end(chunk);
    else if (!s.write(chunk)) this.ds.pauseRequest();
  }

  /** Request body bytes from downstream (framing as announced). */
  onRequestData(chunk: Buffer): void {
    if (this.#done) return;
    const len = chunk.length;
    this.info.bytesReceived += len;
    const data = this.#encodeChunks ? Buffer.concat([Buffer.from(`${len.toString(16)}\r\n`, 'latin1'), chunk, CRLF]) : chunk;
    this.#keep(data);
    if (this.#h2stream !== null) { this.#h2write(data, false); return; }
    const c = this.#upstream;
    if (c === null) return; // waiting for a retry: the buffered copy is sent with it
    if (!c.writeBody(data)) this.ds.pauseRequest();
  }

  /** Keep a copy of request bytes for retries and mirrors while it stays small. */
  #keep(data: Buffer): void {
    if (this.#reqBuf === null) return;
    if (this.#reqBufLen + data.length <= RETRY_BUFFER_LIMIT) { (this.#reqBuf ??= []).push(data); this.#reqBufLen += data.length; }
    else { this.#reqBuf = null; this.#reqBufLen = 0; }
  }

  /** The request body is complete. */
  onRequestEnd(): void {
    if (this.#done) return;
    this.#reqEnded = true;
    this.info.requestEndHr = performance.now();
    if (this.#encodeChunks) this.#keep(LAST_CHUNK);
    this.#mirror();
    if (this.#h2stream !== null) { this.#h2stream.end(); return; }
    const c = this.#upstream;
    if (c === null) return;
    if (this.#encodeChunks) c.writeBody(LAST_CHUNK);
    c.endRequest();
  }

  // ---------------------------------------------------------------- upstream events

  onResponseHead(res: ResponseHead, body: Buffer, complete: boolean, conn: H1Conn): void {
    const info = this.info;
    info.upstreamFirstByteHr = performance.now();
    const sock = conn ? conn.socket : this.#h2stream?.session?.socket;
    if (sock) info.upstreamLocalAddress = localAddressOf(sock as import('node:net').Socket);
    const status = res.status;
    const retry = this.#action.retry;
    if (retry !== undefined && !this.#responseStarted && this.#attempt < retry.attempts && retriableStatus(retry, status) &&
        this.#reqBuf !== null && (this.#reqEnded || this.#bodyFraming === BODY_NONE)) {
      this.#dropUpstream();
      this.#retry();
      return;
    }
    this.#clearTryTimer();
    this.#responseStarted = true;
    info.responseCode = status;
    info.detail = Detail.viaUpstream;
    // Response headers: drop hop-by-hop, apply ops, add x-envoy-upstream-service-time.
    let lnames: string[] = [];
    let values: string[] = [];
    const rl = res.lnames;
    const rv = res.values;
    const tokens = res.connectionTokens;
    for (let i = 0; i < rl.length; i++) {
      const n = rl[i]!;
      if (skipResponseHeader(n)) continue;
      if (tokens.length !== 0 && tokens.includes(n)) continue;
      lnames.push(n);
      values.push(rv[i]!);
    }
    if (this.#respOps !== undefined) ({ lnames, values } = applyHeaderOps(this.#respOps, lnames, values, info));
    lnames.push('x-envoy-upstream-service-time');
    values.push(String(info.upstreamServiceTimeMs()));
    info.resNames = lnames;
    info.resValues = values;
    const rawChunked = res.chunked && this.#h2stream === null;
    let cl = res.contentLength;
    if (this.headRequest || status === 204 || status === 304) cl = res.contentLength; // echo as received
    else if (res.chunked) cl = -1;
    this.ds.sendHead(status, lnames, values, cl, rawChunked, body, complete, info);
  }

  onResponseData(chunk: Buffer): void {
    if (this.#done) return;
    if (!this.ds.sendData(chunk, this.info)) {
      this.#upstreamPaused = true;
      if (this.#upstream !== null) this.#upstream.pause();
      else this.#h2stream?.pause();
    }
  }

  /** Downstream drained: resume the upstream response. */
  onDownstreamDrain(): void {
    if (!this.#upstreamPaused) return;
    this.#upstreamPaused = false;
    if (this.#upstream !== null) this.#upstream.resume();
    else this.#h2stream?.resume();
  }

  /** Upstream trailers (HTTP/2): recorded for %TRAILER()% and the gRPC status; forwarding arrives with gRPC. */
  /** The upstream answered 101: hand both sockets to the front end as a tunnel. */
  onUpgrade(res: ResponseHead, socket: import('node:net').Socket, rest: Buffer): void {
    if (this.#done) { socket.destroy(); return; }
    const info = this.info;
    info.upstreamFirstByteHr = performance.now();
    this.#clearTryTimer();
    if (this.#timer !== undefined) { clearTimeout(this.#timer); this.#timer = undefined; }
    this.#responseStarted = true;
    this.#upstream = null;
    info.responseCode = res.status;
    info.detail = Detail.viaUpstream;
    if (this.ds.upgrade === undefined || this.req.upgrade === undefined) {
      socket.destroy();
      info.addFlag(Flag.UpstreamProtocolError);
      this.#local(502, Detail.protocolError, 'upstream switched protocols unexpectedly');
      return;
    }
    const lnames: string[] = [];
    const values: string[] = [];
    for (let i = 0; i < res.lnames.length; i++) {
      const n = res.lnames[i]!;
      if (n === 'connection' || n === 'upgrade' || n === 'keep-alive' || n === 'transfer-encoding') continue;
      lnames.push(n);
      values.push(res.values[i]!);
    }
    lnames.push('connection', 'upgrade');
    values.push('upgrade', res.values[res.lnames.indexOf('upgrade')] ?? this.req.upgrade);
    info.resNames = lnames;
    info.resValues = values;
    this.ds.upgrade(res.status, lnames, values, socket, rest, info, () => this.#finish());
  }

  onTrailers(t: unknown): void {
    if (t === null || typeof t !== 'object') return;
    const n: string[] = [];
    const v: string[] = [];
    for (const [k, val] of Object.entries(t as Record<string, unknown>)) {
      if (k.charCodeAt(0) === 58 || val === undefined) continue;
      for (const x of Array.isArray(val) ? val : [val]) { n.push(k); v.push(String(x)); }
    }
    this.info.trailerNames = n;
    this.info.trailerValues = v;
    this.ds.sendTrailers?.(n, v);
  }

  onResponseEnd(): void {
    if (this.#done) return;
    this.ds.sendEnd(this.info);
    this.#finish();
  }

  onUpstreamError(kind: UpstreamFailure, started: boolean, reason: string): void {
    if (this.#done) return;
    const info = this.info;
    if (kind === 'connect') info.connectFailures++;
    const c = this.#upstream;
    this.#releaseEndpoint();
    this.#upstream = null;
    this.#h2stream = null;
    if (started || this.#responseStarted) {
      info.addFlag(kind === 'reset' ? Flag.UpstreamRemoteReset : Flag.UpstreamConnectionTermination);
      info.detail = kind === 'reset' ? Detail.resetAfterStartedRemote : Detail.resetAfterStarted;
      this.ds.abort();
      this.#finish();
      return;
    }
    this.#clearTryTimer();
    const canReplay = this.#reqBuf !== null;
    // A pooled keep-alive connection closed by the upstream just as we reused it: retry once
    // on a fresh connection without counting it as a retry (nothing reached the upstream app).
    if (c !== null && c.reused && !c.gotBytes && (kind === 'termination' || kind === 'reset') && canReplay && !this.#transparentRetried) {
      this.#transparentRetried = true;
      this.#send(undefined);
      return;
    }
    info.upstreamTransportFailureReason = reason;
    const retry = this.#action.retry;
    const retriable = retry !== undefined && canReplay && this.#attempt < retry.attempts &&
      ((kind === 'connect' && retry.onConnectFailure) || ((kind === 'reset' || kind === 'termination') && retry.onReset) ||
       (kind === 'reset' && reason === 'refused_stream' && retry.onRefusedStream) || (kind === 'per_try_timeout'));
    if (retriable) {
      this.#retry();
      return;
    }
    const r = failureReply(kind);
    info.addFlag(r.flag);
    if (retry !== undefined && this.#attempt > 0 && this.#attempt >= retry.attempts) info.addFlag(Flag.UpstreamRetryLimitExceeded);
    this.#local(r.status, r.detail, r.body);
  }

  /** Client went away before the exchange finished. */
  onDownstreamAbort(): void {
    if (this.#done) return;
    this.info.addFlag(Flag.DownstreamConnectionTermination);
    if (!this.#responseStarted) { this.info.responseCode = 0; this.info.detail = Detail.downstreamDisconnect; }
    this.#dropUpstream();
    this.#finish();
  }

  // ---------------------------------------------------------------- internals

  #retry(): void {
    const retry = this.#action.retry!;
    // Envoy's previous_hosts retry predicate: avoid the endpoint that just failed.
    const prev = this.#endpoint ?? this.#lastEndpoint;
    this.#attempt++;
    this.info.retries = this.#attempt;
    // Full-jitter exponential back-off: random in [0, (2^n - 1) * base), capped at 10 × base.
    const cap = retry.backoffBaseMs * 10;
    const delay = Math.min(cap, Math.random() * ((2 ** this.#attempt) - 1) * retry.backoffBaseMs);
    setTimeout(() => { if (!this.#done) this.#send(prev); }, delay);
  }

  #onTimeout(perTry: boolean): void {
    if (this.#done) return;
    if (perTry) {
      this.#tryTimer = undefined;
      if (this.#responseStarted) return; // per-try timeout only applies before the response
      this.#dropUpstream();
      this.onUpstreamError('per_try_timeout', false, 'per try timeout');
      return;
    }
    this.#timer = undefined;
    this.#dropUpstream();
    if (this.#responseStarted) {
      this.info.addFlag(Flag.UpstreamRequestTimeout);
      this.ds.abort();
      this.#finish();
      return;
    }
    const r = failureReply('timeout');
    this.info.addFlag(r.flag);
    this.#local(r.status, r.detail, r.body);
  }

  #dropUpstream(): void {
    if (this.#upstream !== null) {
      this.#upstream.destroy();
      this.#upstream = null;
    }
    if (this.#h2stream !== null) {
      this.#h2stream.removeAllListeners();
      this.#h2stream.on('error', () => {});
      this.#h2stream.close();
      this.#h2stream = null;
    }
    this.#releaseEndpoint();
  }

  #releaseEndpoint(): void {
    const ep = this.#endpoint;
    if (ep !== undefined) { ep.active--; this.#endpoint = undefined; this.#lastEndpoint = ep; }
  }

  #clearTryTimer(): void {
    if (this.#tryTimer !== undefined) { clearTimeout(this.#tryTimer); this.#tryTimer = undefined; }
  }

  #local(status: number, detail: string, body: string): void {
    const info = this.info;
    info.responseCode = status;
    info.detail = detail;
    const r = textReply(body);
    let lnames: readonly string[] = r.lnames;
    let values: readonly string[] = r.values;
    if (this.#overloaded) { lnames = [...lnames, 'x-envoy-overloaded']; values = [...values, 'true']; }
    if (this.#respOps !== undefined) ({ lnames, values } = applyHeaderOps(this.#respOps, lnames, values, info));
    this.#responseStarted = true;
    localReply(this.ds, status, lnames, values, r.body, info);
    this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#waiter !== undefined) { this.#waitPool?.cancelWait(this.#waiter); this.#waiter = undefined; }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#clearTryTimer();
    const ep = this.#endpoint;
    if (ep !== undefined) { ep.active--; this.#endpoint = undefined; }
    this.#upstream = null;
    if (this.#cluster !== undefined) this.#cluster.active--;
    this.info.endHr = performance.now();
    this.sink.onStreamDone(this.info);
    this.ds.exchangeDone();
  }

  /** Fire-and-forget shadow copies (Envoy request_mirror_policies): never waits, never fails the request. */
  #mirror(): void {
    const ms = this.#action.mirrors;
    if (ms.length === 0 || this.#reqBuf === null || this.#head === '') return;
    for (const m of ms) {
      if (m.fraction < 1 && Math.random() >= m.fraction) continue;
      const ep = m.cluster.pick(undefined);
      if (ep === undefined || ep.h1 === undefined) continue;
      const host = hostWithShadow(this.#upAuthority);
      const head = this.#head.replace(/\r\nhost: [^\r]*\r\n/, `\r\nhost: ${host}\r\n`);
      const body = this.#reqBuf && this.#reqBufLen > 0 ? Buffer.concat(this.#reqBuf) : null;
      const c = ep.h1.acquire();
      if (c !== null) c.start(SHADOW_HANDLER, head, body, true); // no queueing for shadows
    }
  }
}

/** Envoy appends `-shadow` to the mirrored request's host (before any port). */
function hostWithShadow(authority: string): string {
  const colon = authority.lastIndexOf(':');
  if (colon > 0 && authority.indexOf(']') < colon && /^\d+$/.test(authority.slice(colon + 1))) {
    return `${authority.slice(0, colon)}-shadow${authority.slice(colon)}`;
  }
  return `${authority}-shadow`;
}

const SHADOW_HANDLER: UpstreamHandler = {
  headRequest: false,
  onResponseHead() {},
  onResponseData() {},
  onResponseEnd() {},
  onUpstreamError() {},
};

const CRLF = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

const localAddresses = new WeakMap<object, string>();

/** `ip:port` of an upstream socket, computed once per connection (getsockname is a syscall). */
function localAddressOf(socket: import('node:net').Socket): string {
  let a = localAddresses.get(socket);
  if (a === undefined) {
    const ip = socket.localAddress;
    if (ip === undefined) return '';
    const v = ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
    a = v.includes(':') ? `[${v}]:${socket.localPort}` : `${v}:${socket.localPort}`;
    localAddresses.set(socket, a);
  }
  return a;
}
