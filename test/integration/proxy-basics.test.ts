/**
 * End-to-end proxying basics over real sockets: what the upstream sees (Host, XFF, XFP,
 * X-Request-Id, hop-by-hop removal), keep-alive reuse on both sides, request bodies in every
 * framing, Expect: 100-continue, HEAD, and the Istio default JSON access-log line.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { EchoServer } from '../../src/cli/echo.js';
import {
  freePort, getJson, istioGatewayYaml, rawRequest, request, serviceYaml, sleep, startEchos, startTestGateway,
  virtualServiceYaml, waitFor, type TestGateway,
} from '../helpers/gateway.js';

interface Echo {
  name: string; method: string; path: string; query: string; host: string; protocol: string;
  headers: Record<string, string | string[]>; bodyBytes: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CLUSTER_A = 'outbound|80||echo-a.demo.svc.cluster.local';
const CLUSTER_K = 'outbound|80||echo-k.demo.svc.cluster.local';
const ISTIO_JSON_KEYS = [
  'start_time', 'route_name', 'method', 'path', 'protocol', 'response_code', 'response_flags',
  'response_code_details', 'connection_termination_details', 'bytes_received', 'bytes_sent', 'duration',
  'upstream_service_time', 'x_forwarded_for', 'user_agent', 'request_id', 'authority', 'upstream_host',
  'upstream_cluster', 'upstream_local_address', 'downstream_local_address', 'downstream_remote_address',
  'requested_server_name', 'upstream_transport_failure_reason',
];

/** One request through a given agent; collects the body. */
function agentRequest(port: number, agent: http.Agent, path: string, method = 'GET'): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders; socket: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent, headers: { host: 'example.com' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers, socket: req.socket }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('proxy basics (HTTP/1.1, Istio config)', () => {
  let gw: TestGateway;
  let echoA: EchoServer;
  let echoK: EchoServer;
  let port: number;

  before(async () => {
    [echoA, echoK] = await startEchos('echo-a', 'echo-k') as [EchoServer, EchoServer];
    port = await freePort();
    gw = await startTestGateway({
      'gw.yaml': istioGatewayYaml(port),
      'svc-a.yaml': serviceYaml('echo-a', [echoA.port]),
      'svc-k.yaml': serviceYaml('echo-k', [echoK.port]),
      'vs.yaml': virtualServiceYaml('basics', `  - name: keepalive
    match: [{uri: {prefix: /ka}}]
    route: [{destination: {host: echo-k.demo.svc.cluster.local, port: {number: 80}}}]
  - name: basic
    route: [{destination: {host: echo-a.demo.svc.cluster.local, port: {number: 80}}}]
`),
    });
  });

  after(async () => {
    await gw?.close();
    await Promise.all([echoA?.close(), echoK?.close()]);
  });

  it('forwards a GET to the echo with Host, path and query kept', async () => {
    const r = await request(port, { path: '/hello/world?x=1&y=two', host: 'api.example.com' });
    assert.equal(r.status, 200);
    const e = JSON.parse(r.body) as Echo;
    assert.equal(e.name, 'echo-a');
    assert.equal(e.method, 'GET');
    assert.equal(e.host, 'api.example.com');
    assert.equal(e.path, '/hello/world');
    assert.equal(e.query, 'x=1&y=two');
    assert.equal(e.protocol, 'HTTP/1.1');
  });

  it('keeps the Host port as received', async () => {
    const r = await request(port, { path: '/', host: `api.example.com:${port}` });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as Echo).host, `api.example.com:${port}`);
  });

  it('appends the peer address to X-Forwarded-For', async () => {
    const sent = JSON.parse((await request(port, { headers: { 'x-forwarded-for': '1.2.3.4' } })).body) as Echo;
    assert.equal(sent.headers['x-forwarded-for'], '1.2.3.4, 127.0.0.1');
    const none = JSON.parse((await request(port)).body) as Echo;
    assert.equal(none.headers['x-forwarded-for'], '127.0.0.1');
  });

  it('sets X-Forwarded-Proto from the connection, overwriting a client value', async () => {
    const plain = JSON.parse((await request(port)).body) as Echo;
    assert.equal(plain.headers['x-forwarded-proto'], 'http');
    const spoofed = JSON.parse((await request(port, { headers: { 'x-forwarded-proto': 'https' } })).body) as Echo;
    assert.equal(spoofed.headers['x-forwarded-proto'], 'http');
  });

  it('generates X-Request-Id (UUID) when absent and keeps a sent one', async () => {
    const gen = JSON.parse((await request(port)).body) as Echo;
    assert.match(String(gen.headers['x-request-id']), UUID);
    const gen2 = JSON.parse((await request(port)).body) as Echo;
    assert.notEqual(gen2.headers['x-request-id'], gen.headers['x-request-id']);
    const kept = JSON.parse((await request(port, { headers: { 'x-request-id': 'abc-123' } })).body) as Echo;
    assert.equal(kept.headers['x-request-id'], 'abc-123');
  });

  it('removes hop-by-hop headers, including those named in Connection', async () => {
    const r = await request(port, {
      headers: {
        connection: 'keep-alive, x-secret', 'x-secret': '1', 'keep-alive': 'timeout=5', te: 'trailers',
        'x-kept': 'yes',
      },
    });
    assert.equal(r.status, 200);
    const e = JSON.parse(r.body) as Echo;
    for (const h of ['connection', 'x-secret', 'keep-alive', 'te']) assert.equal(e.headers[h], undefined, `${h} reached the upstream`);
    assert.equal(e.headers['x-kept'], 'yes');
  });

  it('adds x-envoy-upstream-service-time to proxied responses', async () => {
    const r = await request(port);
    assert.match(String(r.headers['x-envoy-upstream-service-time']), /^\d+$/);
    assert.equal(r.headers['x-echo-name'], 'echo-a');
  });

  it('reuses one client connection for 20 requests and at most 2 upstream connections', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const sockets = new Set<unknown>();
      for (let i = 0; i < 20; i++) {
        const r = await agentRequest(port, agent, `/ka/${i}`);
        assert.equal(r.status, 200, `request ${i}`);
        assert.equal((JSON.parse(r.body) as Echo).name, 'echo-k');
        sockets.add(r.socket);
      }
      assert.equal(sockets.size, 1, 'client side used more than one connection');
      const clusters = await getJson<{ name: string; endpoints: { connections: { opened?: number } }[] }[]>(gw.adminPort, '/clusters');
      const k = clusters.find((c) => c.name === CLUSTER_K);
      assert.ok(k, `cluster ${CLUSTER_K} in /clusters`);
      const opened = k.endpoints.reduce((n, e) => n + (e.connections.opened ?? 0), 0);
      assert.ok(opened >= 1 && opened <= 2, `upstream connections opened: ${opened}`);
    } finally {
      agent.destroy();
    }
  });

  it('forwards a POST body framed by Content-Length', async () => {
    const body = JSON.stringify({ hello: 'world', n: [1, 2, 3], s: 'é' });
    const r = await request(port, { method: 'POST', path: '/post', body, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 200);
    const e = JSON.parse(r.body) as Echo;
    assert.equal(e.method, 'POST');
    assert.equal(e.bodyBytes, Buffer.byteLength(body));
    assert.equal(e.headers['content-length'], String(Buffer.byteLength(body)));
  });

  it('forwards a chunked POST body', async () => {
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1', port, method: 'POST', path: '/chunked', agent: false,
        headers: { host: 'example.com', 'transfer-encoding': 'chunked' },
      }, (res) => {
        let b = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { b += d; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      });
      req.on('error', reject);
      req.write('hello ');
      setTimeout(() => { req.write('chunked world'); req.end(); }, 30);
    });
    assert.equal(r.status, 200);
    const e = JSON.parse(r.body) as Echo;
    assert.equal(e.bodyBytes, 'hello chunked world'.length);
    assert.equal(e.headers['transfer-encoding'], 'chunked');
  });

  it('answers Expect: 100-continue with 100, then the upstream 200', async () => {
    const payload = 'x'.repeat(1000);
    const r = await new Promise<{ status: number; body: string; continued: boolean }>((resolve, reject) => {
      let continued = false;
      const req = http.request({
        host: '127.0.0.1', port, method: 'PUT', path: '/expect', agent: false,
        headers: { host: 'example.com', expect: '100-continue', 'content-length': String(payload.length) },
      }, (res) => {
        let b = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { b += d; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b, continued }));
      });
      req.on('continue', () => { continued = true; req.end(payload); });
      req.on('error', reject);
      req.flushHeaders();
    });
    assert.equal(r.continued, true, 'no 100 Continue');
    assert.equal(r.status, 200);
    const e = JSON.parse(r.body) as Echo;
    assert.equal(e.bodyBytes, payload.length);
    assert.equal(e.headers.expect, undefined);
  });

  it('proxies HEAD without a body and keeps the connection usable', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const h = await agentRequest(port, agent, '/head', 'HEAD');
      assert.equal(h.status, 200);
      assert.equal(h.body, '');
      assert.equal(h.headers['x-echo-name'], 'echo-a');
      assert.match(String(h.headers['content-length']), /^\d+$/);
      const g = await agentRequest(port, agent, '/after-head');
      assert.equal(g.status, 200);
      assert.equal((JSON.parse(g.body) as Echo).path, '/after-head');
      assert.equal(g.socket, h.socket, 'HEAD response framing broke keep-alive');
    } finally {
      agent.destroy();
    }
  });

  it('writes an Istio JSON access-log line for a proxied request', async () => {
    const r = await request(port, {
      path: '/log/me?a=1&b=two', host: 'logs.example.com',
      headers: { 'x-request-id': 'log-req-1', 'user-agent': 'portico-test/1' },
    });
    assert.equal(r.status, 200);
    await sleep(50);
    const line = gw.logs.find((l) => l.request_id === 'log-req-1');
    assert.ok(line, 'no access-log line with request_id log-req-1');
    assert.deepEqual(Object.keys(line).sort(), [...ISTIO_JSON_KEYS].sort());
    assert.equal(line.response_code, '200');
    assert.equal(line.response_flags, '-');
    assert.equal(line.response_code_details, 'via_upstream');
    assert.equal(line.upstream_cluster, CLUSTER_A);
    assert.equal(line.upstream_host, `127.0.0.1:${echoA.port}`);
    assert.equal(line.route_name, 'basic');
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/log/me?a=1&b=two');
    assert.equal(line.protocol, 'HTTP/1.1');
    assert.equal(line.authority, 'logs.example.com');
    assert.equal(line.user_agent, 'portico-test/1');
    assert.equal(line.bytes_received, '0');
    assert.match(line.duration!, /^\d+$/);
    assert.match(line.upstream_service_time!, /^\d+$/);
    assert.match(line.start_time!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.match(line.downstream_remote_address!, /^127\.0\.0\.1:\d+$/);
    assert.equal(line.downstream_local_address, `127.0.0.1:${port}`);
  });

  it('logs bytes_received / bytes_sent as body bytes, each counted once', async () => {
    const body = 'p'.repeat(777);
    const r = await request(port, { method: 'POST', path: '/bytes', body, headers: { 'x-request-id': 'log-bytes-1' } });
    assert.equal(r.status, 200);
    await sleep(50);
    const line = gw.logs.find((l) => l.request_id === 'log-bytes-1');
    assert.ok(line);
    assert.equal(line.bytes_received, '777');
    assert.equal(line.bytes_sent, String(Buffer.byteLength(r.body)));
  });

  it('logs the X-Forwarded-For the upstream received (Envoy logs request headers after HCM mutation)', async () => {
    await request(port, { path: '/xff-log', headers: { 'x-request-id': 'log-xff-1', 'x-forwarded-for': '1.2.3.4' } });
    await sleep(50);
    const line = gw.logs.find((l) => l.request_id === 'log-xff-1');
    assert.ok(line);
    assert.equal(line.x_forwarded_for, '1.2.3.4, 127.0.0.1');
  });
});

describe('upstream response framing', () => {
  let gw: TestGateway;
  let port: number;
  let backend: http.Server;

  before(async () => {
    backend = http.createServer((req, res) => {
      const url = req.url ?? '/';
      if (url.startsWith('/chunked')) {
        res.writeHead(200, { 'content-type': 'text/plain' }); // no content-length: chunked
        res.write('one,');
        setTimeout(() => { res.write('two,'); setTimeout(() => res.end('three'), 10); }, 10);
      } else if (url.startsWith('/die-chunked')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial,');
        setTimeout(() => res.socket?.destroy(), 50);
      } else if (url.startsWith('/die-length')) {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 1000 });
        res.write('x'.repeat(100));
        setTimeout(() => res.socket?.destroy(), 50);
      } else if (url.startsWith('/no-content')) {
        res.writeHead(204, { 'x-kind': 'empty' });
        res.end();
      } else if (url.startsWith('/hop')) {
        res.setHeader('connection', 'x-internal');
        res.setHeader('x-internal', 'secret');
        res.setHeader('keep-alive', 'timeout=5');
        res.setHeader('x-public', 'yes');
        res.end('hop');
      } else {
        res.end('ok');
      }
    });
    const bport = await new Promise<number>((r) => backend.listen(0, '127.0.0.1', () => r((backend.address() as import('node:net').AddressInfo).port)));
    port = await freePort();
    gw = await startTestGateway({
      'gw.yaml': istioGatewayYaml(port),
      'svc.yaml': serviceYaml('framing', [bport]),
      'vs.yaml': virtualServiceYaml('framing', '  - route: [{destination: {host: framing.demo.svc.cluster.local, port: {number: 80}}}]\n'),
    });
  });

  after(async () => {
    await gw?.close();
    backend?.closeAllConnections();
    await new Promise((r) => backend?.close(r));
  });

  /** GET `path`; resolves with what arrived and whether the response completed cleanly. */
  function get(path: string): Promise<{ status: number; body: string; complete: boolean; headers: http.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path, agent: false, headers: { host: 'framing.test' } }, (res) => {
        let b = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { b += d; });
        res.on('error', () => {});
        res.on('close', () => resolve({ status: res.statusCode ?? 0, body: b, complete: res.complete, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('relays a chunked upstream response completely', async () => {
    const r = await get('/chunked');
    assert.equal(r.status, 200);
    assert.equal(r.complete, true);
    assert.equal(r.body, 'one,two,three');
    assert.equal(r.headers['transfer-encoding'], 'chunked');
  });

  it('an upstream dying mid-body (chunked) gives the client a truncated response, never a complete one', async () => {
    const r = await get('/die-chunked');
    assert.equal(r.status, 200);
    assert.equal(r.complete, false, `client saw a complete response: ${JSON.stringify(r.body)}`);
    assert.equal(r.body, 'partial,');
  });

  it('an upstream dying mid-body (content-length) gives the client a truncated response', async () => {
    const r = await get('/die-length');
    assert.equal(r.status, 200);
    assert.equal(r.complete, false);
    assert.equal(r.body.length, 100);
    await sleep(50);
    const ok = await get('/fine');
    assert.equal(ok.body, 'ok');
  });

  it('an HTTP/1.0 client gets a chunked upstream response de-chunked, delimited by close', {
  }, async () => {
    const raw = await rawRequest(port, 'GET /chunked HTTP/1.0\r\nHost: framing.test\r\n\r\n', 2000);
    assert.match(raw, /^HTTP\/1\.[01] 200 /);
    const [head, ...rest] = raw.split('\r\n\r\n');
    assert.doesNotMatch(head!, /transfer-encoding/i);
    assert.equal(rest.join('\r\n\r\n'), 'one,two,three');
  });

  it('HEAD on a chunked upstream and a 204 leave the connection usable for the next request', async () => {
    for (const first of ['HEAD /chunked', 'GET /no-content']) {
      const sock = net.connect(port, '127.0.0.1');
      let raw = '';
      let ended = false;
      sock.on('data', (d: Buffer) => { raw += d.toString('latin1'); });
      sock.on('end', () => { ended = true; });
      sock.on('error', () => {});
      try {
        sock.write(`${first} HTTP/1.1\r\nHost: framing.test\r\n\r\n`);
        await waitFor(() => raw.includes('\r\n\r\n'), 2000);
        await sleep(100); // a wrongly framed response would swallow or precede the next one
        assert.equal(ended, false, `${first}: the gateway closed the connection`);
        assert.doesNotMatch(raw, /transfer-encoding|content-length: [1-9]/i, `${first}: ${JSON.stringify(raw)}`);
        sock.write('GET /fine HTTP/1.1\r\nHost: framing.test\r\n\r\n');
        await waitFor(() => raw.endsWith('\r\n\r\nok'), 2000);
        assert.equal(raw.match(/^HTTP\/1\.1 /gm)?.length, 2, JSON.stringify(raw));
      } finally {
        sock.destroy();
      }
    }
  });

  it('removes hop-by-hop response headers, including those the upstream names in Connection', async () => {
    const r = await get('/hop');
    assert.equal(r.body, 'hop');
    assert.equal(r.headers['x-public'], 'yes');
    assert.equal(r.headers['x-internal'], undefined);
    assert.equal(r.headers['keep-alive'], undefined);
  });

  it('an HTTP/2 client receives a chunked upstream response as plain DATA', async () => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => {});
    try {
      const r = await new Promise<{ status: number; body: string; te: unknown }>((resolve, reject) => {
        const st = session.request({ ':method': 'GET', ':path': '/chunked', ':authority': 'framing.test' });
        let status = 0;
        let te: unknown;
        let b = '';
        st.setEncoding('utf8');
        st.on('response', (h) => { status = Number(h[':status']); te = h['transfer-encoding']; });
        st.on('data', (d: string) => { b += d; });
        st.on('end', () => resolve({ status, body: b, te }));
        st.on('error', reject);
        st.end();
      });
      assert.equal(r.status, 200);
      assert.equal(r.body, 'one,two,three');
      assert.equal(r.te, undefined);
    } finally {
      session.close();
    }
  });
});
