/**
 * Hot-path IO over real loopback sockets: the process-wide shared read buffer
 * (src/dataplane/io/shared-read.ts) and direct libuv writes with pipelining backpressure
 * (src/dataplane/io/direct-write.ts, H1Conn in src/dataplane/http/h1-server.ts).
 *
 * A missing `keep()` copy only shows as corrupted bytes when another socket's read overwrites
 * the shared buffer while a write or a saved partial head still references it, so every test
 * here runs many connections at once and checks every byte (sha256 or exact compare) and
 * every response's position in its connection. Sizes, framings and split points come from a
 * seeded PRNG: the seed is printed as a diagnostic and in every failure message. Rerunning
 * with IO_PATHS_SEED=<seed> replays the same random sequence, though concurrent connections
 * may draw from it in a different order (payload bytes come from crypto.randomBytes).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { setImmediate as immediate } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { directWrites } from '../../src/dataplane/io/direct-write.js';
import { readIntoShared, SHARED_READ_SIZE, sharedReads } from '../../src/dataplane/io/shared-read.js';
import {
  freePort, istioGatewayYaml, serviceYaml, sleep, startTestGateway, virtualServiceYaml, type TestGateway,
} from '../helpers/gateway.js';

// ------------------------------------------------------------------ randomness (seeded sizes/splits)

const SEED = Number(process.env['IO_PATHS_SEED'] ?? (Date.now() % 2_147_483_647));
let prng = SEED >>> 0;
/** mulberry32: uniform in [0, 1). */
function rnd(): number {
  prng = (prng + 0x6d2b79f5) | 0;
  let t = Math.imul(prng ^ (prng >>> 15), 1 | prng);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function randInt(lo: number, hi: number): number { return lo + Math.floor(rnd() * (hi - lo + 1)); }
const KiB = 1024;
const MiB = 1024 * 1024;
const tagSeed = `(IO_PATHS_SEED=${SEED})`;

/** Piece sizes from 1 B to 70 KiB, skewed so tiny, medium and large pieces all occur. */
function pieceSize(): number {
  const r = rnd();
  return r < 0.25 ? randInt(1, 16) : r < 0.5 ? randInt(17, 4 * KiB) : randInt(4 * KiB + 1, 70 * KiB);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Deterministic request-specific bytes: `<id>;<id>;…` cut to n bytes. */
function pattern(id: string, n: number): Buffer {
  const unit = Buffer.from(`${id};`, 'latin1');
  const b = Buffer.allocUnsafe(n);
  for (let o = 0; o < n; o += unit.length) unit.copy(b, o, 0, Math.min(unit.length, n - o));
  return b;
}

type Writable = NodeJS.WritableStream & { once(ev: string, f: (...a: unknown[]) => void): unknown; removeListener(ev: string, f: (...a: unknown[]) => void): unknown };

function drained(w: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => { w.removeListener('close', onClose); resolve(); };
    const onClose = (): void => { w.removeListener('drain', onDrain); reject(new Error('stream closed while waiting for drain')); };
    w.once('drain', onDrain);
    w.once('close', onClose);
  });
}

/** Write `body` in uneven pieces (1 B–70 KiB), honouring backpressure, sometimes yielding so pieces leave separately. */
async function writePieces(w: Writable, body: Buffer): Promise<void> {
  for (let off = 0; off < body.length;) {
    const n = Math.min(pieceSize(), body.length - off);
    const ok = w.write(body.subarray(off, off + n));
    off += n;
    if (!ok) await drained(w);
    else if (rnd() < 0.2) await immediate();
  }
}

// ------------------------------------------------------------------ backend (node:http, in-process)

interface Backend {
  readonly server: http.Server;
  readonly port: number;
  /** Requests received per `/bp/<tag>/…` tag. */
  readonly bpStarted: Map<string, number>;
  close(): Promise<void>;
}

function readAll(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/** Body the backend returns for a pipelined `/p/…` request (the client computes the same). */
function pipeResponseBody(method: string, path: string, body: Buffer, pad: number): Buffer {
  return Buffer.concat([Buffer.from(`${method} ${path} len=${body.length} sha=${sha(body)}\n`, 'latin1'), pattern(path, pad)]);
}

async function startBackend(): Promise<Backend> {
  const bpStarted = new Map<string, number>();
  const upgraded = new Set<net.Socket>();
  const server = http.createServer({ keepAliveTimeout: 120_000, requestTimeout: 0 }, (req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const p = u.pathname;
    const q = u.searchParams;
    res.on('error', () => {});
    if (p.startsWith('/xfer/')) {
      // Hash the upload as it arrives, then send a fresh random download in uneven pieces.
      const h = createHash('sha256');
      let n = 0;
      const slow = q.get('slow') === '1';
      req.on('data', (d: Buffer) => {
        h.update(d);
        n += d.length;
        if (slow && Math.random() < 0.1) { req.pause(); setTimeout(() => req.resume(), 5 + Math.floor(Math.random() * 35)); }
      });
      req.on('end', () => {
        const size = Number(q.get('down'));
        const body = randomBytes(size);
        const headers: http.OutgoingHttpHeaders = {
          'content-type': 'application/octet-stream', 'x-up-sha256': h.digest('hex'), 'x-up-bytes': String(n), 'x-down-sha256': sha(body),
        };
        if (q.get('dmode') !== 'chunked') headers['content-length'] = String(size);
        res.writeHead(200, headers);
        writePieces(res, body).then(() => res.end(), () => res.destroy());
      });
      return;
    }
    if (p.startsWith('/small/')) {
      const body = pattern(p, Number(q.get('n')));
      if (q.get('chunked') === '1') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const k = Math.floor(body.length / 2);
        res.write(body.subarray(0, k));
        res.end(body.subarray(k));
      } else {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length) }).end(body);
      }
      return;
    }
    if (p.startsWith('/p/')) {
      readAll(req).then(async (b) => {
        const out = pipeResponseBody(req.method ?? '', p, b, Number(q.get('pad') ?? 0));
        // A slow answer: the client's next pipelined bytes arrive while this request is in flight.
        if (q.get('delay')) await sleep(Number(q.get('delay')));
        if (q.get('ch') === '1') {
          res.writeHead(200);
          res.write(out.subarray(0, 7));
          res.end(out.subarray(7));
        } else {
          res.writeHead(200, { 'content-length': String(out.length) }).end(out);
        }
      }, () => res.destroy());
      return;
    }
    if (p.startsWith('/bp/')) {
      const tag = p.split('/')[2]!;
      bpStarted.set(tag, (bpStarted.get(tag) ?? 0) + 1);
      req.resume();
      const body = pattern(p, Number(q.get('n')));
      if (q.get('ch') === '1') { res.writeHead(200); res.end(body); } else res.writeHead(200, { 'content-length': String(body.length) }).end(body);
      return;
    }
    res.writeHead(404, { 'content-length': '0' }).end();
  });
  // Upgrade: 101 with a greeting in the same write (the gateway's `rest` bytes), then echo.
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    socket.on('error', () => {});
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    socket.setNoDelay(true);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${req.headers['upgrade'] ?? 'x'}\r\nconnection: Upgrade\r\n\r\nGREETING ${req.url}\n`);
    if (head.length) socket.write(head);
    socket.on('data', (d: Buffer) => {
      if (!socket.write(d)) { socket.pause(); socket.once('drain', () => socket.resume()); }
    });
    socket.on('end', () => socket.end());
  });
  const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port)));
  return {
    server, port, bpStarted,
    close: () => new Promise<void>((r) => {
      for (const s of upgraded) s.destroy();
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/**
 * A raw backend answering every request with an interim `103 Early Hints` followed by the
 * final head, cut so that the first read ends inside the final head; the rest of the head and
 * a 60 KB body come 25 ms later in one write (that read overwrites the shared buffer).
 */
async function startInterimBackend(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.setNoDelay(true);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const path = head.slice(head.indexOf(' ') + 1, head.indexOf(' HTTP/'));
        const body = pattern(path, 60_000);
        s.write(`HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nx-tag: ${path}\r\nx-pad: ${'p'.repeat(200)}`);
        setTimeout(() => {
          if (!s.destroyed) s.write(Buffer.concat([Buffer.from(`\r\ncontent-length: ${body.length}\r\n\r\n`, 'latin1'), body]));
        }, 25);
      }
    });
  });
  const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port)));
  return { port, close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }) };
}

function gatewayFiles(port: number, bport: number, interimPort?: number): Record<string, string> {
  const files: Record<string, string> = {
    'gw.yaml': istioGatewayYaml(port),
    'svc.yaml': serviceYaml('io', [bport]),
  };
  let routes = '';
  if (interimPort !== undefined) {
    files['svc-interim.yaml'] = serviceYaml('interim', [interimPort]);
    routes += `  - name: interim
    match: [{uri: {prefix: /interim/}}]
    route: [{destination: {host: interim.demo.svc.cluster.local, port: {number: 80}}}]
`;
  }
  routes += `  - name: io
    route: [{destination: {host: io.demo.svc.cluster.local, port: {number: 80}}}]
`;
  files['vs.yaml'] = virtualServiceYaml('io', routes);
  return files;
}

// ------------------------------------------------------------------ HTTP clients (node:http)

interface XferSpec {
  up: number; down: number; upChunked: boolean; downChunked: boolean; slowReader: boolean;
  /** Pause range (ms) of a slow reader; it pauses after ~15 % of its reads. */
  stallMs?: [number, number];
  /** The backend reads the upload slowly (pauses 5–40 ms now and then). */
  slowBackend?: boolean;
}

function randomSpec(min: number, max: number): XferSpec {
  return { up: randInt(min, max), down: randInt(min, max), upChunked: rnd() < 0.5, downChunked: rnd() < 0.5, slowReader: rnd() < 0.5, slowBackend: rnd() < 0.3 };
}

/**
 * POST a random body (uneven pieces; chunked or content-length) to /xfer, read the random
 * download (optionally pausing now and then), and check both sha256s and the framing.
 */
async function xfer(port: number, agent: http.Agent | false, id: string, spec: XferSpec): Promise<{ reused: boolean }> {
  const body = randomBytes(spec.up);
  const upSha = sha(body);
  const headers: Record<string, string> = { host: 'io.example.com' };
  if (!spec.upChunked) headers['content-length'] = String(spec.up);
  const path = `/xfer/${id}?down=${spec.down}&dmode=${spec.downChunked ? 'chunked' : 'cl'}${spec.slowBackend ? '&slow=1' : ''}`;
  const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, agent, headers });
  req.setTimeout(10_000, () => req.destroy(new Error(`${id}: no byte moved for 10 s ${tagSeed}`)));
  const resP = new Promise<http.IncomingMessage>((resolve, reject) => { req.once('response', resolve); req.once('error', reject); });
  resP.catch(() => {});
  await writePieces(req, body);
  req.end();
  const res = await resP;
  const got = await new Promise<{ sha: string; n: number }>((resolve, reject) => {
    const h = createHash('sha256');
    let n = 0;
    res.on('data', (d: Buffer) => {
      h.update(d);
      n += d.length;
      // A slow reader stops now and then, long enough for the gateway's socket buffers to fill:
      // its writes to this client then stay queued while other sockets read.
      if (spec.slowReader && rnd() < 0.15) { res.pause(); setTimeout(() => res.resume(), randInt(...(spec.stallMs ?? [5, 40]))); }
    });
    res.on('end', () => resolve({ sha: h.digest('hex'), n }));
    res.on('error', reject);
    res.on('close', () => { if (!res.complete) reject(new Error(`${id}: response closed after ${n} of ${spec.down} bytes`)); });
  });
  const what = `${id} ${JSON.stringify(spec)} ${tagSeed}`;
  assert.equal(res.statusCode, 200, `${what}: status`);
  assert.equal(res.headers['x-up-bytes'], String(spec.up), `${what}: upload byte count at the backend`);
  assert.equal(res.headers['x-up-sha256'], upSha, `${what}: upload bytes corrupted between client and backend`);
  assert.equal(got.n, spec.down, `${what}: download byte count at the client`);
  assert.equal(got.sha, res.headers['x-down-sha256'], `${what}: download bytes corrupted between backend and client`);
  if (spec.downChunked) assert.equal(res.headers['transfer-encoding'], 'chunked', `${what}: response framing`);
  else assert.equal(res.headers['content-length'], String(spec.down), `${what}: response framing`);
  return { reused: (req as http.ClientRequest & { reusedSocket?: boolean }).reusedSocket === true };
}

function getSmall(port: number, agent: http.Agent, path: string): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent, headers: { host: 'io.example.com' } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), headers: res.headers }));
      res.on('error', reject);
      res.on('close', () => { if (!res.complete) reject(new Error(`${path}: response closed before its end`)); });
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${path}: no byte moved for 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

interface LoadResult { count: number; errors: string[] }
interface Load { stop(): Promise<LoadResult> }

/**
 * Many small keep-alive GETs (1 B–9000 B, some chunked, so both the direct ≤ 8 KiB path and
 * the Writable path) on `conns` connections, each response checked, until stopped.
 */
function smallLoad(port: number, conns: number): Load {
  const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
  let running = true;
  let count = 0;
  const errors: string[] = [];
  const loops = Array.from({ length: conns }, async (_, c) => {
    for (let k = 0; running; k++) {
      const n = randInt(1, 9000);
      const chunked = rnd() < 0.3;
      const path = `/small/s${c}-${k}-${n}`;
      try {
        const r = await getSmall(port, agent, `${path}?n=${n}${chunked ? '&chunked=1' : ''}`);
        if (r.status !== 200) errors.push(`${path}: status ${r.status}`);
        else if (!r.body.equals(pattern(path, n))) errors.push(`${path}: body corrupted (${r.body.length} bytes, want ${n})`);
        else count++;
      } catch (e) {
        errors.push(`${path}: ${(e as Error).message}`);
      }
      if (errors.length > 0) return;
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return { count, errors };
    },
  };
}

/** Background bulk transfers (checked like the main ones) on `conns` keep-alive connections, until stopped. */
function bulkLoad(port: number, conns: number, min: number, max: number): Load {
  let running = true;
  let count = 0;
  const errors: string[] = [];
  const agents: http.Agent[] = [];
  const loops = Array.from({ length: conns }, async (_, c) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    for (let k = 0; running; k++) {
      try { await xfer(port, agent, `bulk${c}-${k}`, randomSpec(min, max)); count++; } catch (e) { errors.push((e as Error).message); return; }
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const a of agents) a.destroy();
      return { count, errors };
    },
  };
}

function assertLoad(r: LoadResult, name: string, min: number): void {
  assert.deepEqual(r.errors, [], `${name}: ${r.errors.length} failures ${tagSeed}`);
  assert.ok(r.count >= min, `${name}: only ${r.count} requests completed (want >= ${min})`);
}

// ------------------------------------------------------------------ raw HTTP/1.1 client

interface RawResp { status: number; headers: Map<string, string>; body: Buffer }

function parseHead(b: Buffer): { status: number; headers: Map<string, string>; headLen: number } | null | string {
  const he = b.indexOf('\r\n\r\n');
  if (he === -1) return b.length > 64 * KiB ? 'response head too long' : null;
  const lines = b.subarray(0, he).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0]!);
  if (m === null) return `bad status line ${JSON.stringify(lines[0]!.slice(0, 100))}`;
  const headers = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i <= 0) return `bad header line ${JSON.stringify(l.slice(0, 100))}`;
    headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  return { status: Number(m[1]), headers, headLen: he + 4 };
}

/** Incremental parser for a stream of HTTP/1.1 responses (content-length or chunked). */
class RespReader {
  #buf: Buffer = Buffer.alloc(0);
  readonly out: RawResp[] = [];
  bad: string | undefined;
  bytes = 0;

  push(d: Buffer): void {
    this.bytes += d.length;
    if (this.bad !== undefined) return;
    this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
    for (;;) {
      const r = this.#one();
      if (r === null) return;
      this.out.push(r.resp);
      this.#buf = this.#buf.subarray(r.used);
    }
  }

  #one(): { resp: RawResp; used: number } | null {
    const b = this.#buf;
    const h = parseHead(b);
    if (h === null) return null;
    if (typeof h === 'string') { this.bad = `after ${this.out.length} responses: ${h}`; return null; }
    const te = h.headers.get('transfer-encoding');
    if (te !== undefined) {
      if (te.toLowerCase() !== 'chunked') { this.bad = `unexpected transfer-encoding ${te}`; return null; }
      const parts: Buffer[] = [];
      let pos = h.headLen;
      for (;;) {
        const le = b.indexOf('\r\n', pos);
        if (le === -1) return null;
        const line = b.subarray(pos, le).toString('latin1');
        if (!/^[0-9a-fA-F]{1,8}(;.*)?$/.test(line)) { this.bad = `after ${this.out.length} responses: bad chunk size line ${JSON.stringify(line.slice(0, 40))}`; return null; }
        const size = parseInt(line, 16);
        if (size === 0) {
          const te2 = b.indexOf('\r\n\r\n', le);
          if (b.length < le + 4) return null;
          let end: number;
          if (b[le + 2] === 13 && b[le + 3] === 10) end = le + 4; // no trailers
          else if (te2 === -1) return null;
          else end = te2 + 4;
          return { resp: { status: h.status, headers: h.headers, body: Buffer.concat(parts) }, used: end };
        }
        if (b.length < le + 2 + size + 2) return null;
        parts.push(b.subarray(le + 2, le + 2 + size));
        if (b[le + 2 + size] !== 13 || b[le + 3 + size] !== 10) { this.bad = `after ${this.out.length} responses: chunk not followed by CRLF`; return null; }
        pos = le + 2 + size + 2;
      }
    }
    const cl = h.headers.get('content-length');
    if (cl === undefined) { this.bad = `after ${this.out.length} responses: response without framing (status ${h.status})`; return null; }
    if (!/^\d{1,9}$/.test(cl)) { this.bad = `after ${this.out.length} responses: bad content-length ${JSON.stringify(cl.slice(0, 40))}`; return null; }
    const n = Number(cl);
    if (b.length < h.headLen + n) return null;
    return { resp: { status: h.status, headers: h.headers, body: Buffer.from(b.subarray(h.headLen, h.headLen + n)) }, used: h.headLen + n };
  }
}

interface RawClient { readonly s: net.Socket; readonly r: RespReader; closed: boolean }

/** Raw client sockets still open: destroyed before the gateway closes, even after a failed test. */
const rawSockets = new Set<net.Socket>();
function destroyRawSockets(): void {
  for (const s of rawSockets) s.destroy();
  rawSockets.clear();
}

async function rawClient(port: number, opts: { paused?: boolean } = {}): Promise<RawClient> {
  const s = net.connect(port, '127.0.0.1');
  s.setNoDelay(true);
  const c: RawClient = { s, r: new RespReader(), closed: false };
  rawSockets.add(s);
  s.on('error', () => {});
  s.on('close', () => { c.closed = true; rawSockets.delete(s); });
  await new Promise<void>((resolve, reject) => { s.once('connect', () => resolve()); s.once('error', reject); });
  if (opts.paused) s.pause();
  else s.on('data', (d: Buffer) => c.r.push(d));
  return c;
}

/** Wait until `c` has `n` responses; fail fast on a parse error or close, or after `timeoutMs` of no progress. */
async function waitResponses(c: RawClient, n: number, what: string, stallMs = 8000): Promise<void> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    if (c.r.bad !== undefined) throw new Error(`${what}: unparseable response stream: ${c.r.bad} ${tagSeed}`);
    if (c.r.out.length >= n) return;
    if (c.closed) throw new Error(`${what}: connection closed after ${c.r.out.length} of ${n} responses ${tagSeed}`);
    if (c.r.bytes !== last) { last = c.r.bytes; lastChange = Date.now(); }
    if (Date.now() - lastChange > stallMs) {
      throw new Error(`${what}: stalled at ${c.r.out.length} of ${n} responses (no byte for ${stallMs} ms) ${tagSeed}`);
    }
    await sleep(10);
  }
}

/**
 * Poll `value` until it has not changed for 700 ms while the event loop stayed responsive (the
 * gateway runs in this process: a gateway busy copying bytes delays the samples, and that
 * does not count as quiet), or `maxMs` passed.
 */
async function waitStable(value: () => number, maxMs = 15_000): Promise<void> {
  let last = value();
  let since = Date.now();
  let prev = Date.now();
  for (const end = Date.now() + maxMs; Date.now() < end && Date.now() - since < 700;) {
    await sleep(50);
    const now = Date.now();
    const v = value();
    if (v !== last || now - prev > 250) { last = v; since = now; }
    prev = now;
  }
}

/** One pipelined request to /p/ and the response body the backend must send for it. */
interface PReq { bytes: Buffer; headLen: number; expect: Buffer; path: string }

interface PReqOpts { maxBody?: number; delayMs?: number; pad?: number }

/**
 * A GET, a content-length POST or a chunked POST (random body up to `maxBody`) to /p/; the
 * response (content-length or chunked, padded to up to 20 KiB) names the request and hashes its
 * body. 15 % of the requests are answered 5–40 ms late unless `delayMs` is given.
 */
function pipeRequest(tag: string, i: number, o: PReqOpts = {}): PReq {
  const path = `/p/${tag}-${i}`;
  const pad = o.pad ?? (rnd() < 0.2 ? randInt(8 * KiB, 20 * KiB) : randInt(0, 3000));
  const ch = rnd() < 0.3 ? '&ch=1' : '';
  const delayMs = o.delayMs ?? (rnd() < 0.15 ? randInt(5, 40) : 0);
  const target = `${path}?pad=${pad}${ch}${delayMs > 0 ? `&delay=${delayMs}` : ''}`;
  const maxBody = o.maxBody ?? 3000;
  const kind = randInt(0, 2);
  let head: string;
  let body: Buffer = Buffer.alloc(0);
  let wire: Buffer = Buffer.alloc(0);
  if (kind === 0) {
    head = `GET ${target} HTTP/1.1\r\nHost: io.example.com\r\nx-i: ${i}\r\n\r\n`;
  } else if (kind === 1) {
    body = randomBytes(randInt(1, maxBody));
    wire = body;
    head = `POST ${target} HTTP/1.1\r\nHost: io.example.com\r\nContent-Length: ${body.length}\r\nx-i: ${i}\r\n\r\n`;
  } else {
    const chunks = Array.from({ length: randInt(1, 4) }, () => randomBytes(randInt(1, Math.ceil(maxBody / 2))));
    body = Buffer.concat(chunks);
    wire = Buffer.concat([...chunks.flatMap((c) => [Buffer.from(`${c.length.toString(16)}\r\n`, 'latin1'), c, Buffer.from('\r\n', 'latin1')]), Buffer.from('0\r\n\r\n', 'latin1')]);
    head = `POST ${target} HTTP/1.1\r\nHost: io.example.com\r\nTransfer-Encoding: chunked\r\nx-i: ${i}\r\n\r\n`;
  }
  const hb = Buffer.from(head, 'latin1');
  return { bytes: Buffer.concat([hb, wire]), headLen: hb.length, expect: pipeResponseBody(kind === 0 ? 'GET' : 'POST', path, body, pad), path };
}

function checkInOrder(out: RawResp[], reqs: PReq[], what: string): void {
  assert.equal(out.length, reqs.length, `${what}: response count ${tagSeed}`);
  for (let i = 0; i < reqs.length; i++) {
    const r = out[i]!;
    const want = reqs[i]!;
    assert.equal(r.status, 200, `${what}: response #${i} (${want.path}) status ${tagSeed}`);
    if (!r.body.equals(want.expect)) {
      assert.fail(`${what}: response #${i} is not the one for ${want.path}: got ${JSON.stringify(r.body.subarray(0, 90).toString('latin1'))}… ` +
        `(${r.body.length} bytes), want ${JSON.stringify(want.expect.subarray(0, 90).toString('latin1'))}… (${want.expect.length} bytes) ${tagSeed}`);
    }
  }
}

/** Split points inside heads (incl. inside the final CRLFCRLF), at head/body boundaries, inside bodies and at request boundaries. */
function awkwardSplits(reqs: PReq[]): number[] {
  const pts = new Set<number>();
  let base = 0;
  for (const q of reqs) {
    const len = q.bytes.length;
    const cands = [base + 1, base + 5, base + q.headLen - 1, base + q.headLen - 2, base + q.headLen - 3, base + q.headLen,
      base + q.headLen + 1, base + q.headLen + Math.floor((len - q.headLen) / 2), base + len - 1, base + len];
    for (let k = 0; k < 2; k++) pts.add(cands[randInt(0, cands.length - 1)]!);
    if (rnd() < 0.3) pts.add(base + randInt(1, len));
    base += len;
  }
  return [...pts].filter((p) => p > 0 && p < base).sort((a, b) => a - b);
}

async function writeSplit(s: net.Socket, all: Buffer, splits: number[], gapMs: () => number): Promise<void> {
  let prev = 0;
  for (const p of [...splits, all.length]) {
    if (p <= prev) continue;
    s.write(all.subarray(prev, p));
    prev = p;
    await sleep(gapMs());
  }
}

/** Write `data` in 1–3 byte pieces with 0–2 ms pauses. */
async function dribble(s: net.Socket, data: Buffer): Promise<void> {
  for (let off = 0; off < data.length;) {
    const n = Math.min(randInt(1, 3), data.length - off);
    s.write(data.subarray(off, off + n));
    off += n;
    if (rnd() < 0.7) await sleep(randInt(0, 2)); else await immediate();
  }
}

// ------------------------------------------------------------------ WebSocket-style tunnel client

/**
 * Two keep-alive GETs, then an Upgrade on the same connection (early tunnel bytes in the same
 * write as the upgrade head), then `size` random bytes in uneven pieces: the backend echoes,
 * so the client must read back the greeting, the early bytes and the payload exactly.
 */
async function tunnel(port: number, id: string, size: number, stallMs?: [number, number]): Promise<void> {
  const c = await rawClient(port);
  for (let k = 0; k < 2; k++) {
    const path = `/small/${id}-ka${k}`;
    const n = randInt(100, 9000);
    c.s.write(`GET ${path}?n=${n} HTTP/1.1\r\nHost: io.example.com\r\n\r\n`);
    await waitResponses(c, k + 1, `${id} keep-alive GET #${k}`);
    assert.ok(c.r.out[k]!.body.equals(pattern(path, n)), `${id}: keep-alive response #${k} corrupted ${tagSeed}`);
  }
  // From here the socket is a tunnel: take raw bytes.
  c.s.removeAllListeners('data');
  let got = Buffer.alloc(0);
  const parts: Buffer[] = [];
  let gotLen = 0;
  c.s.on('data', (d: Buffer) => {
    parts.push(d);
    gotLen += d.length;
    // A stalling tunnel client stops reading now and then: with more bytes in flight than the
    // socket buffers hold, the gateway's tunnel writes stay queued while other sockets read.
    if (stallMs !== undefined && rnd() < 0.15) { c.s.pause(); setTimeout(() => c.s.resume(), randInt(...stallMs)); }
  });
  const early = randomBytes(randInt(1, 2000));
  const payload = randomBytes(size);
  const upPath = `/ws/${id}`;
  c.s.write(Buffer.concat([Buffer.from(`GET ${upPath} HTTP/1.1\r\nHost: io.example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`, 'latin1'), early]));
  // Wait for the 101 head.
  let headLen = 0;
  for (const end = Date.now() + 8000; ;) {
    got = Buffer.concat(parts);
    const h = parseHead(got);
    if (typeof h === 'string') assert.fail(`${id}: ${h}`);
    if (h !== null) {
      assert.equal(h.status, 101, `${id}: upgrade status ${tagSeed}`);
      headLen = h.headLen;
      break;
    }
    if (c.closed || Date.now() > end) assert.fail(`${id}: no 101 (got ${JSON.stringify(got.toString('latin1').slice(0, 200))})`);
    await sleep(5);
  }
  await writePieces(c.s, payload);
  const expected = Buffer.concat([Buffer.from(`GREETING ${upPath}\n`, 'latin1'), early, payload]);
  const total = headLen + expected.length;
  let last = -1;
  let lastChange = Date.now();
  while (gotLen < total) {
    if (gotLen !== last) { last = gotLen; lastChange = Date.now(); }
    if (c.closed || Date.now() - lastChange > 8000) assert.fail(`${id}: tunnel stalled at ${gotLen - headLen} of ${expected.length} bytes ${tagSeed}`);
    await sleep(5);
  }
  const tunnelBytes = Buffer.concat(parts).subarray(headLen);
  assert.equal(tunnelBytes.length, expected.length, `${id}: tunnel byte count ${tagSeed}`);
  if (!tunnelBytes.equals(expected)) {
    let i = 0;
    while (tunnelBytes[i] === expected[i]) i++;
    assert.fail(`${id}: tunnel bytes corrupted from offset ${i} of ${expected.length} ${tagSeed}`);
  }
  c.s.end();
  c.s.destroy();
}

// ------------------------------------------------------------------ tests

describe('hot-path IO: shared read buffer and direct writes', () => {
  let gw: TestGateway;
  let backend: Backend;
  let interim: { port: number; close(): Promise<void> };
  let port: number;
  let prevShared = true;
  let prevDirect = true;

  before(async () => {
    // Run these paths even if the environment turned them off.
    prevShared = sharedReads();
    prevDirect = directWrites();
    sharedReads(true);
    directWrites(true);
    backend = await startBackend();
    interim = await startInterimBackend();
    port = await freePort();
    gw = await startTestGateway(gatewayFiles(port, backend.port, interim.port), { 'no-access-log': true });
  });

  after(async () => {
    destroyRawSockets();
    await gw?.close();
    await backend?.close();
    await interim?.close();
    sharedReads(prevShared);
    directWrites(prevDirect);
  });

  it('both mechanisms are active on this Node (else this file would test the fallbacks only)', async (t) => {
    t.diagnostic(`seed ${SEED}`);
    assert.equal(directWrites(), true, 'direct writes unavailable (no stream_wrap WriteWrap binding)');
    // An accepted socket switches to the shared buffer and the callback sees it.
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const accepted = new Promise<net.Socket>((r) => srv.once('connection', r));
    const cli = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
    const s = await accepted;
    const seen = new Promise<{ n: number; len: number; text: string }>((resolve) => {
      assert.equal(readIntoShared(s, (n, buf) => resolve({ n, len: buf.length, text: buf.toString('latin1', 0, n) })), true,
        'readIntoShared found no kBuffer/kBufferCb slots on this Node');
    });
    cli.write('hello');
    const r = await seen;
    assert.deepEqual(r, { n: 5, len: SHARED_READ_SIZE, text: 'hello' });
    cli.destroy();
    s.destroy();
    srv.close();
  });

  it('16 concurrent 1–4 MiB uploads + downloads stay intact, with small keep-alive requests interleaved', { timeout: 60_000 }, async (t) => {
    const t0 = performance.now();
    const small = smallLoad(port, 8);
    const specs = Array.from({ length: 16 }, () => randomSpec(1 * MiB, 4 * MiB));
    // Make sure each framing combination occurs.
    for (let i = 0; i < 4; i++) { specs[i]!.upChunked = (i & 1) === 1; specs[i]!.downChunked = (i & 2) === 2; }
    const big = specs.map(async (spec, i) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        // A small exchange first: the big one then runs on a connection already reading into the shared buffer.
        await xfer(port, agent, `warm${i}`, { up: randInt(0, 2000), down: randInt(1, 2000), upChunked: rnd() < 0.5, downChunked: rnd() < 0.5, slowReader: false });
        const r = await xfer(port, agent, `big${i}`, spec);
        assert.ok(r.reused, `big${i} did not reuse its keep-alive connection`);
      } finally {
        agent.destroy();
      }
    });
    // Plus 4 clients that stop reading for 50–100 ms at a time while downloading 6–8 MiB: more
    // than the loopback socket buffers hold (~4 MiB), so the gateway's writes to them stay
    // queued while other sockets read into the shared buffer.
    const stalledSpecs: XferSpec[] = Array.from({ length: 4 }, (_, i) => ({
      up: randInt(1, 64 * KiB), down: randInt(6 * MiB, 8 * MiB), upChunked: rnd() < 0.5, downChunked: i % 2 === 1, slowReader: true, stallMs: [50, 100],
    }));
    const stalled = stalledSpecs.map((spec, i) => xfer(port, false, `stalled${i}`, spec));
    const results = await Promise.allSettled([...big, ...stalled]);
    const s = await small.stop();
    for (const r of results) if (r.status === 'rejected') throw r.reason;
    const bytes = [...specs, ...stalledSpecs].reduce((a, x) => a + x.up + x.down, 0);
    t.diagnostic(`20 connections, ${(bytes / MiB).toFixed(1)} MiB through the gateway + ${s.count} small requests in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    assertLoad(s, 'small keep-alive requests', 50);
  });

  it('request heads dribbled in 1–3 byte pieces, pipelined batches split at awkward offsets, bytes behind a request in flight, while other connections are busy', { timeout: 60_000 }, async (t) => {
    const t0 = performance.now();
    const bulk = bulkLoad(port, 4, 128 * KiB, 1 * MiB);
    const small = smallLoad(port, 4);
    // 4 connections sending 3 keep-alive requests each, every byte (head and body) in 1–3 byte pieces.
    const dribblers = Array.from({ length: 4 }, async (_, c) => {
      const cl = await rawClient(port);
      const reqs = [0, 1, 2].map((k) => pipeRequest(`dribble${c}`, k, { maxBody: 200, delayMs: 0 }));
      for (let k = 0; k < reqs.length; k++) {
        await dribble(cl.s, reqs[k]!.bytes);
        await waitResponses(cl, k + 1, `dribble${c} request #${k}`);
      }
      checkInOrder(cl.r.out, reqs, `dribble${c}`);
      cl.s.destroy();
    });
    // 50 requests in one write (more than one 64 KiB read), on 2 connections.
    const oneWrite = Array.from({ length: 2 }, async (_, c) => {
      const cl = await rawClient(port);
      const reqs = Array.from({ length: 50 }, (_, i) => pipeRequest(`batch${c}`, i));
      cl.s.write(Buffer.concat(reqs.map((q) => q.bytes)));
      await waitResponses(cl, reqs.length, `batch${c}`);
      checkInOrder(cl.r.out, reqs, `batch${c}`);
      cl.s.destroy();
    });
    // 50 requests split inside heads, at head/body boundaries, inside bodies, on 3 connections.
    const split = Array.from({ length: 3 }, async (_, c) => {
      const cl = await rawClient(port);
      const reqs = Array.from({ length: 50 }, (_, i) => pipeRequest(`split${c}`, i));
      const all = Buffer.concat(reqs.map((q) => q.bytes));
      await writeSplit(cl.s, all, awkwardSplits(reqs), () => randInt(1, 3));
      await waitResponses(cl, reqs.length, `split${c}`);
      checkInOrder(cl.r.out, reqs, `split${c}`);
      cl.s.destroy();
    });
    // Bytes arriving while a slow request is in flight (nothing else queued): the next request
    // alone in a later read, or the tail of the same read, must be kept until the slow one is done.
    const inFlight = Array.from({ length: 3 }, async (_, c) => {
      const cl = await rawClient(port);
      const all: PReq[] = [];
      for (let round = 0; round < 6; round++) {
        const a = pipeRequest(`inflight${c}`, round * 3, { delayMs: randInt(15, 30), pad: randInt(4 * KiB, 12 * KiB) });
        const b = pipeRequest(`inflight${c}`, round * 3 + 1);
        const d = pipeRequest(`inflight${c}`, round * 3 + 2);
        all.push(a, b, d);
        const k = randInt(1, b.bytes.length - 1); // inside b: its head or its body
        if (round % 2 === 0) {
          cl.s.write(a.bytes); // a goes in flight with nothing after it
          await sleep(5);
          cl.s.write(b.bytes.subarray(0, k));
        } else {
          cl.s.write(Buffer.concat([a.bytes, b.bytes.subarray(0, k)])); // a in flight, part of b behind it
        }
        await sleep(5);
        cl.s.write(Buffer.concat([b.bytes.subarray(k), d.bytes]));
        await waitResponses(cl, all.length, `inflight${c} round ${round}`);
      }
      checkInOrder(cl.r.out, all, `inflight${c}`);
      cl.s.destroy();
    });
    const results = await Promise.allSettled([...dribblers, ...oneWrite, ...split, ...inFlight]);
    const b = await bulk.stop();
    const s = await small.stop();
    for (const r of results) if (r.status === 'rejected') throw r.reason;
    t.diagnostic(`dribbled + pipelined with ${b.count} bulk transfers and ${s.count} small requests alongside in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    assertLoad(b, 'background bulk transfers', 1);
    assertLoad(s, 'background small requests', 20);
  });

  it('pipelining: stops starting requests while the client does not read, then delivers all 3,000 in order', { timeout: 60_000 }, async (t) => {
    // 3,000 × 8 KB = 23 MiB of responses: far more than loopback socket buffers hold (~4 MiB here).
    const N = 3000;
    const SIZE = 8000; // head + body <= 8 KiB: the direct write path
    const tag = 'bp1';
    const cl = await rawClient(port, { paused: true });
    const paths = Array.from({ length: N }, (_, i) => `/bp/${tag}/${i}`);
    cl.s.write(paths.map((p) => `GET ${p}?n=${SIZE} HTTP/1.1\r\nHost: io.example.com\r\n\r\n`).join(''));
    // Let the gateway run until the backend count stops moving.
    await waitStable(() => backend.bpStarted.get(tag) ?? 0);
    const started = backend.bpStarted.get(tag) ?? 0;
    t.diagnostic(`client not reading: the backend got ${started} of ${N} pipelined requests (${(started * SIZE / MiB).toFixed(1)} MiB of responses)`);
    assert.ok(started > 0, 'no request reached the backend');
    assert.ok(started <= N / 2, `the gateway kept starting pipelined requests although the client does not read: ${started} of ${N}`);
    await sleep(300);
    assert.equal(backend.bpStarted.get(tag), started, 'requests kept starting while the client was not reading');
    // Now read everything.
    const t0 = performance.now();
    cl.s.on('data', (d: Buffer) => cl.r.push(d));
    cl.s.resume();
    await waitResponses(cl, N, 'backpressured pipeline');
    t.diagnostic(`then read ${N} responses in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    assert.equal(cl.r.out.length, N);
    for (let i = 0; i < N; i++) {
      const r = cl.r.out[i]!;
      assert.equal(r.status, 200, `response #${i}`);
      if (!r.body.equals(pattern(paths[i]!, SIZE))) assert.fail(`response #${i} is not the one for ${paths[i]} (${r.body.subarray(0, 40).toString('latin1')}…)`);
    }
    assert.equal(backend.bpStarted.get(tag), N);
    cl.s.destroy();
  });

  it('pipelining with alternating Writable-path and direct-path responses to a slowly reading client: all responses, in order', { timeout: 60_000 }, async (t) => {
    // Even requests: 11–15 KiB bodies (> 8 KiB: head and body go through the socket's Writable,
    // below its 16 KiB high-water mark); odd: 5–8 KB bodies (one direct write with the head, or
    // the Writable when something is still queued there). A Writable response that stays queued
    // is then followed by a small one that must queue behind it.
    const N = 1500; // ~15 MiB of responses
    const tag = 'bp2';
    const cl = await rawClient(port, { paused: true });
    const reqs = Array.from({ length: N }, (_, i) => {
      const n = i % 2 === 0 ? randInt(11 * KiB, 15 * KiB) : randInt(5 * KiB, 8000);
      const ch = rnd() < 0.2 ? '&ch=1' : '';
      return { path: `/bp/${tag}/${i}`, n, q: `?n=${n}${ch}` };
    });
    cl.s.write(reqs.map((r) => `GET ${r.path}${r.q} HTTP/1.1\r\nHost: io.example.com\r\n\r\n`).join(''));
    await sleep(500);
    const before = backend.bpStarted.get(tag) ?? 0;
    // Then read slowly (one read, then 10 ms without reading): the socket buffers stay full, so
    // new responses keep finding earlier ones still queued.
    const t0 = performance.now();
    cl.s.on('data', (d: Buffer) => {
      cl.r.push(d);
      cl.s.pause();
      setTimeout(() => cl.s.resume(), 10);
    });
    cl.s.resume();
    await waitResponses(cl, N, 'alternating-size pipeline read slowly', 5000);
    t.diagnostic(`${before} of ${N} started while not reading; all read slowly in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    assert.ok(before <= N / 2, `backpressure did not hold back requests: ${before} of ${N} started while the client did not read`);
    for (let i = 0; i < N; i++) {
      const r = cl.r.out[i]!;
      const want = reqs[i]!;
      assert.equal(r.status, 200, `response #${i}`);
      if (!r.body.equals(pattern(want.path, want.n))) assert.fail(`response #${i} is not the one for ${want.path} (${r.body.length} bytes, want ${want.n}) ${tagSeed}`);
    }
    cl.s.destroy();
  });

  it('pipelining: while responses are held back, the gateway stops reading the connection (bounded buffering)', { timeout: 60_000 }, async (t) => {
    const tag = 'bp3';
    const cl = await rawClient(port, { paused: true });
    // First 1,000 requests for 8 KB (more than the socket buffers hold): the gateway stops
    // answering; then 3,000 requests of 4 KB each (12 MB) for 1-byte responses.
    cl.s.write(Array.from({ length: 1000 }, (_, i) => `GET /bp/${tag}/${i}?n=8000 HTTP/1.1\r\nHost: io.example.com\r\n\r\n`).join(''));
    await waitStable(() => backend.bpStarted.get(tag) ?? 0);
    const blockedAt = backend.bpStarted.get(tag) ?? 0;
    assert.ok(blockedAt < 1000, `${blockedAt} of the first 1,000 requests started while the client was not reading`);
    const pad = 'x'.repeat(4000);
    const wire = Buffer.from(Array.from({ length: 3000 }, (_, k) =>
      `GET /bp/${tag}/${1000 + k}?n=1 HTTP/1.1\r\nHost: io.example.com\r\nx-pad: ${pad}\r\n\r\n`).join(''), 'latin1');
    // Written 64 KiB at a time, each after the previous one was taken: `acked` = bytes the gateway side took.
    let acked = 0;
    let writeErr: Error | undefined;
    const writer = (async () => {
      for (let off = 0; off < wire.length; off += 64 * KiB) {
        const piece = wire.subarray(off, off + 64 * KiB);
        await new Promise<void>((resolve, reject) => cl.s.write(piece, (e) => (e ? reject(e) : resolve())));
        acked += piece.length;
      }
    })().catch((e: Error) => { writeErr = e; });
    await waitStable(() => acked);
    const started = backend.bpStarted.get(tag) ?? 0;
    t.diagnostic(`client not reading: ${blockedAt} of 1,000 started; then the gateway side took ${(acked / MiB).toFixed(1)} of ${(wire.length / MiB).toFixed(1)} MiB of further pipelined requests`);
    assert.equal(started, blockedAt, 'more requests started while the client was not reading');
    // Socket buffers take a few MiB; the gateway itself should hold at most its pipelining limit.
    assert.ok(acked < wire.length, `the gateway read all ${(wire.length / MiB).toFixed(1)} MiB of pipelined requests it could not answer yet (unbounded buffering)`);
    cl.s.on('data', (d: Buffer) => cl.r.push(d));
    cl.s.resume();
    await waitResponses(cl, 4000, 'bounded-buffering pipeline');
    await writer;
    assert.equal(writeErr, undefined);
    for (let i = 0; i < 4000; i++) {
      const path = `/bp/${tag}/${i}`;
      if (!cl.r.out[i]!.body.equals(pattern(path, i < 1000 ? 8000 : 1))) assert.fail(`response #${i} is not the one for ${path}`);
    }
    cl.s.destroy();
  });

  it('WebSocket-style tunnels opened after keep-alive requests carry random bytes both ways intact, 8 at once', { timeout: 60_000 }, async (t) => {
    const t0 = performance.now();
    const bulk = bulkLoad(port, 3, 128 * KiB, 1 * MiB);
    const small = smallLoad(port, 4);
    const results = await Promise.allSettled([
      ...Array.from({ length: 6 }, (_, i) => tunnel(port, `ws${i}`, randInt(256 * KiB, 2 * MiB))),
      // 6–8 MiB echoed through a client that stops reading for 50–100 ms at a time.
      ...Array.from({ length: 2 }, (_, i) => tunnel(port, `ws-stall${i}`, randInt(6 * MiB, 8 * MiB), [50, 100])),
    ]);
    const b = await bulk.stop();
    const s = await small.stop();
    for (const r of results) if (r.status === 'rejected') throw r.reason;
    t.diagnostic(`8 tunnels with ${b.count} bulk transfers and ${s.count} small requests alongside in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    assertLoad(b, 'background bulk transfers', 1);
    assertLoad(s, 'background small requests', 20);
  });

  it('upstream interim (103) response followed by a final head cut across reads: the final response arrives intact', { timeout: 30_000 }, async () => {
    const small = smallLoad(port, 4);
    const results = await Promise.allSettled(Array.from({ length: 6 }, async (_, i) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let k = 0; k < 3; k++) {
          const path = `/interim/${i}-${k}`;
          const r = await getSmall(port, agent, path);
          assert.equal(r.status, 200, `${path}: status (body ${JSON.stringify(r.body.subarray(0, 120).toString('latin1'))})`);
          assert.equal(r.headers['x-tag'], path, `${path}: final response head corrupted`);
          assert.equal(r.headers['x-pad'], 'p'.repeat(200), `${path}: final response head corrupted`);
          assert.ok(r.body.equals(pattern(path, 60_000)), `${path}: body corrupted`);
        }
      } finally {
        agent.destroy();
      }
    }));
    const s = await small.stop();
    for (const r of results) if (r.status === 'rejected') throw r.reason;
    assertLoad(s, 'background small requests', 1);
  });
});

describe('hot-path IO fallbacks: sharedReads(false) and directWrites(false)', () => {
  let gw: TestGateway;
  let backend: Backend;
  let port: number;
  let prevShared = true;
  let prevDirect = true;

  before(async () => {
    prevShared = sharedReads();
    prevDirect = directWrites();
    // Before the gateway exists: no downstream or upstream connection may use the fast paths.
    sharedReads(false);
    directWrites(false);
    backend = await startBackend(); // own backend: own upstream pools, all opened with the flags off
    port = await freePort();
    gw = await startTestGateway(gatewayFiles(port, backend.port), { 'no-access-log': true });
  });

  after(async () => {
    destroyRawSockets();
    await gw?.close();
    await backend?.close();
    sharedReads(prevShared);
    directWrites(prevDirect);
  });

  it('the switches are off (a socket is not switched to the shared buffer)', async () => {
    assert.equal(sharedReads(), false);
    assert.equal(directWrites(), false);
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const accepted = new Promise<net.Socket>((r) => srv.once('connection', r));
    const cli = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
    const s = await accepted;
    assert.equal(readIntoShared(s, () => {}), false);
    cli.destroy();
    s.destroy();
    srv.close();
  });

  it('concurrent uploads/downloads, small requests, pipelining and a tunnel stay intact', { timeout: 60_000 }, async (t) => {
    const t0 = performance.now();
    const small = smallLoad(port, 4);
    const big = Array.from({ length: 6 }, async (_, i) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        await xfer(port, agent, `fb-warm${i}`, randomSpec(1, 4000));
        await xfer(port, agent, `fb-big${i}`, randomSpec(256 * KiB, 1 * MiB));
      } finally {
        agent.destroy();
      }
    });
    const pipelined = (async () => {
      const cl = await rawClient(port);
      const reqs = Array.from({ length: 50 }, (_, i) => pipeRequest('fb-split', i));
      await writeSplit(cl.s, Buffer.concat(reqs.map((q) => q.bytes)), awkwardSplits(reqs), () => randInt(0, 2));
      await waitResponses(cl, reqs.length, 'fb-split');
      checkInOrder(cl.r.out, reqs, 'fb-split');
      cl.s.destroy();
    })();
    const ws = tunnel(port, 'fb-ws', randInt(256 * KiB, 1 * MiB));
    const results = await Promise.allSettled([...big, pipelined, ws]);
    const s = await small.stop();
    for (const r of results) if (r.status === 'rejected') throw r.reason;
    t.diagnostic(`fallback paths: done in ${((performance.now() - t0) / 1000).toFixed(2)} s with ${s.count} small requests alongside`);
    assertLoad(s, 'small keep-alive requests', 20);
  });

  it('pipelining backpressure holds on the Writable path too, and all responses arrive in order', { timeout: 60_000 }, async (t) => {
    const N = 1500; // 8 KB each: ~12 MiB, more than the socket buffers hold
    const tag = 'fb-bp';
    const cl = await rawClient(port, { paused: true });
    cl.s.write(Array.from({ length: N }, (_, i) => `GET /bp/${tag}/${i}?n=8000 HTTP/1.1\r\nHost: io.example.com\r\n\r\n`).join(''));
    await waitStable(() => backend.bpStarted.get(tag) ?? 0);
    const started = backend.bpStarted.get(tag) ?? 0;
    t.diagnostic(`client not reading: ${started} of ${N} started`);
    assert.ok(started > 0 && started <= N / 2, `${started} of ${N} pipelined requests started while the client did not read`);
    cl.s.on('data', (d: Buffer) => cl.r.push(d));
    cl.s.resume();
    await waitResponses(cl, N, 'fallback backpressured pipeline');
    for (let i = 0; i < N; i++) {
      const path = `/bp/${tag}/${i}`;
      if (!cl.r.out[i]!.body.equals(pattern(path, 8000))) assert.fail(`response #${i} is not the one for ${path}`);
    }
    cl.s.destroy();
  });
});
