/**
 * Every reply the gateway makes itself, end to end: no route (404 NR), no endpoints (503 UH),
 * connect failure (503 UF), route timeout (504 UT), upstream reset (503 U*), Istio
 * directResponse and redirect, Gateway API invalid backends (500, by weight share), and a
 * client abort (0 DC). Status, body, flags and details are checked in the access log.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { EchoServer } from '../../src/cli/echo.js';
import {
  freePort, istioGatewayYaml, request, serviceYaml, sleep, startEchos, startTestGateway, virtualServiceYaml,
  waitFor, type TestGateway,
} from '../helpers/gateway.js';

const DEST = (svc: string) => `[{destination: {host: ${svc}.demo.svc.cluster.local, port: {number: 80}}}]`;

function serviceOnly(name: string): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: demo}
spec:
  ports: [{name: http, port: 80}]
`;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

describe('local replies', () => {
  let gw: TestGateway;
  let echo: EchoServer;
  let port: number;
  let gapiPort: number;
  let closedPort: number;
  const sockets = new Set<net.Socket>();
  let hangServer: net.Server;
  let resetServer: net.Server;
  let slowServer: http.Server;
  const slowEvents: string[] = [];

  async function logFor(id: string): Promise<Record<string, string>> {
    return waitFor(() => gw.logs.find((l) => l.request_id === id), 3000);
  }

  before(async () => {
    [echo] = await startEchos('echo-a') as [EchoServer];
    port = await freePort();
    gapiPort = await freePort();
    closedPort = await freePort(); // nothing listens here
    hangServer = net.createServer((s) => { sockets.add(s); s.on('error', () => {}); });
    resetServer = net.createServer((s) => { s.on('error', () => {}); s.on('data', () => s.destroy()); });
    slowServer = http.createServer((req, res) => {
      slowEvents.push('request');
      const t = setTimeout(() => { slowEvents.push('answered'); res.end('late'); }, 3000);
      res.on('close', () => { clearTimeout(t); slowEvents.push('closed'); });
      void req;
    });
    const hangPort = await listen(hangServer);
    const resetPort = await listen(resetServer);
    const slowPort = await new Promise<number>((r) => slowServer.listen(0, '127.0.0.1', () => r((slowServer.address() as net.AddressInfo).port)));
    gw = await startTestGateway({
      'gw.yaml': istioGatewayYaml(port),
      'svc.yaml': [
        serviceYaml('echo-a', [echo.port]),
        serviceOnly('empty'),
        serviceYaml('closed', [closedPort]),
        serviceYaml('half', [closedPort, echo.port]),
        serviceYaml('hang', [hangPort]),
        serviceYaml('reset', [resetPort]),
        serviceYaml('slow', [slowPort]),
      ].join('---\n'),
      'vs.yaml': virtualServiceYaml('local', `  - name: ok
    match: [{uri: {prefix: /ok}}]
    route: ${DEST('echo-a')}
  - name: noep
    match: [{uri: {prefix: /noep}}]
    route: ${DEST('empty')}
  - name: closed
    match: [{uri: {prefix: /closed}}]
    route: ${DEST('closed')}
  - name: hang
    match: [{uri: {prefix: /hang}}]
    timeout: 0.5s
    route: ${DEST('hang')}
  - name: reset
    match: [{uri: {prefix: /reset}}]
    route: ${DEST('reset')}
  - name: slow
    match: [{uri: {prefix: /slow}}]
    route: ${DEST('slow')}
  - name: direct
    match: [{uri: {prefix: /direct}}]
    directResponse: {status: 418, body: {string: "short and stout"}}
  - name: half
    match: [{uri: {prefix: /half}}]
    route: ${DEST('half')}
  - name: redir-authority
    match: [{uri: {prefix: /redir2}}]
    redirect: {authority: other.test}
  - name: redir-uri
    match: [{uri: {prefix: /redir3}}]
    redirect: {uri: /moved, redirectCode: 302}
  - name: redir-scheme
    match: [{uri: {prefix: /redir4}}]
    redirect: {scheme: https, derivePort: FROM_PROTOCOL_DEFAULT}
  - name: redir
    match: [{uri: {prefix: /redir}}]
    redirect: {uri: /new/place, redirectCode: 301, authority: other.test, derivePort: FROM_REQUEST_PORT, scheme: https}
`, { hosts: ['known.test'] }),
      'gapi.yaml': `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: portico}
spec: {controllerName: portico.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gapi, namespace: demo}
spec:
  gatewayClassName: portico
  listeners:
  - {name: http, port: ${gapiPort}, protocol: HTTP}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: invalid, namespace: demo}
spec:
  parentRefs: [{name: gapi}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /missing}}]
    backendRefs: [{name: does-not-exist, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /weighted}}]
    backendRefs:
    - {name: echo-a, port: 80, weight: 50}
    - {name: does-not-exist, port: 80, weight: 50}
  - matches: [{path: {type: PathPrefix, value: /fine}}]
    backendRefs: [{name: echo-a, port: 80}]
`,
    });
  });

  after(async () => {
    await gw?.close();
    for (const s of sockets) s.destroy();
    slowServer?.closeAllConnections();
    await Promise.all([
      echo?.close(),
      new Promise((r) => hangServer?.close(r)),
      new Promise((r) => resetServer?.close(r)),
      new Promise((r) => slowServer?.close(r)),
    ]);
  });

  it('baseline: the known host reaches the echo', async () => {
    const r = await request(port, { path: '/ok', host: 'known.test' });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).name, 'echo-a');
  });

  it('answers 404 NR route_not_found for an unknown host', async () => {
    const r = await request(port, { path: '/ok', host: 'unknown.test', headers: { 'x-request-id': 'nr-host' } });
    assert.equal(r.status, 404);
    const l = await logFor('nr-host');
    assert.equal(l.response_code, '404');
    assert.equal(l.response_flags, 'NR');
    assert.equal(l.response_code_details, 'route_not_found');
    assert.equal(l.upstream_cluster, '-');
    assert.equal(l.route_name, '-');
  });

  it('logs a local reply with x-forwarded-for (peer appended) and a generated x-request-id, as Envoy does', async () => {
    const r = await request(port, { path: '/stamp', host: 'unknown.test', headers: { 'x-forwarded-for': '203.0.113.9', 'user-agent': 'stamp-test' } });
    assert.equal(r.status, 404);
    const l = await waitFor(() => gw.logs.find((x) => x.user_agent === 'stamp-test'), 3000);
    assert.equal(l.x_forwarded_for, '203.0.113.9, 127.0.0.1');
    assert.match(String(l.request_id), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const own = await request(port, { path: '/stamp', host: 'unknown.test', headers: { 'x-request-id': 'own-id-1' } });
    assert.equal(own.status, 404);
    assert.equal((await logFor('own-id-1')).x_forwarded_for, '127.0.0.1');
  });

  it('answers 404 NR for a known host when no route matches', async () => {
    const r = await request(port, { path: '/nothing/here', host: 'known.test', headers: { 'x-request-id': 'nr-path' } });
    assert.equal(r.status, 404);
    const l = await logFor('nr-path');
    assert.equal(l.response_flags, 'NR');
    assert.equal(l.response_code_details, 'route_not_found');
  });

  it('answers 503 UH no_healthy_upstream for a Service without endpoints', async () => {
    const r = await request(port, { path: '/noep', host: 'known.test', headers: { 'x-request-id': 'uh-1' } });
    assert.equal(r.status, 503);
    assert.equal(r.body, 'no healthy upstream');
    const l = await logFor('uh-1');
    assert.equal(l.response_flags, 'UH');
    assert.equal(l.response_code_details, 'no_healthy_upstream');
    assert.equal(l.upstream_cluster, 'outbound|80||empty.demo.svc.cluster.local');
  });

  it('answers 503 UF on a connect failure (default retries may add URX)', async () => {
    const r = await request(port, { path: '/closed', host: 'known.test', headers: { 'x-request-id': 'uf-1' } });
    assert.equal(r.status, 503);
    assert.equal(r.body, 'upstream connect error or disconnect/reset before headers. reset reason: connection failure');
    const l = await logFor('uf-1');
    const flags = l.response_flags!.split(',');
    assert.ok(flags.includes('UF'), `flags ${l.response_flags}`);
    for (const f of flags) assert.ok(f === 'UF' || f === 'URX', `unexpected flag ${f}`);
    assert.equal(l.response_code_details, 'upstream_reset_before_response_started{connection_failure}');
    assert.equal(l.upstream_host, `127.0.0.1:${closedPort}`);
  });

  it('answers 504 UT after the route timeout when the upstream never answers', async () => {
    const t0 = Date.now();
    const r = await request(port, { path: '/hang', host: 'known.test', headers: { 'x-request-id': 'ut-1' } });
    const took = Date.now() - t0;
    assert.equal(r.status, 504);
    assert.equal(r.body, 'upstream request timeout');
    assert.ok(took >= 450 && took < 3000, `timed out after ${took} ms, want ~500`);
    const l = await logFor('ut-1');
    assert.equal(l.response_flags, 'UT');
    assert.equal(l.response_code_details, 'upstream_response_timeout');
    assert.equal(l.upstream_service_time, '-');
  });

  it('answers 503 with an upstream flag when the upstream closes without answering', async () => {
    const r = await request(port, { path: '/reset', host: 'known.test', headers: { 'x-request-id': 'uc-1' } });
    assert.equal(r.status, 503);
    assert.match(r.body, /^upstream connect error or disconnect\/reset before headers\. reset reason: /);
    const l = await logFor('uc-1');
    assert.equal(l.response_code, '503');
    assert.match(l.response_flags!, /^U[A-Z]+(,U[A-Z]+)*$/);
    assert.match(l.response_code_details!, /^upstream_reset_before_response_started\{/);
  });

  it('serves an Istio directResponse', async () => {
    const r = await request(port, { path: '/direct', host: 'known.test', headers: { 'x-request-id': 'dr-1' } });
    assert.equal(r.status, 418);
    assert.equal(r.body, 'short and stout');
    const l = await logFor('dr-1');
    assert.equal(l.response_code, '418');
    assert.equal(l.response_flags, '-');
    assert.equal(l.response_code_details, 'direct_response');
    assert.equal(l.route_name, 'direct');
  });

  it('redirects with uri, authority, scheme and the listener port (FROM_REQUEST_PORT)', async () => {
    const r = await request(port, { path: '/redir/old?x=1', host: 'known.test' });
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, `https://other.test:${port}/new/place?x=1`);
    assert.equal(r.body, '');
  });

  it('Istio redirect authority replaces the whole Host, port included', {
  }, async () => {
    const a = await request(port, { path: '/redir2/x?q=1', host: `known.test:${port}` });
    assert.equal(a.status, 301);
    assert.equal(a.headers.location, 'http://other.test/redir2/x?q=1');
  });

  it('Istio redirect variants: uri keeps the Host as received, the protocol default port is never written', async () => {
    const u = await request(port, { path: '/redir3/x?q=1', host: `known.test:${port}` });
    assert.equal(u.status, 302);
    assert.equal(u.headers.location, `http://known.test:${port}/moved?q=1`);
    const sc = await request(port, { path: '/redir4/x', host: `known.test:${port}` });
    assert.equal(sc.status, 301);
    assert.equal(sc.headers.location, 'https://known.test/redir4/x');
  });

  it('retries a connect failure on another endpoint by default', {
  }, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    try {
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => new Promise<string>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: '/half', agent, headers: { host: 'known.test', 'x-request-id': `half-${i}` } }, (res) => {
          let b = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => { b += d; });
          res.on('end', () => resolve(res.statusCode === 200 ? 'ok' : `half-${i}: ${res.statusCode} ${b}`));
        });
        req.on('error', reject);
        req.end();
      })));
      const failed = results.filter((r) => r !== 'ok');
      assert.deepEqual(failed, [], `${failed.length} of 200 failed`);
    } finally {
      agent.destroy();
    }
  });

  it('Gateway API: a rule whose only backendRef is a missing Service answers 500', async () => {
    const ok = await request(gapiPort, { path: '/fine' });
    assert.equal(ok.status, 200);
    const r = await request(gapiPort, { path: '/missing', headers: { 'x-request-id': 'gapi-500' } });
    assert.equal(r.status, 500);
    const l = await logFor('gapi-500');
    assert.equal(l.response_code, '500');
  });

  it('Gateway API: weighted backendRefs give only the invalid share a 500', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    try {
      const codes = await Promise.all(Array.from({ length: 200 }, () => new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: gapiPort, path: '/weighted', agent, headers: { host: 'example.com' } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      })));
      const n200 = codes.filter((c) => c === 200).length;
      const n500 = codes.filter((c) => c === 500).length;
      assert.equal(n200 + n500, 200, `other statuses: ${codes.filter((c) => c !== 200 && c !== 500).join(',')}`);
      assert.ok(n200 > 0 && n500 > 0, `200: ${n200}, 500: ${n500}`);
      const share = n500 / 200;
      assert.ok(share >= 0.2 && share <= 0.8, `500 share ${share}`);
    } finally {
      agent.destroy();
    }
  });

  it('logs a client abort as response code 0 with flag DC and cancels the upstream request', async () => {
    slowEvents.length = 0;
    await new Promise<void>((resolve) => {
      const req = http.request({
        host: '127.0.0.1', port, path: '/slow?abort=1', agent: false,
        headers: { host: 'known.test', 'x-request-id': 'dc-1' },
      });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.end();
      setTimeout(() => req.destroy(), 300);
    });
    const l = await logFor('dc-1');
    assert.equal(l.response_code, '0');
    assert.ok(l.response_flags!.split(',').includes('DC'), `flags ${l.response_flags}`);
    assert.equal(l.path, '/slow?abort=1');
    await waitFor(() => slowEvents.includes('closed'), 2000).catch(() => undefined);
    assert.deepEqual(slowEvents, ['request', 'closed'], 'upstream request was not cancelled');
  });

  it('logs a client reset (RST) as response code 0 with flag DC and cancels the upstream request', async () => {
    slowEvents.length = 0;
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    s.write('GET /slow?rst=1 HTTP/1.1\r\nHost: known.test\r\nx-request-id: dc-rst\r\n\r\n');
    await waitFor(() => slowEvents.includes('request'), 2000);
    s.resetAndDestroy();
    const l = await logFor('dc-rst');
    assert.equal(l.response_code, '0');
    assert.ok(l.response_flags!.split(',').includes('DC'), `flags ${l.response_flags}`);
    assert.equal(l.response_code_details, 'downstream_remote_disconnect');
    await waitFor(() => slowEvents.includes('closed'), 2000).catch(() => undefined);
    assert.deepEqual(slowEvents, ['request', 'closed'], 'upstream request was not cancelled');
  });

  it('still serves normally after all of the above', async () => {
    await sleep(10);
    const r = await request(port, { path: '/ok', host: 'known.test' });
    assert.equal(r.status, 200);
  });
});
