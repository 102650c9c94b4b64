/**
 * `portico run --workers 2` through the real CLI (issue #5 items 4 and 6): the workers share
 * the listeners (both get connections), the primary's admin API merges their figures, a
 * config change reaches both and /config_dump reports the generation both acknowledged,
 * SIGHUP replaces every worker under load without a failed or refused request, and a killed
 * worker is replaced while the other keeps serving.
 *
 * Needs `npx tsc -p tsconfig.json` first (npm test does it).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, getJson, istioGatewayYaml, request, serviceYaml, sleep, virtualServiceYaml, waitFor } from '../helpers/gateway.js';
import { killIfRunning, readyStatus, spawnCli, startLoad, startSlowBackend, waitReady, type Child } from '../helpers/load.js';

interface WorkersView {
  desired: number;
  ready: boolean;
  replacedAfterCrash: number;
  latestGeneration: number;
  ackedGeneration: number;
  workers: { id: number; pid: number; slot: number; status: string; generation: number; irHash: string; connections?: number; requestsTotal?: number }[];
}

interface Dump {
  generation: number;
  workers: { latestGeneration: number; ackedGeneration: number; perWorker: { worker: number; pid: number; generation: number; irHash: string }[] };
}

/** `n` requests, each on its own connection, `parallel` at a time. */
async function freshRequests(port: number, n: number, parallel: number, host = 'load.test'): Promise<{ status: number; headers: Record<string, unknown> }[]> {
  const out: { status: number; headers: Record<string, unknown> }[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < n) {
      next++;
      const r = await request(port, { path: '/fresh', host });
      out.push({ status: r.status, headers: r.headers });
    }
  }));
  return out;
}

function vs(extra = ''): string {
  return virtualServiceYaml('slow', `  - route: [{destination: {host: slow.demo.svc.cluster.local, port: {number: 80}}}]\n${extra}`);
}

describe('portico run --workers 2', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-workers-'));
  let backend: Awaited<ReturnType<typeof startSlowBackend>>;
  let c: Child;
  let gwPort = 0;
  let adminPort = 0;

  before(async () => {
    backend = await startSlowBackend(2);
    gwPort = await freePort();
    adminPort = await freePort();
    fs.writeFileSync(path.join(tmp, 'base.yaml'), [istioGatewayYaml(gwPort), serviceYaml('slow', [backend.port])].join('---\n'));
    fs.writeFileSync(path.join(tmp, 'routes.yaml'), vs());
    c = spawnCli(['run', '--config', tmp, '--admin-port', String(adminPort), '--bind', '127.0.0.1', '--workers', '2', '--drain-timeout', '3s', '--no-access-log']);
    await waitReady(c, adminPort);
  });

  after(async () => {
    if (c && c.child.exitCode === null) {
      c.child.kill('SIGTERM');
      await Promise.race([c.exited, sleep(8000)]);
    }
    killIfRunning(c);
    await backend?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('shares the listeners: both workers accept connections; /workers and /clusters merge their counts', async (t) => {
    const rs = await freshRequests(gwPort, 200, 10);
    assert.ok(rs.every((r) => r.status === 200));
    const w = await getJson<WorkersView>(adminPort, '/workers');
    assert.equal(w.desired, 2);
    assert.equal(w.workers.length, 2);
    const per = w.workers.map((x) => x.requestsTotal ?? 0);
    t.diagnostic(`requests per worker: ${per.join(' / ')}`);
    assert.ok(per.every((n) => n > 0), `both workers got traffic: ${per.join(' / ')}`);
    assert.equal(per.reduce((a, b) => a + b, 0), 200);
    const clusters = await getJson<{ name: string; requestsTotal: number; endpoints: { requestsTotal: number }[] }[]>(adminPort, '/clusters');
    const slow = clusters.find((x) => x.name.includes('slow.demo'))!;
    assert.equal(slow.requestsTotal, 200, 'merged /clusters sums the workers');
    assert.equal(slow.endpoints[0]!.requestsTotal, 200);
    const listeners = await getJson<{ bound: boolean; port: number }[]>(adminPort, '/listeners');
    assert.deepEqual(listeners.map((l) => [l.port, l.bound]), [[gwPort, true]]);
    assert.equal(await readyStatus(adminPort), 200);
  });

  it('a config change reaches every worker; /config_dump reports the generation all acknowledged', async () => {
    const before = await getJson<Dump>(adminPort, '/config_dump');
    assert.equal(before.generation, 1);
    fs.writeFileSync(path.join(tmp, '.routes.tmp'), vs('    headers: {response: {set: {x-gen: "two"}}}\n'));
    fs.renameSync(path.join(tmp, '.routes.tmp'), path.join(tmp, 'routes.yaml'));
    const dump = await waitFor(async () => {
      const d = await getJson<Dump>(adminPort, '/config_dump');
      return d.generation === 2 ? d : undefined;
    }, 5000, 50);
    assert.equal(dump.workers.latestGeneration, 2);
    assert.equal(dump.workers.perWorker.length, 2);
    assert.ok(dump.workers.perWorker.every((p) => p.generation === 2));
    assert.equal(new Set(dump.workers.perWorker.map((p) => p.irHash)).size, 1, 'both workers built the same IR');
    const rs = await freshRequests(gwPort, 40, 8);
    assert.ok(rs.every((r) => r.status === 200 && r.headers['x-gen'] === 'two'), 'every worker serves generation 2 once acknowledged');
  });

  it('SIGHUP re-forks every worker one by one under load: zero failed or refused requests', { timeout: 40_000 }, async (t) => {
    const old = await getJson<WorkersView>(adminPort, '/workers');
    const oldPids = new Set(old.workers.map((x) => x.pid));
    const load = startLoad(gwPort, { clients: 6 });
    await waitFor(() => load.stats.ok > 100, 10_000);
    const t0 = Date.now();
    c.child.kill('SIGHUP');
    let sawNotReady = false;
    const now = await waitFor(async () => {
      if ((await readyStatus(adminPort)) !== 200) sawNotReady = true;
      const w = await getJson<WorkersView>(adminPort, '/workers');
      return w.workers.length === 2 && w.workers.every((x) => !oldPids.has(x.pid) && x.status === 'ready') ? w : undefined;
    }, 30_000, 50);
    const restartMs = Date.now() - t0;
    const okAtSwitch = load.stats.ok;
    await waitFor(() => load.stats.ok > okAtSwitch + 100, 10_000);
    const stats = await load.stop();
    assert.equal(stats.failed, 0, `failed: ${stats.reasons.join('; ')}`);
    assert.equal(stats.refused, 0, 'the listening socket never closed');
    assert.ok(!sawNotReady, '/ready stayed 200 during the restart');
    // The kernel hands each new connection to whichever worker accepts first (SCHED_NONE): the
    // load's keep-alive clients may all have landed on one, so fresh connections check the other.
    const served = await waitFor(async () => {
      const w = await getJson<WorkersView>(adminPort, '/workers');
      if (w.workers.every((x) => (x.requestsTotal ?? 0) > 0)) return w;
      await freshRequests(gwPort, 20, 4);
      return undefined;
    }, 10_000, 50).catch(() => undefined);
    assert.ok(served !== undefined, 'both new workers serve');
    assert.ok(now.workers.every((x) => x.generation === 2), 'new workers start on the newest generation');
    assert.match(c.out.stderr, /Rolling restart done/);
    t.diagnostic(`restart: ${restartMs} ms; ok=${stats.ok} failed=${stats.failed} refused=${stats.refused} connection-close=${stats.closing}`);
  });

  it('a killed worker is replaced; the other keeps serving; only requests on its connections fail', { timeout: 40_000 }, async (t) => {
    const load = startLoad(gwPort, { clients: 8 });
    await waitFor(() => load.stats.ok > 100, 10_000);
    const w = await getJson<WorkersView>(adminPort, '/workers');
    const victim = [...w.workers].sort((a, b) => (b.connections ?? 0) - (a.connections ?? 0))[0]!;
    const survivor = w.workers.find((x) => x.pid !== victim.pid)!;
    const victimConns = victim.connections ?? 0;
    process.kill(victim.pid, 'SIGKILL');
    const okAtKill = load.stats.ok;
    const replaced = await waitFor(async () => {
      const v = await getJson<WorkersView>(adminPort, '/workers');
      return v.replacedAfterCrash === 1 && v.workers.length === 2 && v.workers.every((x) => x.status === 'ready') ? v : undefined;
    }, 20_000, 50);
    await waitFor(() => load.stats.ok > okAtKill + 100, 10_000);
    const stats = await load.stop();
    assert.ok(replaced.workers.some((x) => x.pid === survivor.pid), 'the other worker kept running');
    assert.ok(!replaced.workers.some((x) => x.pid === victim.pid));
    assert.ok(stats.failed <= victimConns, `${stats.failed} failures, but only ${victimConns} connections were on the killed worker: ${stats.reasons.join('; ')}`);
    assert.equal(stats.refused, 0);
    assert.match(c.out.stderr, /WORKER_EXITED/);
    assert.equal(await readyStatus(adminPort), 200);
    t.diagnostic(`crash: killed worker had ${victimConns} of 8 connections; failed=${stats.failed} (${stats.reasons.join('; ')}) ok=${stats.ok}`);
  });
});
