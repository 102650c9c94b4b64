/**
 * Hot reload under load: 50 rewrites of a VirtualService file (every 5th one invalid: broken
 * YAML, an illegal redirectCode, a misspelt field plus a wrong type) while 4 keep-alive
 * clients loop requests. No request may fail, invalid writes keep the previous routing in
 * full, valid writes take effect within a second, and /config_dump tells what happened.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EchoServer } from '../../src/cli/echo.js';
import {
  freePort, getJson, istioGatewayYaml, request, serviceYaml, sleep, startEchos, startTestGateway,
  virtualServiceYaml, type TestGateway,
} from '../helpers/gateway.js';

const A = '[{destination: {host: echo-a.demo.svc.cluster.local, port: {number: 80}}}]';
const B = '[{destination: {host: echo-b.demo.svc.cluster.local, port: {number: 80}}}]';

/** A valid generation `v` of the file: /stable always echo-a, /version answers `v<v>`, /flip alternates. */
function validVs(v: number): string {
  return virtualServiceYaml('vs', `  - name: stable
    match: [{uri: {prefix: /stable}}]
    route: ${A}
  - name: version
    match: [{uri: {exact: /version}}]
    directResponse: {status: 200, body: {string: "v${v}"}}
  - name: flip
    match: [{uri: {prefix: /flip}}]
    route: ${v % 2 === 0 ? A : B}
`);
}

type InvalidKind = 'yaml' | 'redirect' | 'type';

/**
 * An invalid version. Besides the error, it drops /stable and changes /version, so any
 * partial application of it shows up as failed load requests or a wrong /version body.
 */
function invalidVs(v: number, kind: InvalidKind): string {
  switch (kind) {
    case 'yaml':
      return `${validVs(v).replace('name: stable', 'name: [stable')}  - name: broken\n    match: {{{\n`;
    case 'redirect':
      return virtualServiceYaml('vs', `  - name: version
    match: [{uri: {exact: /version}}]
    directResponse: {status: 200, body: {string: "bad-${v}"}}
  - name: moved
    match: [{uri: {prefix: /moved}}]
    redirect: {uri: /elsewhere, redirectCode: 999}
`);
    case 'type':
      return virtualServiceYaml('vs', `  - name: version
    match: [{uri: {exact: /version}}]
    directResponse: {status: 200, body: {string: "bad-${v}"}}
  - name: typo
    match: [{uri: {prefx: /typo}}]
    retries: {attempts: "three"}
    route: ${A}
`);
  }
}

interface LoadStats { ok: number; failed: number; failures: string[] }

/** `clients` keep-alive clients each looping GET /stable until `stop()` is called. */
function startLoad(port: number, clients: number): { stats: LoadStats; stop(): Promise<void> } {
  const stats: LoadStats = { ok: 0, failed: 0, failures: [] };
  let running = true;
  const agents: http.Agent[] = [];
  const loops: Promise<void>[] = [];
  for (let c = 0; c < clients; c++) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    loops.push((async () => {
      while (running) {
        const outcome = await new Promise<string>((resolve) => {
          const req = http.request({ host: '127.0.0.1', port, path: '/stable', agent, headers: { host: 'reload.test' } }, (res) => {
            let b = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => { b += d; });
            res.on('end', () => {
              if (res.statusCode !== 200) { resolve(`status ${res.statusCode}: ${b.slice(0, 100)}`); return; }
              try { resolve(JSON.parse(b).name === 'echo-a' ? '' : `wrong backend: ${b.slice(0, 100)}`); } catch { resolve(`bad body: ${b.slice(0, 100)}`); }
            });
            res.on('error', (e) => resolve(`response error: ${e.message}`));
          });
          req.on('error', (e) => resolve(`request error: ${e.message}`));
          req.end();
        });
        if (outcome === '') stats.ok++;
        else { stats.failed++; if (stats.failures.length < 10) stats.failures.push(outcome); }
      }
    })());
  }
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const a of agents) a.destroy();
    },
  };
}

interface Dump {
  generation: number;
  reloads: { applied: number; rejected: number };
  snapshot: { version: number } | null;
  resources: { kind: string; namespace: string; name: string; status: string; diagnostics?: { severity: string; code: string; path: string; message: string }[] }[];
  fileDiagnostics: { severity: string; code: string; message: string; origin?: string }[];
}

describe('reload under load', () => {
  let gw: TestGateway;
  let echos: EchoServer[];
  let port: number;

  before(async () => {
    echos = await startEchos('echo-a', 'echo-b');
    const [a, b] = echos as [EchoServer, EchoServer];
    port = await freePort();
    gw = await startTestGateway({
      'gw.yaml': istioGatewayYaml(port),
      'svc.yaml': [serviceYaml('echo-a', [a.port]), serviceYaml('echo-b', [b.port])].join('---\n'),
      'vs.yaml': validVs(0),
    });
  });

  after(async () => {
    await gw?.close();
    await Promise.all((echos ?? []).map((e) => e.close()));
  });

  async function body(p: string): Promise<string> {
    return (await request(port, { path: p, host: 'reload.test' })).body;
  }

  it('a single invalid write keeps the previous routing in full', async () => {
    await gw.write('vs.yaml', validVs(1));
    assert.equal(await body('/version'), 'v1');
    for (const kind of ['yaml', 'redirect', 'type'] as const) {
      await gw.write('vs.yaml', invalidVs(2, kind));
      await sleep(200); // debounce + apply, in case the reload hook does not fire for rejected writes
      assert.equal(await body('/version'), 'v1', `${kind}: the invalid write changed /version`);
      const st = await request(port, { path: '/stable', host: 'reload.test' });
      assert.equal(st.status, 200, `${kind}: /stable lost`);
      assert.equal(JSON.parse(st.body).name, 'echo-a');
      assert.equal(JSON.parse(await body('/flip')).name, 'echo-b', `${kind}: /flip changed`);
      assert.equal((await request(port, { path: '/moved', host: 'reload.test' })).status, 404, `${kind}: a route of the invalid write is live`);
    }
    const dump = await getJson<Dump>(gw.adminPort, '/config_dump');
    const vs = dump.resources.find((r) => r.kind === 'VirtualService' && r.name === 'vs');
    assert.ok(vs, 'VirtualService demo/vs in /config_dump');
    assert.ok((vs.diagnostics ?? []).some((d) => d.severity === 'error' && /retries\.attempts/.test(d.path)),
      `diagnostics: ${JSON.stringify(vs.diagnostics)}`);
  });

  it('a valid change takes effect within 1 s', async (t) => {
    const t0 = Date.now();
    const tmp = path.join(gw.dir, '.vs.yaml.manual');
    fs.writeFileSync(tmp, validVs(777));
    fs.renameSync(tmp, path.join(gw.dir, 'vs.yaml'));
    let took = -1;
    while (Date.now() - t0 < 3000) {
      if (await body('/version') === 'v777') { took = Date.now() - t0; break; }
      await sleep(10);
    }
    t.diagnostic(`valid change visible after ${took} ms`);
    assert.ok(took >= 0 && took <= 1000, `took ${took} ms (-1 = not within 3 s)`);
    assert.equal(JSON.parse(await body('/flip')).name, 'echo-b');
  });

  it('50 rewrites (every 5th invalid) under steady load: zero failed requests, last valid generation served', async (t) => {
    await gw.write('vs.yaml', validVs(1000));
    const before = await getJson<Dump>(gw.adminPort, '/config_dump');
    const load = startLoad(port, 4);
    await sleep(200);
    const kinds: InvalidKind[] = ['yaml', 'redirect', 'type'];
    let lastValid = 1000;
    let invalid = 0;
    for (let i = 1; i <= 50; i++) {
      if (i % 5 === 0) {
        const kind = kinds[(i / 5) % 3]!;
        invalid++;
        await Promise.race([gw.write('vs.yaml', invalidVs(1000 + i, kind)), sleep(1000)]);
      } else {
        lastValid = 1000 + i;
        await gw.write('vs.yaml', validVs(lastValid));
      }
      await sleep(50);
    }
    await sleep(300);
    await load.stop();
    const { stats } = load;
    t.diagnostic(`${stats.ok} requests ok, ${stats.failed} failed during 50 rewrites`);
    assert.equal(stats.failed, 0, `failed ${stats.failed} of ${stats.ok + stats.failed}: ${stats.failures.join(' | ')}`);
    assert.ok(stats.ok > 100, `only ${stats.ok} requests completed during the reloads`);
    assert.equal(await body('/version'), `v${lastValid}`);
    assert.equal(JSON.parse(await body('/flip')).name, lastValid % 2 === 0 ? 'echo-a' : 'echo-b');

    const dump = await getJson<Dump>(gw.adminPort, '/config_dump');
    assert.equal(dump.snapshot?.version, dump.generation);
    assert.equal(dump.generation, before.generation + 40, `generation ${before.generation} → ${dump.generation}, want +40 (one per valid write)`);
    assert.ok(dump.reloads.rejected - before.reloads.rejected >= invalid, `rejected reloads ${before.reloads.rejected} → ${dump.reloads.rejected}`);
    // The 50th write (redirectCode 999) is the last one: its diagnostics are listed on the resource.
    const vs = dump.resources.find((r) => r.kind === 'VirtualService' && r.name === 'vs');
    assert.ok(vs, 'VirtualService demo/vs in /config_dump');
    const diag = (vs.diagnostics ?? []).find((d) => d.severity === 'error' && /redirectCode/.test(d.path));
    assert.ok(diag, `no redirectCode error on VirtualService demo/vs: ${JSON.stringify(vs.diagnostics)}`);
  });
});
