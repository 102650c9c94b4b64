/**
 * Memory at 10,000 idle keep-alive connections (issue #5 item 3): a single-process gateway
 * (`--workers 1`), each connection did one request through it to a backend and stays open and
 * idle; the gateway's resident set (VmRSS from /proc) must stay under 150 MB (10^6 bytes,
 * the stricter reading: 143 MiB).
 *
 * Both the gateway and the client process run under `ulimit -n <hard limit>` (bash wrapper);
 * the test is skipped when the hard limit cannot hold 10,000 connections. Linux only.
 *
 * Needs `npx tsc -p tsconfig.json` first (npm test does it).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort, getJson, istioGatewayYaml, serviceYaml, startEchos, virtualServiceYaml, waitFor } from '../helpers/gateway.js';
import { CLI, ROOT, rssMiB } from '../helpers/load.js';

const CONNECTIONS = 10_000;
const LIMIT_MB = 150;
const RAISE = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"';

function hardLimit(): number {
  const r = spawnSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' });
  const v = r.stdout.trim();
  return v === 'unlimited' ? Infinity : Number(v) || 0;
}

const skip = process.platform !== 'linux' ? 'needs /proc (Linux)'
  : hardLimit() < CONNECTIONS + 500 ? `fd hard limit ${hardLimit()} < ${CONNECTIONS + 500}` : false;

describe('memory', () => {
  const procs: ChildProcess[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-mem-'));
  after(() => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it(`RSS stays under ${LIMIT_MB} MB with ${CONNECTIONS} idle keep-alive connections`, { skip, timeout: 90_000 }, async (t) => {
    const [echo] = await startEchos('mem');
    try {
      const gwPort = await freePort();
      const adminPort = await freePort();
      fs.writeFileSync(path.join(tmp, 'all.yaml'), [
        istioGatewayYaml(gwPort), serviceYaml('echo', [echo!.port]),
        virtualServiceYaml('echo', '  - route: [{destination: {host: echo.demo.svc.cluster.local, port: {number: 80}}}]\n'),
      ].join('---\n'));
      const gw = spawn('bash', ['-c', RAISE, 'portico', process.execPath, CLI, 'run', '--config', tmp, '--admin-port', String(adminPort),
        '--bind', '127.0.0.1', '--workers', '1', '--no-access-log'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      procs.push(gw);
      let stderr = '';
      gw.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
      await waitFor(async () => {
        if (gw.exitCode !== null) throw new Error(`portico exited: ${stderr}`);
        try { return (await getJson<{ bound: boolean }[]>(adminPort, '/listeners')).some((l) => l.bound); } catch { return false; }
      }, 15_000, 50);
      const idleRss = rssMiB(gw.pid!);

      const client = spawn('bash', ['-c', RAISE, 'idle-conns', process.execPath, path.join(ROOT, 'test/helpers/idle-conns.mjs'), String(gwPort), String(CONNECTIONS)],
        { stdio: ['ignore', 'pipe', 'inherit'] });
      procs.push(client);
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        client.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('\n')) resolve(out.trim()); });
        client.on('exit', (code) => reject(new Error(`client exited ${code}: ${out}`)));
      });
      const result = JSON.parse(line) as { opened: number; failed: number; firstError: string; ms: number };
      assert.equal(result.opened, CONNECTIONS, `opened ${result.opened}, failed ${result.failed} (${result.firstError})`);
      const open = await waitFor(async () => {
        const ls = await getJson<{ connections: number }[]>(adminPort, '/listeners');
        const n = ls.reduce((a, l) => a + l.connections, 0);
        return n === CONNECTIONS ? n : undefined;
      }, 10_000, 100);
      assert.equal(open, CONNECTIONS);
      // Let the request-time garbage go: what is measured is the cost of holding connections.
      await new Promise((r) => setTimeout(r, 1500));
      const rss = rssMiB(gw.pid!);
      t.diagnostic(`RSS idle ${idleRss.toFixed(1)} MiB → ${rss.toFixed(1)} MiB with ${CONNECTIONS} connections (${(((rss - idleRss) * 1024) / CONNECTIONS).toFixed(1)} KiB each, ${((rss * 1024 * 1024) / 1e6).toFixed(1)} MB); opened in ${result.ms} ms`);
      const rssMB = (rss * 1024 * 1024) / 1e6;
      assert.ok(rssMB < LIMIT_MB, `RSS ${rssMB.toFixed(1)} MB ≥ ${LIMIT_MB} MB`);
      client.kill('SIGTERM');
      gw.kill('SIGTERM');
      await new Promise((r) => gw.once('exit', r));
    } finally {
      await echo!.close();
    }
  });
});
