/**
 * HTTP/2 front end (cleartext prior knowledge; TLS+ALPN in the TLS release) on node:http2.
 * Each stream becomes a RequestView + Exchange exactly like an HTTP/1.1 request.
 */
import http2 from 'node:http2';
import { keep } from '../io/shared-read.js';
import { StreamInfo } from '../../observability/stream-info.js';
import { hostWithoutPort, MutableRequestView } from '../router/request-view.js';
import { ChunkDecoder } from './chunk-decoder.js';
import { Detail, Flag } from './details.js';
import type { Downstream } from './downstream.js';
import { dispatchLocalAction, type ListenerRuntime } from './dispatch.js';
import { BODY_LENGTH, BODY_NONE, BODY_STREAM, Exchange } from './exchange.js';
import { fmtAddr, normalizeIp } from './h1-server.js';
import { httpDate, localReply, textReply } from './local-reply.js';
import { normalizePath } from './path.js';

/** Connection-specific headers that must not appear in HTTP/2 (RFC 9113 §8.2.2). */
const H2_FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

const kDs = Symbol('portico.h2ds');
type DsStream = http2.ServerHttp2Stream & { [kDs]?: H2Downstream };
const NOOP = (): void => {};

class H2Downstream implements Downstream {
  readonly protocol = 'HTTP/2';
  readonly stream: http2.ServerHttp2Stream;
  ex: Exchange | null = null;
  #decoder: ChunkDecoder | null = null;
  /** Upstream trailers to send when the stream asks for them (gRPC status). */
  #trailers: http2.OutgoingHttpHeaders | null = null;
  /** 'drain' is listened to only once a write pushed back (most responses never do). */
  #drainHooked = false;

  constructor(stream: http2.ServerHttp2Stream) {
    this.stream = stream;
    (stream as DsStream)[kDs] = this;
    // Shared handlers, no closures per stream.
    stream.on('error', NOOP);
    stream.on('close', H2Downstream.#onClose);
  }

  static #onClose(this: DsStream): void {
    const ds = this[kDs]!;
    const ex = ds.ex;
    if (ex !== null) ex.onDownstreamAbort();
  }

  static #onDrain(this: DsStream): void { this[kDs]!.ex?.onDownstreamDrain(); }

  #write(chunk: Buffer): boolean {
    const s = this.stream;
    const ok = s.write(chunk);
    if (!ok && !this.#drainHooked) { this.#drainHooked = true; s.on('drain', H2Downstream.#onDrain); }
    return ok;
  }

  sendHead(status: number, lnames: readonly string[], values: readonly string[], contentLength: number,
    rawChunked: boolean, body: Buffer, complete: boolean, info: StreamInfo): void {
    const s = this.stream;
    if (s.destroyed || s.closed) return;
    const h: http2.OutgoingHttpHeaders = { ':status': status };
    for (let i = 0; i < lnames.length; i++) {
      const n = lnames[i]!;
      if (H2_FORBIDDEN.has(n)) continue;
      const prev = h[n];
      if (prev === undefined) h[n] = values[i]!;
      else if (Array.isArray(prev)) prev.push(values[i]!);
      else h[n] = [String(prev), values[i]!];
    }
    if (contentLength >= 0 && status !== 204 && status !== 304) h['content-length'] = String(contentLength);
    if (rawChunked) this.#decoder = new ChunkDecoder();
    const noBody = info.method === 'HEAD' || status === 204 || status === 304;
    const endNow = complete && (body.length === 0 || noBody);
    // gRPC ends with trailers (grpc-status): keep the stream open for them (h2 → h2 path).
    const waitForTrailers = !endNow && isGrpc(h['content-type']);
    if (waitForTrailers) {
      s.once('wantTrailers', () => {
        try { s.sendTrailers(this.#trailers ?? { 'grpc-status': '2', 'grpc-message': 'upstream ended without trailers' }); } catch { /* stream gone */ }
      });
    }
    try { s.respond(h, { endStream: endNow, waitForTrailers }); } catch { return; }
    info.responseWireBytes += headBytes(lnames, values) + 13; // uncompressed estimate (+ :status)
    if (endNow) return;
    if (complete && !waitForTrailers && this.#decoder === null) {
      // The whole small response at once: one DATA frame carrying END_STREAM.
      info.bytesSent += body.length;
      info.responseWireBytes += body.length;
      s.end(keep(body));
      return;
    }
    if (body.length) this.sendData(body, info);
    if (complete) this.sendEnd(info);
  }

  sendData(chunk: Buffer, info: StreamInfo): boolean {
    const s = this.stream;
    if (s.destroyed || s.closed) return true;
    chunk = keep(chunk); // written streams keep it queued; it may be the shared read buffer
    if (this.#decoder !== null) {
      let ok = true;
      for (const p of this.#decoder.decode(chunk)) { info.bytesSent += p.length; info.responseWireBytes += p.length; ok = this.#write(p); }
      return ok;
    }
    info.bytesSent += chunk.length;
    info.responseWireBytes += chunk.length;
    return this.#write(chunk);
  }

  sendEnd(_info: StreamInfo): void {
    const s = this.stream;
    if (!s.destroyed && !s.closed && !s.writableEnded) s.end();
  }

  sendTrailers(lnames: readonly string[], values: readonly string[]): void {
    const t: http2.OutgoingHttpHeaders = {};
    for (let i = 0; i < lnames.length; i++) {
      const n = lnames[i]!;
      if (n.charCodeAt(0) === 58 || H2_FORBIDDEN.has(n)) continue;
      const prev = t[n];
      t[n] = prev === undefined ? values[i]! : Array.isArray(prev) ? [...prev, values[i]!] : [String(prev), values[i]!];
    }
    this.#trailers = t;
  }

  sendLocal(status: number, lnames: readonly string[], values: readonly string[], body: Buffer, info: StreamInfo): void {
    const s = this.stream;
    if (s.destroyed || s.closed) return;
    const h: http2.OutgoingHttpHeaders = { ':status': status, 'content-length': String(body.length), date: httpDate(), server: 'portico' };
    for (let i = 0; i < lnames.length; i++) h[lnames[i]!] = values[i]!;
    info.responseWireBytes += headBytes(lnames, values) + 80 + body.length; // + :status, date, server, content-length
    try {
      if (body.length && info.method !== 'HEAD') { s.respond(h); s.end(body); }
      else s.respond(h, { endStream: true });
    } catch { /* stream already gone */ }
  }

  pauseRequest(): void { this.stream.pause(); }
  resumeRequest(): void { this.stream.resume(); }
  abort(): void { if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR); }
  exchangeDone(): void { this.ex = null; }
}

/** Create the HTTP/2 server for one listener; connections arrive through h2Handoff. */
export function createH2Server(lr: ListenerRuntime): http2.Http2Server {
  const server = http2.createServer({ maxSessionMemory: 64, settings: { maxConcurrentStreams: 1000 } });
  server.on('stream', (stream, headers, _flags, raw?: string[]) => onStream(lr, stream, headers, raw));
  server.on('sessionError', () => {});
  server.on('session', (session) => {
    session.on('error', () => {});
    lr.connections.add(wrapSession(lr, session));
  });
  return server;
}

function wrapSession(lr: ListenerRuntime, session: http2.ServerHttp2Session): { drain(delayMs?: number): void } {
  const goaway = (): void => {
    // GOAWAY lets in-flight streams finish and tells the client to reconnect elsewhere.
    try { session.goaway(http2.constants.NGHTTP2_NO_ERROR); } catch { /* closed */ }
    setTimeout(() => { if (!session.closed) session.close(); }, 50).unref();
  };
  const handle = {
    /** GOAWAY now, or after `delayMs` (jitter: spreads the clients' reconnects). */
    drain(delayMs = 0): void {
      if (delayMs > 0) setTimeout(goaway, delayMs).unref();
      else goaway();
    },
  };
  session.once('close', () => lr.connections.delete(handle));
  return handle;
}

interface SessionFacts { readonly local: string; readonly remote: string; readonly peerIp: string }
const FACTS = new WeakMap<object, SessionFacts>();
const NO_FACTS: SessionFacts = { local: '', remote: '', peerIp: '' };

/** Addresses of a session, computed once (session.socket is a Proxy: slow to read per stream). */
function sessionFacts(session: http2.Http2Session | undefined): SessionFacts {
  if (session === undefined) return NO_FACTS;
  let f = FACTS.get(session);
  if (f === undefined) {
    const sock = session.socket;
    f = {
      local: fmtAddr(sock?.localAddress, sock?.localPort),
      remote: fmtAddr(sock?.remoteAddress, sock?.remotePort),
      peerIp: normalizeIp(sock?.remoteAddress ?? ''),
    };
    FACTS.set(session, f);
  }
  return f;
}

function onStream(lr: ListenerRuntime, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, raw: string[] | undefined): void {
  const facts = sessionFacts(stream.session);
  const info = new StreamInfo();
  info.startMs = Date.now();
  info.startHr = performance.now();
  info.protocol = 'HTTP/2';
  info.listenerPort = lr.port;
  info.downstreamLocalAddress = facts.local;
  info.downstreamRemoteAddress = facts.remote;
  const ds = new H2Downstream(stream);
  const v = new MutableRequestView();
  v.method = String(headers[':method'] ?? 'GET');
  const target = String(headers[':path'] ?? '/');
  v.authority = String(headers[':authority'] ?? headers.host ?? '');
  v.host = hostWithoutPort(v.authority);
  v.scheme = lr.scheme(headers);
  v.port = lr.port;
  info.method = v.method;
  info.originalPath = target;
  info.authority = v.authority;
  info.scheme = v.scheme;
  let hasLength = false;
  const lnames: string[] = [];
  const values: string[] = [];
  v.lnames = lnames;
  v.values = values;
  if (raw !== undefined) {
    // The flat [name, value, ...] list node:http2 parsed (names lower-case): no object walk.
    let cookie: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const k = raw[i]!;
      if (k.charCodeAt(0) === 58) continue;
      const val = raw[i + 1]!;
      // RFC 9113 §8.2.3: cookie crumbs are joined with "; " for an HTTP/1.1 hop.
      if (k === 'cookie') { cookie = cookie === undefined ? val : `${cookie}; ${val}`; continue; }
      if (H2_FORBIDDEN.has(k)) continue;
      if (k === 'content-length') hasLength = true;
      lnames.push(k);
      values.push(val);
    }
    if (cookie !== undefined) { lnames.push('cookie'); values.push(cookie); }
  } else {
    for (const k of Object.keys(headers)) {
      if (k.charCodeAt(0) === 58 || H2_FORBIDDEN.has(k)) continue;
      const val = headers[k];
      if (val === undefined) continue;
      if (k === 'content-length') hasLength = true;
      if (Array.isArray(val)) for (const x of val) { lnames.push(k); values.push(x); }
      else { lnames.push(k); values.push(String(val)); }
    }
  }
  info.reqNames = v.lnames;
  info.reqValues = v.values;
  info.requestWireBytes = headBytes(v.lnames, v.values) + v.method.length + target.length + v.authority.length + 40;
  const q = target.indexOf('?');
  v.query = q === -1 ? '' : target.slice(q + 1);
  const path = normalizePath(q === -1 ? target : target.slice(0, q));
  if (path === null) {
    info.addFlag(Flag.DownstreamProtocolError);
    info.detail = Detail.pathNormalizationFailed;
    const r = textReply('Bad Request');
    localReply(ds, 400, r.lnames, r.values, r.body, info);
    info.endHr = performance.now();
    lr.sink.onStreamDone(info);
    return;
  }
  v.path = path;
  const action = dispatchLocalAction(lr, ds, v, info, facts.peerIp);
  if (action === undefined) return;
  const ended = stream.readableEnded || (stream as unknown as { endAfterHeaders?: boolean }).endAfterHeaders === true;
  const framing = ended ? BODY_NONE : hasLength ? BODY_LENGTH : BODY_STREAM;
  const ex = new Exchange(ds, v, info, action, { peerIp: facts.peerIp, listenerPort: lr.port, lr }, lr.sink, framing, ended);
  ds.ex = ex;
  ex.start();
  if (!ended) {
    stream.on('data', (d: Buffer) => ex.onRequestData(d));
    stream.on('end', () => ex.onRequestEnd());
  }
}

/**
 * Header bytes as HTTP/1.1 would spell them (`name: value\r\n`): HTTP/2 wire bytes are
 * HPACK-compressed and not visible through node:http2, so wire-byte metrics use this estimate.
 */
function headBytes(lnames: readonly string[], values: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < lnames.length; i++) n += lnames[i]!.length + values[i]!.length + 4;
  return n;
}

/** `application/grpc`, `application/grpc+proto`, ... */
function isGrpc(ct: unknown): boolean {
  return typeof ct === 'string' && ct.startsWith('application/grpc');
}
