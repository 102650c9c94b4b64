/**
 * HTTP/1.1 front end over raw `net` sockets: the fast path (perf-notes.md). One H1Conn per
 * connection, no per-request closures; requests are parsed by the hand-written parser,
 * routed, and handed to an Exchange. HTTP/2 prior-knowledge connections on the same port
 * are detected by their preface and handed to node:http2.
 */
import type net from 'node:net';
import { StreamInfo } from '../../observability/stream-info.js';
import type { CompiledAction } from '../../runtime/actions.js';
import { hostWithoutPort, MutableRequestView } from '../router/request-view.js';
import { writeLatin1, type DirectWriteOwner } from '../io/direct-write.js';
import { coarseNow, idleFor, track, untrack, type IdleTracked } from '../io/idle-sweeper.js';
import { emitCopiesAsData, keep, readIntoShared, setSharedReadCallback } from '../io/shared-read.js';
import { ChunkDecoder } from './chunk-decoder.js';
import { ChunkedScanner } from './chunked.js';
import { Detail, Flag } from './details.js';
import type { Downstream } from './downstream.js';
import { BODY_CHUNKED_RAW, BODY_LENGTH, BODY_NONE, Exchange } from './exchange.js';
import { dispatchLocalAction, type ListenerRuntime } from './dispatch.js';
import { httpDate, localReply, textReply } from './local-reply.js';
import {
  createRequestHead, DEFAULT_LIMITS, ERR_HEADERS_TOO_LARGE, parseRequestHead, type RequestHead,
} from './parser.js';
import { normalizePath, splitTarget, targetAuthority } from './path.js';
import { STATUS_TEXT } from './status-text.js';

const MAX_PIPELINED = 256 * 1024;
/** Bodies up to this size are written together with the head as one latin1 string. */
const SMALL_BODY = 8 * 1024;

/** `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`: the HTTP/2 connection preface (RFC 9113 §3.4). */
const H2_PREFACE_START = Buffer.from('PRI * HTTP/2.0\r\n', 'latin1');

const kConn = Symbol('portico.h1conn');
type ConnSocket = net.Socket & { [kConn]?: H1Conn };

export class H1Conn implements Downstream, DirectWriteOwner, IdleTracked {
  readonly socket: net.Socket;
  readonly lr: ListenerRuntime;
  protocol = 'HTTP/1.1';
  #pending: Buffer | null = null;
  readonly #head: RequestHead = createRequestHead();
  #ex: Exchange | null = null;
  #active = false; // a request is in progress (exchange or local reply)
  #bodyMode = BODY_NONE;
  #bodyRemaining = 0;
  #scanner: ChunkedScanner | null = null;
  #discardBody = false;
  #keepAlive = true;
  #peerEnded = false;
  #first = true;
  #processing = false;
  #respEncode = false; // chunk-encode the response body ourselves
  #respClose = false;  // close-delimited response: close after it
  #closed = false;
  #respStarted = false;
  #respDecoder: ChunkDecoder | null = null;
  /** Direct writes still queued in libuv (the client is not reading fast enough). */
  #directPending = 0;
  /** The next pipelined request waits until the responses before it have left. */
  #waitWrite = false;
  /** Reads land in the shared buffer (io/shared-read.ts) instead of 'data' events. */
  #shared = false;
  /** The bytes being handled live in the shared buffer: copy what outlives the call. */
  #ephemeral = false;
  lastActive = 0;
  readonly peerIp: string;
  readonly listenerPort: number;
  readonly #local: string;
  readonly #remote: string;

  constructor(socket: net.Socket, lr: ListenerRuntime) {
    this.socket = socket;
    this.lr = lr;
    this.peerIp = normalizeIp(socket.remoteAddress ?? '');
    this.listenerPort = lr.port;
    this.#local = fmtAddr(socket.localAddress, socket.localPort);
    this.#remote = fmtAddr(socket.remoteAddress, socket.remotePort);
    socket.setNoDelay(true);
    // Shared module-level handlers (no per-connection closures: ~0.3 KiB less per idle connection).
    (socket as ConnSocket)[kConn] = this;
    socket.on('data', H1Conn.#sData);
    socket.on('end', H1Conn.#sEnd);
    socket.on('close', H1Conn.#sClose);
    socket.on('error', H1Conn.#sError);
    socket.on('drain', H1Conn.#sDrain);
    track(this); // idle timeout (io/idle-sweeper.ts), not a per-socket timer
    lr.connections.add(this);
  }

  // ---------------------------------------------------------------- socket events

  static #sData(this: ConnSocket, d: Buffer): void { this[kConn]!.#onData(d); }
  static #sRead(this: ConnSocket, n: number, buf: Buffer): void {
    const c = this[kConn]!;
    c.#ephemeral = true;
    try { c.#onData(buf.subarray(0, n)); } finally { c.#ephemeral = false; }
  }
  static #sEnd(this: ConnSocket): void { this[kConn]!.#onEnd(); }
  static #sClose(this: ConnSocket): void { this[kConn]!.#onClose(); }
  static #sError(this: ConnSocket): void { /* 'close' follows */ }
  static #sDrain(this: ConnSocket): void { this[kConn]!.#onDrain(); }
  static #sTimeout(this: ConnSocket): void { this[kConn]!.#onTimeout(); }

  #onData(d: Buffer): void {
    this.lastActive = coarseNow();
    if (this.#first) {
      this.#first = false;
      if (d[0] === 0x50 /* P */ && startsWith(d, H2_PREFACE_START)) { this.#toH2(d); return; }
      // HTTP/1.x for good: later reads go to the shared buffer (plain TCP only; TLS sockets
      // decrypt in their own buffers).
      const s = this.socket;
      if ((s as { encrypted?: boolean }).encrypted !== true && readIntoShared(s, H1Conn.#sRead)) {
        this.#shared = true;
        s.removeListener('data', H1Conn.#sData);
      }
    }
    if (this.#active) {
      if (this.#bodyMode !== BODY_NONE) {
        const used = this.#feedBody(d, 0);
        if (used < d.length) this.#stash(d.subarray(used));
      } else {
        this.#stash(d);
      }
      return;
    }
    const data = this.#pending === null ? d : Buffer.concat([this.#pending, d]);
    this.#pending = null;
    this.#process(data, 0);
  }


  #onEnd(): void {
    this.#peerEnded = true;
    if (!this.#active) { this.socket.end(); return; }
    // Like Envoy, a client FIN before the response began is a disconnect (DC): cancel the
    // upstream request. Once the response has started it is finished, then the socket closes.
    if (this.#bodyMode !== BODY_NONE || !this.#respStarted) {
      this.#ex?.onDownstreamAbort();
      this.socket.destroy();
    }
  }


  #onClose(): void {
    this.#closed = true;
    untrack(this);
    this.lr.connections.delete(this);
    const ex = this.#ex;
    if (ex !== null) ex.onDownstreamAbort();
  }


  #onDrain(): void {
    this.#ex?.onDownstreamDrain();
    if (this.#waitWrite && !this.#writeBlocked()) { this.#waitWrite = false; this.#next(); }
  }

  onDirectWriteDone(status: number): void {
    this.#directPending--;
    if (status >= 0 && this.#directPending === 0) this.#onDrain();
  }

  /** Responses not yet taken by the kernel: don't start the next pipelined one. */
  #writeBlocked(): boolean { return this.#directPending > 0 || this.socket.writableNeedDrain; }

  #write(h: string): void {
    if (writeLatin1(this.socket, h, this)) this.#directPending++;
  }

  #onTimeout(): void {
    if (!this.#active) this.socket.destroy();
  }

  sweep(now: number): void {
    if (!this.#active && idleFor(this.lastActive, this.lr.idleTimeoutMs, now)) this.socket.destroy();
  }


  /** Keep pipelined bytes until the current exchange is over; stop reading past a limit. */
  #stash(d: Buffer): void {
    this.#pending = this.#pending === null ? (this.#ephemeral ? keep(d) : d) : Buffer.concat([this.#pending, d]);
    if (this.#pending.length > MAX_PIPELINED) this.socket.pause();
  }

  #toH2(first: Buffer): void {
    const s = this.socket;
    s.removeListener('data', H1Conn.#sData);
    s.removeListener('end', H1Conn.#sEnd);
    s.removeListener('close', H1Conn.#sClose);
    s.removeListener('drain', H1Conn.#sDrain);
    untrack(this);
    this.lr.connections.delete(this);
    s.pause();
    s.unshift(first);
    this.lr.h2Handoff(s);
  }

  // ---------------------------------------------------------------- request parsing

  #process(data: Buffer, off: number): void {
    this.#processing = true;
    try {
      while (off < data.length && !this.#active && !this.#closed) {
        if (this.#writeBlocked()) { this.#waitWrite = true; break; }
        const head = this.#head;
        const n = parseRequestHead(data, off, data.length, head, DEFAULT_LIMITS);
        if (n === 0) {
          const rest = off === 0 ? data : data.subarray(off);
          this.#pending = this.#ephemeral ? keep(rest) : rest;
          return;
        }
        if (n < 0) { this.#protocolError(n, head.error); return; }
        off += n;
        this.#startRequest(head, n);
        if (this.#bodyMode !== BODY_NONE && off < data.length) off += this.#feedBody(data, off);
      }
      if (off < data.length && !this.#closed) this.#pending = this.#ephemeral ? keep(data.subarray(off)) : data.subarray(off);
      const p = this.#pending;
      if (p !== null) {
        // Bounded buffering of what waits (pipelined requests, or all of it while earlier
        // responses are still queued for a client that does not read).
        if (p.length > MAX_PIPELINED) this.socket.pause();
        else this.socket.resume();
      }
    } finally {
      this.#processing = false;
    }
  }

  /** Feed request body bytes from data[off..]; returns bytes consumed. */
  #feedBody(data: Buffer, off: number): number {
    const avail = data.length - off;
    let used: number;
    let done: boolean;
    if (this.#bodyMode === BODY_LENGTH) {
      used = this.#bodyRemaining < avail ? this.#bodyRemaining : avail;
      this.#bodyRemaining -= used;
      done = this.#bodyRemaining === 0;
    } else {
      const sc = this.#scanner!;
      used = sc.scan(data, off, data.length);
      if (sc.error) {
        this.#ex?.onDownstreamAbort();
        this.socket.destroy();
        return avail;
      }
      done = sc.done;
    }
    if (used > 0 && !this.#discardBody) {
      const ex = this.#ex;
      if (ex !== null) {
        const chunk = off === 0 && used === data.length ? data : data.subarray(off, off + used);
        ex.onRequestData(this.#ephemeral ? keep(chunk) : chunk);
      }
    }
    if (done) {
      this.#bodyMode = BODY_NONE;
      if (!this.#discardBody) this.#ex?.onRequestEnd();
      this.#discardBody = false;
    }
    return used;
  }

  #protocolError(code: number, detail: string): void {
    const info = this.#newInfo();
    info.addFlag(Flag.DownstreamProtocolError);
    info.detail = detail;
    this.#keepAlive = false;
    this.#active = true;
    const status = code === ERR_HEADERS_TOO_LARGE ? 431 : 400;
    const r = textReply(status === 431 ? 'Request Header Fields Too Large' : 'Bad Request');
    info.responseCode = status;
    localReply(this, status, r.lnames, r.values, r.body, info);
    this.lr.sink.onStreamDone(info);
    this.exchangeDone();
  }

  #newInfo(): StreamInfo {
    const info = new StreamInfo();
    info.startMs = Date.now();
    info.startHr = performance.now();
    info.downstreamLocalAddress = this.#local;
    info.downstreamRemoteAddress = this.#remote;
    info.listenerPort = this.listenerPort;
    info.protocol = this.protocol;
    return info;
  }

  #startRequest(head: RequestHead, headBytes: number): void {
    this.#active = true;
    this.protocol = head.versionMinor === 1 ? 'HTTP/1.1' : 'HTTP/1.0';
    this.#keepAlive = head.keepAlive && !this.lr.draining;
    const info = this.#newInfo();
    info.method = head.method;
    info.originalPath = head.target;
    info.reqNames = head.lnames;
    info.reqValues = head.values;
    info.requestWireBytes = headBytes;
    this.#respEncode = false;
    this.#respClose = false;
    this.#respStarted = false;
    this.#respDecoder = null;
    // Body framing.
    if (head.chunked) {
      this.#bodyMode = BODY_CHUNKED_RAW;
      if (this.#scanner === null) this.#scanner = new ChunkedScanner();
      else this.#scanner.reset();
    } else if (head.contentLength > 0) {
      this.#bodyMode = BODY_LENGTH;
      this.#bodyRemaining = head.contentLength;
    } else {
      this.#bodyMode = BODY_NONE;
    }
    const bodyFraming = this.#bodyMode;
    if (head.expectContinue && bodyFraming !== BODY_NONE && head.versionMinor === 1) {
      // Envoy's default: answer 100 Continue ourselves and strip Expect upstream.
      this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    }
    // Request view.
    const v = new MutableRequestView();
    v.method = head.method;
    let target = head.target;
    let authority = head.host ?? '';
    if (target.charCodeAt(0) !== 47 /* / */) {
      // absolute-form (RFC 9112 §3.2.2): route by the URI's authority.
      const auth = targetAuthority(target);
      if (auth !== '') {
        authority = auth;
        const t = splitTarget(target);
        target = t.path + t.query;
      }
    }
    const q = target.indexOf('?');
    const rawPath = q === -1 ? target : target.slice(0, q);
    v.query = q === -1 ? '' : target.slice(q + 1);
    info.authority = authority;
    if (authority === '') {
      // HTTP/1.0 without Host (the parser already rejects HTTP/1.1 without one): nothing to
      // route on, and an upstream would reject the empty host we would have to send.
      this.#keepAlive = false;
      this.#localError(info, 400, Detail.missingHost, Flag.DownstreamProtocolError, 'Bad Request');
      return;
    }
    const path = rawPath === '*' ? '*' : normalizePath(rawPath);
    if (path === null) {
      this.#keepAlive = false;
      this.#localError(info, 400, Detail.pathNormalizationFailed, Flag.DownstreamProtocolError, 'Bad Request');
      return;
    }
    v.path = path;
    v.authority = authority;
    v.host = hostWithoutPort(authority);
    v.scheme = this.lr.scheme(head);
    info.scheme = v.scheme;
    v.port = this.listenerPort;
    v.lnames = stripConnectionTokens(head);
    if (head.upgrade && head.versionMinor === 1) v.upgrade = headerOf(head, 'upgrade');
    v.values = head.values;
    this.#dispatch(v, info, bodyFraming);
  }

  #dispatch(v: MutableRequestView, info: StreamInfo, bodyFraming: number): void {
    const lr = this.lr;
    const action = dispatchLocalAction(lr, this, v, info, this.peerIp);
    if (action === undefined) {
      // Answered locally (404, redirect, direct response): the body, if any, is discarded.
      this.#afterLocal();
      return;
    }
    const ex = new Exchange(this, v, info, action, this, lr.sink,
      bodyFraming, bodyFraming === BODY_NONE);
    this.#ex = ex;
    ex.start();
  }

  #localError(info: StreamInfo, status: number, detail: string, flag: string, body: string): void {
    info.addFlag(flag);
    info.detail = detail;
    const r = textReply(body);
    localReply(this, status, r.lnames, r.values, r.body, info);
    this.lr.sink.onStreamDone(info);
    this.#afterLocal();
  }

  #afterLocal(): void {
    if (this.#bodyMode !== BODY_NONE) {
      // A local reply before the request body arrived: don't read an unbounded body to keep
      // the connection — close after the reply (the reply already said connection: close).
      this.#discardBody = true;
    }
    this.exchangeDone();
  }

  // ---------------------------------------------------------------- Downstream

  #headPrefix(status: number): string {
    return `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Unknown'}\r\n`;
  }

  sendHead(status: number, lnames: readonly string[], values: readonly string[], contentLength: number,
    rawChunked: boolean, body: Buffer, complete: boolean, info: StreamInfo): void {
    this.#respStarted = true;
    let h = this.#headPrefix(status);
    for (let i = 0; i < lnames.length; i++) h += `${lnames[i]}: ${values[i]}\r\n`;
    const noBody = info.method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
    if (contentLength >= 0) {
      if (status !== 204 && !(status >= 100 && status < 200)) h += `content-length: ${contentLength}\r\n`;
    } else if (rawChunked) {
      if (this.protocol === 'HTTP/1.1') h += 'transfer-encoding: chunked\r\n';
      else { this.#respClose = true; if (!noBody) this.#respDecoder = new ChunkDecoder(); } // HTTP/1.0: decode, close-delimit
    } else if (!noBody) {
      if (this.protocol === 'HTTP/1.1') { h += 'transfer-encoding: chunked\r\n'; this.#respEncode = true; }
      else this.#respClose = true;
    }
    if (this.#respClose) this.#keepAlive = false;
    if (!this.#keepAlive || this.#bodyMode !== BODY_NONE && complete) {
      if (this.#bodyMode !== BODY_NONE) this.#keepAlive = false;
      h += 'connection: close\r\n';
    } else if (this.protocol === 'HTTP/1.0') h += 'connection: keep-alive\r\n';
    h += '\r\n';
    info.responseWireBytes += h.length;
    const s = this.socket;
    if (noBody || body.length === 0) {
      this.#write(h);
    } else if (!this.#respEncode && this.#respDecoder === null && body.length <= SMALL_BODY) {
      // One write syscall for head + small body: latin1 maps bytes 1:1, so the body survives
      // the round trip, and a single string write is cheaper than cork/writev (perf-notes #4).
      info.responseWireBytes += body.length;
      info.bytesSent += body.length;
      this.#write(h + body.toString('latin1'));
    } else {
      s.cork();
      s.write(h, 'latin1');
      this.#writeBody(body, info);
      s.uncork();
    }
    if (complete) this.sendEnd(info);
  }

  #writeBody(chunk: Buffer, info: StreamInfo): boolean {
    chunk = keep(chunk); // the write may keep it queued; it may be the shared read buffer
    if (this.#respDecoder !== null) {
      let ok = true;
      for (const part of this.#respDecoder.decode(chunk)) {
        info.responseWireBytes += part.length;
        info.bytesSent += part.length;
        ok = this.socket.write(part);
      }
      return ok;
    }
    info.responseWireBytes += chunk.length;
    if (!this.#respEncode) {
      info.bytesSent += chunk.length;
      return this.socket.write(chunk);
    }
    info.bytesSent += chunk.length;
    this.socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    this.socket.write(chunk);
    return this.socket.write('\r\n', 'latin1');
  }

  sendData(chunk: Buffer, info: StreamInfo): boolean {
    if (this.#closed) return true;
    if (chunk.length === 0) return true;
    return this.#writeBody(chunk, info);
  }

  sendEnd(_info: StreamInfo): void {
    if (this.#respEncode) { this.socket.write('0\r\n\r\n', 'latin1'); this.#respEncode = false; }
  }

  sendLocal(status: number, lnames: readonly string[], values: readonly string[], body: Buffer, info: StreamInfo): void {
    if (this.#closed) return;
    this.#respStarted = true;
    if (this.#bodyMode !== BODY_NONE || this.lr.draining) this.#keepAlive = false;
    let h = this.#headPrefix(status);
    for (let i = 0; i < lnames.length; i++) h += `${lnames[i]}: ${values[i]}\r\n`;
    h += `content-length: ${body.length}\r\ndate: ${httpDate()}\r\nserver: portico\r\n`;
    if (!this.#keepAlive) h += 'connection: close\r\n';
    h += '\r\n';
    info.responseWireBytes += h.length + body.length;
    const s = this.socket;
    if (body.length === 0 || info.method === 'HEAD') this.#write(h);
    else if (body.length <= SMALL_BODY) this.#write(h + body.toString('latin1'));
    else { s.cork(); s.write(h, 'latin1'); s.write(body); s.uncork(); }
  }

  /** Tunnel (WebSocket): write the 101 head, then relay raw bytes both ways with backpressure. */
  upgrade(status: number, lnames: readonly string[], values: readonly string[], upstream: net.Socket,
    rest: Buffer, info: StreamInfo, done: () => void): void {
    const s = this.socket;
    this.#respStarted = true;
    let h = this.#headPrefix(status);
    for (let i = 0; i < lnames.length; i++) h += `${lnames[i]}: ${values[i]}\r\n`;
    h += '\r\n';
    s.write(h, 'latin1');
    if (rest.length) { info.bytesSent += rest.length; s.write(keep(rest)); }
    // From here on the socket is a byte pipe; H1Conn no longer parses it.
    s.removeListener('data', H1Conn.#sData);
    s.removeListener('end', H1Conn.#sEnd);
    s.removeListener('close', H1Conn.#sClose);
    s.removeListener('drain', H1Conn.#sDrain);
    untrack(this);
    if (this.#shared) setSharedReadCallback(s, emitCopiesAsData); // the tunnel below reads 'data'
    this.#ex = null;
    this.lr.connections.delete(this);
    const pending = this.#pending;
    this.#pending = null;
    if (pending !== null && pending.length) { info.bytesReceived += pending.length; upstream.write(pending); }
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      s.destroy();
      upstream.destroy();
      done();
    };
    s.on('data', (d: Buffer) => { info.bytesReceived += d.length; if (!upstream.write(d)) s.pause(); });
    upstream.on('data', (d: Buffer) => { info.bytesSent += d.length; if (!s.write(d)) upstream.pause(); });
    s.on('drain', () => upstream.resume());
    upstream.on('drain', () => s.resume());
    s.on('end', () => upstream.end());
    upstream.on('end', () => s.end());
    s.on('close', finish);
    upstream.on('close', finish);
    upstream.on('error', finish);
    s.resume();
    upstream.resume();
  }

  pauseRequest(): void { this.socket.pause(); }
  resumeRequest(): void { if (this.#pending === null || this.#pending.length <= MAX_PIPELINED) this.socket.resume(); }

  abort(): void {
    this.#keepAlive = false;
    this.socket.destroy();
  }

  exchangeDone(): void {
    this.#ex = null;
    this.lastActive = coarseNow(); // idle from the end of the response, not from its request
    if (this.#bodyMode !== BODY_NONE && this.#discardBody) {
      this.#active = false;
      this.socket.end();
      return;
    }
    this.#active = false;
    if (!this.#keepAlive || this.#peerEnded) {
      this.socket.end();
      return;
    }
    if (this.lr.draining) { this.socket.end(); return; }
    if (!this.#processing) {
      if (this.#writeBlocked()) this.#waitWrite = true;
      else this.#next();
    }
  }

  /** Go on with the next pipelined request, or read more. */
  #next(): void {
    if (this.#active || this.#closed) return;
    if (this.#pending !== null) {
      const p = this.#pending;
      this.#pending = null;
      this.#process(p, 0);
    } else {
      this.socket.resume();
    }
  }

  /**
   * Drain: busy → the current response carries `connection: close`, then the socket closes.
   * Idle → close now, or with `idleGraceMs` once the connection has been silent that long: a
   * keep-alive client may be writing its next request this very moment, and closing under it
   * would lose that request, while a request that arrives first is served with
   * `connection: close`.
   */
  drain(idleGraceMs = 0): void {
    if (this.#active) this.#keepAlive = false;
    else if (idleGraceMs > 0) this.socket.setTimeout(idleGraceMs, H1Conn.#sTimeout);
    else this.socket.end();
  }
}

function headerOf(head: RequestHead, lname: string): string | undefined {
  const i = head.lnames.indexOf(lname);
  return i === -1 ? undefined : head.values[i];
}

function stripConnectionTokens(head: RequestHead): readonly string[] {
  const t = head.connectionTokens;
  if (t.length === 0) return head.lnames;
  // Names listed in Connection are hop-by-hop (RFC 9110 §7.6.1): blank them out.
  return head.lnames.map((n) => (t.includes(n) ? 'connection' : n));
}

function startsWith(d: Buffer, p: Buffer): boolean {
  const n = Math.min(d.length, p.length);
  for (let i = 0; i < n; i++) if (d[i] !== p[i]) return false;
  return true;
}

/** `::ffff:127.0.0.1` → `127.0.0.1`. */
export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

export function fmtAddr(ip: string | undefined, port: number | undefined): string {
  if (!ip) return '';
  const a = normalizeIp(ip);
  return a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`;
}
