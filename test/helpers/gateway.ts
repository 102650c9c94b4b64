/**
 * Integration-test harness: real gateway (in-process), real backends, real sockets on
 * 127.0.0.1. Everything started here is closed by `close()`; call it in `after()`.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { startGateway, type RunHandle } from '../../src/cli/run.js';
import { startEcho, type EchoServer } from '../../src/cli/echo.js';

/** A free TCP port on 127.0.0.1 (bind :0, read, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

export interface TestGateway {
  readonly handle: RunHandle;
  readonly dir: string;
  readonly adminPort: number;
  /**
   * Parsed access-log lines written so far. The harness runs the gateway with a mesh config
   * selecting Istio's default JSON encoding (unless the test passes its own `mesh-config`);
   * a line that is not JSON is kept as `{raw: line}`.
   */
  readonly logs: Record<string, string>[];
  /** Every access-log line as written (without the newline), e.g. TEXT lines. */
  readonly lines: string[];
  /** Replace one config file and wait until the gateway applied (or rejected) it. */
  write(file: string, yaml: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Start a gateway on a temp config folder holding `files` (name → YAML).
 * Listeners bind 127.0.0.1; admin on a free port; access log captured in `logs`.
 */
export async function startTestGateway(files: Record<string, string>, flags: Record<string, unknown> = {}): Promise<TestGateway> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-test-'));
  for (const [f, y] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), y);
  const logs: Record<string, string>[] = [];
  const lines: string[] = [];
  const out = new PassThrough();
  let buf = '';
  out.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) {
        lines.push(line);
        try { logs.push(JSON.parse(line)); } catch { logs.push({ raw: line }); }
      }
    }
  });
  // `'mesh-config': null` runs with no mesh config at all (Portico's default: TEXT on stdout).
  let meshFile: string | undefined;
  if (flags['mesh-config'] === null) flags = Object.fromEntries(Object.entries(flags).filter(([k]) => k !== 'mesh-config'));
  else if (flags['mesh-config'] === undefined) {
    meshFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'portico-mesh-')), 'mesh.yaml');
    fs.writeFileSync(meshFile, 'accessLogFile: /dev/stdout\naccessLogEncoding: JSON\n');
  }
  let reloadWaiters: (() => void)[] = [];
  const handle = await startGateway({
    config: [dir], 'admin-port': '0', bind: '127.0.0.1', ...(meshFile ? { 'mesh-config': meshFile } : {}), ...flags,
    __onReload: () => { const w = reloadWaiters; reloadWaiters = []; for (const f of w) f(); },
  }, { accessLogOut: out, quiet: true });
  return {
    handle,
    dir,
    adminPort: handle.adminPort,
    logs,
    lines,
    async write(file, yaml) {
      const done = new Promise<void>((r) => reloadWaiters.push(r));
      const tmp = path.join(dir, `.${file}.tmp`);
      fs.writeFileSync(tmp, yaml);
      fs.renameSync(tmp, path.join(dir, file));
      await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]);
    },
    async close() {
      await handle.stop();
      fs.rmSync(dir, { recursive: true, force: true });
      if (meshFile) fs.rmSync(path.dirname(meshFile), { recursive: true, force: true });
    },
  };
}

export interface Resp {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP/1.1 request with a fresh connection (agent: false). */
export function request(port: number, opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer; host?: string } = {}): Promise<Resp> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path ?? '/',
      headers: { host: opts.host ?? 'example.com', ...(opts.headers ?? {}) }, agent: false,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.end(opts.body); else req.end();
  });
}

/** Send raw bytes and collect everything until the server closes or `waitMs` passes. */
export function rawRequest(port: number, data: string | Buffer, waitMs = 500): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => { out += d.toString('latin1'); });
    s.on('error', () => {});
    const t = setTimeout(() => { s.destroy(); resolve(out); }, waitMs);
    s.on('close', () => { clearTimeout(t); resolve(out); });
    s.write(data);
  });
}

/** Start named echo backends on free ports. */
export async function startEchos(...names: string[]): Promise<EchoServer[]> {
  return Promise.all(names.map((name) => startEcho({ port: 0, name })));
}

/** Istio Gateway (port) + Service/Endpoints YAML for a set of backends in namespace `demo`. */
export function serviceYaml(name: string, ports: number[], opts: { appProtocol?: string; ns?: string } = {}): string {
  const ns = opts.ns ?? 'demo';
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec:
  ports: [{name: http, port: 80${opts.appProtocol ? `, appProtocol: ${opts.appProtocol}` : ''}}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: ${name}, namespace: ${ns}}
subsets:
${ports.map((p) => `- addresses: [{ip: 127.0.0.1}]\n  ports: [{name: http, port: ${p}}]`).join('\n')}
`;
}

export function istioGatewayYaml(port: number, name = 'gw'): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: ${port}, name: http, protocol: HTTP}
    hosts: ["*"]
`;
}

/** Resolve after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** GET a JSON document from 127.0.0.1:port (admin API). */
export async function getJson<T = unknown>(port: number, p: string): Promise<T> {
  const r = await request(port, { path: p, host: '127.0.0.1' });
  return JSON.parse(r.body) as T;
}

/** Poll `check` every `everyMs` until it returns a truthy value or `timeoutMs` passes (then throws). */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5000, everyMs = 25): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`Condition not met within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** Istio VirtualService in namespace demo bound to istio-system/<gateway> with the given `http:` routes (YAML list, indented 2). */
export function virtualServiceYaml(name: string, http: string, opts: { hosts?: string[]; gateway?: string } = {}): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: demo}
spec:
  hosts: ${JSON.stringify(opts.hosts ?? ['*'])}
  gateways: ["istio-system/${opts.gateway ?? 'gw'}"]
  http:
${http}`;
}
