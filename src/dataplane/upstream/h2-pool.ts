/**
 * Cleartext HTTP/2 (prior knowledge) upstream: one multiplexed session per endpoint,
 * reconnected on GOAWAY/close. Used for Service ports whose appProtocol says h2c/grpc/http2.
 */
import http2 from 'node:http2';
import type { UpstreamFailure } from '../http/details.js';
import { createResponseHead, type ResponseHead } from '../http/parser.js';
import type { UpstreamHandler } from './h1-pool.js';
import type { UpstreamTls } from './tls-origin.js';

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'host', 'http2-settings']);

export class H2Pool {
  readonly address: string;
  readonly port: number;
  /** Set for clusters that originate TLS (h2 negotiated by ALPN). */
  tls: UpstreamTls | undefined;
  connectTimeoutMs = 10_000;
  closed = false;
  opened = 0;
  #session: http2.ClientHttp2Session | null = null;

  constructor(address: string, port: number) {
    this.address = address;
    this.port = port;
  }

  get total(): number { return this.#session ? 1 : 0; }
  get idleCount(): number { return 0; }

  #get(): http2.ClientHttp2Session {
    const s = this.#session;
    if (s && !s.closed && !s.destroyed) return s;
    const host = this.address.includes(':') ? `[${this.address}]` : this.address;
    const up = this.tls;
    const ns = up === undefined
      ? http2.connect(`http://${host}:${this.port}`)
      : http2.connect(`https://${host}:${this.port}`, { createConnection: () => up.connect(this.address, this.port, 'h2') });
    this.opened++;
    this.#session = ns;
    const drop = () => { if (this.#session === ns) this.#session = null; };
    ns.on('close', drop);
    ns.on('goaway', drop);
    ns.on('error', drop);
    const t = setTimeout(() => { if (!ns.connecting) return; ns.destroy(new Error('connect timeout')); }, this.connectTimeoutMs);
    ns.once('connect', () => clearTimeout(t));
    ns.once('close', () => clearTimeout(t));
    ns.unref();
    return ns;
  }

  /**
   * Start a stream. `headers` are lower-case h1-style names/values; pseudo headers are added.
   * Returns the stream so the caller can write the body.
   */
  request(handler: UpstreamHandler, method: string, authority: string, path: string, scheme: string,
    lnames: readonly string[], values: readonly string[], endStream: boolean): http2.ClientHttp2Stream | null {
    let session: http2.ClientHttp2Session;
    try { session = this.#get(); } catch (e) { handler.onUpstreamError('connect', false, String(e)); return null; }
    const h: http2.OutgoingHttpHeaders = { ':method': method, ':authority': authority, ':path': path, ':scheme': scheme };
    for (let i = 0; i < lnames.length; i++) {
      const n = lnames[i]!;
      if (HOP.has(n) || n.charCodeAt(0) === 58) continue;
      const prev = h[n];
      if (prev === undefined) h[n] = values[i]!;
      else if (Array.isArray(prev)) prev.push(values[i]!);
      else h[n] = [String(prev), values[i]!];
    }
    let stream: http2.ClientHttp2Stream;
    try { stream = session.request(h, { endStream }); } catch (e) { handler.onUpstreamError('connect', false, String(e)); return null; }
    let started = false;
    let failed = false;
    const fail = (kind: UpstreamFailure, reason: string) => {
      if (failed) return;
      failed = true;
      handler.onUpstreamError(kind, started, reason);
    };
    stream.on('response', (headers, flags: number) => {
      started = true;
      const res = toResponseHead(headers);
      // A HEADERS frame with END_STREAM (gRPC trailers-only reply) is a complete response.
      handler.onResponseHead(res, EMPTY, (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0, null as never);
    });
    stream.on('data', (d: Buffer) => handler.onResponseData(d));
    stream.on('trailers', (t) => { (handler as { onTrailers?: (t: http2.IncomingHttpHeaders) => void }).onTrailers?.(t); });
    stream.on('end', () => { if (!failed) { failed = true; handler.onResponseEnd(); } });
    stream.on('error', (e: NodeJS.ErrnoException) => {
      const connectFailed = !session.connecting && !started && (e.code === 'ECONNREFUSED' || e.code === 'ERR_HTTP2_STREAM_CANCEL');
      fail(connectFailed ? 'connect' : started ? 'termination' : 'reset', e.code ?? e.message);
    });
    stream.on('close', () => {
      if (failed) return;
      const code = stream.rstCode;
      if (code === http2.constants.NGHTTP2_REFUSED_STREAM) fail('reset', 'refused_stream');
      else fail(started ? 'termination' : 'reset', `rst ${code}`);
    });
    session.once('error', (e: NodeJS.ErrnoException) => fail(started ? 'termination' : 'connect', e.code ?? e.message));
    return stream;
  }

  close(): void {
    this.closed = true;
    this.#session?.close();
    this.#session = null;
  }
}

const EMPTY = Buffer.alloc(0);

function toResponseHead(headers: http2.IncomingHttpHeaders): ResponseHead {
  const res = createResponseHead();
  res.status = Number(headers[':status'] ?? 502);
  res.versionMinor = 1;
  res.contentLength = -1;
  res.keepAlive = true;
  for (const k of Object.keys(headers)) {
    if (k.charCodeAt(0) === 58) continue;
    const v = headers[k];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) { res.names.push(k); res.lnames.push(k); res.values.push(x); }
    else {
      res.names.push(k); res.lnames.push(k); res.values.push(String(v));
      if (k === 'content-length') res.contentLength = Number(v);
    }
  }
  return res;
}
