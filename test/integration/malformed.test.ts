/**
 * HTTP/1.1 framing and path handling on raw sockets (RFC 9112 / RFC 9110 / RFC 3986):
 * request-smuggling shapes are refused with 400, oversized heads with 431, dot segments are
 * removed before matching, %2F is never decoded, pipelining answers in order, and the
 * gateway keeps serving after every bad request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EchoServer } from '../../src/cli/echo.js';
import {
  freePort, istioGatewayYaml, rawRequest, request, serviceYaml, startEchos, startTestGateway, virtualServiceYaml,
  waitFor, type TestGateway,
} from '../helpers/gateway.js';

interface RawResponse { status: number; headers: Record<string, string>; body: string }

/** Parse every complete HTTP/1.1 response in `raw` (content-length or chunked framing). */
function parseResponses(raw: string): RawResponse[] {
  const out: RawResponse[] = [];
  let off = 0;
  while (off < raw.length) {
    const end = raw.indexOf('\r\n\r\n', off);
    if (end === -1) break;
    const lines = raw.slice(off, end).split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!m) break;
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    let p = end + 4;
    let body = '';
    const status = Number(m[1]);
    if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const le = raw.indexOf('\r\n', p);
        if (le === -1) return out;
        const size = parseInt(raw.slice(p, le), 16);
        p = le + 2;
        if (size === 0) { p = raw.indexOf('\r\n', p) + 2; break; }
        body += raw.slice(p, p + size);
        p += size + 2;
      }
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      body = raw.slice(p, p + n);
      p += n;
    } else if (status >= 200 && status !== 204 && status !== 304) {
      body = raw.slice(p);
      p = raw.length;
    }
    out.push({ status, headers, body });
    off = p;
  }
  return out;
}

function statusOf(raw: string): number {
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(raw);
  return m ? Number(m[1]) : 0;
}

describe('malformed and tricky HTTP/1.1 requests', () => {
  let gw: TestGateway;
  let echos: EchoServer[];
  let port: number;

  before(async () => {
    echos = await startEchos('echo-a', 'echo-etc');
    const [a, etc] = echos as [EchoServer, EchoServer];
    port = await freePort();
    gw = await startTestGateway({
      'gw.yaml': istioGatewayYaml(port),
      'svc.yaml': [serviceYaml('echo-a', [a.port]), serviceYaml('echo-etc', [etc.port])].join('---\n'),
      'vs.yaml': virtualServiceYaml('paths', `  - name: etc
    match: [{uri: {prefix: /etc}}]
    route: [{destination: {host: echo-etc.demo.svc.cluster.local, port: {number: 80}}}]
  - name: direct
    match: [{uri: {exact: /direct}}]
    directResponse: {status: 200, body: {string: "direct ok"}}
  - name: all
    route: [{destination: {host: echo-a.demo.svc.cluster.local, port: {number: 80}}}]
`),
    });
  });

  after(async () => {
    await gw?.close();
    await Promise.all((echos ?? []).map((e) => e.close()));
  });

  async function stillServes(): Promise<void> {
    const r = await request(port, { path: '/healthy' });
    assert.equal(r.status, 200, 'gateway stopped serving after a bad request');
    assert.equal(JSON.parse(r.body).name, 'echo-a');
  }

  const bad: [string, string, number | number[]][] = [
    ['Content-Length and Transfer-Encoding together', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['Content-Length with a sign', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello', 400],
    ['two differing Content-Length headers', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', 400],
    ['Content-Length list with differing values', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!', 400],
    ['space before the colon', 'GET / HTTP/1.1\r\nHost: x\r\nX-Foo : bar\r\n\r\n', 400],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: x\r\nX-Foo: a\r\n  b\r\n\r\n', 400],
    ['bare LF line endings', 'GET / HTTP/1.1\nHost: x\n\n', 400],
    ['bare LF after one header', 'GET / HTTP/1.1\r\nHost: x\nX-A: 1\r\n\r\n', 400],
    ['missing Host on HTTP/1.1', 'GET / HTTP/1.1\r\nX-A: 1\r\n\r\n', 400],
    ['duplicate Host (different values)', 'GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n', 400],
    ['duplicate Host (same value)', 'GET / HTTP/1.1\r\nHost: a.test\r\nHost: a.test\r\n\r\n', 400],
    ['Transfer-Encoding not ending in chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc', [400, 501]],
    ['NUL in a header value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n', 400],
    ['malformed percent escape in the path', 'GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['HTTP/1.0 request without Host', 'GET / HTTP/1.0\r\n\r\n', 400],
  ];

  for (const [name, bytes, want] of bad) {
    it(`rejects ${name} with ${String(want)}, then still serves`, async () => {
      const raw = await rawRequest(port, bytes, 1000);
      const wanted = Array.isArray(want) ? want : [want];
      assert.ok(wanted.includes(statusOf(raw)), `want ${String(want)}, got: ${JSON.stringify(raw.slice(0, 200))}`);
      assert.match(raw, /\r\nconnection: close\r\n/i);
      await stillServes();
    });
  }

  it('logs a malformed request with flag DPE and an http1.* detail', async () => {
    await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nX-Foo : bar\r\nx-request-id: dpe-1\r\n\r\n', 500);
    const l = await waitFor(() => gw.logs.find((x) => x.response_code === '400' && x.response_flags === 'DPE'), 3000);
    assert.match(l.response_code_details!, /^http1\./);
  });

  it('answers 431 to a head over 60 KiB', async () => {
    const raw = await rawRequest(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(61 * 1024)}\r\n\r\n`, 1500);
    assert.equal(statusOf(raw), 431, `got: ${JSON.stringify(raw.slice(0, 100))}`);
    await stillServes();
  });

  it('accepts a 40 KiB head (above Node\'s 16 KiB default, below Envoy\'s 60 KiB)', async () => {
    const raw = await rawRequest(port, `GET /direct HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40 * 1024)}\r\nConnection: close\r\n\r\n`, 1500);
    const [r] = parseResponses(raw);
    assert.equal(r?.status, 200);
    assert.equal(r?.body, 'direct ok');
  });

  it('normalises /../../etc/passwd to /etc/passwd before matching and forwarding', async () => {
    const raw = await rawRequest(port, 'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 1500);
    const [r] = parseResponses(raw);
    assert.equal(r?.status, 200);
    const e = JSON.parse(r!.body);
    assert.equal(e.name, 'echo-etc');
    assert.equal(e.path, '/etc/passwd');
  });

  it('treats %2e%2e as a dot-dot segment', async () => {
    const raw = await rawRequest(port, 'GET /public/%2e%2e/%2E%2e/etc/passwd?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 1500);
    const [r] = parseResponses(raw);
    assert.equal(r?.status, 200);
    const e = JSON.parse(r!.body);
    assert.equal(e.name, 'echo-etc');
    assert.equal(e.path, '/etc/passwd');
    assert.equal(e.query, 'q=1');
  });

  it('removes ./ segments and decodes unreserved escapes', async () => {
    const raw = await rawRequest(port, 'GET /./%65tc/./x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 1500);
    const [r] = parseResponses(raw);
    const e = JSON.parse(r!.body);
    assert.equal(e.name, 'echo-etc');
    assert.equal(e.path, '/etc/x');
  });

  it('never decodes %2F (it stays one segment and is forwarded as sent)', async () => {
    const raw = await rawRequest(port, 'GET /etc/a%2Fb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 1500);
    const [r] = parseResponses(raw);
    assert.equal(r?.status, 200);
    assert.equal(JSON.parse(r!.body).path, '/etc/a%2Fb');
    const raw2 = await rawRequest(port, 'GET /public/%2F..%2Fetc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 1500);
    const [r2] = parseResponses(raw2);
    const e2 = JSON.parse(r2!.body);
    assert.equal(e2.name, 'echo-a', '%2F..%2F climbed out of /public');
    assert.equal(e2.path, '/public/%2F..%2Fetc/passwd');
  });

  it('answers two pipelined requests in one write, in order', async () => {
    const raw = await rawRequest(port, 'GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /p2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 2000);
    const rs = parseResponses(raw);
    assert.equal(rs.length, 2, `got ${rs.length} responses: ${JSON.stringify(raw.slice(0, 300))}`);
    assert.deepEqual(rs.map((r) => r.status), [200, 200]);
    assert.deepEqual(rs.map((r) => JSON.parse(r.body).path), ['/p1', '/p2']);
  });

  it('answers pipelined requests with bodies and a local reply in between, in order', async () => {
    const raw = await rawRequest(port,
      'POST /b1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' +
      'GET /direct HTTP/1.1\r\nHost: x\r\n\r\n' +
      'POST /b3 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
      'GET /p4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 2000);
    const rs = parseResponses(raw);
    assert.equal(rs.length, 4, `got ${rs.length} responses: ${JSON.stringify(raw.slice(0, 400))}`);
    assert.deepEqual(rs.map((r) => r.status), [200, 200, 200, 200]);
    assert.equal(JSON.parse(rs[0]!.body).bodyBytes, 5);
    assert.equal(rs[1]!.body, 'direct ok');
    assert.equal(JSON.parse(rs[2]!.body).bodyBytes, 3);
    assert.equal(JSON.parse(rs[3]!.body).path, '/p4');
  });

  it('routes an absolute-form target by its authority', async () => {
    const raw = await rawRequest(port, 'GET http://abs.test/etc/abs?x=1 HTTP/1.1\r\nHost: abs.test\r\nConnection: close\r\n\r\n', 1500);
    const [r] = parseResponses(raw);
    assert.equal(r?.status, 200);
    const e = JSON.parse(r!.body);
    assert.equal(e.name, 'echo-etc');
    assert.equal(e.path, '/etc/abs');
    assert.equal(e.query, 'x=1');
  });
});
