/**
 * Observability end to end, over real traffic: Istio's default TEXT access-log line (Portico's
 * default without --mesh-config) and /stats/prometheus after a success, a 404 (NR), a 503 from
 * a dead upstream (UF,URX), a route timeout (504 UT) and a client abort (0 DC); header values
 * with command operators; custom TEXT and JSON formats with WAF header fields; the Telemetry
 * API (provider filter, disabled, metric tag overrides); bounded label cardinality; and no lost
 * line on a clean shutdown.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EchoServer } from '../../src/cli/echo.js';
import {
  freePort, istioGatewayYaml, request, serviceYaml, sleep, startEchos, startTestGateway, virtualServiceYaml,
  waitFor, type TestGateway,
} from '../helpers/gateway.js';

const DEST = (svc: string) => `[{destination: {host: ${svc}.demo.svc.cluster.local, port: {number: 80}}}]`;

/** Istio's default TEXT line, field by field. */
const TEXT_LINE = new RegExp(String.raw`^\[(?<start>[^\]]+)\] "(?<method>\S+) (?<path>\S+) (?<protocol>\S+)" (?<code>\d+) (?<flags>\S+) (?<details>\S+) (?<term>\S+) "(?<utfr>[^"]*)" (?<rx>\d+) (?<tx>\d+) (?<duration>\d+) (?<ust>\S+) "(?<xff>[^"]*)" "(?<ua>[^"]*)" "(?<reqid>[^"]*)" "(?<authority>[^"]*)" "(?<uhost>[^"]*)" (?<cluster>\S+) (?<ulocal>\S+) (?<dslocal>\S+) (?<dsremote>\S+) (?<sni>\S+) (?<route>\S+)$`);

type Fields = Record<string, string>;

function parseText(line: string): Fields | undefined {
  return TEXT_LINE.exec(line)?.groups as Fields | undefined;
}

/** `name{labels}` → value for every sample line. */
function samples(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return m;
}

function labelsOf(series: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of series.slice(series.indexOf('{') + 1, -1).matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

async function scrape(adminPort: number, accept?: string): Promise<{ status: number; type: string; body: string }> {
  const r = await request(adminPort, { path: '/stats/prometheus', host: '127.0.0.1', ...(accept ? { headers: { accept } } : {}) });
  return { status: r.status, type: String(r.headers['content-type']), body: r.body };
}

/** Sum of istio_requests_total series matching the labels. */
function istioCount(s: Map<string, number>, want: Record<string, string>): number {
  let n = 0;
  for (const [k, v] of s) {
    if (!k.startsWith('istio_requests_total{')) continue;
    const l = labelsOf(k);
    if (Object.entries(want).every(([a, b]) => l[a] === b)) n += v;
  }
  return n;
}

function listen(server: net.Server | http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

describe('observability: default TEXT access log and /stats/prometheus after real traffic', () => {
  let gw: TestGateway;
  let echo: EchoServer;
  let port: number;
  let hangServer: net.Server;
  let slowServer: http.Server;
  const sockets = new Set<net.Socket>();

  async function lineFor(id: string): Promise<Fields> {
    return waitFor(() => gw.lines.map(parseText).find((f) => f?.reqid === id), 3000);
  }

  before(async () => {
    [echo] = await startEchos('echo-a') as [EchoServer];
    port = await freePort();
    const deadPort = await freePort();
    hangServer = net.createServer((s) => { sockets.add(s); s.on('error', () => {}); });
    slowServer = http.createServer((_req, res) => { const t = setTimeout(() => res.end('late'), 3000); res.on('close', () => clearTimeout(t)); });
    const hangPort = await listen(hangServer);
    const slowPort = await listen(slowServer);
    gw = await startTestGateway({
      'gw.yaml': istioGatewayYaml(port),
      'svc.yaml': [serviceYaml('echo-a', [echo.port]), serviceYaml('dead', [deadPort]), serviceYaml('hang', [hangPort]), serviceYaml('slow', [slowPort])].join('---\n'),
      'vs.yaml': virtualServiceYaml('obs', `  - name: ok
    match: [{uri: {prefix: /ok}}]
    route: ${DEST('echo-a')}
  - name: hdr
    match: [{uri: {prefix: /hdr}}]
    headers:
      request:
        set: {x-client-ip: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", x-literal: "100%%", x-from-ua: "ua=%REQ(user-agent):4%", x-absent: "%REQ(x-nothing)%"}
      response:
        set: {x-served-by: "%UPSTREAM_CLUSTER%", x-route: "%ROUTE_NAME%", x-start: "%START_TIME(%s)%"}
    route: ${DEST('echo-a')}
  - name: "bytes-ü"
    match: [{uri: {prefix: /bytes}}]
    headers:
      request:
        set: {x-greeting: "grüße %ROUTE_NAME%"}
      response:
        set: {x-greeting: "grüße"}
    route: ${DEST('echo-a')}
  - name: rewrite
    match: [{uri: {prefix: /old}}]
    rewrite: {uri: /new}
    route: ${DEST('echo-a')}
  - name: dead
    match: [{uri: {prefix: /dead}}]
    route: ${DEST('dead')}
  - name: hang
    match: [{uri: {prefix: /hang}}]
    timeout: 0.3s
    route: ${DEST('hang')}
  - name: slow
    match: [{uri: {prefix: /slow}}]
    route: ${DEST('slow')}
`, { hosts: ['known.test'] }),
    }, { 'mesh-config': null });
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await gw?.close();
    await echo?.close();
    await new Promise((r) => hangServer.close(r));
    slowServer.closeAllConnections();
    await new Promise((r) => slowServer.close(r));
  });

  it('success: the default line is Istio\'s TEXT format, field for field', async () => {
    const r = await request(port, { path: '/ok/a?x=1', host: 'known.test', headers: { 'x-request-id': 'obs-ok', 'user-agent': 'obs-test/1', 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(r.status, 200);
    const f = await lineFor('obs-ok');
    assert.match(f.start!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(f.method, 'GET');
    assert.equal(f.path, '/ok/a?x=1');
    assert.equal(f.protocol, 'HTTP/1.1');
    assert.equal(f.code, '200');
    assert.equal(f.flags, '-');
    assert.equal(f.details, 'via_upstream');
    assert.equal(f.term, '-');
    assert.equal(f.utfr, '-');
    assert.equal(f.rx, '0');
    assert.equal(f.tx, String(Buffer.byteLength(r.body)));
    assert.match(f.ust!, /^\d+$/);
    assert.equal(f.xff, '203.0.113.9, 127.0.0.1');
    assert.equal(f.ua, 'obs-test/1');
    assert.equal(f.authority, 'known.test');
    assert.equal(f.uhost, `127.0.0.1:${echo.port}`);
    assert.equal(f.cluster, 'outbound|80||echo-a.demo.svc.cluster.local');
    assert.match(f.ulocal!, /^127\.0\.0\.1:\d+$/);
    assert.equal(f.dslocal, `127.0.0.1:${port}`);
    assert.match(f.dsremote!, /^127\.0\.0\.1:\d+$/);
    assert.equal(f.sni, '-');
    assert.equal(f.route, 'ok');
    const raw = gw.lines.find((l) => l.includes('"obs-ok"'))!;
    assert.ok(!raw.includes('  '), 'single spaces between fields');
  });

  it('404: NR route_not_found, no upstream fields', async () => {
    const r = await request(port, { path: '/nothing', host: 'unknown.test', headers: { 'x-request-id': 'obs-404' } });
    assert.equal(r.status, 404);
    const f = await lineFor('obs-404');
    assert.equal(f.code, '404');
    assert.equal(f.flags, 'NR');
    assert.equal(f.details, 'route_not_found');
    assert.equal(f.uhost, '-');
    assert.equal(f.cluster, '-');
    assert.equal(f.ust, '-');
    assert.equal(f.route, '-');
  });

  it('503 from a dead upstream: UF,URX with the connection-failure detail and reason', async () => {
    const r = await request(port, { path: '/dead', host: 'known.test', headers: { 'x-request-id': 'obs-dead' } });
    assert.equal(r.status, 503);
    const f = await lineFor('obs-dead');
    assert.equal(f.code, '503');
    assert.equal(f.flags, 'UF,URX');
    assert.equal(f.details, 'upstream_reset_before_response_started{connection_failure}');
    assert.match(f.utfr!, /ECONNREFUSED/);
    assert.equal(f.cluster, 'outbound|80||dead.demo.svc.cluster.local');
  });

  it('timeout: 504 UT upstream_response_timeout', async () => {
    const r = await request(port, { path: '/hang', host: 'known.test', headers: { 'x-request-id': 'obs-ut' } });
    assert.equal(r.status, 504);
    assert.equal(r.body, 'upstream request timeout');
    const f = await lineFor('obs-ut');
    assert.equal(f.flags, 'UT');
    assert.equal(f.details, 'upstream_response_timeout');
    assert.ok(Number(f.duration) >= 250, `duration ${f.duration}`);
  });

  it('client abort: code 0, DC, downstream_remote_disconnect', async () => {
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/slow', agent: false, headers: { host: 'known.test', 'x-request-id': 'obs-dc' } });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.end();
      setTimeout(() => req.destroy(), 200);
    });
    const f = await lineFor('obs-dc');
    assert.equal(f.code, '0');
    assert.ok(f.flags!.split(',').includes('DC'), f.flags);
    assert.equal(f.details, 'downstream_remote_disconnect');
  });

  it('the path before a rewrite is logged', async () => {
    await request(port, { path: '/old/x?q=1', host: 'known.test', headers: { 'x-request-id': 'obs-rw' } });
    assert.equal((await lineFor('obs-rw')).path, '/old/x?q=1');
  });

  it('header values with command operators are rendered per request; literals stay literal', async () => {
    const r = await request(port, { path: '/hdr', host: 'known.test', headers: { 'user-agent': 'curl/8.0' } });
    assert.equal(r.status, 200);
    const seen = (JSON.parse(r.body) as { headers: Record<string, string> }).headers;
    assert.equal(seen['x-client-ip'], '127.0.0.1');
    assert.equal(seen['x-literal'], '100%');
    assert.equal(seen['x-from-ua'], 'ua=curl');
    assert.equal(seen['x-absent'], undefined, 'an empty rendered value adds no header');
    assert.equal(r.headers['x-served-by'], 'outbound|80||echo-a.demo.svc.cluster.local');
    assert.equal(r.headers['x-route'], 'hdr');
    assert.ok(Math.abs(Number(r.headers['x-start']) - Date.now() / 1000) < 60);
  });

  it('bytes: header bytes are logged as received, configured text goes out as UTF-8 (log line and headers)', async () => {
    // A raw request: the user agent is the UTF-8 bytes of "café", sent as is.
    const port0 = port;
    const body = await new Promise<Buffer>((resolve, reject) => {
      const s = net.connect(port0, '127.0.0.1', () => {
        s.write(Buffer.concat([
          Buffer.from('GET /bytes HTTP/1.1\r\nhost: known.test\r\nx-request-id: obs-bytes\r\nconnection: close\r\nuser-agent: caf', 'latin1'),
          Buffer.from('\u00e9 \u2192', 'utf8'),
          Buffer.from('\r\n\r\n', 'latin1'),
        ]));
      });
      const chunks: Buffer[] = [];
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('end', () => resolve(Buffer.concat(chunks)));
      s.on('error', reject);
    });
    const text = body.toString('latin1');
    assert.match(text, /^HTTP\/1\.1 200 /);
    // Response header from the configuration: UTF-8 bytes on the wire.
    assert.ok(body.includes(Buffer.from('x-greeting: gr\u00fc\u00dfe\r\n', 'utf8')), text.slice(0, 400));
    // The upstream saw the configured request header as UTF-8 bytes (the echo reads them as latin1).
    const echoed = JSON.parse(body.subarray(body.indexOf('\r\n\r\n') + 4).toString('utf8')) as { headers: Record<string, string> };
    assert.equal(Buffer.from(echoed.headers['x-greeting']!, 'latin1').toString('utf8'), 'gr\u00fc\u00dfe bytes-\u00fc');
    const f = await lineFor('obs-bytes');
    assert.equal(f.ua, 'caf\u00e9 \u2192', 'raw header bytes, not re-encoded');
    assert.equal(f.route, 'bytes-\u00fc');
  });

  it('/stats/prometheus: Istio metrics with every label, flags and codes of the traffic above', async () => {
    const m = await scrape(gw.adminPort);
    assert.equal(m.status, 200);
    assert.match(m.type, /^text\/plain; version=0\.0\.4/);
    const s = samples(m.body);
    assert.ok(istioCount(s, { response_code: '200', response_flags: '-', destination_service_name: 'echo-a', reporter: 'source' }) >= 1);
    assert.equal(istioCount(s, { response_code: '404', response_flags: 'NR', destination_service: 'unknown' }), 1);
    assert.equal(istioCount(s, { response_code: '503', response_flags: 'UF,URX', destination_service_name: 'dead' }), 1);
    assert.equal(istioCount(s, { response_code: '504', response_flags: 'UT', destination_service_name: 'hang' }), 1);
    assert.ok(istioCount(s, { response_code: '0', destination_service_name: 'slow' }) >= 1);
    const one = [...s.keys()].find((k) => k.startsWith('istio_requests_total{'))!;
    const l = labelsOf(one);
    for (const name of ['source_workload', 'source_workload_namespace', 'destination_service', 'destination_service_namespace', 'request_protocol', 'grpc_response_status', 'connection_security_policy']) {
      assert.ok(name in l, `label ${name} present`);
    }
    assert.equal(l.source_workload, 'istio-ingressgateway');
    assert.equal(l.connection_security_policy, 'unknown');
    assert.ok([...s.keys()].some((k) => k.startsWith('istio_request_duration_milliseconds_bucket{') && k.includes('le="3600000"')));
    assert.ok([...s.keys()].some((k) => k.startsWith('istio_response_bytes_sum{')));
    // Portico's own: route ids, cluster counters, pools, reloads, listeners, process.
    assert.ok((s.get('portico_route_requests_total{route="virtualservice/demo/obs/http/0/match/0",code_class="2xx"}') ?? 0) >= 1, [...s.keys()].filter((k) => k.startsWith('portico_route_requests_total')).join('\n'));
    assert.equal(s.get('portico_route_requests_total{route="-",code_class="4xx"}'), 1);
    assert.ok((s.get('portico_cluster_upstream_connect_failures_total{cluster="outbound|80||dead.demo.svc.cluster.local"}') ?? 0) >= 3);
    assert.equal(s.get('portico_cluster_upstream_retries_total{cluster="outbound|80||dead.demo.svc.cluster.local"}'), 2);
    assert.equal(s.get('portico_cluster_upstream_timeouts_total{cluster="outbound|80||hang.demo.svc.cluster.local"}'), 1);
    assert.ok((s.get('portico_cluster_upstream_connections_opened{cluster="outbound|80||echo-a.demo.svc.cluster.local"}') ?? 0) >= 1);
    assert.equal(s.get('portico_config_reloads_total{result="applied"}'), 1);
    assert.equal(s.get('portico_config_generation'), 1);
    assert.equal(s.get(`portico_listener_up{listener="127.0.0.1:${port}"}`), 1);
    assert.ok((s.get(`portico_downstream_connections_opened_total{listener="127.0.0.1:${port}"}`) ?? 0) >= 6);
    assert.ok((s.get('portico_process_resident_memory_bytes') ?? 0) > 1e6);
    assert.doesNotMatch(m.body, /\/ok\/a|x=1/, 'no raw path in any label');
  });

  it('OpenMetrics when asked', async () => {
    const m = await scrape(gw.adminPort, 'application/openmetrics-text; version=1.0.0');
    assert.match(m.type, /^application\/openmetrics-text; version=1\.0\.0/);
    assert.ok(m.body.endsWith('# EOF\n'));
    assert.match(m.body, /^# TYPE istio_requests counter$/m);
    assert.match(m.body, /^istio_requests_total\{/m);
  });
});

describe('observability: mesh config formats and the Telemetry API', () => {
  let gw: TestGateway;
  let echo: EchoServer;
  let port: number;
  let tmp: string;
  let errorsFile: string;

  const root = (spec: string): string => `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
${spec}`;

  before(async () => {
    [echo] = await startEchos('echo-a') as [EchoServer];
    port = await freePort();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-obs-'));
    errorsFile = path.join(tmp, 'errors.log');
    const mesh = path.join(tmp, 'mesh.yaml');
    fs.writeFileSync(mesh, `accessLogFile: /dev/stdout
accessLogEncoding: JSON
accessLogFormat: |
  {"code": "%RESPONSE_CODE%", "waf": "%REQ(X-WAF-SCORE)%", "ct": "%RESP(CONTENT-TYPE)%", "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%", "id": "%REQ(X-REQUEST-ID)%"}
extensionProviders:
- name: errors-only
  envoyFileAccessLog:
    path: ${errorsFile}
    logFormat: {text: "%RESPONSE_CODE% %RESPONSE_FLAGS% %REQ(:PATH)% %REQ(X-REQUEST-ID)%"}
`);
    gw = await startTestGateway({
      'gw.yaml': istioGatewayYaml(port),
      'svc.yaml': serviceYaml('echo-a', [echo.port]),
      'vs.yaml': virtualServiceYaml('obs', `  - name: ok
    route: ${DEST('echo-a')}
`, { hosts: ['known.test'] }),
      'telemetry.yaml': root(`  accessLogging:
  - providers: [{name: envoy}]
  - providers: [{name: errors-only}]
    filter: {expression: "response.code >= 400"}
`),
    }, { 'mesh-config': mesh });
  });

  after(async () => {
    await gw?.close();
    await echo?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the built-in envoy provider writes the MeshConfig JSON format with custom fields from request and response headers', async () => {
    await request(port, { path: '/a', host: 'known.test', headers: { 'x-request-id': 'tel-1', 'x-waf-score': '87' } });
    const l = await waitFor(() => gw.logs.find((x) => x.id === 'tel-1'), 3000);
    assert.deepEqual(Object.keys(l), ['code', 'waf', 'ct', 'path', 'id']);
    assert.deepEqual(l, { code: '200', waf: '87', ct: 'application/json', path: '/a', id: 'tel-1' });
  });

  it('a provider with a filter logs only what the CEL expression selects, in its own TEXT format and file', async () => {
    await request(port, { path: '/b', host: 'known.test', headers: { 'x-request-id': 'tel-2' } });
    await request(port, { path: '/c', host: 'nowhere.test', headers: { 'x-request-id': 'tel-3' } });
    await waitFor(() => gw.logs.find((x) => x.id === 'tel-3'), 3000);
    const text = await waitFor(() => { try { const t = fs.readFileSync(errorsFile, 'utf8'); return t.includes('tel-3') ? t : undefined; } catch { return undefined; } }, 3000);
    assert.equal(text, '404 NR /c tel-3\n');
    assert.ok(gw.logs.find((x) => x.id === 'tel-2'), 'the unfiltered provider logged the 200');
  });

  it('Telemetry accessLogging disabled: true overrides the mesh-config access log', async () => {
    await gw.write('telemetry.yaml', root(`  accessLogging:
  - disabled: true
`));
    await request(port, { path: '/d', host: 'known.test', headers: { 'x-request-id': 'tel-4' } });
    await sleep(150);
    assert.equal(gw.logs.find((x) => x.id === 'tel-4'), undefined);
    await gw.write('telemetry.yaml', root(`  accessLogging:
  - providers: [{name: envoy}]
`));
    await request(port, { path: '/e', host: 'known.test', headers: { 'x-request-id': 'tel-5' } });
    await waitFor(() => gw.logs.find((x) => x.id === 'tel-5'), 3000);
  });

  it('metrics tagOverrides add a dimension from a header and remove one, only on the named metric; a disabled metric disappears', async () => {
    await gw.write('telemetry.yaml', root(`  accessLogging:
  - providers: [{name: envoy}]
  metrics:
  - providers: [{name: prometheus}]
    overrides:
    - match: {metric: REQUEST_COUNT, mode: CLIENT_AND_SERVER}
      tagOverrides:
        tenant: {value: "request.headers['x-tenant']"}
        response_flags: {operation: REMOVE}
    - match: {metric: REQUEST_SIZE}
      disabled: true
`));
    await request(port, { path: '/f', host: 'known.test', headers: { 'x-tenant': 'blue' } });
    await request(port, { path: '/g', host: 'known.test' });
    const s = samples((await scrape(gw.adminPort)).body);
    const withTenant = [...s.keys()].filter((k) => k.startsWith('istio_requests_total{') && k.includes('tenant='));
    assert.ok(withTenant.some((k) => labelsOf(k).tenant === 'blue'), withTenant.join('\n'));
    assert.ok(withTenant.some((k) => labelsOf(k).tenant === 'unknown'));
    assert.ok(withTenant.every((k) => !('response_flags' in labelsOf(k))));
    const dur = [...s.keys()].filter((k) => k.startsWith('istio_request_duration_milliseconds_count{'));
    assert.ok(dur.length > 0 && dur.every((k) => !('tenant' in labelsOf(k)) && 'response_flags' in labelsOf(k)));
    const before = [...s.keys()].filter((k) => k.startsWith('istio_request_bytes_count{')).map((k) => s.get(k)!).reduce((a, b) => a + b, 0);
    await request(port, { path: '/h', host: 'known.test' });
    const s2 = samples((await scrape(gw.adminPort)).body);
    const after2 = [...s2.keys()].filter((k) => k.startsWith('istio_request_bytes_count{')).map((k) => s2.get(k)!).reduce((a, b) => a + b, 0);
    assert.equal(after2, before, 'REQUEST_SIZE is no longer recorded');
  });
});

describe('observability: label cardinality is bounded by construction', () => {
  let gw: TestGateway;
  let echo: EchoServer;
  let port: number;

  before(async () => {
    [echo] = await startEchos('echo-a') as [EchoServer];
    port = await freePort();
    gw = await startTestGateway({
      'gw.yaml': istioGatewayYaml(port),
      'svc.yaml': serviceYaml('echo-a', [echo.port]),
      'vs.yaml': virtualServiceYaml('card', `  - name: all
    route: ${DEST('echo-a')}
`, { hosts: ['card.test'] }),
    }, { 'no-access-log': true });
  });

  after(async () => {
    await gw?.close();
    await echo?.close();
  });

  async function blast(from: number, n: number): Promise<void> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    let next = from;
    const worker = async (): Promise<void> => {
      while (next < from + n) {
        const k = next++;
        await new Promise<void>((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port, agent, path: `/item/${k}/${(k * 7919).toString(36)}?q=${k}&r=${k % 13}`, headers: { host: k % 2 ? 'card.test' : `h${k}.unknown.test` } }, (res) => { res.resume(); res.on('end', resolve); });
          req.on('error', reject);
          req.end();
        });
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    agent.destroy();
  }

  const seriesCount = (body: string): number => body.split('\n').filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('portico_process_') && !l.startsWith('portico_event_loop') && !l.startsWith('portico_gc_')).length;

  it('10,000 distinct paths, query strings and hosts add no series', async () => {
    await blast(0, 200);
    const base = await scrape(gw.adminPort);
    const n0 = seriesCount(base.body);
    await blast(200, 10_000);
    const after2 = await scrape(gw.adminPort);
    assert.equal(seriesCount(after2.body), n0, 'series count grew with distinct requests');
    const s = samples(after2.body);
    assert.equal(istioCount(s, {}), 10_200);
    assert.doesNotMatch(after2.body, /item|unknown\.test|q=/);
  });
});

describe('observability: logging never loses lines on a clean shutdown', () => {
  it('every request of a burst is in the access-log file after stop', async () => {
    const [echo] = await startEchos('echo-a') as [EchoServer];
    const port = await freePort();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-obs-'));
    const file = path.join(tmp, 'access.log');
    const mesh = path.join(tmp, 'mesh.yaml');
    fs.writeFileSync(mesh, `accessLogFile: ${file}\n`);
    const gw = await startTestGateway({
      'gw.yaml': istioGatewayYaml(port),
      'svc.yaml': serviceYaml('echo-a', [echo.port]),
      'vs.yaml': virtualServiceYaml('flush', `  - route: ${DEST('echo-a')}\n`, { hosts: ['*'] }),
    }, { 'mesh-config': mesh });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    const N = 3000;
    let done = 0;
    await Promise.all(Array.from({ length: N }, (_, k) => new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, agent, path: `/f/${k}`, headers: { 'x-request-id': `flush-${k}` } }, (res) => { res.resume(); res.on('end', () => { done++; resolve(); }); });
      req.on('error', () => resolve());
      req.end();
    })));
    agent.destroy();
    assert.equal(done, N);
    await gw.close();
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    assert.equal(lines.length, N);
    assert.ok(lines.every((l) => TEXT_LINE.test(l)), 'every line is a whole TEXT line');
    assert.equal(new Set(lines.map((l) => parseText(l)!.reqid)).size, N);
    await echo.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});
