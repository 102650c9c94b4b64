/**
 * Drain details, in process: idle keep-alive connections are closed spread over the close
 * window (jitter, istio/istio#58100), not all in the same instant; and a request that arrives
 * on an idle connection during the drain is still served, with `connection: close`, instead
 * of losing the race against the close.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePort, istioGatewayYaml, serviceYaml, startEchos, startTestGateway, virtualServiceYaml, type TestGateway } from '../helpers/gateway.js';
import type { EchoServer } from '../../src/cli/echo.js';

/** A raw keep-alive connection that did one request; resolves once the response is read. */
function idleConnection(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    s.setEncoding('latin1');
    s.once('error', reject);
    s.once('connect', () => s.write('GET /one HTTP/1.1\r\nhost: jitter.test\r\n\r\n'));
    s.on('data', function onData(d: string) {
      buf += d;
      const end = buf.indexOf('\r\n\r\n');
      const len = /content-length: *(\d+)/i.exec(buf)?.[1];
      if (end >= 0 && len !== undefined && buf.length - end - 4 >= Number(len)) {
        s.removeListener('data', onData);
        resolve(s);
      }
    });
  });
}

describe('drain: jittered idle closes', () => {
  let echo: EchoServer;
  let gw: TestGateway;
  let port = 0;

  before(async () => {
    [echo] = (await startEchos('jitter')) as [EchoServer];
    port = await freePort();
    gw = await startTestGateway({
      'all.yaml': [istioGatewayYaml(port), serviceYaml('echo', [echo.port]),
        virtualServiceYaml('echo', '  - route: [{destination: {host: echo.demo.svc.cluster.local, port: {number: 80}}}]\n')].join('---\n'),
    }, { 'drain-timeout': '2s' });
  });

  after(async () => {
    await gw.close();
    await echo.close();
  });

  it('closes idle connections over the window; a request racing the drain is served with connection: close', { timeout: 20_000 }, async (t) => {
    const idle = await Promise.all(Array.from({ length: 24 }, () => idleConnection(port)));
    const racer = await idleConnection(port);
    const closedAt: number[] = [];
    const t0 = Date.now();
    for (const s of idle) s.once('close', () => closedAt.push(Date.now() - t0));
    let racerReply = '';
    racer.on('data', (d: string) => { racerReply += d; });
    const racerClosed = new Promise<void>((r) => racer.once('close', () => r()));
    const stopping = gw.handle.stop();
    // The client reuses its idle connection just after the drain began.
    racer.write('GET /two HTTP/1.1\r\nhost: jitter.test\r\n\r\n');
    await stopping;
    await racerClosed;
    assert.match(racerReply, /^HTTP\/1\.1 200 /, 'the racing request was served');
    assert.match(racerReply, /\r\nconnection: close\r\n/i);
    assert.equal(closedAt.length, idle.length, 'every idle connection was closed by the drain');
    closedAt.sort((a, b) => a - b);
    const first = closedAt[0]!;
    const last = closedAt.at(-1)!;
    t.diagnostic(`idle closes from ${first} ms to ${last} ms after the drain began (window 1000 ms)`);
    // Window = min(2 s, drain timeout / 2) = 1 s; each connection waits 25–100 % of it.
    assert.ok(first >= 200, `first idle close after ${first} ms`);
    assert.ok(last <= 1500, `last idle close after ${last} ms`);
    assert.ok(last - first >= 300, `closes spread over ${last - first} ms only`);
  });
});
