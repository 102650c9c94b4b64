/**
 * Streaming with bounded memory: a 1 GiB upload and a 1 GiB download through a gateway that
 * runs as a separate process (`node dist/cli/main.js run`), so its RSS can be sampled from
 * /proc/<pid>/status while the bytes flow. Neither side ever holds the body: the client
 * generates it, the sink counts and discards it, the source generates it.
 *
 * Needs `npx tsc -p tsconfig.json` first (npm test does it); Linux only (/proc).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { freePort, istioGatewayYaml, request, serviceYaml, sleep, virtualServiceYaml, waitFor } from '../helpers/gateway.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const GiB = 1024 ** 3;
const CHUNK = 256 * 1024;
const MAX_RSS_GROWTH = 100 * 1024 * 1024;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Sample the RSS of `pid` every 100 ms until stopped; returns the maximum seen. */
function sampleRss(pid: number): { stop(): number } {
  let max = rssBytes(pid);
  const t = setInterval(() => { try { max = Math.max(max, rssBytes(pid)); } catch { /* exited */ } }, 100);
  return { stop() { clearInterval(t); try { max = Math.max(max, rssBytes(pid)); } catch { /* exited */ } return max; } };
}

/** A readable that yields `total` bytes from one reused buffer (never holds the body). */
function generated(total: number): Readable {
  const buf = Buffer.alloc(CHUNK, 0x61);
  let left = total;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (left <= 0) { this.push(null); return; }
      const n = Math.min(left, CHUNK);
      left -= n;
      this.push(n === CHUNK ? buf : buf.subarray(0, n));
    },
  });
}

const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;

describe('1 GiB streaming through a separate gateway process', { skip: process.platform !== 'linux' ? 'needs /proc' : false }, () => {
  let child: ChildProcess | undefined;
  let dir: string;
  let port: number;
  let adminPort: number;
  let backend: http.Server;
  let baseline = 0;

  before(async () => {
    assert.ok(fs.existsSync(CLI), `${CLI} missing: run npx tsc -p tsconfig.json first`);
    // One backend: POST /upload counts and discards; GET /download?bytes=N generates N bytes.
    backend = http.createServer((req, res) => {
      if (req.method === 'POST') {
        let n = 0;
        // ?stall=1: stop reading for 2 s after 64 MiB, so the gateway must apply backpressure.
        let stall = (req.url ?? '').includes('stall=1');
        req.on('data', (d: Buffer) => {
          n += d.length;
          if (stall && n > 64 * 1024 * 1024) { stall = false; req.pause(); setTimeout(() => req.resume(), 2000); }
        });
        req.on('end', () => { const b = JSON.stringify({ received: n }); res.writeHead(200, { 'content-type': 'application/json', 'content-length': b.length }); res.end(b); });
        return;
      }
      const total = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('bytes') ?? 0);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
      generated(total).pipe(res);
    });
    backend.keepAliveTimeout = 60_000;
    backend.requestTimeout = 0;
    const bport = await new Promise<number>((r) => backend.listen(0, '127.0.0.1', () => r((backend.address() as net.AddressInfo).port)));
    port = await freePort();
    adminPort = await freePort();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-stream-'));
    fs.writeFileSync(path.join(dir, 'gw.yaml'), istioGatewayYaml(port));
    fs.writeFileSync(path.join(dir, 'svc.yaml'), serviceYaml('bulk', [bport]));
    fs.writeFileSync(path.join(dir, 'vs.yaml'), virtualServiceYaml('bulk', `  - route: [{destination: {host: bulk.demo.svc.cluster.local, port: {number: 80}}}]\n`));
    child = spawn(process.execPath, [CLI, 'run', '--config', dir, '--admin-port', String(adminPort), '--bind', '127.0.0.1', '--no-access-log'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    await waitFor(async () => {
      if (child!.exitCode !== null) throw new Error(`gateway exited ${child!.exitCode}: ${stderr}`);
      try { return (await request(adminPort, { path: '/ready', host: '127.0.0.1' })).status === 200; } catch { return false; }
    }, 15_000, 100);
    // Warm up (JIT, pools, buffers) with a few MiB each way, then take the baseline.
    for (let i = 0; i < 3; i++) {
      await upload(8 * 1024 * 1024);
      await download(8 * 1024 * 1024);
    }
    await sleep(300);
    baseline = rssBytes(child.pid!);
  });

  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => { const t = setTimeout(() => { child!.kill('SIGKILL'); r(undefined); }, 8000); child!.once('exit', () => { clearTimeout(t); r(undefined); }); });
    }
    backend?.closeAllConnections();
    await new Promise((r) => backend?.close(r));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  function upload(total: number, stall = false): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1', port, method: 'POST', path: stall ? '/upload?stall=1' : '/upload', agent: false,
        headers: { host: 'bulk.test', 'content-length': String(total), 'content-type': 'application/octet-stream' },
      }, (res) => {
        let b = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { b += d; });
        res.on('end', () => {
          if (res.statusCode !== 200) { reject(new Error(`upload: status ${res.statusCode}: ${b}`)); return; }
          resolve((JSON.parse(b) as { received: number }).received);
        });
      });
      req.on('error', reject);
      generated(total).pipe(req);
    });
  }

  function download(total: number, stall = false): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: `/download?bytes=${total}`, agent: false, headers: { host: 'bulk.test' } }, (res) => {
        let n = 0;
        let stalling = stall;
        res.on('data', (d: Buffer) => {
          n += d.length;
          // Stop reading for 2 s after 64 MiB: the gateway must stop reading its upstream.
          if (stalling && n > 64 * 1024 * 1024) { stalling = false; res.pause(); setTimeout(() => res.resume(), 2000); }
        });
        res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`download: status ${res.statusCode}`))));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('uploads 1 GiB with exact byte count and RSS growth under 100 MB', { timeout: 180_000 }, async (t) => {
    const rss = sampleRss(child!.pid!);
    const t0 = performance.now();
    const received = await upload(GiB);
    const secs = (performance.now() - t0) / 1000;
    const growth = rss.stop() - baseline;
    t.diagnostic(`upload 1 GiB: ${secs.toFixed(1)} s (${(1024 / secs).toFixed(0)} MiB/s), gateway RSS baseline ${mb(baseline)}, growth ${mb(growth)}`);
    assert.equal(received, GiB);
    assert.ok(growth < MAX_RSS_GROWTH, `RSS grew by ${mb(growth)}`);
  });

  it('downloads 1 GiB with exact byte count and RSS growth under 100 MB', { timeout: 180_000 }, async (t) => {
    const rss = sampleRss(child!.pid!);
    const t0 = performance.now();
    const got = await download(GiB);
    const secs = (performance.now() - t0) / 1000;
    const growth = rss.stop() - baseline;
    t.diagnostic(`download 1 GiB: ${secs.toFixed(1)} s (${(1024 / secs).toFixed(0)} MiB/s), gateway RSS baseline ${mb(baseline)}, growth ${mb(growth)}`);
    assert.equal(got, GiB);
    assert.ok(growth < MAX_RSS_GROWTH, `RSS grew by ${mb(growth)}`);
  });

  it('a receiver that stops reading for 2 s does not make the gateway buffer (upload and download, 256 MiB each)', { timeout: 120_000 }, async (t) => {
    const total = 256 * 1024 * 1024;
    const up = sampleRss(child!.pid!);
    assert.equal(await upload(total, true), total);
    const upGrowth = up.stop() - baseline;
    const down = sampleRss(child!.pid!);
    assert.equal(await download(total, true), total);
    const downGrowth = down.stop() - baseline;
    t.diagnostic(`stalled sink: upload growth ${mb(upGrowth)}, download growth ${mb(downGrowth)}`);
    assert.ok(upGrowth < MAX_RSS_GROWTH, `upload with a stalled sink: RSS grew by ${mb(upGrowth)}`);
    assert.ok(downGrowth < MAX_RSS_GROWTH, `download with a stalled client: RSS grew by ${mb(downGrowth)}`);
  });
});
