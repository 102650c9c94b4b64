/**
 * The `portico` command line as a user runs it (node dist/cli/main.js): help, strict flag
 * parsing (exit 2, one line), validate (exit 0/1, file:line:col lines), explain, echo, and
 * `run` draining on SIGTERM (readiness 503 while an in-flight request completes, exit 0).
 *
 * Needs `npx tsc -p tsconfig.json` first (npm test does it).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { freePort, istioGatewayYaml, request, serviceYaml, virtualServiceYaml, waitFor } from '../helpers/gateway.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist/cli/main.js');

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Run the CLI to completion (killed after `timeoutMs`). */
function cli(args: string[], timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    c.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('error', reject);
    c.on('close', (code, signal) => { clearTimeout(t); resolve({ code, signal, stdout, stderr }); });
  });
}

/** Start the CLI in the background, collecting its output. */
function background(args: string[]): { child: ChildProcess; out: { stdout: string; stderr: string }; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => { out.stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out.stderr += d.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, out, exited };
}

function oneLine(s: string): boolean {
  return s.trim() !== '' && s.trim().split('\n').length === 1;
}

const DIAG_LINE = /^\S+:\d+:\d+ {2}\S+ {2}\S+ {2}/;

describe('portico CLI', () => {
  let tmp: string;
  let good: string;
  let bad: string;
  const children: ChildProcess[] = [];

  before(() => {
    assert.ok(fs.existsSync(CLI), `${CLI} missing: run npx tsc -p tsconfig.json first`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-cli-'));
    good = path.join(tmp, 'good');
    bad = path.join(tmp, 'bad');
    fs.mkdirSync(good);
    fs.mkdirSync(bad);
    const cfg = [
      istioGatewayYaml(18080),
      serviceYaml('echo-a', [9999]),
      serviceYaml('echo-b', [9998]),
      virtualServiceYaml('shop', `  - name: admins
    match: [{headers: {x-admin: {exact: "yes"}}}]
    route: [{destination: {host: echo-b.demo.svc.cluster.local, port: {number: 80}}}]
  - name: split
    match: [{uri: {prefix: /cart}}]
    route:
    - destination: {host: echo-a.demo.svc.cluster.local, port: {number: 80}}
      weight: 75
    - destination: {host: echo-b.demo.svc.cluster.local, port: {number: 80}}
      weight: 25
`, { hosts: ['shop.test'] }),
    ].join('---\n');
    fs.writeFileSync(path.join(good, 'all.yaml'), cfg);
    fs.writeFileSync(path.join(bad, 'all.yaml'), cfg);
    fs.writeFileSync(path.join(bad, 'dr.yaml'), `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: a, namespace: demo}
spec:
  host: echo-a.demo.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      simple: ROUND_ROBINN
`);
    fs.writeFileSync(path.join(bad, 'broken.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: broken, namespace: demo\nspec: [\n');
  });

  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('help and flags', () => {
    it('portico --help lists every command and exits 0', async () => {
      const r = await cli(['--help']);
      assert.equal(r.code, 0);
      for (const c of ['run', 'validate', 'explain', 'echo', 'quickstart']) assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
    });

    for (const c of ['run', 'validate', 'explain', 'echo', 'quickstart']) {
      it(`portico ${c} --help exits 0 with its usage`, async () => {
        const r = await cli([c, '--help']);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`^portico ${c}`));
        assert.equal(r.stderr, '');
      });
    }

    it('an unknown flag exits 2 with a one-line error', async () => {
      const r = await cli(['run', '--config', good, '--bogus']);
      assert.equal(r.code, 2);
      assert.ok(oneLine(r.stderr), `stderr: ${JSON.stringify(r.stderr)}`);
      assert.match(r.stderr, /bogus/);
      const v = await cli(['validate', good, '--frobnicate']);
      assert.equal(v.code, 2);
      assert.ok(oneLine(v.stderr), `stderr: ${JSON.stringify(v.stderr)}`);
    });

    it('an unknown command exits 2 with a one-line error', async () => {
      const r = await cli(['frobnicate']);
      assert.equal(r.code, 2);
      assert.ok(oneLine(r.stderr), `stderr: ${JSON.stringify(r.stderr)}`);
    });

    it('a bad flag value exits 2 with a one-line error', async () => {
      const r = await cli(['run', '--config', good, '--admin-port', 'abc']);
      assert.equal(r.code, 2);
      assert.ok(oneLine(r.stderr), `stderr: ${JSON.stringify(r.stderr)}`);
      assert.match(r.stderr, /admin-port/);
      const e = await cli(['echo', '--port', '99999']);
      assert.equal(e.code, 2);
      assert.ok(oneLine(e.stderr), `stderr: ${JSON.stringify(e.stderr)}`);
      const d = await cli(['run', '--config', good, '--drain-timeout', 'soon']);
      assert.equal(d.code, 2);
      assert.ok(oneLine(d.stderr), `stderr: ${JSON.stringify(d.stderr)}`);
    });
  });

  describe('validate', () => {
    it('exits 0 on a good folder', async () => {
      const r = await cli(['validate', good]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.stdout, '');
    });

    it('exits 1 on a misspelt enum and a YAML syntax error, one file:line:col line each, with a suggestion', async () => {
      const r = await cli(['validate', bad]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.ok(lines.length >= 2, r.stdout);
      for (const l of lines) assert.match(l, DIAG_LINE);
      const enumLine = lines.find((l) => l.includes('ROUND_ROBINN'));
      assert.ok(enumLine, r.stdout);
      assert.ok(enumLine.startsWith(`${path.join(bad, 'dr.yaml')}:8:`), enumLine);
      assert.match(enumLine, /DestinationRule\/demo\/a {2}spec\.trafficPolicy\.loadBalancer\.simple {2}/);
      assert.ok(enumLine.includes('did you mean "ROUND_ROBIN"?'), enumLine);
      assert.ok(lines.some((l) => l.startsWith(`${path.join(bad, 'broken.yaml')}:`)), `no line for broken.yaml: ${r.stdout}`);
    });

    it('exits 2 without a path', async () => {
      const r = await cli(['validate']);
      assert.equal(r.code, 2);
      assert.ok(oneLine(r.stderr), r.stderr);
    });
  });

  describe('explain', () => {
    it('prints listener, vhost, the matched route and weighted backends, and why an earlier route did not match', async () => {
      const r = await cli(['explain', '--config', good, 'GET http://shop.test:18080/cart?x=1']);
      assert.equal(r.code, 0, r.stderr);
      const out = r.stdout;
      assert.match(out, /^listener +\S*18080/m);
      assert.match(out, /^ +vhost +✔ .*shop\.test/m);
      const rejected = out.split('\n').find((l) => /^ +route +✘/.test(l));
      assert.ok(rejected, out);
      assert.match(rejected, /admins/);
      assert.match(rejected, /x-admin/);
      assert.match(out, /^matched +virtualservice\/demo\/shop\/http\/1\S* /m);
      assert.match(out, /^backend +75\.0% → cluster outbound\|80\|\|echo-a\.demo\.svc\.cluster\.local/m);
      assert.match(out, /^backend +25\.0% → cluster outbound\|80\|\|echo-b\.demo\.svc\.cluster\.local/m);
    });

    it('takes headers into account (-H) and reports a 404 for an unknown host', async () => {
      const h = await cli(['explain', '--config', good, 'GET http://shop.test:18080/cart', '-H', 'x-admin: yes']);
      assert.equal(h.code, 0, h.stderr);
      assert.match(h.stdout, /^matched +virtualservice\/demo\/shop\/http\/0/m);
      assert.match(h.stdout, /^backend +100\.0% → cluster outbound\|80\|\|echo-b/m);
      const n = await cli(['explain', '--config', good, 'GET http://nowhere.test:18080/']);
      assert.match(n.stdout, /^result +404/m);
    });
  });

  describe('echo', () => {
    it('portico echo --port P --name x answers JSON with name x and exits 0 on SIGTERM', async () => {
      const p = await freePort();
      const bg = background(['echo', '--port', String(p), '--name', 'x']);
      children.push(bg.child);
      await waitFor(() => bg.out.stdout.includes('listening'), 10_000);
      const r = await request(p, { path: '/hi?a=1', host: 'e.test' });
      assert.equal(r.status, 200);
      const e = JSON.parse(r.body);
      assert.equal(e.name, 'x');
      assert.equal(e.path, '/hi');
      assert.equal(e.query, 'a=1');
      bg.child.kill('SIGTERM');
      const ex = await bg.exited;
      assert.equal(ex.code, 0);
    });
  });

  describe('run', () => {
    it('drains on SIGTERM: /ready 503 at once, the in-flight request completes with 200, exit 0', { timeout: 30_000 }, async () => {
      const events: string[] = [];
      const slow = http.createServer((req, res) => {
        events.push('upstream-request');
        setTimeout(() => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('slow-ok'); }, 1500);
        void req;
      });
      const slowPort = await new Promise<number>((r) => slow.listen(0, '127.0.0.1', () => r((slow.address() as net.AddressInfo).port)));
      try {
        const gwPort = await freePort();
        const adminPort = await freePort();
        const dir = path.join(tmp, 'run');
        fs.mkdirSync(dir);
        fs.writeFileSync(path.join(dir, 'all.yaml'), [
          istioGatewayYaml(gwPort), serviceYaml('slow', [slowPort]),
          virtualServiceYaml('slow', `  - route: [{destination: {host: slow.demo.svc.cluster.local, port: {number: 80}}}]\n`),
        ].join('---\n'));
        const bg = background(['run', '--config', dir, '--admin-port', String(adminPort), '--bind', '127.0.0.1']);
        children.push(bg.child);
        await waitFor(async () => {
          if (bg.child.exitCode !== null) throw new Error(`exited early: ${bg.out.stderr}`);
          try { return (await request(adminPort, { path: '/ready', host: '127.0.0.1' })).status === 200; } catch { return false; }
        }, 15_000, 50);

        // A keep-alive client: the drained connection must be told `connection: close`.
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        const inflight = new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port: gwPort, path: '/slow', agent, headers: { host: 'drain.test' } }, (res) => {
            let b = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => { b += d; });
            res.on('end', () => { events.push('client-response'); resolve({ status: res.statusCode ?? 0, body: b, headers: res.headers }); });
          });
          req.on('error', reject);
          req.end();
        }).finally(() => agent.destroy());
        await waitFor(() => events.includes('upstream-request'), 5000);
        bg.child.kill('SIGTERM');
        const ready = await waitFor(async () => {
          try {
            const r = await request(adminPort, { path: '/ready', host: '127.0.0.1' });
            return r.status === 503 ? r : undefined;
          } catch { return undefined; }
        }, 1000, 20);
        assert.equal(ready.status, 503);
        assert.ok(!events.includes('client-response'), 'readiness turned 503 only after the in-flight request finished');
        const r = await inflight;
        assert.equal(r.status, 200);
        assert.equal(r.body, 'slow-ok');
        assert.equal(r.headers.connection, 'close');
        const ex = await bg.exited;
        assert.equal(ex.code, 0, `exit ${ex.code} / ${ex.signal}: ${bg.out.stderr}`);
        assert.match(bg.out.stderr, /SIGTERM/);
      } finally {
        slow.closeAllConnections();
        await new Promise((r) => slow.close(r));
      }
    });
  });
});
