/**
 * The admin API of the primary (`--workers N`). Each worker runs the ordinary admin API
 * (src/admin/server.ts) on a private 127.0.0.1 port; this server answers on --admin-port by
 * asking every serving worker and merging, so every endpoint keeps one code path and new
 * endpoints work in both modes:
 *
 * - `/ready`: 200 when --workers workers are ready, 503 at once when draining (from IPC state,
 *   no fan-out: probes stay cheap);
 * - `/stats/prometheus`: the workers' expositions merged (merge-prometheus.ts);
 * - `/clusters`, `/listeners`: JSON merged, live counters summed;
 * - `/config_dump`: the first worker's dump, with `generation` = the generation every worker
 *   acknowledged and a `workers` list (generation and IR hash per worker);
 * - `/workers`: the primary's own view (pids, state, restarts, connections and requests each);
 * - anything else, or any path with `?worker=ID`: forwarded to one worker as is.
 */
import http from 'node:http';
import type { Logger } from '../gateway.js';
import { mergePrometheus } from './merge-prometheus.js';
import type { Primary, WorkerRecord } from './primary.js';

const ASK_TIMEOUT_MS = 2000;

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** GET `path` from one worker's private admin API; undefined if it does not answer in time. */
export function askWorker(port: number, path: string): Promise<Answer | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, timeout: ASK_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? 'text/plain'), body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/** Start the primary's admin API. */
export function startPrimaryAdmin(primary: Primary, opts: { readonly port: number; readonly address: string }, log: Logger): Promise<http.Server> {
  let lastMissingLog = 0;
  const onMissing = (ids: number[]): void => {
    // Rate-limited: a scraper must not flood the log while a worker restarts.
    if (ids.length === 0 || Date.now() - lastMissingLog < 10_000) return;
    lastMissingLog = Date.now();
    log.warn(`WORKER_ADMIN_UNAVAILABLE: Worker(s) ${ids.join(', ')} did not answer the admin API within ${ASK_TIMEOUT_MS} ms; merged figures leave them out`, { code: 'WORKER_ADMIN_UNAVAILABLE' });
  };
  const server = http.createServer((req, res) => {
    handle(primary, req, onMissing).then(
      (a) => send(res, a.status, a.body, a.type, a.headers),
      (e: unknown) => send(res, 500, `${JSON.stringify({ error: (e as Error).message })}\n`, 'application/json'),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.address, () => { server.removeListener('error', reject); resolve(server); });
  });
}

function send(res: http.ServerResponse, status: number, body: string, type: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...headers });
  res.end(body);
}

function json(body: unknown, status = 200): Answer & { headers?: Record<string, string> } {
  return { status, type: 'application/json', body: `${JSON.stringify(body, null, 2)}\n` };
}

/** Serving workers that have an admin API, lowest slot first. */
function reachable(primary: Primary): WorkerRecord[] {
  return primary.serving().filter((r) => r.state !== undefined && r.state.adminPort > 0).sort((a, b) => a.slot - b.slot || a.id - b.id);
}

async function fanOut(primary: Primary, path: string, onMissing: (ids: number[]) => void): Promise<{ rec: WorkerRecord; answer: Answer }[]> {
  const targets = reachable(primary);
  const answers = await Promise.all(targets.map(async (rec) => ({ rec, answer: await askWorker(rec.state!.adminPort, path) })));
  onMissing(answers.filter((a) => a.answer === undefined).map((a) => a.rec.id));
  return answers.filter((a): a is { rec: WorkerRecord; answer: Answer } => a.answer !== undefined);
}

async function handle(primary: Primary, req: http.IncomingMessage, onMissing: (ids: number[]) => void): Promise<Answer & { headers?: Record<string, string> }> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const only = url.searchParams.get('worker');
  if (only !== null) {
    url.searchParams.delete('worker');
    const rec = primary.workers().find((r) => String(r.id) === only || String(r.pid) === only);
    if (!rec?.state) return json({ error: `Unknown worker "${only}": see /workers` }, 404);
    const a = await askWorker(rec.state.adminPort, `${url.pathname}${url.search}`);
    return a ? { ...a, headers: { 'x-portico-worker': String(rec.id) } } : json({ error: `Worker ${rec.id} did not answer` }, 502);
  }
  switch (url.pathname) {
    case '/ready':
      if (primary.ready()) return { status: 200, type: 'text/plain', body: 'LIVE\n' };
      return { status: 503, type: 'text/plain', body: primary.draining ? 'DRAINING\n' : `NOT READY (${primary.serving().filter((r) => r.state?.ready).length}/${primary.desired} workers ready)\n` };
    case '/healthz':
      return { status: 200, type: 'text/plain', body: 'OK\n' };
    case '/workers':
      return json(await workersView(primary, onMissing));
    case '/config_dump': {
      const answers = await fanOut(primary, `${url.pathname}${url.search}`, onMissing);
      const first = answers.find((a) => a.answer.status === 200);
      if (!first) return json({ error: 'No worker answered' }, 503);
      const dump = JSON.parse(first.answer.body) as Record<string, unknown>;
      return json({
        ...dump,
        generation: primary.ackedGeneration(),
        workers: {
          latestGeneration: primary.latestGeneration,
          ackedGeneration: primary.ackedGeneration(),
          dumpFrom: first.rec.id,
          perWorker: primary.serving().map((r) => ({ worker: r.id, pid: r.pid, generation: r.state?.generation ?? 0, irHash: r.state?.irHash ?? '', ready: r.state?.ready === true })),
        },
      });
    }
    case '/clusters':
    case '/listeners': {
      const answers = (await fanOut(primary, url.pathname, onMissing)).filter((a) => a.answer.status === 200);
      if (answers.length === 0) return json({ error: 'No worker answered' }, 503);
      return json(mergeAdminJson(answers.map((a) => JSON.parse(a.answer.body) as unknown)));
    }
    case '/stats/prometheus': {
      const answers = await fanOut(primary, `${url.pathname}${url.search}`, onMissing);
      const ok = answers.filter((a) => a.answer.status === 200);
      if (ok.length === 0) return answers[0]?.answer ?? json({ error: 'No worker answered' }, 503);
      return { status: 200, type: ok[0]!.answer.type, body: mergePrometheus(ok.map((a) => a.answer.body)) };
    }
    case '/':
      return json({ endpoints: ['/ready', '/healthz', '/workers', '/config_dump', '/clusters', '/listeners', '/stats/prometheus', '/<any>?worker=ID'] });
    default: {
      const rec = reachable(primary)[0];
      if (!rec) return json({ error: 'No worker is running' }, 503);
      const a = await askWorker(rec.state!.adminPort, `${url.pathname}${url.search}`);
      return a ? { ...a, headers: { 'x-portico-worker': String(rec.id) } } : json({ error: `Worker ${rec.id} did not answer` }, 502);
    }
  }
}

interface Counts { connections: number; requests: number }

/** Connections and requests a worker has seen, from its own /listeners and /clusters. */
async function countsOf(port: number): Promise<Counts | undefined> {
  const [l, c] = await Promise.all([askWorker(port, '/listeners'), askWorker(port, '/clusters')]);
  if (!l || !c || l.status !== 200 || c.status !== 200) return undefined;
  const listeners = JSON.parse(l.body) as { connections?: number }[];
  const clusters = JSON.parse(c.body) as { requestsTotal?: number }[];
  return {
    connections: listeners.reduce((n, x) => n + (x.connections ?? 0), 0),
    requests: clusters.reduce((n, x) => n + (x.requestsTotal ?? 0), 0),
  };
}

async function workersView(primary: Primary, onMissing: (ids: number[]) => void): Promise<unknown> {
  const all = primary.workers();
  const counts = await Promise.all(all.map((r) => (r.state ? countsOf(r.state.adminPort) : Promise.resolve(undefined))));
  onMissing(all.filter((r, i) => r.state !== undefined && counts[i] === undefined && !r.retiring).map((r) => r.id));
  return {
    desired: primary.desired,
    ready: primary.ready(),
    draining: primary.draining,
    restarting: primary.restarting,
    replacedAfterCrash: primary.replaced,
    latestGeneration: primary.latestGeneration,
    ackedGeneration: primary.ackedGeneration(),
    workers: all.map((r, i) => ({
      id: r.id,
      pid: r.pid,
      slot: r.slot,
      status: r.retiring ? 'draining' : r.state === undefined ? 'starting' : r.state.ready ? 'ready' : 'not-ready',
      uptimeMs: Date.now() - r.startedAt,
      generation: r.state?.generation ?? 0,
      irHash: r.state?.irHash ?? '',
      ...(counts[i] ? { connections: counts[i]!.connections, requestsTotal: counts[i]!.requests } : {}),
    })),
  };
}

/** Fields that are live per-process counters: summed across workers. */
const SUMMED = new Set(['requestsActive', 'requestsTotal', 'open', 'idle', 'opened', 'connections']);
/** Fields true only when true in every worker. */
const ALL = new Set(['bound']);

/**
 * Merge the same admin JSON document from several workers: lists of objects are matched by
 * `name` (clusters, listeners) or `address` (endpoints), live counters are summed, `bound`
 * must hold everywhere, anything else is taken from the first worker that has it.
 */
export function mergeAdminJson(docs: readonly unknown[], key = ''): unknown {
  const present = docs.filter((d) => d !== undefined);
  const first = present[0];
  if (typeof first === 'number') return SUMMED.has(key) ? present.reduce<number>((n, d) => n + (typeof d === 'number' ? d : 0), 0) : first;
  if (typeof first === 'boolean') return ALL.has(key) ? present.every((d) => d === true) : first;
  if (Array.isArray(first)) {
    const idOf = (x: unknown): string | undefined => {
      if (typeof x !== 'object' || x === null) return undefined;
      const o = x as Record<string, unknown>;
      return typeof o.name === 'string' ? `name:${o.name}` : typeof o.address === 'string' ? `address:${o.address}` : undefined;
    };
    if (!first.every((x) => idOf(x) !== undefined)) return first;
    const groups = new Map<string, unknown[]>();
    for (const d of present) {
      if (!Array.isArray(d)) continue;
      for (const x of d) {
        const id = idOf(x);
        if (id === undefined) continue;
        let g = groups.get(id);
        if (!g) groups.set(id, (g = []));
        g.push(x);
      }
    }
    return [...groups.values()].map((g) => mergeAdminJson(g, key));
  }
  if (typeof first === 'object' && first !== null) {
    const out: Record<string, unknown> = {};
    const keys: string[] = [];
    for (const d of present) {
      if (typeof d !== 'object' || d === null || Array.isArray(d)) continue;
      for (const k of Object.keys(d)) if (!keys.includes(k)) keys.push(k);
    }
    for (const k of keys) {
      out[k] = mergeAdminJson(present.map((d) => (typeof d === 'object' && d !== null ? (d as Record<string, unknown>)[k] : undefined)), k);
    }
    return out;
  }
  return first;
}
