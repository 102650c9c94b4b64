/**
 * HTTP/2 cleartext (prior knowledge) on the same listener port as HTTP/1.1, and h2c to
 * upstreams whose Service port says `appProtocol: kubernetes.io/h2c`.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { EchoServer } from '../../src/cli/echo.js';
import {
  freePort, istioGatewayYaml, request, serviceYaml, startEchos, startTestGateway, virtualServiceYaml, waitFor,
  type TestGateway,
} from '../helpers/gateway.js';

interface Echo { name: string; method: string; path: string; query: string; host: string; protocol: string; headers: Record<string, string>; bodyBytes: number }

interface H2Resp { status: number; headers: http2.IncomingHttpHeaders; body: string }

function h2req(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: string | Buffer[]): Promise<H2Resp> {
  return new Promise((resolve, reject) => {
    const s = session.request(headers, { endStream: body === undefined });
    let status = 0;
    let rh: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    s.on('response', (h) => { rh = h; status = Number(h[':status']); });
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('end', () => resolve({ status, headers: rh, body: Buffer.concat(chunks).toString() }));
    s.on('error', reject);
    if (typeof body === 'string') s.end(body);
    else if (Array.isArray(body)) {
      const parts = [...body];
      const next = (): void => {
        const p = parts.shift();
        if (p === undefined) { s.end(); return; }
        s.write(p);
        setTimeout(next, 10);
      };
      next();
    }
  });
}

describe('HTTP/2', () => {
  let gw: TestGateway;
  let echos: EchoServer[];
  let port: number;
  let session: http2.ClientHttp2Session;
  let slow: http.Server;
  let big: http.Server;
  const slowEvents: string[] = [];
  /** What /big/<n> sends: n MiB of deterministic bytes in 16 KiB writes (chunked unless ?cl). */
  const bigBody = (mib: number): Buffer => {
    const out = Buffer.alloc(mib << 20);
    for (let i = 0; i < out.length; i += 32) crypto.createHash('sha256').update(`${mib}:${i}`).digest().copy(out, i);
    return out;
  };

  before(async () => {
    echos = await startEchos('echo-a', 'echo-h2');
    const [a, h2] = echos as [EchoServer, EchoServer];
    slow = http.createServer((_req, res) => {
      slowEvents.push('request');
      const t = setTimeout(() => { slowEvents.push('answered'); res.end('late'); }, 3000);
      res.on('close', () => { clearTimeout(t); slowEvents.push('closed'); });
    });
    const slowPort = await new Promise<number>((r) => slow.listen(0, '127.0.0.1', () => r((slow.address() as net.AddressInfo).port)));
    big = http.createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const body = bigBody(Number(u.pathname.split('/')[2] ?? '1'));
      if (u.searchParams.has('cl')) res.setHeader('content-length', body.length);
      let off = 0;
      const pump = (): void => {
        while (off < body.length) {
          const part = body.subarray(off, off + 16384);
          off += part.length;
          if (!res.write(part)) { res.once('drain', pump); return; }
        }
        res.end();
      };
      pump();
    });
    const bigPort = await new Promise<number>((r) => big.listen(0, '127.0.0.1', () => r((big.address() as net.AddressInfo).port)));
    port = await freePort();
    gw = await startTestGateway({
      'gw.yaml': istioGatewayYaml(port),
      'svc.yaml': [serviceYaml('echo-a', [a.port]), serviceYaml('echo-h2', [h2.port], { appProtocol: 'kubernetes.io/h2c' }), serviceYaml('slow', [slowPort]), serviceYaml('big', [bigPort])].join('---\n'),
      'vs.yaml': virtualServiceYaml('h2', `  - name: big
    match: [{uri: {prefix: /big/}}]
    route: [{destination: {host: big.demo.svc.cluster.local, port: {number: 80}}}]
  - name: slow
    match: [{uri: {prefix: /slow}}]
    route: [{destination: {host: slow.demo.svc.cluster.local, port: {number: 80}}}]
  - name: h2-upstream
    match: [{uri: {prefix: /h2up}}]
    route: [{destination: {host: echo-h2.demo.svc.cluster.local, port: {number: 80}}}]
  - name: h1-upstream
    route: [{destination: {host: echo-a.demo.svc.cluster.local, port: {number: 80}}}]
`),
    });
    session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => {});
    await new Promise<void>((resolve, reject) => { session.once('connect', () => resolve()); session.once('error', reject); });
  });

  after(async () => {
    session?.close();
    await gw?.close();
    slow?.closeAllConnections();
    await new Promise((r) => slow?.close(r));
    big?.closeAllConnections();
    await new Promise((r) => big?.close(r));
    await Promise.all((echos ?? []).map((e) => e.close()));
  });

  it('serves an h2c prior-knowledge GET on the HTTP/1.1 port', async () => {
    const r = await h2req(session, { ':method': 'GET', ':path': '/h2get?x=1', ':authority': 'h2.example.com', 'x-custom': 'v' });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['x-envoy-upstream-service-time']), /^\d+$/);
    const e = JSON.parse(r.body) as Echo;
    assert.equal(e.name, 'echo-a');
    assert.equal(e.protocol, 'HTTP/1.1');
    assert.equal(e.host, 'h2.example.com');
    assert.equal(e.path, '/h2get');
    assert.equal(e.query, 'x=1');
    assert.equal(e.headers['x-custom'], 'v');
    assert.equal(e.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(e.headers['x-forwarded-proto'], 'http');
  });

  it('streams large responses to slow h2 readers with backpressure, intact (chunked and content-length)', { timeout: 60_000 }, async () => {
    // The client stops reading for a while after every chunk, so HTTP/2 flow control fills
    // and the gateway's stream writes push back: the upstream must pause and resume on
    // 'drain', and every byte must arrive in order.
    const s2 = http2.connect(`http://127.0.0.1:${port}`);
    s2.on('error', () => {});
    try {
      const get = (path: string): Promise<{ status: number; hash: string; bytes: number }> => new Promise((resolve, reject) => {
        const st = s2.request({ ':method': 'GET', ':path': path, ':authority': 'h2.example.com' });
        const h = crypto.createHash('sha256');
        let status = 0;
        let bytes = 0;
        st.on('response', (hd) => { status = Number(hd[':status']); });
        st.on('data', (d: Buffer) => {
          h.update(d);
          bytes += d.length;
          st.pause();
          setTimeout(() => st.resume(), 2);
        });
        st.on('end', () => resolve({ status, hash: h.digest('hex'), bytes }));
        st.on('error', reject);
      });
      const [a, b] = await Promise.all([get('/big/4'), get('/big/3?cl')]);
      for (const [r, mib] of [[a, 4], [b, 3]] as const) {
        assert.equal(r.status, 200);
        assert.equal(r.bytes, mib << 20);
        assert.equal(r.hash, crypto.createHash('sha256').update(bigBody(mib)).digest('hex'), `body of /big/${mib}`);
      }
    } finally {
      s2.close();
    }
  });

  it('joins h2 cookie crumbs with "; " and keeps repeated headers for the HTTP/1.1 upstream (RFC 9113 §8.2.3)', async () => {
    const r = await h2req(session, { ':method': 'GET', ':path': '/cookies', ':authority': 'h2.example.com', cookie: ['a=1', 'b=2', 'c=3'], 'x-multi': ['one', 'two'] });
    assert.equal(r.status, 200);
    const e = JSON.parse(r.body) as Echo;
    assert.equal(e.headers['cookie'], 'a=1; b=2; c=3');
    assert.equal(e.headers['x-multi'], 'one, two');
  });

  it('HTTP/1.1 still works on the same port', async () => {
    const r = await request(port, { path: '/h1' });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as Echo).name, 'echo-a');
  });

  it('forwards an h2 POST body without content-length (streamed) to an HTTP/1.1 upstream', async () => {
    const r = await h2req(session, { ':method': 'POST', ':path': '/post', ':authority': 'h2.example.com' }, [Buffer.from('hello '), Buffer.from('streamed body')]);
    assert.equal(r.status, 200);
    const e = JSON.parse(r.body) as Echo;
    assert.equal(e.method, 'POST');
    assert.equal(e.bodyBytes, 'hello streamed body'.length);
  });

  it('forwards an h2 POST body with content-length', async () => {
    const body = JSON.stringify({ a: 1, b: 'two' });
    const r = await h2req(session, { ':method': 'POST', ':path': '/post-cl', ':authority': 'h2.example.com', 'content-length': String(body.length) }, body);
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as Echo).bodyBytes, body.length);
  });

  it('multiplexes concurrent streams on one connection', async () => {
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => h2req(session, { ':method': 'GET', ':path': `/m/${i}`, ':authority': 'h2.example.com' })));
    rs.forEach((r, i) => {
      assert.equal(r.status, 200);
      assert.equal((JSON.parse(r.body) as Echo).path, `/m/${i}`);
    });
  });

  it('speaks h2c to an upstream whose Service port has appProtocol kubernetes.io/h2c', async () => {
    const r = await request(port, { path: '/h2up/x?y=2', host: 'h1client.example.com' });
    assert.equal(r.status, 200);
    const e = JSON.parse(r.body) as Echo;
    assert.equal(e.name, 'echo-h2');
    assert.equal(e.protocol, 'HTTP/2.0');
    assert.equal(e.path, '/h2up/x');
    assert.equal(e.query, 'y=2');
    assert.equal(e.host, 'h1client.example.com');
    assert.equal(e.headers['x-forwarded-for'], '127.0.0.1');
  });

  it('forwards request bodies to an h2c upstream (content-length and chunked from HTTP/1.1, streamed from h2)', async () => {
    const cl = await request(port, { method: 'POST', path: '/h2up/cl', body: 'x'.repeat(5000) });
    assert.equal(cl.status, 200);
    assert.equal((JSON.parse(cl.body) as Echo).bodyBytes, 5000);
    const chunked = await request(port, { method: 'POST', path: '/h2up/chunked', body: 'abcdefghij', headers: { 'transfer-encoding': 'chunked' } });
    assert.equal(chunked.status, 200);
    assert.equal((JSON.parse(chunked.body) as Echo).bodyBytes, 10);
    const h2 = await h2req(session, { ':method': 'POST', ':path': '/h2up/h2', ':authority': 'x.test' }, [Buffer.from('12345'), Buffer.from('678')]);
    assert.equal(h2.status, 200);
    const e = JSON.parse(h2.body) as Echo;
    assert.equal(e.protocol, 'HTTP/2.0');
    assert.equal(e.bodyBytes, 8);
  });

  it('logs protocol "HTTP/2" for h2 clients', async () => {
    const r = await h2req(session, { ':method': 'GET', ':path': '/log?q=1', ':authority': 'log.example.com', 'x-request-id': 'h2-log-1' });
    assert.equal(r.status, 200);
    const l = await waitFor(() => gw.logs.find((x) => x.request_id === 'h2-log-1'), 3000);
    assert.equal(l.protocol, 'HTTP/2');
    assert.equal(l.response_code, '200');
    assert.equal(l.method, 'GET');
    assert.equal(l.path, '/log?q=1');
    assert.equal(l.authority, 'log.example.com');
    assert.equal(l.response_code_details, 'via_upstream');
  });

  it('logs bytes_sent for h2 clients as the body bytes sent, counted once', async () => {
    const r = await h2req(session, { ':method': 'GET', ':path': '/bytes', ':authority': 'log.example.com', 'x-request-id': 'h2-log-2' });
    const l = await waitFor(() => gw.logs.find((x) => x.request_id === 'h2-log-2'), 3000);
    assert.equal(l.bytes_sent, String(Buffer.byteLength(r.body)));
  });

  it('answers a local 400 over h2 for a path that fails normalisation, and the session survives', async () => {
    const r = await h2req(session, { ':method': 'GET', ':path': '/bad%zzescape', ':authority': 'h2.example.com' });
    assert.equal(r.status, 400);
    const ok = await h2req(session, { ':method': 'GET', ':path': '/after', ':authority': 'h2.example.com' });
    assert.equal(ok.status, 200);
  });

  it('normalises dot segments in :path before matching and forwarding', async () => {
    const r = await h2req(session, { ':method': 'GET', ':path': '/a/../h2up/%2e/x?k=v', ':authority': 'h2.example.com' });
    assert.equal(r.status, 200);
    const e = JSON.parse(r.body) as Echo;
    assert.equal(e.name, 'echo-h2');
    assert.equal(e.path, '/h2up/x');
    assert.equal(e.query, 'k=v');
  });

  it('a stream cancelled by the client is logged 0 DC and the upstream request is cancelled', async () => {
    slowEvents.length = 0;
    const st = session.request({ ':method': 'GET', ':path': '/slow', ':authority': 'h2.example.com', 'x-request-id': 'h2-dc' });
    st.on('error', () => {});
    st.end();
    await waitFor(() => slowEvents.includes('request'), 3000);
    st.close(http2.constants.NGHTTP2_CANCEL);
    const l = await waitFor(() => gw.logs.find((x) => x.request_id === 'h2-dc'), 3000);
    assert.equal(l.response_code, '0');
    assert.ok(l.response_flags!.split(',').includes('DC'), `flags ${l.response_flags}`);
    await waitFor(() => slowEvents.includes('closed'), 2000).catch(() => undefined);
    assert.deepEqual(slowEvents, ['request', 'closed'], 'upstream request was not cancelled');
    const ok = await h2req(session, { ':method': 'GET', ':path': '/after-cancel', ':authority': 'h2.example.com' });
    assert.equal(ok.status, 200);
  });
});
