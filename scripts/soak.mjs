#!/usr/bin/env node
// Soak: steady load through `portico run` for N minutes, printing the gateway's RSS every
// interval, then a summary (first/last/max RSS and the growth rate over the second half).
// Not a test: run it by hand after `npx tsc -p tsconfig.json` (issue #5 item 3).
//
//   node scripts/soak.mjs [--minutes 10] [--interval 10] [--clients 32] [--workers 1]
//                         [--churn 100] [--access-log]
//
// Load: --clients keep-alive HTTP/1.1 clients, each sending its next request as soon as the
// last one ended, to an in-process backend through the gateway; every --churn-th request of
// a client asks for `connection: close` (connection setup and teardown must not leak either).
// With --workers N the figure is the sum over the primary and its workers. Linux (/proc).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    interval: { type: 'string', default: '10' },
    clients: { type: 'string', default: '32' },
    workers: { type: 'string', default: '1' },
    churn: { type: 'string', default: '100' },
    'access-log': { type: 'boolean', default: false },
  },
});
const minutes = Number(values.minutes);
const intervalS = Number(values.interval);
const clients = Number(values.clients);
const churn = Number(values.churn);
if (!fs.existsSync(CLI)) { console.error(`${CLI} missing: run npx tsc -p tsconfig.json first`); process.exit(2); }

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () => new Promise((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });

function rssKiB(pid) {
  try { return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0); } catch { return 0; }
}
/** RSS of pid and its direct children (the workers), in MiB. */
function treeRssMiB(pid) {
  let kib = rssKiB(pid);
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) kib += rssKiB(Number(d));
    } catch { /* gone */ }
  }
  return kib / 1024;
}

const backend = http.createServer({ keepAliveTimeout: 120_000 }, (req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 }); res.end('ok'); });
});
const backendPort = await new Promise((r) => backend.listen(0, '127.0.0.1', () => r(backend.address().port)));
const gwPort = await freePort();
const adminPort = await freePort();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-soak-'));
fs.writeFileSync(path.join(dir, 'soak.yaml'), `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: ${gwPort}, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: v1
kind: Service
metadata: {name: backend, namespace: demo}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: backend, namespace: demo}
subsets:
- addresses: [{ip: 127.0.0.1}]
  ports: [{name: http, port: ${backendPort}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: soak, namespace: demo}
spec:
  hosts: ["*"]
  gateways: ["istio-system/gw"]
  http:
  - match: [{uri: {prefix: /api}}]
    headers: {response: {set: {x-soak: "1"}}}
    route: [{destination: {host: backend.demo.svc.cluster.local, port: {number: 80}}}]
`);
const args = [CLI, 'run', '--config', dir, '--admin-port', String(adminPort), '--bind', '127.0.0.1', '--workers', values.workers];
if (!values['access-log']) args.push('--no-access-log');
const gw = spawn(process.execPath, args, { stdio: ['ignore', values['access-log'] ? 'ignore' : 'ignore', 'pipe'] });
let gwErr = '';
gw.stderr.on('data', (d) => { gwErr += d; if (gwErr.length > 100_000) gwErr = gwErr.slice(-50_000); });
for (let i = 0; ; i++) {
  const ok = await new Promise((r) => http.get({ host: '127.0.0.1', port: adminPort, path: '/ready', agent: false }, (res) => { res.resume(); r(res.statusCode === 200); }).on('error', () => r(false)));
  if (ok) break;
  if (gw.exitCode !== null || i > 300) { console.error(`portico did not start:\n${gwErr}`); process.exit(1); }
  await sleep(50);
}

let ok = 0;
let failed = 0;
let running = true;
const loops = Array.from({ length: clients }, async (_, c) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let n = 0; running; n++) {
    const close = churn > 0 && n % churn === churn - 1;
    const good = await new Promise((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: gwPort, path: `/api/${c}/${n % 50}?q=${n}`, agent,
        headers: { host: 'soak.test', ...(close ? { connection: 'close' } : {}) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
        res.on('error', () => resolve(false));
      });
      req.on('error', () => resolve(false));
      req.end();
    });
    if (good) ok++; else failed++;
  }
  agent.destroy();
});

const samples = [];
const t0 = Date.now();
let lastOk = 0;
console.log(`soak: ${minutes} min, ${clients} clients, --workers ${values.workers}, churn 1/${churn}, access log ${values['access-log'] ? 'on' : 'off'}; gateway pid ${gw.pid}`);
console.log('  t(s)   RSS(MiB)   req/s   failed');
const report = () => {
  const t = (Date.now() - t0) / 1000;
  const rss = treeRssMiB(gw.pid);
  samples.push({ t, rss });
  console.log(`${t.toFixed(0).padStart(6)} ${rss.toFixed(1).padStart(10)} ${String(Math.round((ok - lastOk) / intervalS)).padStart(7)} ${String(failed).padStart(8)}`);
  lastOk = ok;
};
report();
const end = t0 + minutes * 60_000;
while (Date.now() < end) {
  await sleep(Math.min(intervalS * 1000, Math.max(0, end - Date.now())));
  report();
}
running = false;
await Promise.all(loops);

// Growth over the second half (the first half includes JIT warm-up and heap sizing).
const half = samples.filter((s) => s.t >= samples.at(-1).t / 2);
const n = half.length;
const mt = half.reduce((a, s) => a + s.t, 0) / n;
const mr = half.reduce((a, s) => a + s.rss, 0) / n;
const slope = n > 1 ? half.reduce((a, s) => a + (s.t - mt) * (s.rss - mr), 0) / Math.max(1e-9, half.reduce((a, s) => a + (s.t - mt) ** 2, 0)) : 0;
const rs = samples.map((s) => s.rss);
console.log(`summary: requests ${ok} ok, ${failed} failed; RSS first ${rs[0].toFixed(1)} MiB, last ${rs.at(-1).toFixed(1)} MiB, max ${Math.max(...rs).toFixed(1)} MiB; second-half trend ${(slope * 60).toFixed(2)} MiB/min`);

gw.kill('SIGTERM');
await new Promise((r) => gw.once('exit', r));
backend.closeAllConnections();
backend.close();
fs.rmSync(dir, { recursive: true, force: true });
