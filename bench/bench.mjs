#!/usr/bin/env node
// Portico benchmark (`npm run bench`). Loopback only, Node built-ins only.
//
// One run: start nginx as the upstream, start every contender proxy on its own 127.0.0.1
// port, warm each one up, then ROUNDS rounds in which the contenders take turns under
// `wrk --latency`. During each turn the contender's process tree is sampled from /proc
// (CPU ticks before/after, peak RSS). Prints a markdown report and writes it to
// bench/results/<timestamp>.md. See docs/performance.md for the knobs and how to read it.
//
// Every process it starts is stopped by PID at the end (SIGTERM, then SIGKILL), also on
// Ctrl-C. Exit 0 even when a contender failed (the report says which and why); exit 1 only
// when the bench itself cannot run (no wrk, upstream down, ...).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
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

const NCPU = os.cpus().length;
const ALL_CONTENDERS = ['nginx-proxy', 'portico', 'http-proxy', 'fastify-http-proxy', 'fast-gateway'];
const ALL_SCENARIOS = ['simple', 'routes1000', 'log'];
const NODE_PROXIES = {
  'http-proxy': { script: 'node-http-proxy.cjs', pkgs: ['http-proxy'] },
  'fastify-http-proxy': { script: 'node-fastify-proxy.cjs', pkgs: ['fastify', '@fastify/http-proxy'] },
  'fast-gateway': { script: 'node-fast-gateway.cjs', pkgs: ['fast-gateway'] },
};

const cfg = {
  rounds: Math.max(1, Math.floor(numEnv('ROUNDS', 3))),
  duration: Math.max(1, Math.floor(numEnv('DURATION', 4))),
  warmup: Math.floor(numEnv('WARMUP', 2)),
  conns: Math.max(1, Math.floor(numEnv('CONNS', 64))),
  threads: Math.max(1, Math.floor(numEnv('THREADS', 2))),
  pin: (env.PIN ?? (NCPU >= 2 ? '1' : '0')) === '1',
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

const HZ = Number(sh('getconf CLK_TCK')) || 100;
const PAGE = Number(sh('getconf PAGESIZE')) || 4096;
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-bench-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const log = (msg) => process.stderr.write(`[bench +${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s] ${msg}\n`);
const notes = []; // lines for the report: skips, failures, sanity checks

class Fatal extends Error {}
function fatal(msg) { throw new Fatal(msg); }
function sh(cmd) {
  try { return execFileSync('bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).toString().trim(); } catch { return ''; }
}

// ------------------------------------------------------------------ /proc accounting

function statFields(pid) {
  // Fields after "(comm)": [0]=state [1]=ppid ... [11]=utime [12]=stime
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

// ------------------------------------------------------------------ processes

let upstreamRec = null;
const servers = []; // { name, pid, child, exited, exit, logFile }
let loadChild = null; // the wrk currently running, killed on Ctrl-C

function startServer(name, cmd, args, { cpu, extraEnv = {}, cwd = TMP, stdoutToNull = false } = {}) {
  if (cfg.pin && cpu !== undefined) { args = ['-c', String(cpu), cmd, ...args]; cmd = 'taskset'; } // taskset execs: same pid
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

let stopping = null;
function stopAll() {
  stopping ??= (async () => {
    if (loadChild && loadChild.exitCode === null) { try { loadChild.kill('SIGKILL'); } catch { /* gone */ } }
    const table = childrenTable();
    await Promise.all(servers.map((s) => stopServer(s, table)));
  })();
  return stopping;
}
// Last resort if the event loop dies: SIGKILL whatever is still up (synchronous).
process.on('exit', () => {
  for (const s of servers) if (!s.exited && s.pid !== undefined) { try { process.kill(s.pid, 'SIGKILL'); } catch { /* gone */ } }
  if (loadChild && loadChild.exitCode === null) { try { loadChild.kill('SIGKILL'); } catch { /* gone */ } }
});

// The telling part of a server's log: its first error lines, else its last lines.
function tailLog(rec) {
  let lines;
  try { lines = fs.readFileSync(rec.logFile, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean); } catch { return ''; }
  const errs = lines.filter((l) => /\berror\b|Error[:\s]|cannot|fatal|emerg/i.test(l) && !/^at /.test(l));
  const t = (errs.length ? errs.slice(0, 2) : lines.slice(-3)).join(' ⏎ ');
  return `${t.length > 400 ? `${t.slice(0, 400)}…` : t} (log: ${rec.logFile})`;
}

// ------------------------------------------------------------------ readiness

function portFree(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}
function get(port, host, reqPath) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: reqPath, headers: { host }, agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', (e) => resolve({ error: e.message }));
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}
async function waitReady(rec, port, host, reqPath) {
  const start = Date.now();
  let last;
  while (Date.now() - start < cfg.readyTimeoutMs) {
    if (rec.exited) throw new Error(`exited (${rec.exit}) during start-up: ${tailLog(rec)}`);
    last = await get(port, host, reqPath);
    if (last.status === 200 && last.body === 'ok') return Date.now() - start;
    await sleep(100);
  }
  throw new Error(`not ready on :${port} after ${cfg.readyTimeoutMs / 1000} s (last answer ${JSON.stringify(last)}): ${tailLog(rec)}`);
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
function writeNginxProxy(port, upstreamPort) {
  const file = path.join(TMP, 'nginx-proxy.conf');
  fs.writeFileSync(file, `${nginxCommon('nginx-proxy')}http {
  access_log off;
  keepalive_timeout 120s;
  keepalive_requests 100000000;
${nginxTemps('nginx-proxy')}  upstream backend {
    server 127.0.0.1:${upstreamPort};
    keepalive 128;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
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
function porticoGatewayDoc(port) {
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
      name: http
      protocol: HTTP
    hosts:
    - "*"
`;
}
const DEST = `    route:
    - destination:
        host: upstream.default.svc.cluster.local
        port:
          number: 80
`;
function writePorticoSimple(dir, port, upstreamPort) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'bench.yaml'), `${porticoGatewayDoc(port)}---
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

// ------------------------------------------------------------------ wrk

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
function runWrk(turn, seconds, latency) {
  let cmd = 'wrk';
  let args = [`-t${cfg.threads}`, `-c${cfg.conns}`, `-d${seconds}s`];
  if (latency) args.push('--latency');
  for (const h of turn.headers) args.push('-H', h);
  args.push(`http://127.0.0.1:${turn.inst.port}${turn.path}`);
  if (cfg.pin) { args = ['-c', cfg.loadCpu, cmd, ...args]; cmd = 'taskset'; }
  return new Promise((resolve) => {
    const ch = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    loadChild = ch;
    let out = '';
    ch.stdout.on('data', (d) => { out += d; });
    ch.stderr.on('data', (d) => { out += d; });
    const guard = setTimeout(() => ch.kill('SIGKILL'), (seconds + 15) * 1000);
    ch.on('error', (e) => { clearTimeout(guard); resolve({ code: -1, out: e.message }); });
    ch.on('close', (code) => { clearTimeout(guard); loadChild = null; resolve({ code, out }); });
  });
}

// This process's own CPU plus that of its reaped children (wrk), in ticks: /proc/self/stat
// utime stime cutime cstime. wrk is reaped when it exits, so its CPU lands in cutime/cstime.
function selfAndChildrenTicks() {
  const f = statFields('self');
  return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
}

// One measured turn: wrk with the contender's process tree sampled from /proc.
// "other" = machine busy CPU - proxy - upstream - wrk - this harness: other tenants' load.
async function measure(turn, upstreamRec) {
  const root = turn.inst.rec.pid;
  const pids0 = processTree(root);
  const up0 = cpuTicks(processTree(upstreamRec.pid));
  const self0 = selfAndChildrenTicks();
  const busy0 = machineBusyTicks();
  const h0 = process.hrtime.bigint();
  const ticks0 = cpuTicks(pids0);
  let rssPeak = rssBytes(pids0);
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sleep(250);
      if (sampling) rssPeak = Math.max(rssPeak, rssBytes(processTree(root)));
    }
  })();
  const w = await runWrk(turn, cfg.duration, true);
  sampling = false;
  const ticks1 = cpuTicks(processTree(root));
  const up1 = cpuTicks(processTree(upstreamRec.pid));
  const self1 = selfAndChildrenTicks();
  const busy1 = machineBusyTicks();
  const secs = Number(process.hrtime.bigint() - h0) / 1e9;
  await sampler;
  const r = parseWrk(w.out);
  if (!Number.isFinite(r.rps)) r.problem = `wrk exit ${w.code}: ${w.out.trim().split('\n').slice(-3).join(' ')}`;
  r.cpuUsPerReq = r.requests > 0 ? ((ticks1 - ticks0) / HZ) * 1e6 / r.requests : NaN;
  r.proxyCores = (ticks1 - ticks0) / HZ / secs;
  r.otherCores = Math.max(0, (busy1 - busy0 - (ticks1 - ticks0) - (up1 - up0) - (self1 - self0)) / HZ / secs);
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

// ------------------------------------------------------------------ main

async function main() {
  if (!sh('command -v wrk')) fatal('wrk not found (apt-get install wrk, or run ../shared/bench/setup.sh)');
  if (!sh('command -v nginx')) fatal('nginx not found (apt-get install nginx)');
  if (cfg.pin && NCPU < 2) { notes.push(`PIN=1 ignored: only ${NCPU} CPU.`); cfg.pin = false; }
  if (cfg.pin && !sh('command -v taskset')) { notes.push('PIN=1 ignored: taskset not found.'); cfg.pin = false; }

  // Instances: one process each, own port (upstream = base, contenders base+1..7, Portico admin base+22..24).
  const P = cfg.portBase;
  const upstream = { name: 'upstream', port: P };
  const wantPortico = cfg.contenders.includes('portico');
  const sc = new Set(cfg.scenarios);
  const instances = [];
  const add = (name, port, extra) => { const i = { name, port, ...extra }; instances.push(i); return i; };
  const inst = {};
  if (cfg.contenders.includes('nginx-proxy')) inst.nginx = add('nginx-proxy', P + 1, { kind: 'nginx' });
  if (wantPortico) {
    // portico/simple also serves as the reference of routes1000 and log (log off)
    inst.portico = add('portico', P + 2, { kind: 'portico', admin: P + 22, cfgKind: 'simple', accessLog: false });
    if (sc.has('routes1000')) inst.porticoRoutes = add('portico-routes1000', P + 3, { kind: 'portico', admin: P + 23, cfgKind: 'routes1000', accessLog: false });
    if (sc.has('log')) inst.porticoLog = add('portico-log', P + 4, { kind: 'portico', admin: P + 24, cfgKind: 'simple', accessLog: true });
  }
  if (sc.has('simple')) {
    let off = 5;
    for (const name of Object.keys(NODE_PROXIES)) {
      const port = P + off++;
      if (cfg.contenders.includes(name)) inst[name] = add(name, port, { kind: 'node' });
    }
  }

  // Turns, in the order they run within a round (Portico's own variants adjacent).
  const turns = [];
  const turn = (i, contender, scenario, extra = {}) => {
    if (i) turns.push({ inst: i, contender, scenario, path: '/', host: 'bench.local', headers: [], ...extra });
  };
  turn(inst.nginx, 'nginx-proxy', 'simple');
  turn(inst.portico, 'portico', 'simple');
  turn(inst.porticoRoutes, 'portico', 'routes1000', {
    // "Host" spelled exactly so: wrk adds a second Host header for any other spelling
    host: ROUTES_TARGET.host, path: ROUTES_TARGET.path, headers: [`Host: ${ROUTES_TARGET.host}`, ...ROUTES_HEADERS],
  });
  turn(inst.porticoLog, 'portico', 'log');
  for (const name of Object.keys(NODE_PROXIES)) turn(inst[name], name, 'simple');
  for (const t of turns) if (t.scenario === 'simple' && !sc.has('simple')) t.reference = true;
  if (turns.length === 0) fatal('nothing to run: check CONTENDERS and SCENARIOS (routes1000 and log need portico)');

  for (const p of [upstream.port, ...instances.flatMap((i) => [i.port, i.admin].filter(Boolean))]) {
    if (!(await portFree(p))) fatal(`port ${p} on 127.0.0.1 is in use (set BENCH_PORT_BASE)`);
  }

  log(`tmp ${TMP}; pin=${cfg.pin ? `proxy CPU ${cfg.proxyCpu}, wrk+upstream CPU ${cfg.loadCpu}` : 'off'}; ` +
    `rounds=${cfg.rounds} duration=${cfg.duration}s warmup=${cfg.warmup}s; turns: ${turns.map((t) => `${t.contender}/${t.scenario}`).join(', ')}`);

  // Upstream (fatal if it does not come up).
  upstreamRec = upstream.rec = startServer('upstream', 'nginx', ['-c', writeNginxUpstream(upstream.port), '-p', TMP], { cpu: cfg.loadCpu });
  try { await waitReady(upstream.rec, upstream.port, 'upstream', '/'); } catch (e) { fatal(`upstream nginx: ${e.message}`); }

  // Builds with --workers default to one worker per CPU; the bench wants PORTICO_WORKERS (1).
  const porticoHasWorkers = wantPortico && fs.existsSync(cfg.porticoEntry) &&
    sh(`${JSON.stringify(process.execPath)} ${JSON.stringify(cfg.porticoEntry)} run --help 2>&1`).includes('--workers');

  // Contenders: a failure is noted and the contender dropped.
  const starters = {
    nginx: (i) => startServer(i.name, 'nginx', ['-c', writeNginxProxy(i.port, upstream.port), '-p', TMP], { cpu: cfg.proxyCpu }),
    portico: (i) => {
      if (!fs.existsSync(cfg.porticoEntry)) throw new Error(`${path.relative(ROOT, cfg.porticoEntry)} not found: run \`npm run build\` first`);
      const dir = path.join(TMP, `${i.name}-config`);
      if (i.cfgKind === 'routes1000') writePorticoRoutes(dir, i.port, upstream.port);
      else writePorticoSimple(dir, i.port, upstream.port);
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
  // All start at once (start-up is the slow part of a quick run), each checked on its own.
  await Promise.all(instances.map(async (i) => {
    const t = turns.find((x) => x.inst === i);
    try {
      i.rec = starters[i.kind](i);
      const ms = await waitReady(i.rec, i.port, t.host, t.path);
      log(`${i.name} ready on :${i.port} in ${ms} ms (pid ${i.rec.pid})`);
    } catch (e) {
      i.failed = e.message;
      i.skipped = /^skipped/.test(e.message);
      if (i.rec) await stopServer(i.rec);
      notes.push(`**${i.name}**: ${/^skipped/.test(e.message) ? '' : 'FAILED to start: '}${e.message}`);
      log(`${i.name}: ${e.message}`);
    }
  }));
  // routes1000 sanity: an unknown host must not be routed (the table is really in use).
  if (inst.porticoRoutes && !inst.porticoRoutes.failed) {
    const r = await get(inst.porticoRoutes.port, 'no-such-host.bench.internal', '/api/res10/items');
    notes.push(`routes1000 check: unknown host → ${r.status ?? r.error} (expected 404); target ${ROUTES_TARGET.host}${ROUTES_TARGET.path} → 200 "ok".`);
  }

  const live = (t) => !t.inst.failed && !t.inst.rec.exited;
  const markDead = (t) => {
    if (!t.inst.failed && t.inst.rec.exited) {
      t.inst.failed = `exited (${t.inst.rec.exit}) during the run: ${tailLog(t.inst.rec)}`;
      notes.push(`**${t.inst.name}**: FAILED: ${t.inst.failed}`);
    }
  };

  if (cfg.warmup > 0) {
    for (const t of turns) if (live(t)) await runWrk(t, cfg.warmup, false);
    log('warm-up done');
  }

  const runs = [];
  for (let round = 1; round <= cfg.rounds; round++) {
    for (const t of turns) {
      markDead(t);
      if (!live(t)) continue;
      let bg = await backgroundCores(cfg.pauseMs);
      // Optional quiet gate: wait (bounded) for other tenants to calm down before the turn.
      for (const until = Date.now() + cfg.quietWaitS * 1000; cfg.quietMax > 0 && bg >= cfg.quietMax && Date.now() < until;) {
        bg = await backgroundCores(500);
      }
      const r = await measure(t, upstreamRec);
      r.bgCores = bg;
      markDead(t);
      if (r.problem) notes.push(`${t.contender}/${t.scenario} round ${round}: ${r.problem}`);
      runs.push({ round, turn: t, ...r });
      log(`round ${round} ${`${t.contender}/${t.scenario}`.padEnd(28)} ${fmtInt(r.rps).padStart(7)} req/s  p50 ${fmt2(r.p50)} p99 ${fmt2(r.p99)} ms  ` +
        `cpu ${fmt1(r.cpuUsPerReq)} µs/req (${fmt2(r.proxyCores)} cores)  rss ${fmt1(r.rssMiB)} MiB  other load before ${fmt2(bg)} / during ${fmt2(r.otherCores)} cores${r.errors ? `  ERRORS ${r.errors}` : ''}`);
    }
  }
  return report(turns, runs);
}

const BUSY_OTHER = 0.3; // cores of other load during a turn that make the run "shared"

function report(turns, runs) {
  const of = (t) => runs.filter((r) => r.turn === t);
  const find = (contender, scenario) => turns.find((t) => t.contender === contender && t.scenario === scenario);
  // Median over rounds of a/b, both measured in the same round.
  const sameRound = (a, b, key = 'rps') => {
    if (!a || !b) return { v: NaN, n: 0 };
    const ratios = of(a).map((ra) => {
      const rb = runs.find((x) => x.turn === b && x.round === ra.round);
      return rb ? ra[key] / rb[key] : NaN;
    });
    return { v: median(ratios), n: finite(ratios).length, min: Math.min(...finite(ratios)), max: Math.max(...finite(ratios)) };
  };
  const nginx = find('nginx-proxy', 'simple');
  const L = [];
  L.push('| contender | scenario | req/s median (min–max) | × nginx-proxy, same round | p50 ms | p99 ms | proxy CPU µs/req | proxy cores | RSS MiB peak | errors | other load, cores |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const t of turns) {
    const rs = of(t);
    const label = t.scenario === 'log' ? 'log (access log on → /dev/null)' : t.scenario + (t.reference ? ' (reference)' : '');
    if (rs.length === 0) {
      L.push(`| ${t.contender} | ${label} | ${t.inst.failed ? 'failed / skipped' : 'no runs'} | - | - | - | - | - | - | - | - |`);
      continue;
    }
    const ratio = t === nginx ? { v: 1, n: rs.length } : sameRound(t, nginx);
    L.push(`| ${t.contender} | ${label} | ${range(rs.map((r) => r.rps), fmtInt)} | ${ratio.n ? fmt2(ratio.v) : '-'} | ` +
      `${fmt2(median(rs.map((r) => r.p50)))} | ${fmt2(median(rs.map((r) => r.p99)))} | ${fmt1(median(rs.map((r) => r.cpuUsPerReq)))} | ` +
      `${fmt2(median(rs.map((r) => r.proxyCores)))} | ${fmt1(Math.max(...rs.map((r) => r.rssMiB)))} | ${rs.reduce((a, r) => a + r.errors, 0)} | ` +
      `${rs.map((r) => fmt1(r.otherCores)).join(' ')} |`);
  }

  const portico = find('portico', 'simple');
  const line = (label, r, extra = '') => (r.n ? `${label} = ${fmt2(r.v)}${r.n > 1 ? ` (per-round ${fmt2(r.min)}–${fmt2(r.max)}, n=${r.n})` : ''}${extra}` : `${label} = n/a${extra}`);
  const nodeTurns = turns.filter((t) => NODE_PROXIES[t.contender] && of(t).length > 0);
  let fastest = null;
  for (const t of nodeTurns) if (!fastest || median(of(t).map((r) => r.rps)) > median(of(fastest).map((r) => r.rps))) fastest = t;
  const S = [];
  S.push(line('Portico / nginx', sameRound(portico, nginx)));
  S.push(line('Portico / fastest Node proxy', sameRound(portico, fastest), fastest ? ` (fastest: ${fastest.contender})` : ' (no Node proxy ran)'));
  const cpuP = portico ? median(of(portico).map((r) => r.cpuUsPerReq)) : NaN;
  const cpuN = fastest ? median(of(fastest).map((r) => r.cpuUsPerReq)) : NaN;
  S.push(`Portico CPU µs/req / fastest Node proxy CPU µs/req = ${Number.isFinite(cpuP / cpuN) ? `${fmt2(cpuP / cpuN)} (${fmt1(cpuP)} / ${fmt1(cpuN)}, ${fastest.contender})` : 'n/a'}`);
  const rt = sameRound(find('portico', 'routes1000'), portico);
  S.push(line('routes1000 / simple', rt, rt.n ? ` (target ≥ 0.90: ${rt.v >= 0.9 ? 'met' : 'NOT met'})` : ''));
  const lg = sameRound(find('portico', 'log'), portico);
  S.push(line('log on / log off', lg));

  const nginxV = sh('nginx -v 2>&1').replace(/^nginx version: /, '');
  const rev = sh(`git -C ${JSON.stringify(ROOT)} rev-parse --short HEAD`);
  const dirty = rev && sh(`git -C ${JSON.stringify(ROOT)} status --porcelain --untracked-files=no`) ? ' + uncommitted changes' : '';
  const porticoWhat = cfg.porticoEntry.startsWith(`${ROOT}/`) ? `${rev || '?'}${dirty}` : `from ${cfg.porticoEntry} (not this checkout's dist/)`;
  const knobs = ['ROUNDS', 'DURATION', 'WARMUP', 'CONNS', 'THREADS', 'PIN', 'PROXY_CPU', 'LOAD_CPU', 'CONTENDERS', 'SCENARIOS', 'BENCH_NODE_DIR', 'BENCH_PORT_BASE', 'PORTICO_ENTRY', 'PORTICO_NODE_ARGS', 'PORTICO_WORKERS', 'QUIET_MAX', 'QUIET_WAIT_S']
    .filter((k) => env[k] !== undefined).map((k) => `${k}=${/[\s'"]/.test(env[k]) ? `'${env[k]}'` : env[k]}`);
  const stamp = new Date().toISOString();
  const head = [
    `# Portico bench — ${stamp}`,
    '',
    `- Command: \`${[...knobs, 'npm run bench'].join(' ')}\``,
    `- Machine: ${NCPU} CPUs (${os.cpus()[0]?.model?.trim() ?? '?'}), kernel ${os.release()}, node ${process.version}, nginx ${nginxV || '?'}, ${sh('wrk -v 2>&1 | head -1').split(' ').slice(0, 2).join(' ') || 'wrk ?'}; Portico ${porticoWhat}`,
    `- Load: \`wrk -t${cfg.threads} -c${cfg.conns} -d${cfg.duration}s --latency\` per turn, ${cfg.rounds} round(s), contenders take turns within each round; warm-up ${cfg.warmup} s each. ` +
      (cfg.pin ? `Pinned: proxies on CPU ${cfg.proxyCpu}, wrk + upstream nginx on CPU ${cfg.loadCpu}.` : 'Not pinned.'),
    `- Upstream: nginx 1 worker, \`return 200 "ok"\`, keep-alive. Ratios are per round, then the median. CPU µs/req = CPU time (utime+stime, CLK_TCK ${HZ}) of the proxy's process tree ÷ requests.`,
    `- Other load (CPU used by other processes during the turns, machine total minus proxy, upstream, wrk and this harness; last column, per round): ${range(runs.map((r) => r.otherCores), fmt2)} cores` +
      (cfg.quietMax > 0 ? ` (quiet gate: waited up to ${cfg.quietWaitS} s per turn for < ${cfg.quietMax} cores)` : '') +
      `${Math.max(0, ...finite(runs.map((r) => r.otherCores))) > BUSY_OTHER ? ' — **the machine was shared: compare same-round ratios and CPU µs/req of turns with low other load, not absolute req/s**' : ''}; ` +
      `loadavg at end ${fs.readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ')}; wall time ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    '',
  ];
  const text = [...head, ...L, '', ...S.map((s) => `- ${s}`), ...(notes.length ? ['', 'Notes:', '', ...notes.map((n) => `- ${n}`)] : []), ''].join('\n');
  const dir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${stamp.replace(/[:.]/g, '-').slice(0, 19)}.md`);
  fs.writeFileSync(file, text);
  process.stdout.write(`${text}\n`);
  log(`wrote ${path.relative(ROOT, file)}`);
  return turns.some((t) => t.inst.failed && !t.inst.skipped); // keep TMP (logs) after a real failure
}

// ------------------------------------------------------------------ run

let exiting = false;
async function finish(code, keep) {
  if (exiting) return;
  exiting = true;
  await stopAll();
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
