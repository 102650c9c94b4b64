/**
 * Graceful drain under steady load (issue #5 item 5, F43), through the real CLI and signals:
 * SIGTERM → /ready 503 at once; listeners keep accepting during --drain-delay; then busy
 * HTTP/1.1 connections get `connection: close`, HTTP/2 sessions get GOAWAY, in-flight requests
 * finish; exit 0; no request that had started fails. Once as a single process, once with
 * workers (the primary drains them).
 *
 * The clients play the part of a load balancer too: they open new connections to the gateway
 * until 300 ms after SIGTERM (the balancer noticed /ready 503), and only reuse the ones they
 * have after that. The drain delay (700 ms) is longer than that, as docs/operations.md asks:
 * a connection that arrives after the listening socket closed is refused (or, if the kernel
 * had queued it just before, reset), which no server can avoid.
 *
 * Needs `npx tsc -p tsconfig.json` first (npm test does it).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort, istioGatewayYaml, request, serviceYaml, sleep, virtualServiceYaml, waitFor } from '../helpers/gateway.js';
import { killIfRunning, readyStatus, spawnCli, startLoad, startSlowBackend, waitReady, type Child } from '../helpers/load.js';

describe('graceful drain under load (F43)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-drain-'));
  const children: Child[] = [];
  after(() => {
    for (const c of children) killIfRunning(c);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const workers of [1, 2]) {
    it(`--workers ${workers}: SIGTERM → /ready 503 at once, accepting during the delay, zero failed started requests, exit 0`, { timeout: 40_000 }, async (t) => {
      const backend = await startSlowBackend(10);
      try {
        const gwPort = await freePort();
        const adminPort = await freePort();
        const dir = path.join(tmp, `w${workers}`);
        fs.mkdirSync(dir);
        fs.writeFileSync(path.join(dir, 'all.yaml'), [
          istioGatewayYaml(gwPort), serviceYaml('slow', [backend.port]),
          virtualServiceYaml('slow', '  - route: [{destination: {host: slow.demo.svc.cluster.local, port: {number: 80}}}]\n'),
        ].join('---\n'));
        const c = spawnCli(['run', '--config', dir, '--admin-port', String(adminPort), '--bind', '127.0.0.1', '--workers', String(workers),
          '--drain-delay', '700ms', '--drain-timeout', '5s', '--no-access-log']);
        children.push(c);
        await waitReady(c, adminPort);

        let balancerNoticed = false;
        const load = startLoad(gwPort, { clients: 6, h2Clients: 2, reconnect: () => !balancerNoticed });
        await waitFor(() => load.stats.ok > 100, 10_000);
        const t0 = Date.now();
        c.child.kill('SIGTERM');
        setTimeout(() => { balancerNoticed = true; }, 300);
        await waitFor(async () => (await readyStatus(adminPort)) === 503, 1000, 5);
        const readyAfterMs = Date.now() - t0;
        assert.ok(readyAfterMs < 500, `/ready turned 503 after ${readyAfterMs} ms`);

        // Still accepting during --drain-delay: a brand-new connection is served.
        await sleep(200);
        const fresh = await request(gwPort, { path: '/fresh', host: 'load.test' });
        assert.equal(fresh.status, 200);
        assert.equal(await readyStatus(adminPort), 503, '/ready stays 503 while draining');
        const okDuringDelay = load.stats.ok;

        const ex = await c.exited;
        const drainMs = Date.now() - t0;
        const stats = await load.stop();
        assert.equal(ex.code, 0, `exit ${ex.code}/${ex.signal}: ${c.out.stderr}`);
        assert.equal(stats.failed, 0, `failed started requests: ${stats.reasons.join('; ')}`);
        assert.equal(stats.refused, 0, 'no client was refused while the balancer still sent connections');
        assert.ok(okDuringDelay > 100, 'load was served');
        assert.ok(stats.closing > 0, 'busy HTTP/1.1 connections were told connection: close');
        assert.ok(stats.goaways > 0, 'HTTP/2 sessions got GOAWAY');
        assert.ok(drainMs >= 700, `exited after ${drainMs} ms, before the drain delay ended`);
        assert.ok(drainMs < 700 + 5000, `drain took ${drainMs} ms`);
        assert.match(c.out.stderr, /SIGTERM/);
        // After the delay the listener is closed: a new connection is refused.
        await assert.rejects(request(gwPort, { path: '/late' }), /ECONNREFUSED/);
        t.diagnostic(`drain --workers ${workers}: ok=${stats.ok} failed=${stats.failed} refused=${stats.refused} connection-close=${stats.closing} goaway=${stats.goaways} ready503After=${readyAfterMs}ms exitAfter=${drainMs}ms`);
      } finally {
        await backend.close();
      }
    });
  }
});
