/**
 * `portico quickstart` (what `npm start` runs) as a new user meets it: fixed ports 8080 (gateway),
 * 9101 and 9102 (demo backends), the bundled config/quickstart folder, Ctrl-C to stop.
 * Skipped when one of the fixed ports is taken on this machine.
 *
 * Needs `npx tsc -p tsconfig.json` first (npm test does it).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { freePort, request, waitFor } from '../helpers/gateway.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist/cli/main.js');

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('portico quickstart', { timeout: 60_000 }, () => {
  let child: ChildProcess | undefined;
  let busy: string | undefined;
  let stderr = '';
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  before(async () => {
    for (const p of [8080, 9101, 9102]) {
      if (!(await portFree(p))) { busy = `port ${p} is busy on this machine`; return; }
    }
    assert.ok(fs.existsSync(CLI), `${CLI} missing: run npx tsc -p tsconfig.json first`);
    const adminPort = await freePort();
    const c = spawn(process.execPath, [CLI, 'quickstart', '--admin-port', String(adminPort)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout!.resume();
    c.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    exited = new Promise((r) => c.on('exit', (code, signal) => r({ code, signal })));
    await waitFor(async () => {
      if (c.exitCode !== null) throw new Error(`quickstart exited ${c.exitCode}: ${stderr}`);
      try { return (await request(adminPort, { path: '/ready', host: '127.0.0.1' })).status === 200; } catch { return false; }
    }, 15_000, 50);
  });

  after(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('prints the URLs to try', (t) => {
    if (busy) { t.skip(busy); return; }
    assert.match(stderr, /curl http:\/\/127\.0\.0\.1:8080\/a/);
  });

  it('routes /a → echo-a, /b → echo-b, shop.example.com/cart → echo-b, plus redirect and canary', async (t) => {
    if (busy) { t.skip(busy); return; }
    const a = await request(8080, { path: '/a', host: 'localhost:8080' });
    assert.equal(a.status, 200);
    assert.equal(JSON.parse(a.body).name, 'echo-a');
    const b = await request(8080, { path: '/b', host: 'localhost:8080' });
    assert.equal(b.status, 200);
    assert.equal(JSON.parse(b.body).name, 'echo-b');
    const cart = await request(8080, { path: '/cart', host: 'shop.example.com' });
    assert.equal(cart.status, 200);
    const ce = JSON.parse(cart.body);
    assert.equal(ce.name, 'echo-b');
    assert.equal(ce.headers['x-route'], 'shop-cart');
    const old = await request(8080, { path: '/old', host: 'localhost:8080' });
    assert.equal(old.status, 301);
    assert.equal(old.headers.location, 'http://localhost:8080/a/new');
    const canary = await request(8080, { path: '/', host: 'localhost:8080', headers: { 'x-canary': 'yes' } });
    assert.equal(JSON.parse(canary.body).name, 'echo-b');
    assert.equal(canary.headers['x-served-by'], 'canary');
  });

  it('answers 404 for host unknown.test, as the banner promises', {
  }, async (t) => {
    if (busy) { t.skip(busy); return; }
    assert.match(stderr, /host: unknown\.test.*404/);
    const r = await request(8080, { path: '/', host: 'unknown.test' });
    assert.equal(r.status, 404);
  });

  it('exits 0 on SIGINT', async (t) => {
    if (busy) { t.skip(busy); return; }
    child!.kill('SIGINT');
    const ex = await exited;
    assert.equal(ex.code, 0, `exit ${ex.code} / ${ex.signal}: ${stderr}`);
  });
});
