/**
 * Lifecycle-test harness: a slow backend, steady keep-alive load that classifies every
 * request, and `portico run` as a child process (the real CLI from dist/, real signals).
 *
 * A request has *started* once it was written on an established connection. A refused
 * connection (ECONNREFUSED: the listener is closed) has not started; anything else that does
 * not end in a complete 200 response is a failure. Drain, crash and restart tests count
 * failures among started requests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request, sleep, waitFor } from './gateway.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'dist/cli/main.js');

/** An HTTP/1.1 backend that answers every request after `delayMs` (keep-alive, small body). */
export async function startSlowBackend(delayMs: number): Promise<{ port: number; requests: () => number; close(): Promise<void> }> {
  let n = 0;
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    n++;
    req.resume();
    req.on('end', () => setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
      res.end('ok');
    }, delayMs));
  });
  const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port)));
  return {
    port,
    requests: () => n,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** Counts of one load run. */
export interface LoadStats {
  /** Complete 200 responses. */
  ok: number;
  /** Started requests that did not end in a complete 200 response. */
  failed: number;
  /** Connections refused (not started). */
  refused: number;
  /** 200 responses that carried `connection: close` (HTTP/1.1) or came before a GOAWAY (HTTP/2). */
  closing: number;
  /** GOAWAY frames received (HTTP/2 clients). */
  goaways: number;
  /** The first few failure reasons. */
  readonly reasons: string[];
}

function newStats(): LoadStats {
  return { ok: 0, failed: 0, refused: 0, closing: 0, goaways: 0, reasons: [] };
}

function fail(s: LoadStats, why: string): void {
  s.failed++;
  if (s.reasons.length < 10) s.reasons.push(why);
}

/** Options of {@link startLoad}. */
export interface LoadOptions {
  /** Keep-alive HTTP/1.1 clients, each sending its next request as soon as the last one ended. */
  readonly clients: number;
  /** h2c clients, one stream after another on one session. */
  readonly h2Clients?: number;
  readonly host?: string;
  readonly path?: string;
  /**
   * Whether a client whose connection was closed opens a new one here. A load balancer stops
   * sending new connections to a pod once it noticed /ready 503 (what --drain-delay waits
   * for): drain tests return false from then on, and the client stops, as if it had moved to
   * another replica. Default: always reconnect.
   */
  readonly reconnect?: () => boolean;
}

/** Steady load on 127.0.0.1:port until stop(). */
export function startLoad(port: number, opts: LoadOptions): { stats: LoadStats; stop(): Promise<LoadStats> } {
  const stats = newStats();
  let running = true;
  const reconnect = opts.reconnect ?? (() => true);
  const h1 = Array.from({ length: opts.clients }, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    while (running) {
      const r = await oneH1(port, agent, opts.host ?? 'load.test', opts.path ?? '/load');
      if (r === 'refused') { stats.refused++; await sleep(10); continue; }
      if (r === 'ok' || r === 'ok-close') { stats.ok++; if (r === 'ok-close') stats.closing++; } else fail(stats, r);
      // The next request needs a new connection: only while the balancer still sends them here.
      if (r !== 'ok' && !reconnect()) break;
    }
    agent.destroy();
  });
  const h2 = Array.from({ length: opts.h2Clients ?? 0 }, () => h2Client(port, opts.host ?? 'load.test', opts.path ?? '/load', stats, () => running, reconnect));
  const all = Promise.all([...h1, ...h2]);
  return {
    stats,
    stop: async () => {
      running = false;
      await all;
      return stats;
    },
  };
}

function oneH1(port: number, agent: http.Agent, host: string, p: string): Promise<'ok' | 'ok-close' | 'refused' | string> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, agent, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => {
        if (res.statusCode !== 200 || body !== 'ok') resolve(`status ${res.statusCode} body ${JSON.stringify(body.slice(0, 80))}`);
        else resolve(res.headers.connection === 'close' ? 'ok-close' : 'ok');
      });
      res.on('error', (e) => resolve(`response error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED' ? 'refused' : `request error ${e.code ?? e.message}`));
    req.end();
  });
}

/** One h2c client: streams one after another on a session; a new session after GOAWAY. */
async function h2Client(port: number, host: string, p: string, stats: LoadStats, running: () => boolean, reconnect: () => boolean): Promise<void> {
  let first = true;
  while (running() && (first || reconnect())) {
    first = false;
    const session = http2.connect(`http://127.0.0.1:${port}`);
    let gone = false;
    session.on('goaway', () => { gone = true; stats.goaways++; });
    session.on('error', () => { gone = true; });
    const connected = await new Promise<boolean>((r) => {
      session.once('connect', () => r(true));
      session.once('error', () => r(false));
    });
    if (!connected) { stats.refused++; session.destroy(); await sleep(10); continue; }
    while (running() && !gone && !session.closed && !session.destroyed) {
      const r = await new Promise<string>((resolve) => {
        let stream: http2.ClientHttp2Stream;
        try {
          stream = session.request({ ':path': p, ':authority': host });
        } catch (e) {
          resolve(`not-started ${(e as NodeJS.ErrnoException).code}`);
          return;
        }
        let status = 0;
        let body = '';
        stream.setEncoding('utf8');
        stream.on('response', (h) => { status = Number(h[':status']); });
        stream.on('data', (d: string) => { body += d; });
        stream.on('end', () => resolve(status === 200 && body === 'ok' ? (gone ? 'ok-close' : 'ok') : `h2 status ${status}`));
        stream.on('error', (e: NodeJS.ErrnoException) => {
          // Refused before any processing (RFC 9113 §8.7: safe to retry) is not a started request.
          resolve(e.code === 'ERR_HTTP2_STREAM_ERROR' && /REFUSED_STREAM/.test(e.message) ? 'not-started refused' : `h2 error ${e.code ?? e.message}`);
        });
      });
      if (r.startsWith('not-started')) break;
      if (r === 'ok' || r === 'ok-close') { stats.ok++; if (r === 'ok-close') stats.closing++; } else fail(stats, r);
    }
    session.close();
  }
}

/** `portico run` (or any CLI command) in the background, output collected. */
export interface Child {
  readonly child: ChildProcess;
  readonly out: { stdout: string; stderr: string };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawn the CLI from dist/ (npx tsc first). */
export function spawnCli(args: string[]): Child {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} missing: run npx tsc -p tsconfig.json first`);
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => { out.stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out.stderr += d.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, out, exited };
}

/** Wait until the admin API answers /ready 200 (throws with the child's stderr on exit). */
export async function waitReady(c: Child, adminPort: number, timeoutMs = 15_000): Promise<void> {
  await waitFor(async () => {
    if (c.child.exitCode !== null) throw new Error(`portico exited early: ${c.out.stderr}`);
    try { return (await request(adminPort, { path: '/ready', host: '127.0.0.1' })).status === 200; } catch { return false; }
  }, timeoutMs, 50);
}

/** Status of GET /ready, or 0 when the admin API does not answer. */
export async function readyStatus(adminPort: number): Promise<number> {
  try { return (await request(adminPort, { path: '/ready', host: '127.0.0.1' })).status; } catch { return 0; }
}

/** Kill a child if it is still running (after()). */
export function killIfRunning(c: Child | undefined): void {
  if (c && c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
}

/** VmRSS of a process in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`No VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}
