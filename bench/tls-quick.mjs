#!/usr/bin/env node
// Quick HTTPS benchmark: Portico (1 process) beside nginx (1 worker), same EC P-256 certificate,
// same nginx upstream (`return 200 "ok"`), on 127.0.0.1. Measures keep-alive HTTPS req/s and
// new TLS handshakes/s (wrk with `Connection: close`) and HTTP/2 over TLS (h2load).
// Usage: node bench/tls-quick.mjs   (DURATION=8 PIN=1). Everything started here is stopped by PID.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const DURATION = Number(process.env.DURATION ?? 8);
const PIN = process.env.PIN !== '0';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-tlsbench-'));
const procs = [];
const stop = () => { for (const p of procs) { try { process.kill(p.pid, 'SIGTERM'); } catch { /* gone */ } } };
process.on('exit', stop);
process.on('SIGINT', () => { stop(); process.exit(130); });

const free = () => new Promise((r) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitPort(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => { const s = net.connect(port, '127.0.0.1'); s.on('connect', () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`port ${port} never opened`);
}
function start(cmd, args, cpu) {
  const full = PIN && cpu !== undefined ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args];
  const p = spawn(full[0], full[1], { stdio: ['ignore', 'ignore', 'inherit'], cwd: process.cwd() });
  procs.push(p);
  return p;
}
function run(cmd, args) {
  const full = PIN ? ['taskset', ['-c', '0', cmd, ...args]] : [cmd, args];
  return execFileSync(full[0], full[1], { encoding: 'utf8' });
}
// CPU time (user+system, clock ticks of 10 ms) of a process and its children: the proxy's cost
// per request is the robust figure on a shared machine; req/s moves with whatever else runs.
function ticks(pid) {
  let t = 0;
  const kids = (() => { try { return execFileSync('ps', ['--ppid', String(pid), '-o', 'pid='], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number); } catch { return []; } })();
  for (const p of [pid, ...kids]) {
    try { const f = fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' '); t += Number(f[11]) + Number(f[12]); } catch { /* gone */ }
  }
  return t;
}
function measured(pid, fn) {
  const t0 = ticks(pid);
  const { rate, total } = fn();
  return { rate, cpuUs: ((ticks(pid) - t0) * 10_000) / total };
}
const wrk = (url, extra = []) => {
  const out = run('wrk', ['-t1', '-c32', `-d${DURATION}s`, ...extra, url]);
  const errors = /Socket errors:.*|Non-2xx.*/.exec(out);
  if (errors) process.stderr.write(`${url} ${extra.join(' ')}: ${errors[0]}\n`);
  return { rate: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]), total: Number(/(\d+) requests in/.exec(out)[1]) };
};
const h2 = (url) => {
  const out = run('h2load', ['-n', '60000', '-c', '16', '-m', '8', url]);
  return { rate: Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(out)[1]), total: Number(/requests: (\d+) total/.exec(out)[1]) };
};

execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
  '-subj', '/CN=bench.test', '-addext', 'subjectAltName=DNS:bench.test,IP:127.0.0.1', '-keyout', `${dir}/tls.key`, '-out', `${dir}/tls.crt`], { stdio: 'ignore' });
const [up, ngx, ngxH2, portico] = [await free(), await free(), await free(), await free()];
const temp = (n) => `client_body_temp_path ${dir}/${n}-b; proxy_temp_path ${dir}/${n}-p; fastcgi_temp_path ${dir}/${n}-f; uwsgi_temp_path ${dir}/${n}-u; scgi_temp_path ${dir}/${n}-s;`;
fs.writeFileSync(`${dir}/up.conf`, `worker_processes 1; daemon off; pid ${dir}/up.pid; error_log ${dir}/up.log warn; events { worker_connections 8192; }
http { access_log off; keepalive_requests 10000000; ${temp('up')} server { listen 127.0.0.1:${up} backlog=4096; location / { return 200 "ok"; } } }`);
fs.writeFileSync(`${dir}/ngx.conf`, `worker_processes 1; daemon off; pid ${dir}/ngx.pid; error_log ${dir}/ngx.log warn; events { worker_connections 8192; }
http { access_log off; keepalive_requests 10000000; ${temp('ngx')}
  upstream backend { server 127.0.0.1:${up}; keepalive 128; }
  ssl_certificate ${dir}/tls.crt; ssl_certificate_key ${dir}/tls.key; ssl_protocols TLSv1.2 TLSv1.3;
  server { listen 127.0.0.1:${ngx} ssl backlog=4096; listen 127.0.0.1:${ngxH2} ssl http2 backlog=4096;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; } } }`);
fs.mkdirSync(`${dir}/cfg`);
fs.writeFileSync(`${dir}/cfg/bench.yaml`, `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bench, namespace: istio-system}
spec:
  servers:
  - port: {number: ${portico}, name: https, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: SIMPLE, serverCertificate: ${dir}/tls.crt, privateKey: ${dir}/tls.key}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bench, namespace: istio-system}
spec:
  hosts: ["*"]
  gateways: [bench]
  http: [{route: [{destination: {host: upstream.istio-system.svc.cluster.local, port: {number: 80}}}]}]
---
apiVersion: v1
kind: Service
metadata: {name: upstream, namespace: istio-system}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: upstream, namespace: istio-system}
subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{name: http, port: ${up}}]}]
`);
start('nginx', ['-c', `${dir}/up.conf`, '-p', dir], 0);
const ngxProc = start('nginx', ['-c', `${dir}/ngx.conf`, '-p', dir], 1);
const main = fs.existsSync('dist/cli/main.js') && process.env.FROM_SRC !== '1' ? ['dist/cli/main.js'] : ['--import', 'tsx', 'src/cli/main.ts'];
const porticoProc = start(process.execPath, [...main, 'run', '--config', `${dir}/cfg`, '--admin-port', '0', '--bind', '127.0.0.1', '--workers', '1', '--no-access-log'], 1);
await Promise.all([waitPort(up), waitPort(ngx), waitPort(portico)]);
await sleep(500);
const ROUNDS = Number(process.env.ROUNDS ?? 1);
const rows = [];
for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, pid, h1url, h2url] of [['nginx-1w', ngxProc.pid, `https://127.0.0.1:${ngx}/`, `https://127.0.0.1:${ngxH2}/`], ['portico', porticoProc.pid, `https://127.0.0.1:${portico}/`, `https://127.0.0.1:${portico}/`]]) {
    run('wrk', ['-t1', '-c32', '-d2s', h1url]); // warm-up
    rows.push({ round, name, keepAlive: measured(pid, () => wrk(h1url)), handshakes: measured(pid, () => wrk(h1url, ['-H', 'Connection: close'])), h2: measured(pid, () => h2(h2url)) });
  }
}
const fmt = (m) => `${m.rate.toFixed(0).padStart(6)} (${m.cpuUs.toFixed(0)} µs)`;
console.log(`| round | proxy | HTTPS keep-alive req/s (CPU/req) | new TLS handshakes/s (CPU/handshake) | h2 over TLS req/s (CPU/req) |\n|---|---|---|---|---|`);
for (const r of rows) console.log(`| ${r.round} | ${r.name} | ${fmt(r.keepAlive)} | ${fmt(r.handshakes)} | ${fmt(r.h2)} |`);
for (let round = 1; round <= ROUNDS; round++) {
  const [n, p] = rows.filter((r) => r.round === round);
  const ratio = (k) => `${(p[k].rate / n[k].rate).toFixed(2)}× req/s, ${(p[k].cpuUs / n[k].cpuUs).toFixed(2)}× CPU`;
  console.log(`| ${round} | portico / nginx | ${ratio('keepAlive')} | ${ratio('handshakes')} | ${ratio('h2')} |`);
}
console.log(`(wrk -t1 -c32 -d${DURATION}s; h2load -n60000 -c16 -m8; ${PIN ? 'proxy on CPU 1, clients and upstream on CPU 0' : 'unpinned'}; EC P-256, TLS 1.3)`);
stop();
fs.rmSync(dir, { recursive: true, force: true });
