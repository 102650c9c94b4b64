#!/usr/bin/env node
// Portico benchmark (`npm run bench`). Loopback only, Node built-ins only.
//
// One run: generate a throw-away CA + server certificate, start nginx as the upstream, start
// every contender proxy on its own 127.0.0.1 port, warm each turn up, then ROUNDS rounds in
// which the turns run one after the other: HTTP/1.1 under `wrk --latency`, HTTP/2 (h2c and h2
// over TLS) under `h2load`, new TLS handshakes under parallel `openssl s_time -new`. During
// each turn the proxy's process tree is sampled from /proc (CPU ticks before/after, peak RSS).
// Every Portico figure is divided by nginx's figure of the same scenario in the same round.
// MODE=both does the whole thing pinned, then again unpinned. Prints a markdown report with
// the issue targets and writes it to bench/results/<timestamp>.md. See docs/performance.md.
//
// Every process it starts is stopped by PID at the end (SIGTERM, then SIGKILL), also on
// Ctrl-C. Exit 0 even when a contender failed (the report says which and why); exit 1 only
// when the bench itself cannot run (no wrk, upstream down, ...).
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;

// Bad knobs: nothing has been started yet, so just say so and exit 2.
function usage(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}
function numEnv(name, dflt) {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) usage(`${name}=${raw}: expected a non-negative number`);
  return n;
}
function listEnv(name, all) {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '' || raw.trim() === 'all') return all.slice();
  const want = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const w of want) if (!all.includes(w)) usage(`${name}: unknown "${w}"; known: ${all.join(', ')}`);
  return want;
}
function choiceEnv(name, choices, dflt) {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!choices.includes(raw)) usage(`${name}=${raw}: expected one of ${choices.join(', ')}`);
  return raw;
}

const NCPU = os.cpus().length;
const ALL_CONTENDERS = ['nginx-proxy', 'haproxy', 'portico', 'http-proxy', 'fastify-http-proxy', 'fast-gateway'];
const ALL_SCENARIOS = ['simple', 'routes1000', 'log', 'h2c', 'https'];
const NODE_PROXIES = {
  'http-proxy': { script: 'node-http-proxy.cjs', pkgs: ['http-proxy'] },
  'fastify-http-proxy': { script: 'node-fastify-proxy.cjs', pkgs: ['fastify', '@fastify/http-proxy'] },
  'fast-gateway': { script: 'node-fast-gateway.cjs', pkgs: ['fast-gateway'] },
};
const NATIVE = new Set(['nginx-proxy', 'haproxy']); // no JIT: a short warm-up fills their pools

const pinDefault = (env.PIN ?? (NCPU >= 2 ? '1' : '0')) === '1';
const MODE = choiceEnv('MODE', ['pinned', 'unpinned', 'both'], pinDefault ? 'pinned' : 'unpinned');
const cfg = {
  rounds: Math.max(1, Math.floor(numEnv('ROUNDS', 3))),
  duration: Math.max(1, Math.floor(numEnv('DURATION', 4))),
  warmup: -1, // set below: DURATION - 1, between 1 and 3 s, unless WARMUP says otherwise
  conns: Math.max(1, Math.floor(numEnv('CONNS', 64))),
  threads: Math.max(1, Math.floor(numEnv('THREADS', 2))),
  h2Conns: Math.max(1, Math.floor(numEnv('H2_CONNS', 16))),
  h2Streams: Math.max(1, Math.floor(numEnv('H2_STREAMS', 8))),
  hsConns: Math.max(1, Math.floor(numEnv('HS_CONNS', 16))),
  tlsKey: choiceEnv('TLS_KEY', ['ec', 'rsa'], 'ec'),
  modes: MODE === 'both' ? [true, false] : [MODE === 'pinned'],
  pin: false, // set per pass
  proxyCpu: env.PROXY_CPU || '1',
  loadCpu: env.LOAD_CPU || '0',
  portBase: Math.floor(numEnv('BENCH_PORT_BASE', 18600)),
  nodeDir: env.BENCH_NODE_DIR || '/tmp/bench-node',
  sharedDir: env.BENCH_SHARED_DIR || path.resolve(ROOT, '../shared/bench'),
  porticoEntry: path.resolve(ROOT, env.PORTICO_ENTRY || 'dist/cli/main.js'),
  porticoWorkers: Math.max(1, Math.floor(numEnv('PORTICO_WORKERS', 1))),
  porticoNodeArgs: (env.PORTICO_NODE_ARGS || '').split(/\s+/).filter(Boolean), // e.g. --cpu-prof --cpu-prof-dir=/tmp/prof
  contenders: listEnv('CONTENDERS', ALL_CONTENDERS),
  scenarios: listEnv('SCENARIOS', ALL_SCENARIOS),
  quietMax: numEnv('QUIET_MAX', 0), // > 0: before each turn wait until other load < QUIET_MAX cores ...
  quietWaitS: numEnv('QUIET_WAIT_S', 10), // ... but at most this long
  keepTmp: env.KEEP_TMP === '1',
  readyTimeoutMs: 20_000,
  pauseMs: 300,
};
if (cfg.conns < cfg.threads) cfg.threads = cfg.conns;
cfg.warmup = Math.floor(numEnv('WARMUP', Math.min(3, Math.max(1, cfg.duration - 1)))); // 3 s by default, 1 s in quick mode

const HZ = Number(sh('getconf CLK_TCK')) || 100;
const PAGE = Number(sh('getconf PAGESIZE')) || 4096;
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-bench-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const log = (msg) => process.stderr.write(`[bench +${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s] ${msg}\n`);
let notes = []; // lines for the report of the current pass: skips, failures, sanity checks

class Fatal extends Error {}
function fatal(msg) { throw new Fatal(msg); }
function sh(cmd) {
  try { return execFileSync('bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).toString().trim(); } catch { return ''; }
}

// ------------------------------------------------------------------ /proc accounting

function statFields(pid) {
  // Fields after "(comm)": [0]=state [1]=ppid ... [11]=utime [12]=stime [13]=cutime [14]=cstime
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}
function childrenTable() {
  const kids = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (d.charCodeAt(0) < 48 || d.charCodeAt(0) > 57) continue;
    let f;
    try { f = statFields(d); } catch { continue; }
    const ppid = Number(f[1]);
    if (!kids.has(ppid)) kids.set(ppid, []);
    kids.get(ppid).push(Number(d));
  }
  return kids;
}
function processTree(root, table = childrenTable()) {
  const out = [];
  const queue = [root];
  while (queue.length > 0) {
    const p = queue.shift();
    out.push(p);
    for (const k of table.get(p) ?? []) queue.push(k);
  }
  return out;
}
function cpuTicks(pids) {
  let t = 0;
  for (const p of pids) {
    try { const f = statFields(p); t += Number(f[11]) + Number(f[12]); } catch { /* gone */ }
  }
  return t;
}
function rssBytes(pids) {
  let t = 0;
  for (const p of pids) {
    try { t += Number(fs.readFileSync(`/proc/${p}/statm`, 'utf8').split(' ')[1]) * PAGE; } catch { /* gone */ }
  }
  return t;
}
// Nanoseconds the processes' main threads (the event loops) spent runnable but waiting for a
// CPU (/proc/<pid>/schedstat field 2): taken by other processes, or by the process's own
// helper threads (GC, thread pool) pinned to the same CPU. With low "proxy cores" and low
// waiting, the proxy was idle (network, timers), not starved.
function runqueueWaitNs(pids) {
  let t = 0;
  for (const p of pids) {
    try { t += Number(fs.readFileSync(`/proc/${p}/schedstat`, 'utf8').split(' ')[1]); } catch { /* gone */ }
  }
  return t;
}
// Busy CPU ticks of the whole machine (all CPUs), from the first line of /proc/stat.
function machineBusyTicks() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  return f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] || 0); // user nice system irq softirq steal
}
// Cores busy over `ms` while our servers idle: other tenants of the machine.
async function backgroundCores(ms) {
  const a = machineBusyTicks();
  const h = process.hrtime.bigint();
  await sleep(ms);
  return (machineBusyTicks() - a) / HZ / (Number(process.hrtime.bigint() - h) / 1e9);
}
function isAlive(pid) {
  try { return statFields(pid)[0] !== 'Z'; } catch { return false; }
}
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ');

// ------------------------------------------------------------------ processes

let servers = []; // { name, pid, child, exited, exit, logFile } of the current pass
const loadChildren = new Set(); // the wrk / h2load / s_time processes running now, killed on Ctrl-C

function pinned(cmd, args, cpu) {
  return cfg.pin && cpu !== undefined ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args]; // taskset execs: same pid
}
function startServer(name, cmd, args, { cpu, extraEnv = {}, cwd = TMP, stdoutToNull = false } = {}) {
  [cmd, args] = pinned(cmd, args, cpu);
  const logFile = path.join(TMP, `${name}.log`);
  const errFd = fs.openSync(logFile, 'a');
  const outFd = stdoutToNull ? fs.openSync('/dev/null', 'w') : errFd;
  const child = spawn(cmd, args, {
    cwd,
    env: { ...process.env, ...extraEnv },
    stdio: ['ignore', outFd, errFd],
    detached: true, // own process group: Ctrl-C reaches only us, and we stop them in order
  });
  fs.closeSync(errFd);
  if (outFd !== errFd) fs.closeSync(outFd);
  const rec = { name, child, pid: child.pid, exited: false, exit: undefined, logFile };
  rec.gone = new Promise((resolve) => {
    child.on('error', (e) => { rec.exited = true; rec.exit = e.message; resolve(); });
    child.on('exit', (code, sig) => { rec.exited = true; rec.exit = code ?? sig; resolve(); });
  });
  servers.push(rec);
  return rec;
}

async function stopServer(rec, table = childrenTable()) {
  if (rec.exited || rec.pid === undefined) return;
  const pids = processTree(rec.pid, table);
  try { process.kill(rec.pid, 'SIGTERM'); } catch { /* gone */ }
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && pids.some(isAlive)) await sleep(50);
  for (const p of pids) if (isAlive(p)) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  await Promise.race([rec.gone, sleep(1000)]); // reaped by us, not left as a zombie
}
function killLoad() {
  for (const ch of loadChildren) if (ch.exitCode === null) { try { ch.kill('SIGKILL'); } catch { /* gone */ } }
}
async function stopServers() {
  killLoad();
  const table = childrenTable();
  await Promise.all(servers.map((s) => stopServer(s, table)));
}
// Last resort if the event loop dies: SIGKILL whatever is still up (synchronous).
process.on('exit', () => {
  for (const s of servers) if (!s.exited && s.pid !== undefined) { try { process.kill(s.pid, 'SIGKILL'); } catch { /* gone */ } }
  killLoad();
});

// The telling part of a server's log: its first error lines, else its last lines.
function tailLog(rec) {
  let lines;
  try { lines = fs.readFileSync(rec.logFile, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean); } catch { return ''; }
  const errs = lines.filter((l) => /\berror\b|Error[:\s]|cannot|fatal|emerg|ALERT/i.test(l) && !/^at /.test(l));
  const t = (errs.length ? errs.slice(0, 2) : lines.slice(-3)).join(' ⏎ ');
  return `${t.length > 400 ? `${t.slice(0, 400)}…` : t} (log: ${rec.logFile})`;
}

// ------------------------------------------------------------------ TLS material

// A throw-away CA and a server certificate signed by it (SAN bench.local + 127.0.0.1), both
// served by nginx and Portico. EC P-256 by default (TLS_KEY=rsa: RSA 2048).
const TLS_DIR = path.join(TMP, 'tls');
const TLS = { ca: path.join(TLS_DIR, 'ca.crt'), cert: path.join(TLS_DIR, 'tls.crt'), key: path.join(TLS_DIR, 'tls.key'), host: 'bench.local' };
function makeCertificates() {
  fs.mkdirSync(TLS_DIR, { recursive: true });
  const keyArgs = cfg.tlsKey === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  const ossl = (args) => execFileSync('openssl', args, { cwd: TLS_DIR, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
  ossl(['req', '-x509', ...keyArgs, '-nodes', '-sha256', '-days', '90', '-subj', '/CN=Portico bench CA', '-keyout', 'ca.key', '-out', 'ca.crt',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  ossl(['req', ...keyArgs, '-nodes', '-subj', `/CN=${TLS.host}`, '-keyout', 'tls.key', '-out', 'tls.csr']);
  fs.writeFileSync(path.join(TLS_DIR, 'leaf.ext'), `subjectAltName=DNS:${TLS.host},IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature${cfg.tlsKey === 'rsa' ? ',keyEncipherment' : ''}\nextendedKeyUsage=serverAuth\n`);
  ossl(['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${crypto.randomBytes(8).toString('hex')}`,
    '-days', '90', '-sha256', '-extfile', 'leaf.ext', '-out', 'tls.crt']);
  TLS.caPem = fs.readFileSync(TLS.ca);
  TLS.fingerprint = new crypto.X509Certificate(fs.readFileSync(TLS.cert)).fingerprint256;
  TLS.desc = `${cfg.tlsKey === 'rsa' ? 'RSA 2048' : 'EC P-256'} leaf signed by a throw-away CA (same files for nginx and Portico)`;
}

// ------------------------------------------------------------------ readiness and checks

function portFree(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}
// One GET over HTTP/1.1 (tls: over HTTPS, verified against the bench CA).
function get(port, host, reqPath, { tls: secure = false } = {}) {
  return new Promise((resolve) => {
    const mod = secure ? https : http;
    const opts = { host: '127.0.0.1', port, path: reqPath, headers: { host }, agent: false, timeout: 2000 };
    if (secure) Object.assign(opts, { ca: TLS.caPem, servername: TLS.host });
    const req = mod.get(opts, (res) => {
      let body = '';
      const fp = secure ? res.socket.getPeerCertificate?.()?.fingerprint256 : undefined;
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body, fingerprint: fp }));
    });
    req.on('error', (e) => resolve({ error: e.message }));
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}
// One GET over HTTP/2: h2c prior knowledge, or h2 over TLS (ALPN).
function getH2(port, secure) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r) => { if (!done) { done = true; clearTimeout(timer); try { s.destroy(); } catch { /* closed */ } resolve(r); } };
    const s = http2.connect(`${secure ? 'https' : 'http'}://127.0.0.1:${port}`, secure ? { ca: TLS.caPem, servername: TLS.host } : {});
    const timer = setTimeout(() => finish({ error: 'timeout' }), 3000);
    s.on('error', (e) => finish({ error: e.message }));
    const r = s.request({ ':path': '/', ':authority': TLS.host });
    let body = '';
    let status;
    r.setEncoding('utf8');
    r.on('response', (h) => { status = h[':status']; });
    r.on('data', (d) => { body += d; });
    r.on('end', () => finish({ status, body, alpn: s.alpnProtocol ?? 'h2c' }));
    r.on('error', (e) => finish({ error: e.message }));
    r.end();
  });
}
// The exact request `openssl s_time -www` sends (see STIME_PAGE), over a fresh TLS
// connection: must answer 200 "ok" and close. Returns the response size, to check s_time's.
function rawTlsRequest(port) {
  return new Promise((resolve) => {
    const chunks = [];
    const s = tls.connect({ host: '127.0.0.1', port, ca: TLS.caPem, checkServerIdentity: () => undefined }, () => {
      s.write(`GET ${STIME_PAGE} HTTP/1.0\r\n\r\n`);
    });
    const timer = setTimeout(() => { s.destroy(); resolve({ error: 'no close within 3 s (the server kept the connection open)' }); }, 3000);
    s.on('data', (d) => chunks.push(d));
    s.on('error', (e) => { clearTimeout(timer); resolve({ error: e.message }); });
    s.on('end', () => {
      clearTimeout(timer);
      const buf = Buffer.concat(chunks);
      const text = buf.toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1]);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4), bytes: buf.length, protocol: s.getProtocol(), cipher: s.getCipher()?.name });
      s.destroy();
    });
  });
}
async function waitReady(rec, check) {
  const start = Date.now();
  let last;
  while (Date.now() - start < cfg.readyTimeoutMs) {
    if (rec.exited) throw new Error(`exited (${rec.exit}) during start-up: ${tailLog(rec)}`);
    last = await check();
    if (last.status === 200 && last.body === 'ok') return Date.now() - start;
    await sleep(100);
  }
  throw new Error(`not ready after ${cfg.readyTimeoutMs / 1000} s (last answer ${JSON.stringify(last)}): ${tailLog(rec)}`);
}

// ------------------------------------------------------------------ configs

function nginxCommon(name) {
  fs.mkdirSync(path.join(TMP, `${name}-temp`), { recursive: true });
  return `worker_processes 1;
daemon off;
master_process on;
pid ${TMP}/${name}.pid;
error_log ${TMP}/${name}.error.log warn;
events { worker_connections 4096; }
`;
}
function nginxTemps(name) {
  const t = path.join(TMP, `${name}-temp`);
  return `  client_body_temp_path ${t}/body;
  proxy_temp_path ${t}/proxy;
  fastcgi_temp_path ${t}/fastcgi;
  uwsgi_temp_path ${t}/uwsgi;
  scgi_temp_path ${t}/scgi;
`;
}
function writeNginxUpstream(port) {
  const file = path.join(TMP, 'upstream.conf');
  fs.writeFileSync(file, `${nginxCommon('upstream')}http {
  access_log off;
  default_type text/plain;
  keepalive_timeout 120s;
  keepalive_requests 100000000;
${nginxTemps('upstream')}  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / { return 200 "ok"; }
  }
}
`);
  return file;
}
// nginx proxy: HTTP/1.1 listener, plus an h2c (prior knowledge) listener when h2cPort is set,
// or a single TLS listener (HTTP/1.1 and h2 by ALPN) when tlsOn is set.
function writeNginxProxy(name, port, upstreamPort, { h2cPort, tlsOn = false } = {}) {
  const file = path.join(TMP, `${name}.conf`);
  const listen = tlsOn
    ? `    listen 127.0.0.1:${port} ssl http2 backlog=4096;
    ssl_certificate ${TLS.cert};
    ssl_certificate_key ${TLS.key};
    ssl_protocols TLSv1.2 TLSv1.3;
`
    : `    listen 127.0.0.1:${port} backlog=4096;
${h2cPort ? `    listen 127.0.0.1:${h2cPort} http2 backlog=4096;\n` : ''}`;
  fs.writeFileSync(file, `${nginxCommon(name)}http {
  access_log off;
  keepalive_timeout 120s;
  keepalive_requests 100000000;
${nginxTemps(name)}  upstream backend {
    server 127.0.0.1:${upstreamPort};
    keepalive 128;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
  }
  server {
${listen}    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`);
  return file;
}
// haproxy: one thread, keep-alive both sides, idle upstream connections shared by all clients.
function writeHaproxy(port, upstreamPort, h2cPort) {
  const file = path.join(TMP, 'haproxy.cfg');
  fs.writeFileSync(file, `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout http-keep-alive 120s
frontend http1
  bind 127.0.0.1:${port}
  default_backend upstream
${h2cPort ? `frontend h2c
  bind 127.0.0.1:${h2cPort} proto h2
  default_backend upstream
` : ''}backend upstream
  server up1 127.0.0.1:${upstreamPort}
`);
  return file;
}

// Portico: Istio Gateway + VirtualService(s) + Service/Endpoints for the nginx upstream.
function porticoUpstreamDocs(upstreamPort) {
  return `apiVersion: v1
kind: Service
metadata:
  name: upstream
  namespace: default
spec:
  ports:
  - name: http
    port: 80
    targetPort: ${upstreamPort}
---
apiVersion: v1
kind: Endpoints
metadata:
  name: upstream
  namespace: default
subsets:
- addresses:
  - ip: 127.0.0.1
  ports:
  - name: http
    port: ${upstreamPort}
`;
}
// An HTTP server (HTTP/1.1 and h2c prior knowledge on the same port), or an HTTPS one
// (tls.mode SIMPLE with certificate files; HTTP/1.1 and h2 by ALPN).
function porticoGatewayDoc(port, tlsOn = false) {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: bench
  namespace: default
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: ${port}
      name: ${tlsOn ? 'https' : 'http'}
      protocol: ${tlsOn ? 'HTTPS' : 'HTTP'}
    hosts:
    - "*"
${tlsOn ? `    tls:
      mode: SIMPLE
      serverCertificate: ${TLS.cert}
      privateKey: ${TLS.key}
` : ''}`;
}
const DEST = `    route:
    - destination:
        host: upstream.default.svc.cluster.local
        port:
          number: 80
`;
function writePorticoSimple(dir, port, upstreamPort, tlsOn = false) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'bench.yaml'), `${porticoGatewayDoc(port, tlsOn)}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: bench
  namespace: default
spec:
  hosts:
  - "*"
  gateways:
  - bench
  http:
  - route:
    - destination:
        host: upstream.default.svc.cluster.local
        port:
          number: 80
---
${porticoUpstreamDocs(upstreamPort)}`);
}

// routes1000: 50 virtual hosts x 20 routes. Per virtual host, route k (0..19):
//   k % 10 === 3 -> regex uri (10 %), k % 10 === 7 -> prefix + header match (10 %),
//   other even k -> prefix "/api/resK/", other odd k -> exact "/api/resK".
// Every route sets request headers. wrk targets vhost 25, route 10: ~route 510 of 1,000,
// after 10 routes of its virtual host that it must not match (incl. a regex and a header match).
const VHOSTS = 50;
const ROUTES_PER_VHOST = 20;
const TARGET_VHOST = 25;
const TARGET_ROUTE = 10;
const vhostName = (v) => `svc-${String(v).padStart(2, '0')}.bench.internal`;
const ROUTES_TARGET = { host: vhostName(TARGET_VHOST), path: `/api/res${TARGET_ROUTE}/items?page=2` };
const ROUTES_HEADERS = ['x-tenant: tenant-blue', 'accept: application/json', 'user-agent: portico-bench'];

function routeYaml(v, k) {
  let match;
  if (k % 10 === 3) {
    match = `    - uri:
        regex: "^/api/res${k}/[0-9]+(/detail)?$"
`;
  } else if (k % 10 === 7) {
    match = `    - uri:
        prefix: /api/res${k}/
      headers:
        x-tenant:
          exact: tenant-${k}
`;
  } else if (k % 2 === 0) {
    match = `    - uri:
        prefix: /api/res${k}/
`;
  } else {
    match = `    - uri:
        exact: /api/res${k}
`;
  }
  return `  - name: r${k}
    match:
${match}    headers:
      request:
        set:
          x-bench-route: svc-${v}-r${k}
          x-bench-vhost: ${vhostName(v)}
${DEST}`;
}
function writePorticoRoutes(dir, port, upstreamPort) {
  fs.mkdirSync(dir, { recursive: true });
  const docs = [porticoGatewayDoc(port)];
  for (let v = 0; v < VHOSTS; v++) {
    const routes = [];
    for (let k = 0; k < ROUTES_PER_VHOST; k++) routes.push(routeYaml(v, k));
    docs.push(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: vh-${String(v).padStart(2, '0')}
  namespace: default
spec:
  hosts:
  - ${vhostName(v)}
  gateways:
  - bench
  http:
${routes.join('')}`);
  }
  docs.push(porticoUpstreamDocs(upstreamPort));
  fs.writeFileSync(path.join(dir, 'routes.yaml'), docs.join('---\n'));
}

// ------------------------------------------------------------------ load generators

// `openssl s_time -www PAGE` sends exactly "GET PAGE HTTP/1.0\r\n\r\n" and has no option for
// headers, so the page carries them: the request line becomes HTTP/1.1 with a Host header and
// `Connection: close`, and the trailing " HTTP/1.0" lands in a harmless x-bench header value.
const STIME_PAGE = `/ HTTP/1.1\r\nHost: ${TLS.host}\r\nConnection: close\r\nx-bench: s_time`;

function spawnLoad(cmd, args, seconds) {
  [cmd, args] = pinned(cmd, args, cfg.loadCpu);
  return new Promise((resolve) => {
    const ch = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    loadChildren.add(ch);
    let out = '';
    ch.stdout.on('data', (d) => { out += d; });
    ch.stderr.on('data', (d) => { out += d; });
    const guard = setTimeout(() => ch.kill('SIGKILL'), (seconds + 15) * 1000);
    ch.on('error', (e) => { clearTimeout(guard); loadChildren.delete(ch); resolve({ code: -1, out: e.message }); });
    ch.on('close', (code) => { clearTimeout(guard); loadChildren.delete(ch); resolve({ code, out }); });
  });
}

const toMs = (v, unit) => Number(v) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 }[unit] ?? NaN);
function parseWrk(out) {
  const pct = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m ? toMs(m[1], m[2]) : NaN;
  };
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const reqs = /(\d+) requests in /.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return {
    rps: rps ? Number(rps[1]) : NaN,
    requests: reqs ? Number(reqs[1]) : NaN,
    p50: pct(50),
    p99: pct(99),
    errors: (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0),
  };
}
function parseH2load(out) {
  const fin = /finished in ([\d.]+)(ms|s), ([\d.]+) req\/s/.exec(out);
  const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  return {
    rps: fin ? Number(fin[3]) : NaN,
    requests: req ? Number(req[4]) : NaN,
    errors: (req ? Number(req[5]) + Number(req[6]) + Number(req[7]) : 0) + (codes ? Number(codes[2]) + Number(codes[3]) + Number(codes[4]) : 0),
    proto: /Application protocol: (\S+)/.exec(out)?.[1],
    tlsInfo: [/TLS Protocol: (\S+)/.exec(out)?.[1], /Cipher: (\S+)/.exec(out)?.[1], /Server Temp Key: (\S+)/.exec(out)?.[1]].filter(Boolean).join(' '),
  };
}
// p50 / p99 in ms from h2load --log-file (third column: µs until the end of the response).
function h2loadPercentiles(file) {
  let text;
  try { text = fs.readFileSync(file, 'utf8'); } catch { return { p50: NaN, p99: NaN }; }
  fs.rmSync(file, { force: true });
  const lines = text.split('\n');
  const v = new Float64Array(lines.length);
  let n = 0;
  for (const l of lines) {
    const t = l.lastIndexOf('\t');
    if (t > 0) { const x = Number(l.slice(t + 1)); if (Number.isFinite(x)) v[n++] = x; }
  }
  if (n === 0) return { p50: NaN, p99: NaN };
  const s = v.subarray(0, n).sort();
  const at = (q) => s[Math.min(n - 1, Math.floor(q * n))] / 1000;
  return { p50: at(0.5), p99: at(0.99) };
}

// One run of a turn's load generator. Returns { rps, requests, p50, p99, errors, problem? }.
async function runLoad(turn, seconds, measured) {
  const url = `${turn.scheme}://127.0.0.1:${turn.port}${turn.path}`;
  if (turn.tool === 'wrk') {
    const args = [`-t${cfg.threads}`, `-c${cfg.conns}`, `-d${seconds}s`];
    if (measured) args.push('--latency');
    for (const h of turn.headers) args.push('-H', h);
    const w = await spawnLoad('wrk', [...args, url], seconds);
    const r = parseWrk(w.out);
    if (!Number.isFinite(r.rps)) r.problem = `wrk exit ${w.code}: ${w.out.trim().split('\n').slice(-3).join(' ')}`;
    return r;
  }
  if (turn.tool === 'h2load') {
    const logFile = path.join(TMP, 'h2load', `${turn.id}.tsv`); // never next to a Portico config folder (see the portico starter)
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    const args = [`-c${cfg.h2Conns}`, `-m${cfg.h2Streams}`, '-t1', `-D${seconds}`];
    if (measured) args.push('--log-file', logFile);
    const w = await spawnLoad('h2load', [...args, url], seconds);
    const r = { ...parseH2load(w.out), ...(measured ? h2loadPercentiles(logFile) : {}) };
    if (!Number.isFinite(r.rps) || !(r.requests > 0)) r.problem = `h2load exit ${w.code}: ${w.out.trim().split('\n').slice(-4).join(' ')}`;
    else if (r.proto !== turn.expectProto) r.problem = `h2load negotiated ${r.proto}, expected ${turn.expectProto}`;
    return r;
  }
  // tool 'stime': HS_CONNS parallel `openssl s_time -new`, each one sequential: connect, full
  // TLS handshake (-new: no session offered), one request, read to close, close. s_time prints
  // one character per connection: 'r' = the session was resumed (must stay 0), '*' = TLS 1.2+.
  // s_time stops at the first whole second after start + -time (time(NULL) granularity):
  // started just after a second boundary (see measure) with -time N-1, it runs about N s.
  const target = `127.0.0.1:${turn.port}`;
  if (!measured) await sleepToNextSecond();
  const h = process.hrtime.bigint();
  const outs = await Promise.all(Array.from({ length: cfg.hsConns }, () =>
    spawnLoad('openssl', ['s_time', '-connect', target, '-new', '-time', String(Math.max(1, seconds - 1)), '-www', STIME_PAGE,
      // the bench CA only: OpenSSL 3 otherwise searches the system CA directory on every connection
      '-CAfile', TLS.ca, '-no-CApath', '-no-CAstore'], seconds + 2)));
  const wall = Number(process.hrtime.bigint() - h) / 1e9;
  let conns = 0;
  let resumed = 0;
  let bytes = 0;
  let failed = 0;
  for (const o of outs) {
    const m = /(\d+) connections in [\d.]+s; [\d.]+ connections\/user sec, bytes read (\d+)/.exec(o.out);
    if (!m || o.code !== 0) failed++;
    if (m) { conns += Number(m[1]); bytes += Number(m[2]); }
    for (const line of o.out.split('\n')) if (/^[*r3t]+$/.test(line)) resumed += line.split('r').length - 1;
  }
  const r = { rps: conns / wall, requests: conns, p50: NaN, p99: NaN, errors: failed, resumed, bytesPerConn: conns ? bytes / conns : NaN };
  if (conns === 0) r.problem = `s_time: no connection completed: ${outs[0]?.out.trim().split('\n').slice(-2).join(' ')}`;
  else if (failed) r.problem = `${failed} of ${cfg.hsConns} s_time processes stopped on an error (s_time gives up on the first failed connection)`;
  if (measured && resumed > 0) r.problem = `${resumed} of ${conns} connections RESUMED a session (not full handshakes)`;
  if (measured && turn.expectBytes && Math.abs(r.bytesPerConn - turn.expectBytes) > 8) {
    r.problem = `s_time read ${fmt1(r.bytesPerConn)} bytes per connection, the 200 "ok" response is ${turn.expectBytes}: some answers were not 200`;
  }
  return r;
}

const sleepToNextSecond = () => sleep(1000 - (Date.now() % 1000) + 20);

// This process's own CPU plus that of its reaped children (wrk, h2load, s_time), in ticks:
// /proc/self/stat utime stime cutime cstime.
function selfAndChildrenTicks() {
  const f = statFields('self');
  return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
}

// One measured turn: the load with the contender's process tree sampled from /proc.
// "other" = machine busy CPU - proxy - upstream - load generator - this harness: other tenants.
async function measure(turn, upstreamRec) {
  if (turn.tool === 'stime') await sleepToNextSecond();
  const root = turn.inst.rec.pid;
  const pids0 = processTree(root);
  const up0 = cpuTicks(processTree(upstreamRec.pid));
  const self0 = selfAndChildrenTicks();
  const busy0 = machineBusyTicks();
  const h0 = process.hrtime.bigint();
  const ticks0 = cpuTicks(pids0);
  const wait0 = runqueueWaitNs(pids0);
  let rssPeak = rssBytes(pids0);
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sleep(250);
      if (sampling) rssPeak = Math.max(rssPeak, rssBytes(processTree(root)));
    }
  })();
  const r = await runLoad(turn, cfg.duration, true);
  sampling = false;
  const pids1 = processTree(root);
  const ticks1 = cpuTicks(pids1);
  const wait1 = runqueueWaitNs(pids1);
  const up1 = cpuTicks(processTree(upstreamRec.pid));
  const self1 = selfAndChildrenTicks();
  const busy1 = machineBusyTicks();
  const secs = Number(process.hrtime.bigint() - h0) / 1e9;
  await sampler;
  r.cpuUsPerReq = r.requests > 0 ? ((ticks1 - ticks0) / HZ) * 1e6 / r.requests : NaN;
  r.proxyCores = (ticks1 - ticks0) / HZ / secs;
  r.proxyWaitCores = Math.max(0, (wait1 - wait0) / 1e9 / secs);
  r.otherCores = Math.max(0, (busy1 - busy0 - (ticks1 - ticks0) - (up1 - up0) - (self1 - self0)) / HZ / secs);
  r.loadCores = ((up1 - up0) + (self1 - self0)) / HZ / secs; // load generator + upstream + this harness
  r.rssMiB = rssPeak / 2 ** 20;
  return r;
}

// ------------------------------------------------------------------ stats

const finite = (a) => a.filter(Number.isFinite);
function median(a) {
  const s = finite(a).sort((x, y) => x - y);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const fmtInt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
const fmt2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const fmt1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const range = (a, f) => (finite(a).length ? `${f(median(a))} (${f(Math.min(...finite(a)))}–${f(Math.max(...finite(a)))})` : '-');

// ------------------------------------------------------------------ plan

// Scenario of a turn -> the nginx-proxy turn its "× nginx" ratio uses (same round).
const SCENARIO_INFO = {
  simple: { label: 'simple', ref: 'simple' },
  routes1000: { label: 'routes1000', ref: 'simple' },
  log: { label: 'log (access log on → /dev/null)', ref: 'simple' },
  h2c: { label: 'h2c', ref: 'h2c' },
  'https-ka': { label: 'https keep-alive', ref: 'https-ka' },
  'https-hs': { label: 'https new handshakes (conn/s)', ref: 'https-hs' },
  'https-h2': { label: 'https h2', ref: 'https-h2' },
};

// Instances (one process each, own ports) and turns (one measured load run per round each).
// Ports: upstream = base; HTTP/1.1 listeners base+1..8; h2c listeners base+9..10; TLS
// listeners base+11..12; Portico admin ports base+22..25.
function makePlan() {
  const P = cfg.portBase;
  const has = (c) => cfg.contenders.includes(c);
  const sc = new Set(cfg.scenarios);
  const needSimpleRef = sc.has('simple') || sc.has('routes1000') || sc.has('log');
  const instances = [];
  const inst = {};
  const add = (key, name, port, extra) => { inst[key] = { name, port, ports: [port], checks: [], ...extra }; instances.push(inst[key]); return inst[key]; };

  if (has('nginx-proxy') && (needSimpleRef || sc.has('h2c'))) {
    add('nginx', 'nginx-proxy', P + 1, { kind: 'nginx' });
    if (sc.has('h2c')) { inst.nginx.h2cPort = P + 9; inst.nginx.ports.push(P + 9); }
  }
  if (has('portico') && (needSimpleRef || sc.has('h2c'))) {
    add('portico', 'portico', P + 2, { kind: 'portico', admin: P + 22, cfgKind: 'simple', accessLog: false });
  }
  if (has('portico') && sc.has('routes1000')) add('porticoRoutes', 'portico-routes1000', P + 3, { kind: 'portico', admin: P + 23, cfgKind: 'routes1000', accessLog: false });
  if (has('portico') && sc.has('log')) add('porticoLog', 'portico-log', P + 4, { kind: 'portico', admin: P + 24, cfgKind: 'simple', accessLog: true });
  if (sc.has('simple')) {
    let off = 5;
    for (const name of Object.keys(NODE_PROXIES)) {
      const port = P + off++;
      if (has(name)) add(name, name, port, { kind: 'node' });
    }
  }
  if (has('haproxy') && (sc.has('simple') || sc.has('h2c'))) {
    if (!sh('command -v haproxy')) notes.push('**haproxy**: skipped: `haproxy` is not installed (apt-get install haproxy).');
    else {
      add('haproxy', 'haproxy', P + 8, { kind: 'haproxy' });
      if (sc.has('h2c')) { inst.haproxy.h2cPort = P + 10; inst.haproxy.ports.push(P + 10); }
    }
  }
  if (sc.has('https')) {
    if (has('nginx-proxy')) add('nginxTls', 'nginx-proxy-tls', P + 11, { kind: 'nginx', tls: true });
    if (has('portico')) add('porticoTls', 'portico-tls', P + 12, { kind: 'portico', admin: P + 25, cfgKind: 'tls', accessLog: false, tls: true });
  }
  for (const i of instances) if (i.admin) i.ports.push(i.admin);

  // Turns, in the order they run within a round: per scenario, nginx first, Portico's next.
  const turns = [];
  const turn = (i, contender, scenario, extra = {}) => {
    if (!i) return;
    turns.push({ id: `${i.name}-${scenario}`, inst: i, contender, scenario, tool: 'wrk', scheme: 'http', port: i.port, path: '/', host: TLS.host, headers: [], ...extra });
  };
  if (needSimpleRef) {
    const ref = !sc.has('simple');
    turn(inst.nginx, 'nginx-proxy', 'simple', { reference: ref });
    if (sc.has('simple')) turn(inst.haproxy, 'haproxy', 'simple');
    turn(inst.portico, 'portico', 'simple', { reference: ref });
  }
  // Right after Portico's simple turn, and before it in even rounds: "log on ÷ log off" compares
  // two turns seconds apart, in both orders, so a burst of load from other tenants or a
  // position effect weighs on both sides alike.
  turn(inst.porticoLog, 'portico', 'log', { swapEven: needSimpleRef });
  turn(inst.porticoRoutes, 'portico', 'routes1000', {
    // "Host" spelled exactly so: wrk adds a second Host header for any other spelling
    host: ROUTES_TARGET.host, path: ROUTES_TARGET.path, headers: [`Host: ${ROUTES_TARGET.host}`, ...ROUTES_HEADERS],
  });
  if (sc.has('simple')) for (const name of Object.keys(NODE_PROXIES)) turn(inst[name], name, 'simple');
  if (sc.has('h2c')) {
    const h2c = { tool: 'h2load', expectProto: 'h2c' };
    turn(inst.nginx, 'nginx-proxy', 'h2c', { ...h2c, port: inst.nginx?.h2cPort });
    turn(inst.haproxy, 'haproxy', 'h2c', { ...h2c, port: inst.haproxy?.h2cPort });
    turn(inst.portico, 'portico', 'h2c', h2c); // same port as HTTP/1.1
  }
  if (sc.has('https')) {
    for (const [scenario, extra] of [['https-ka', {}], ['https-hs', { tool: 'stime' }], ['https-h2', { tool: 'h2load', expectProto: 'h2' }]]) {
      turn(inst.nginxTls, 'nginx-proxy', scenario, { scheme: 'https', ...extra });
      turn(inst.porticoTls, 'portico', scenario, { scheme: 'https', ...extra });
    }
  }
  return { instances, inst, turns };
}

const warmupFor = (t) => (cfg.warmup <= 0 ? 0 : NATIVE.has(t.contender) ? Math.min(cfg.warmup, 1) : cfg.warmup);
function estimateSeconds(turns) {
  const per = (t) => cfg.duration + (cfg.pauseMs + 250) / 1000 + (t.tool === 'stime' ? 0.7 : 0);
  return 10 + turns.reduce((a, t) => a + warmupFor(t) + (t.tool === 'stime' ? 0.7 : 0), 0) + cfg.rounds * turns.reduce((a, t) => a + per(t), 0);
}

// ------------------------------------------------------------------ one pass (pinned or not)

async function runPass(pin) {
  cfg.pin = pin;
  notes = [];
  servers = [];
  if (cfg.pin && NCPU < 2) { notes.push(`PIN=1 ignored: only ${NCPU} CPU.`); cfg.pin = false; }
  if (cfg.pin && !sh('command -v taskset')) { notes.push('PIN=1 ignored: taskset not found.'); cfg.pin = false; }
  const loadStart = loadavg();
  const passT0 = Date.now();
  const { instances, inst, turns } = makePlan();
  if (turns.length === 0) fatal('nothing to run: check CONTENDERS and SCENARIOS (routes1000 and log need portico)');
  const upstream = { name: 'upstream', port: cfg.portBase };

  for (const p of [upstream.port, ...instances.flatMap((i) => i.ports)]) {
    if (!(await portFree(p))) fatal(`port ${p} on 127.0.0.1 is in use (set BENCH_PORT_BASE)`);
  }
  log(`${cfg.pin ? `PINNED: proxies on CPU ${cfg.proxyCpu}, load generators + upstream on CPU ${cfg.loadCpu}` : 'UNPINNED'}; ` +
    `rounds=${cfg.rounds} duration=${cfg.duration}s warmup=${cfg.warmup}s; loadavg ${loadStart}; ${turns.length} turns, about ${Math.round(estimateSeconds(turns))} s`);

  // Upstream (fatal if it does not come up).
  upstream.rec = startServer('upstream', 'nginx', ['-c', writeNginxUpstream(upstream.port), '-p', TMP], { cpu: cfg.loadCpu });
  try { await waitReady(upstream.rec, () => get(upstream.port, 'upstream', '/')); } catch (e) { fatal(`upstream nginx: ${e.message}`); }

  // Builds with --workers default to one worker per CPU; the bench wants PORTICO_WORKERS (1).
  const wantPortico = instances.some((i) => i.kind === 'portico');
  const porticoHasWorkers = wantPortico && fs.existsSync(cfg.porticoEntry) &&
    sh(`${JSON.stringify(process.execPath)} ${JSON.stringify(cfg.porticoEntry)} run --help 2>&1`).includes('--workers');

  // Contenders: a failure is noted and the contender dropped.
  const starters = {
    nginx: (i) => startServer(i.name, 'nginx', ['-c', writeNginxProxy(i.name, i.port, upstream.port, { h2cPort: i.h2cPort, tlsOn: i.tls }), '-p', TMP], { cpu: cfg.proxyCpu }),
    haproxy: (i) => startServer(i.name, 'haproxy', ['-db', '-f', writeHaproxy(i.port, upstream.port, i.h2cPort)], { cpu: cfg.proxyCpu }),
    portico: (i) => {
      if (!fs.existsSync(cfg.porticoEntry)) throw new Error(`${path.relative(ROOT, cfg.porticoEntry)} not found: run \`npm run build\` first`);
      // Each config folder alone in its own parent: Portico watches the parent of --config
      // (to notice the folder being replaced), so files the bench writes during the rounds
      // (h2load's --log-file, logs) must not be there, or every write wakes every Portico.
      const dir = path.join(TMP, 'portico', i.name, 'config');
      if (i.cfgKind === 'routes1000') writePorticoRoutes(dir, i.port, upstream.port);
      else writePorticoSimple(dir, i.port, upstream.port, i.cfgKind === 'tls');
      const args = [...cfg.porticoNodeArgs, cfg.porticoEntry, 'run', '--config', dir, '--admin-port', String(i.admin), '--bind', '127.0.0.1'];
      if (!i.accessLog) args.push('--no-access-log');
      if (porticoHasWorkers) args.push('--workers', String(cfg.porticoWorkers)); // default would be one per CPU
      // access log ON goes to stdout -> /dev/null: we measure producing it, not a terminal
      return startServer(i.name, process.execPath, args, { cpu: cfg.proxyCpu, cwd: ROOT, stdoutToNull: i.accessLog });
    },
    node: (i) => {
      const { script, pkgs } = NODE_PROXIES[i.name];
      const file = path.join(cfg.sharedDir, 'contenders', script);
      if (!fs.existsSync(file)) throw new Error(`skipped: ${file} not found`);
      const missing = pkgs.filter((p) => !fs.existsSync(path.join(cfg.nodeDir, 'node_modules', p, 'package.json')));
      if (missing.length) throw new Error(`skipped: ${missing.join(', ')} not installed in ${cfg.nodeDir} (run ${path.join(cfg.sharedDir, 'setup.sh')})`);
      return startServer(i.name, process.execPath, [file], {
        cpu: cfg.proxyCpu,
        extraEnv: { NODE_PATH: path.join(cfg.nodeDir, 'node_modules'), UPSTREAM: `http://127.0.0.1:${upstream.port}`, PORT: String(i.port), HOST: '127.0.0.1' },
      });
    },
  };
  const failTurn = (t, why) => {
    t.failed = why;
    notes.push(`**${t.contender}/${t.scenario}**: FAILED check, turn skipped: ${why}`);
    log(`${t.contender}/${t.scenario}: ${why}`);
  };
  // All start at once (start-up is the slow part of a quick run), each checked on its own.
  await Promise.all(instances.map(async (i) => {
    const mine = turns.filter((x) => x.inst === i);
    const first = mine.find((x) => x.tool === 'wrk') ?? mine[0];
    try {
      i.rec = starters[i.kind](i);
      const ms = await waitReady(i.rec, () => get(i.port, first?.host ?? TLS.host, first?.path ?? '/', { tls: i.tls }));
      log(`${i.name} ready on :${i.port} in ${ms} ms (pid ${i.rec.pid})`);
    } catch (e) {
      i.failed = e.message;
      i.skipped = /^skipped/.test(e.message);
      if (i.rec) await stopServer(i.rec);
      notes.push(`**${i.name}**: ${i.skipped ? '' : 'FAILED to start: '}${e.message}`);
      log(`${i.name}: ${e.message}`);
      return;
    }
    // Per-protocol checks: a failure drops only that turn.
    for (const t of mine) {
      if (t.tool === 'h2load') {
        const r = await getH2(t.port, t.scheme === 'https');
        if (!(r.status === 200 && r.body === 'ok' && r.alpn === t.expectProto)) failTurn(t, `GET / over ${t.expectProto} → ${JSON.stringify(r)}`);
      } else if (t.tool === 'stime') {
        const r = await rawTlsRequest(t.port);
        if (r.status === 200 && r.body === 'ok') { t.expectBytes = r.bytes; t.tlsInfo = `${r.protocol} ${r.cipher} (Node check client)`; } else failTurn(t, `one request per connection (s_time's request) → ${JSON.stringify(r)}`);
      } else if (t.scheme === 'https') {
        const r = await get(t.port, TLS.host, '/', { tls: true });
        if (r.fingerprint !== TLS.fingerprint) failTurn(t, `served certificate ${r.fingerprint} is not the bench's ${TLS.fingerprint}`);
      }
    }
  }));
  // routes1000 sanity: an unknown host must not be routed (the table is really in use).
  if (inst.porticoRoutes && !inst.porticoRoutes.failed) {
    const r = await get(inst.porticoRoutes.port, 'no-such-host.bench.internal', '/api/res10/items');
    notes.push(`routes1000 check: unknown host → ${r.status ?? r.error} (expected 404); target ${ROUTES_TARGET.host}${ROUTES_TARGET.path} → 200 "ok".`);
  }

  const live = (t) => !t.failed && !t.inst.failed && !t.inst.rec.exited;
  const markDead = (t) => {
    if (!t.inst.failed && t.inst.rec.exited) {
      t.inst.failed = `exited (${t.inst.rec.exit}) during the run: ${tailLog(t.inst.rec)}`;
      notes.push(`**${t.inst.name}**: FAILED: ${t.inst.failed}`);
    }
  };

  for (const t of turns) {
    const s = warmupFor(t);
    if (live(t) && s > 0) {
      const r = await runLoad(t, s, false);
      if (r.problem) log(`warm-up ${t.contender}/${t.scenario}: ${r.problem}`);
    }
  }
  if (cfg.warmup > 0) log('warm-up done');

  const runs = [];
  for (let round = 1; round <= cfg.rounds; round++) {
    const order = [...turns];
    if (round % 2 === 0) {
      for (let k = 1; k < order.length; k++) if (order[k].swapEven) [order[k - 1], order[k]] = [order[k], order[k - 1]];
    }
    for (const t of order) {
      markDead(t);
      if (!live(t)) continue;
      let bg = await backgroundCores(cfg.pauseMs);
      // Optional quiet gate: wait (bounded) for other tenants to calm down before the turn.
      for (const until = Date.now() + cfg.quietWaitS * 1000; cfg.quietMax > 0 && bg >= cfg.quietMax && Date.now() < until;) {
        bg = await backgroundCores(500);
      }
      const r = await measure(t, upstream.rec);
      r.bgCores = bg;
      markDead(t);
      if (r.problem) notes.push(`${t.contender}/${t.scenario} round ${round}: ${r.problem}`);
      if (r.tlsInfo && !t.tlsInfo) t.tlsInfo = r.tlsInfo;
      runs.push({ round, turn: t, ...r });
      log(`round ${round} ${`${t.contender}/${t.scenario}`.padEnd(24)} ${fmtInt(r.rps).padStart(7)} ${t.tool === 'stime' ? 'conn/s' : 'req/s '} p50 ${fmt2(r.p50)} p99 ${fmt2(r.p99)} ms  ` +
        `cpu ${fmt1(r.cpuUsPerReq)} µs/req (${fmt2(r.proxyCores)} cores +${fmt2(r.proxyWaitCores)} waiting, load+upstream ${fmt2(r.loadCores)})  rss ${fmt1(r.rssMiB)} MiB  other load before ${fmt2(bg)} / during ${fmt2(r.otherCores)} cores` +
        `${t.tool === 'stime' ? `  resumed ${r.resumed}` : ''}${r.errors ? `  ERRORS ${r.errors}` : ''}`);
    }
  }
  const loadEnd = loadavg();
  await stopServers();
  const section = report(turns, runs, { loadStart, loadEnd, wallS: (Date.now() - passT0) / 1000 });
  return { section, someFailed: turns.some((t) => (t.inst.failed && !t.inst.skipped) || t.failed) };
}

// ------------------------------------------------------------------ report

const BUSY_OTHER = 0.3; // cores of other load during a turn that make the run "shared"

function report(turns, runs, { loadStart, loadEnd, wallS }) {
  const of = (t) => runs.filter((r) => r.turn === t);
  const find = (contender, scenario) => turns.find((t) => t.contender === contender && t.scenario === scenario);
  // Median over rounds of a/b, both measured in the same round.
  const sameRound = (a, b, key = 'rps') => {
    if (!a || !b) return { v: NaN, n: 0 };
    const pairs = [];
    for (const ra of of(a)) {
      const rb = runs.find((x) => x.turn === b && x.round === ra.round);
      if (rb) pairs.push({ ratio: ra[key] / rb[key], other: Math.max(ra.otherCores, rb.otherCores) });
    }
    const ratios = finite(pairs.map((p) => p.ratio));
    return { v: median(ratios), n: ratios.length, min: Math.min(...ratios), max: Math.max(...ratios), other: Math.max(0, ...finite(pairs.map((p) => p.other))) };
  };
  const refOf = (t) => find('nginx-proxy', SCENARIO_INFO[t.scenario].ref);

  const L = [];
  L.push('| contender | scenario | req/s median (min–max) | × nginx-proxy, same round | p50 ms | p99 ms | proxy CPU µs/req | CPU × nginx-proxy, same round | proxy cores (+ waiting for a CPU) | load + upstream cores | RSS MiB peak | errors | other load, cores |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const t of turns) {
    const rs = of(t);
    const label = SCENARIO_INFO[t.scenario].label + (t.reference ? ' (reference)' : '');
    if (rs.length === 0) {
      L.push(`| ${t.contender} | ${label} | ${t.failed || t.inst.failed ? 'failed / skipped' : 'no runs'} | - | - | - | - | - | - | - | - | - | - |`);
      continue;
    }
    const ref = refOf(t);
    const ratio = t === ref ? { v: 1, n: rs.length } : sameRound(t, ref);
    const cpuRatio = t === ref ? { v: 1, n: rs.length } : sameRound(t, ref, 'cpuUsPerReq');
    L.push(`| ${t.contender} | ${label} | ${range(rs.map((r) => r.rps), fmtInt)} | ${ratio.n ? fmt2(ratio.v) : '-'} | ` +
      `${fmt2(median(rs.map((r) => r.p50)))} | ${fmt2(median(rs.map((r) => r.p99)))} | ${fmt1(median(rs.map((r) => r.cpuUsPerReq)))} | ${cpuRatio.n ? fmt2(cpuRatio.v) : '-'} | ` +
      `${fmt2(median(rs.map((r) => r.proxyCores)))} (+${fmt2(median(rs.map((r) => r.proxyWaitCores)))}) | ${fmt2(median(rs.map((r) => r.loadCores)))} | ${fmt1(Math.max(...rs.map((r) => r.rssMiB)))} | ${rs.reduce((a, r) => a + r.errors, 0)} | ` +
      `${rs.map((r) => fmt1(r.otherCores)).join(' ')} |`);
  }

  // Targets (issue #5; HTTPS figures from issue #3 have no target).
  const portico = find('portico', 'simple');
  const nginx = find('nginx-proxy', 'simple');
  const nodeTurns = turns.filter((t) => NODE_PROXIES[t.contender] && of(t).length > 0);
  let fastest = null;
  for (const t of nodeTurns) if (!fastest || median(of(t).map((r) => r.rps)) > median(of(fastest).map((r) => r.rps))) fastest = t;
  const T = [];
  let met = 0;
  let total = 0;
  const row = (scenario, figure, target, r, op, extra = '') => {
    const shown = r.n ? `${fmt2(r.v)}${r.n > 1 ? ` (${fmt2(r.min)}–${fmt2(r.max)}, n=${r.n})` : ''}` : 'n/a';
    let result = '—';
    if (op && r.n) {
      const ok = op === '>=' ? r.v >= target : r.v <= target;
      total++;
      if (ok) met++;
      result = ok ? '**PASS**' : '**FAIL**';
      if (r.other > BUSY_OTHER) result += ` (other load up to ${fmt1(r.other)} cores: indicative)`;
      else if (r.n < 3) result += ` (${r.n} round${r.n > 1 ? 's' : ''}: indicative)`;
    } else if (op) result = 'not run';
    T.push(`| ${scenario} | ${figure}${extra} | ${op ? `${op === '>=' ? '≥' : '≤'} ${target}` : 'none'} | ${shown} | ${result} |`);
  };
  T.push('| scenario | figure (same-round ratio, median over rounds) | target | measured (per-round min–max) | result |');
  T.push('|---|---|---|---|---|');
  if (portico && !portico.reference) {
    row('simple', 'Portico req/s ÷ nginx-proxy req/s', 0.55, sameRound(portico, nginx), '>=');
    row('simple', 'Portico req/s ÷ fastest Node proxy req/s', 2, sameRound(portico, fastest), '>=', fastest ? ` (${fastest.contender})` : ' (no Node proxy ran)');
    row('simple', 'Portico CPU µs/req ÷ nginx-proxy CPU µs/req', 2, sameRound(portico, nginx, 'cpuUsPerReq'), '<=');
    row('simple', 'Portico p99 ÷ nginx-proxy p99 (wrk, 64 connections)', 3, sameRound(portico, nginx, 'p99'), '<=');
    const hap = find('haproxy', 'simple');
    if (hap) row('simple', 'haproxy req/s ÷ nginx-proxy req/s (for scale)', 0, sameRound(hap, nginx), null);
  }
  if (find('portico', 'log')) {
    row('log', 'Portico, access log on, req/s ÷ nginx-proxy req/s', 0.5, sameRound(find('portico', 'log'), nginx), '>=');
    row('log', 'log on ÷ log off (Portico)', 0, sameRound(find('portico', 'log'), portico), null);
  }
  if (find('portico', 'routes1000')) {
    row('routes1000', 'routes1000 req/s ÷ simple req/s (Portico)', 0.9, sameRound(find('portico', 'routes1000'), portico), '>=');
    row('routes1000', 'routes1000 req/s ÷ nginx-proxy simple req/s (issue #5 item 1 asks 0.55 through the route table)', 0.55, sameRound(find('portico', 'routes1000'), nginx), '>=');
  }
  if (find('portico', 'h2c')) row('h2c', 'Portico req/s ÷ nginx-proxy req/s', 0.4, sameRound(find('portico', 'h2c'), find('nginx-proxy', 'h2c')), '>=');
  if (find('portico', 'https-h2')) row('https h2', 'Portico req/s ÷ nginx-proxy req/s (issue #5 item 2: "h2 over TLS")', 0.4, sameRound(find('portico', 'https-h2'), find('nginx-proxy', 'https-h2')), '>=');
  for (const s of ['https-ka', 'https-hs']) {
    const p = find('portico', s);
    const n = find('nginx-proxy', s);
    if (!p) continue;
    row(SCENARIO_INFO[s].label, 'Portico ÷ nginx-proxy, throughput', 0, sameRound(p, n), null);
    row(SCENARIO_INFO[s].label, 'Portico ÷ nginx-proxy, CPU µs per request', 0, sameRound(p, n, 'cpuUsPerReq'), null);
  }

  const tlsTurns = turns.filter((t) => t.tlsInfo);
  const title = cfg.pin
    ? `## Pinned: proxies on CPU ${cfg.proxyCpu}; wrk, h2load, s_time and the upstream on CPU ${cfg.loadCpu}`
    : '## Unpinned: every process floats over all CPUs';
  const out = [
    title,
    '',
    `loadavg at start ${loadStart}, at end ${loadEnd}; other load during the turns ${range(runs.map((r) => r.otherCores), fmt2)} cores` +
      `${Math.max(0, ...finite(runs.map((r) => r.otherCores))) > BUSY_OTHER ? ' — **the machine was shared: compare same-round ratios and CPU µs/req of turns with low other load, not absolute req/s**' : ''}; ` +
      `${cfg.quietMax > 0 ? `quiet gate: waited up to ${cfg.quietWaitS} s per turn for < ${cfg.quietMax} cores; ` : ''}pass wall time ${wallS.toFixed(0)} s`,
    '',
    ...L,
    '',
    `Targets: ${met} of ${total} met.`,
    '',
    ...T,
    '',
    ...(tlsTurns.length ? [`Negotiated TLS: ${[...new Set(tlsTurns.map((t) => `${t.contender}/${t.scenario} ${t.tlsInfo}`))].join('; ')}.`, ''] : []),
    ...(notes.length ? ['Notes:', '', ...notes.map((n) => `- ${n}`), ''] : []),
  ];
  return out.join('\n');
}

function header(wallS) {
  const v = (c) => sh(`${c} | head -1`); // `| head -1`: some of them exit 1 after printing their version
  const nginxV = v('nginx -v 2>&1').replace(/^nginx version: /, '');
  const haproxyV = sh('command -v haproxy') ? v('haproxy -v 2>&1').replace(/^HAProxy version (\S+).*/, '$1') : '';
  const rev = sh(`git -C ${JSON.stringify(ROOT)} rev-parse --short HEAD`);
  // only what goes into dist/ counts: an edited bench or doc does not change the figures
  const dirty = rev && sh(`git -C ${JSON.stringify(ROOT)} status --porcelain --untracked-files=no -- src package.json package-lock.json tsconfig.json`) ? ' + uncommitted changes in src/' : '';
  const porticoWhat = cfg.porticoEntry.startsWith(`${ROOT}/`) ? `${rev || '?'}${dirty}` : `from ${cfg.porticoEntry} (not this checkout's dist/)`;
  const knobs = ['MODE', 'PIN', 'ROUNDS', 'DURATION', 'WARMUP', 'CONNS', 'THREADS', 'H2_CONNS', 'H2_STREAMS', 'HS_CONNS', 'TLS_KEY', 'PROXY_CPU', 'LOAD_CPU', 'CONTENDERS', 'SCENARIOS',
    'BENCH_NODE_DIR', 'BENCH_PORT_BASE', 'PORTICO_ENTRY', 'PORTICO_NODE_ARGS', 'PORTICO_WORKERS', 'QUIET_MAX', 'QUIET_WAIT_S']
    .filter((k) => env[k] !== undefined).map((k) => `${k}=${/[\s'"]/.test(env[k]) ? `'${env[k]}'` : env[k]}`);
  const sc = new Set(cfg.scenarios);
  return [
    `- Command: \`${[...knobs, 'npm run bench'].join(' ')}\` (${cfg.modes.map((p) => (p ? 'pinned' : 'unpinned')).join(' then ')}; ${cfg.rounds} round(s); total wall time ${wallS.toFixed(0)} s)`,
    `- Machine: ${NCPU} CPUs (${os.cpus()[0]?.model?.trim() ?? '?'}), kernel ${os.release()}, node ${process.version}, nginx ${nginxV || '?'}, haproxy ${haproxyV || 'not installed'}, ` +
      `${v('wrk -v 2>&1').split(' ').slice(0, 2).join(' ') || 'wrk ?'}, ${v('h2load --version 2>&1') || 'h2load ?'}, ${v('openssl version')}; Portico ${porticoWhat}, \`--workers ${cfg.porticoWorkers}\``,
    '- Every contender proxies to the same upstream: nginx, 1 worker, `return 200 "ok"`, keep-alive. nginx-proxy: 1 worker, upstream keepalive 128. ' +
      'haproxy: `nbthread 1`, `http-reuse always`, keep-alive. Portico: one process, Istio Gateway + VirtualService, access log off except in `log`.',
    `- HTTP/1.1 turns (simple, routes1000, log, https keep-alive): \`wrk -t${cfg.threads} -c${cfg.conns} -d${cfg.duration}s --latency\`.` +
      (sc.has('h2c') || sc.has('https') ? ` HTTP/2 turns (h2c: prior knowledge, Portico on its HTTP/1.1 port, nginx and haproxy on an h2c listener; https h2: ALPN): \`h2load -c${cfg.h2Conns} -m${cfg.h2Streams} -t1 -D${cfg.duration}\`, p50/p99 from its \`--log-file\`; proxy → upstream stays HTTP/1.1 keep-alive.` : ''),
    ...(sc.has('https') ? [
      `- HTTPS: ${TLS.desc}; nginx \`ssl_protocols TLSv1.2 TLSv1.3\`, both listeners offer h2 and http/1.1 by ALPN. ` +
      `New handshakes: ${cfg.hsConns} parallel \`openssl s_time -new -time ${Math.max(1, cfg.duration - 1)}\` started just after a whole second (s_time stops on whole seconds), so each runs about ${cfg.duration} s; each one is sequential: TCP connect, **full** TLS handshake ` +
      '(`-new` never offers a session; s_time marks each connection, and a resumed one is reported as a problem), one `GET / HTTP/1.1` with `Connection: close`, ' +
      'read until the server closes. conn/s = connections ÷ wall time from the first start to the last exit; one request per connection, so CPU µs/req is CPU per handshake + request. ' +
      's_time sends no SNI. The response size is checked against a 200 "ok".',
    ] : []),
    `- Warm-up before round 1: ${cfg.warmup} s per turn (${Math.min(cfg.warmup, 1)} s for nginx and haproxy, which have no JIT).`+
      ` "load + upstream cores" = CPU of the load generator, the upstream and this harness${cfg.modes.includes(true) ? ` (pinned: on CPU ${cfg.loadCpu}; near 1.0 the turn was load-limited, and CPU µs/req is the figure to compare)` : ''}. Ratios are taken within a round, then the median over rounds. ` +
      `CPU µs/req = CPU time (utime+stime, CLK_TCK ${HZ}) of the proxy's process tree ÷ requests. Other load = machine busy CPU minus proxy, upstream, load generator and harness.`,
  ].join('\n');
}

// ------------------------------------------------------------------ run

async function main() {
  if (!sh('command -v wrk')) fatal('wrk not found (apt-get install wrk, or run ../shared/bench/setup.sh)');
  if (!sh('command -v nginx')) fatal('nginx not found (apt-get install nginx)');
  const sc = new Set(cfg.scenarios);
  const skipped = [];
  if ((sc.has('h2c') || sc.has('https')) && !sh('command -v h2load')) {
    skipped.push('h2c and https h2 need `h2load` (apt-get install nghttp2-client)');
    sc.delete('h2c');
  }
  if (sc.has('https') && !sh('command -v openssl')) { skipped.push('https needs `openssl`'); sc.delete('https'); }
  cfg.scenarios = cfg.scenarios.filter((s) => sc.has(s));
  if (sc.has('https')) makeCertificates();
  const loadAtStart = loadavg();
  const passes = [];
  let someFailed = false;
  for (const pin of cfg.modes) {
    const p = await runPass(pin);
    passes.push(p.section);
    someFailed ||= p.someFailed;
  }
  const stamp = new Date().toISOString();
  const text = [
    `# Portico bench — ${stamp}`,
    '',
    header((Date.now() - t0) / 1000),
    `- loadavg before the run ${loadAtStart}, after ${loadavg()}`,
    ...(skipped.length ? [`- Skipped: ${skipped.join('; ')}.`] : []),
    '',
    ...passes,
  ].join('\n');
  const dir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${stamp.replace(/[:.]/g, '-').slice(0, 19)}${cfg.modes.length > 1 ? '-both' : ''}.md`);
  fs.writeFileSync(file, text);
  process.stdout.write(`${text}\n`);
  log(`wrote ${path.relative(ROOT, file)}`);
  return someFailed; // keep TMP (logs) after a real failure
}

let exiting = false;
async function finish(code, keep) {
  if (exiting) return;
  exiting = true;
  await stopServers();
  if (keep || cfg.keepTmp) log(`kept ${TMP} (configs and logs)`);
  else fs.rmSync(TMP, { recursive: true, force: true });
  process.exit(code);
}
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.on(sig, () => { log(`${sig}: stopping everything`); void finish(code, true); });
}
main().then(
  (someFailed) => finish(0, someFailed),
  (e) => { log(e instanceof Fatal ? `error: ${e.message}` : `FAILED: ${e.stack ?? e}`); void finish(1, true); },
);
