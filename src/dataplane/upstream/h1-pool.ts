/**
 * HTTP/1.1 upstream connections over raw sockets, pooled per endpoint (LIFO idle list).
 * One exchange at a time per connection; a connection is reused only after a cleanly
 * delimited response AND a fully sent request (perf-notes "Upstream socket reuse").
 */
import net from 'node:net';
import { ChunkedScanner } from '../http/chunked.js';
import { createResponseHead, DEFAULT_LIMITS, parseResponseHead, type ResponseHead } from '../http/parser.js';
import type { UpstreamFailure } from '../http/details.js';
import type { UpstreamTls } from './tls-origin.js';
import { writeLatin1, type DirectWriteOwner } from '../io/direct-write.js';
import { coarseNow, idleFor, track, untrack, type IdleTracked } from '../io/idle-sweeper.js';
import { emitCopiesAsData, keep, setSharedReadCallback, sharedOnread, sharedReads } from '../io/shared-read.js';

/** Receives the events of one upstream exchange. Implemented by the proxy's Exchange. */
export interface UpstreamHandler {
  /** True for HEAD requests: the response has no body whatever its headers say. */
  readonly headRequest: boolean;
  /**
   * Response head arrived. `body` holds the first body bytes that came with it (may be
   * empty); `complete` is true when that already ends the response.
   */
  onResponseHead(res: ResponseHead, body: Buffer, complete: boolean, conn: H1Conn): void;
  onResponseData(chunk: Buffer): void;
  onResponseEnd(): void;
  /** Failure; `started` = response head already delivered. */
  onUpstreamError(kind: UpstreamFailure, started: boolean, reason: string): void;
  /** The upstream socket accepted more request body bytes after pushing back. */
  onRequestDrain?(): void;
  /** Protocol switched (101): the raw socket now belongs to the handler. */
  onUpgrade?(res: ResponseHead, socket: net.Socket, rest: Buffer): void;
}

const S_IDLE = 0;
const S_HEAD = 1;
const S_LENGTH = 2;
const S_CHUNKED = 3;
const S_CLOSE = 4;
const S_DONE = 5;

const EMPTY: Buffer = Buffer.alloc(0);

const kUp = Symbol('portico.upstream');
type UpSocket = net.Socket & { [kUp]?: H1Conn };

/** One upstream HTTP/1.1 connection. */
export class H1Conn implements DirectWriteOwner, IdleTracked {
  readonly socket: net.Socket;
  readonly pool: H1Pool;
  handler: UpstreamHandler | null = null;
  state = S_IDLE;
  connected = false;
  /** True once this connection has carried a complete exchange (reused socket). */
  reused = false;
  requests = 0;
  /** Request fully written (body included). */
  requestDone = false;
  /** Any response byte received for the current exchange. */
  gotBytes = false;
  closed = false;
  #pending: Buffer | null = null;
  #remaining = 0;
  #keepAlive = true;
  readonly #res: ResponseHead = createResponseHead();
  readonly #scanner = new ChunkedScanner();
  /** Reads land in the shared buffer (io/shared-read.ts): copy what outlives the call. */
  readonly #shared: boolean;
  #ephemeral = false;
  lastActive = 0;

  static #read(this: UpSocket, n: number, buf: Buffer): void {
    const c = this[kUp]!;
    c.#ephemeral = true;
    try { c.#onData(buf.subarray(0, n)); } finally { c.#ephemeral = false; }
  }

  constructor(pool: H1Pool) {
    this.pool = pool;
    // TLS origination (DestinationRule tls) only when configured; plaintext stays net.connect.
    const t = pool.tls;
    // Plain TCP reads straight into the shared buffer (Node's public `onread` option).
    this.#shared = t === undefined && sharedReads();
    const s = t !== undefined ? t.connect(pool.address, pool.port, 'http/1.1')
      : this.#shared ? net.connect({ host: pool.address, port: pool.port, noDelay: true, onread: sharedOnread(H1Conn.#read) })
      : net.connect({ host: pool.address, port: pool.port, noDelay: true });
    (s as UpSocket)[kUp] = this;
    this.socket = s;
    s.setTimeout(pool.connectTimeoutMs);
    s.on(t === undefined ? 'connect' : 'secureConnect', () => {
      this.connected = true;
      s.setTimeout(0);
      track(this); // idle timeout from here on (io/idle-sweeper.ts)
      this.pool.onConnected(this);
    });
    if (!this.#shared) s.on('data', (d: Buffer) => this.#onData(d));
    s.on('end', () => this.#onClose());
    s.on('close', () => this.#onClose());
    s.on('error', (e: NodeJS.ErrnoException) => this.#onError(e));
    s.on('timeout', () => { if (!this.connected) this.#fail('connect', 'connect timeout'); });
    s.on('drain', () => this.handler?.onRequestDrain?.());
  }

  /** Start an exchange: write the request head (and initial body bytes) in one write. */
  start(handler: UpstreamHandler, head: string, body: Buffer | null, requestDone: boolean): void {
    this.handler = handler;
    this.state = S_HEAD;
    this.requestDone = requestDone;
    this.gotBytes = false;
    this.requests++;
    this.lastActive = coarseNow();
    if (body !== null && body.length > 0) {
      this.socket.cork();
      this.socket.write(head, 'latin1');
      this.socket.write(body);
      this.socket.uncork();
    } else {
      writeLatin1(this.socket, head, this);
    }
  }

  /**
   * Envoy's upstream idle_timeout (DestinationRule connectionPool.http.idleTimeout): the time
   * with no active request. A connection busy with an exchange is never idle; slow answers
   * are bounded by route timeouts instead.
   */
  sweep(now: number): void {
    if (!this.closed && this.handler === null && idleFor(this.lastActive, this.pool.idleTimeoutMs, now)) this.destroy();
  }

  onDirectWriteDone(status: number): void {
    if (status >= 0) this.handler?.onRequestDrain?.();
  }

  /** Write request body bytes; false = upstream is pushing back (wait for 'drain'). */
  writeBody(chunk: Buffer): boolean {
    return this.socket.write(chunk);
  }

  endRequest(): void {
    this.requestDone = true;
    if (this.state === S_DONE) this.#release();
  }

  pause(): void { this.socket.pause(); }
  resume(): void { this.socket.resume(); }

  /** Abort the exchange and close the socket (client went away, timeout...). */
  destroy(): void {
    this.handler = null;
    untrack(this);
    if (!this.closed) {
      this.closed = true;
      this.pool.onClosed(this);
      this.socket.destroy();
    }
  }

  #onData(d: Buffer): void {
    const h = this.handler;
    if (h === null) { this.destroy(); return; } // bytes on an idle connection: discard it
    this.gotBytes = true;
    this.lastActive = coarseNow();
    if (this.state === S_HEAD) this.#onHeadData(h, d);
    else this.#onBody(h, d, 0);
  }

  #onHeadData(h: UpstreamHandler, d: Buffer): void {
    // Views of the shared read buffer must be copied before they are kept (io/shared-read.ts).
    const shared = this.#ephemeral && this.#pending === null;
    let data = this.#pending === null ? d : Buffer.concat([this.#pending, d]);
    for (;;) {
      const res = this.#res;
      const n = parseResponseHead(data, 0, data.length, res, DEFAULT_LIMITS);
      if (n === 0) { this.#pending = shared ? keep(data) : data; return; }
      this.#pending = null;
      if (n < 0) { this.#fail('protocol', res.error); return; }
      const status = res.status;
      if (status === 101) {
        const sock = this.socket;
        this.handler = null;
        this.closed = true;
        this.pool.onClosed(this);
        sock.removeAllListeners('data');
        sock.removeAllListeners('timeout');
        sock.setTimeout(0);
        untrack(this);
        // The tunnel reads 'data' events: turn shared-buffer reads back into them. A Node without
        // the slot to do that cannot tunnel this socket: fail it rather than lose bytes.
        if ((this.#shared && !setSharedReadCallback(sock, emitCopiesAsData)) || !h.onUpgrade) {
          sock.destroy();
          if (h.onUpgrade) h.onUpstreamError('protocol', false, 'upgrade_unsupported');
          return;
        }
        h.onUpgrade(res, sock, data.subarray(n));
        return;
      }
      if (status >= 100 && status < 200) { // interim: skip (RFC 9110 §15.2)
        data = data.subarray(n);
        if (data.length === 0) return;
        continue;
      }
      this.#keepAlive = res.keepAlive;
      let body: Buffer = EMPTY;
      let complete = false;
      const rest = data.subarray(n);
      if (h.headRequest || status === 204 || status === 304) {
        complete = true;
        if (rest.length) this.#keepAlive = false;
      } else if (res.chunked) {
        this.state = S_CHUNKED;
        this.#scanner.reset();
        if (rest.length) {
          const used = this.#scanner.scan(rest, 0, rest.length);
          if (this.#scanner.error) { this.#fail('protocol', this.#scanner.error); return; }
          body = rest.subarray(0, used);
          complete = this.#scanner.done;
          if (complete && used < rest.length) this.#keepAlive = false;
        }
      } else if (res.contentLength >= 0) {
        this.state = S_LENGTH;
        const take = Math.min(res.contentLength, rest.length);
        body = rest.subarray(0, take);
        this.#remaining = res.contentLength - take;
        complete = this.#remaining === 0;
        if (rest.length > take) this.#keepAlive = false;
      } else {
        this.state = S_CLOSE;
        this.#keepAlive = false;
        body = rest;
      }
      if (complete) this.state = S_DONE;
      h.onResponseHead(res, body, complete, this);
      if (complete && this.handler === h) this.#complete(h);
      return;
    }
  }

  #onBody(h: UpstreamHandler, d: Buffer, start: number): void {
    switch (this.state) {
      case S_LENGTH: {
        const avail = d.length - start;
        const take = this.#remaining < avail ? this.#remaining : avail;
        this.#remaining -= take;
        if (take > 0) h.onResponseData(start === 0 && take === d.length ? d : d.subarray(start, start + take));
        if (this.#remaining === 0 && this.handler === h) {
          if (take < avail) this.#keepAlive = false;
          this.state = S_DONE;
          this.#complete(h);
        }
        return;
      }
      case S_CHUNKED: {
        const used = this.#scanner.scan(d, start, d.length);
        if (this.#scanner.error) { this.#fail('protocol', this.#scanner.error); return; }
        if (used > 0) h.onResponseData(start === 0 && used === d.length ? d : d.subarray(start, start + used));
        if (this.#scanner.done && this.handler === h) {
          if (start + used < d.length) this.#keepAlive = false;
          this.state = S_DONE;
          this.#complete(h);
        }
        return;
      }
      case S_CLOSE:
        h.onResponseData(start === 0 ? d : d.subarray(start));
        return;
      default:
        // Data after a complete response: the upstream broke framing; never reuse.
        this.#keepAlive = false;
    }
  }

  #complete(h: UpstreamHandler): void {
    h.onResponseEnd();
    if (this.requestDone) this.#release();
  }

  /** Back to the pool when reusable, else close. */
  #release(): void {
    if (this.handler === null && this.state !== S_DONE) return;
    this.handler = null;
    if (!this.#keepAlive || this.closed || this.pool.closed ||
        (this.pool.maxRequestsPerConnection > 0 && this.requests >= this.pool.maxRequestsPerConnection)) {
      this.destroy();
      return;
    }
    this.state = S_IDLE;
    this.reused = true;
    this.lastActive = coarseNow(); // idle from now
    this.pool.release(this);
  }

  #onClose(): void {
    if (this.closed) return;
    const h = this.handler;
    if (h !== null && this.state === S_CLOSE) {
      // Read-until-close framing: EOF ends the body.
      this.state = S_DONE;
      this.closed = true;
      this.handler = null;
      untrack(this);
      this.pool.onClosed(this);
      h.onResponseEnd();
      this.socket.destroy();
      return;
    }
    if (h !== null && this.state !== S_DONE) {
      this.#fail(this.connected ? 'termination' : 'connect', 'connection closed');
      return;
    }
    this.destroy();
  }

  #onError(e: NodeJS.ErrnoException): void {
    if (this.closed) return;
    if (!this.connected) this.#fail('connect', e.code ?? e.message);
    else this.#fail(e.code === 'ECONNRESET' ? (this.gotBytes ? 'termination' : 'reset') : 'termination', e.code ?? e.message);
  }

  #fail(kind: UpstreamFailure, reason: string): void {
    const h = this.handler;
    const started = this.state !== S_HEAD && this.state !== S_IDLE;
    this.destroy();
    if (h !== null) h.onUpstreamError(kind, started, reason);
  }
}

/** Pool of HTTP/1.1 connections to one endpoint address:port. Survives config swaps. */
export class H1Pool {
  readonly address: string;
  readonly port: number;
  /** Set for clusters that originate TLS. */
  tls: UpstreamTls | undefined;
  connectTimeoutMs = 10_000;
  idleTimeoutMs = 3_600_000;
  maxRequestsPerConnection = 0;
  closed = false;
  /** Connections open (idle + busy + connecting). */
  total = 0;
  /** Connections opened since start, and connect failures (metrics). */
  opened = 0;
  readonly #idle: H1Conn[] = [];

  constructor(address: string, port: number) {
    this.address = address;
    this.port = port;
  }

  /** Circuit breaker: most connections this pool may open (Istio tcp.maxConnections). */
  maxConnections = Infinity;
  readonly #waiters: (() => void)[] = [];

  /**
   * An idle connection (most recently used first) or a new one (connecting); null when the
   * connection limit is reached (the caller queues with wait() or answers 503 UO).
   */
  acquire(): H1Conn | null {
    const idle = this.#idle;
    while (idle.length > 0) {
      const c = idle.pop()!;
      if (!c.closed && !c.socket.destroyed) return c;
    }
    if (this.total >= this.maxConnections) return null;
    this.total++;
    this.opened++;
    return new H1Conn(this);
  }

  /** Queue for a connection slot (pending request); `cb` runs when one frees up. */
  wait(cb: () => void): void { this.#waiters.push(cb); }

  /** Remove a queued waiter (request gone before it got a connection). */
  cancelWait(cb: () => void): void {
    const i = this.#waiters.indexOf(cb);
    if (i !== -1) this.#waiters.splice(i, 1);
  }

  get pendingCount(): number { return this.#waiters.length; }

  #wake(): void {
    const w = this.#waiters.shift();
    if (w !== undefined) w();
  }

  get idleCount(): number { return this.#idle.length; }

  release(c: H1Conn): void {
    if (this.closed) { c.destroy(); return; }
    this.#idle.push(c);
    if (this.#waiters.length) this.#wake();
  }

  onConnected(_c: H1Conn): void { /* metrics hook */ }

  onClosed(c: H1Conn): void {
    this.total--;
    const i = this.#idle.indexOf(c);
    if (i !== -1) this.#idle.splice(i, 1);
    if (this.#waiters.length) this.#wake();
  }

  /** Close idle connections now; busy ones close when their exchange ends. */
  close(): void {
    this.closed = true;
    for (const c of this.#idle.splice(0)) c.destroy();
  }
}
