/**
 * Idle timeouts through the shared sweeper (src/dataplane/io/idle-sweeper.ts): an upstream
 * keep-alive connection idle in the pool closes after DestinationRule
 * `connectionPool.http.idleTimeout`; `0s` means never (Envoy); a busy connection is not an
 * idle one. Real sockets: the backend counts its open connections.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { idleFor, SWEEP_MS } from '../../src/dataplane/io/idle-sweeper.js';
import {
  freePort, istioGatewayYaml, request, serviceYaml, sleep, startTestGateway, virtualServiceYaml, waitFor, type TestGateway,
} from '../helpers/gateway.js';

interface Backend { server: http.Server; port: number; open: Set<net.Socket>; closedAt: number[] }

async function backend(delayMs = 0): Promise<Backend> {
  const open = new Set<net.Socket>();
  const closedAt: number[] = [];
  const server = http.createServer((_req, res) => {
    if (delayMs > 0) setTimeout(() => res.end('slow'), delayMs);
    else res.end('ok');
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s: net.Socket) => {
    open.add(s);
    s.on('close', () => { open.delete(s); closedAt.push(performance.now()); });
  });
  const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port)));
  return { server, port, open, closedAt };
}

const dr = (host: string, idle: string): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${host}, namespace: demo}
spec:
  host: ${host}.demo.svc.cluster.local
  trafficPolicy:
    connectionPool: {http: {idleTimeout: ${idle}}}
`;

describe('idle sweeper: idleFor', () => {
  it('is never true for idleMs <= 0 and waits out the clock lag otherwise', () => {
    assert.equal(idleFor(0, 0, 1e12), false);
    assert.equal(idleFor(0, -1, 1e12), false);
    assert.equal(idleFor(1000, 1000, 2000), false, 'only idleMs passed: the coarse clock may lag');
    assert.equal(idleFor(1000, 1000, 2000 + SWEEP_MS), true);
  });
});

describe('upstream idle timeout (DestinationRule connectionPool.http.idleTimeout)', () => {
  let gw: TestGateway;
  let port: number;
  let short: Backend;
  let never: Backend;
  let slow: Backend;

  before(async () => {
    [short, never, slow] = await Promise.all([backend(), backend(), backend(2500)]);
    port = await freePort();
    gw = await startTestGateway({
      'gw.yaml': istioGatewayYaml(port),
      'svc.yaml': [serviceYaml('short', [short.port]), serviceYaml('never', [never.port]), serviceYaml('slow', [slow.port])].join('---\n'),
      'dr.yaml': [dr('short', '1s'), dr('never', '0s'), dr('slow', '1s')].join('---\n'),
      'vs.yaml': virtualServiceYaml('idle', `  - match: [{uri: {prefix: /short}}]
    route: [{destination: {host: short.demo.svc.cluster.local}}]
  - match: [{uri: {prefix: /never}}]
    route: [{destination: {host: never.demo.svc.cluster.local}}]
  - match: [{uri: {prefix: /slow}}]
    route: [{destination: {host: slow.demo.svc.cluster.local}}]
`),
    });
  });

  after(async () => {
    await gw?.close();
    for (const b of [short, never, slow]) {
      b?.server.closeAllConnections();
      await new Promise((r) => b?.server.close(r));
    }
  });

  it('closes a pooled connection idle for 1s within the sweep resolution, keeps 0s ones open', { timeout: 20_000 }, async () => {
    const [a, b] = await Promise.all([request(port, { path: '/short' }), request(port, { path: '/never' })]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(short.open.size, 1, 'the gateway keeps its upstream connection open after the response');
    assert.equal(never.open.size, 1);
    const t0 = performance.now();
    await waitFor(() => short.open.size === 0, 5000);
    const took = performance.now() - t0;
    // idleTimeout 1s, swept every SWEEP_MS with a coarse clock: closes between 1 s and 1 s + 2 sweeps.
    assert.ok(took >= 900 && took <= 1000 + 3 * SWEEP_MS, `closed after ${took.toFixed(0)} ms`);
    await sleep(1000 + 3 * SWEEP_MS - took + 200);
    assert.equal(never.open.size, 1, 'idleTimeout 0s: no idle timeout');
    // The pool still works after the idle close: a new connection.
    assert.equal((await request(port, { path: '/short' })).status, 200);
  });

  it('does not close a connection that is busy with a slow response', { timeout: 20_000 }, async () => {
    const r = await request(port, { path: '/slow' }); // 2.5 s answer, idle timeout 1 s
    assert.equal(r.status, 200);
    assert.equal(r.body, 'slow');
  });
});
