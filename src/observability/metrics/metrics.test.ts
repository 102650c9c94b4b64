import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamInfo } from '../stream-info.js';
import { ENVOY_BUCKETS, ISTIO_LABELS, Metrics, Registry, sourceWorkload, destinationOf } from './index.js';

function req(code: number, cluster = 'outbound|80||echo-a.demo.svc.cluster.local', flags = ''): StreamInfo {
  const i = new StreamInfo();
  i.startHr = 100;
  i.endHr = 112;
  i.responseCode = code;
  i.flags = flags;
  i.upstreamCluster = cluster;
  i.destinationService = cluster ? cluster.split('|')[3]! : '';
  i.routeId = cluster ? 'virtualservice/demo/vs/http/0/match/0' : '';
  i.requestWireBytes = 100;
  i.bytesReceived = 20;
  i.responseWireBytes = 300;
  i.reqNames = ['x-tenant'];
  i.reqValues = ['blue'];
  return i;
}

/** Parse exposition lines into name{labels} → value. */
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
  const open = series.indexOf('{');
  const out: Record<string, string> = {};
  for (const m of series.slice(open + 1, -1).matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

const SRC = sourceWorkload('istio-system', { istio: 'ingressgateway' });

describe('metrics registry', () => {
  it('renders counters, gauges and histograms in text format 0.0.4', () => {
    const r = new Registry();
    r.counter('a_total', 'A count', ['x']).with('1').inc(2);
    r.gauge('g', 'A gauge').with().set(5);
    const h = r.histogram('h_ms', 'A histogram', ['k'], [1, 10]);
    h.with('v').observe(0.5);
    h.with('v').observe(5);
    h.with('v').observe(50);
    const text = r.render();
    assert.equal(text, [
      '# HELP a_total A count', '# TYPE a_total counter', 'a_total{x="1"} 2',
      '# HELP g A gauge', '# TYPE g gauge', 'g 5',
      '# HELP h_ms A histogram', '# TYPE h_ms histogram',
      'h_ms_bucket{k="v",le="1"} 1', 'h_ms_bucket{k="v",le="10"} 2', 'h_ms_bucket{k="v",le="+Inf"} 3',
      'h_ms_sum{k="v"} 55.5', 'h_ms_count{k="v"} 3', '',
    ].join('\n'));
  });

  it('OpenMetrics: counter family without _total, samples with it, # EOF', () => {
    const r = new Registry();
    r.counter('a_total', 'A count').with().inc();
    const text = r.render(true);
    assert.equal(text, '# HELP a A count\n# TYPE a counter\na_total 1\n# EOF\n');
  });

  it('escapes label values', () => {
    const r = new Registry();
    r.counter('c_total', 'c', ['v']).with('a"b\\c\nd').inc();
    assert.match(r.render(), /c_total\{v="a\\"b\\\\c\\nd"\} 1/);
  });

  it('caps series per family with one overflow series', () => {
    const r = new Registry();
    const f = r.counter('c_total', 'c', ['v'], 3);
    for (let k = 0; k < 10; k++) f.with(String(k)).inc();
    const s = samples(r.render());
    assert.equal(s.size, 4);
    assert.equal(s.get('c_total{v="overflow"}'), 7);
    assert.equal(f.overflowed, 7);
  });
});

describe('Istio standard metrics', () => {
  it('every label present, reporter=source, unknown where unknown, Envoy buckets', () => {
    const m = new Metrics(SRC);
    m.onStream(req(200));
    m.onStream(req(200));
    m.onStream(req(503, 'outbound|80||echo-a.demo.svc.cluster.local', 'UF,URX'));
    const text = m.render().body;
    const s = samples(text);
    const counts = [...s].filter(([k]) => k.startsWith('istio_requests_total{'));
    assert.equal(counts.length, 2);
    const [k200, v200] = counts.find(([k]) => k.includes('response_code="200"'))!;
    assert.equal(v200, 2);
    const l = labelsOf(k200);
    assert.deepEqual(Object.keys(l), [...ISTIO_LABELS]);
    assert.equal(l.reporter, 'source');
    assert.equal(l.source_workload, 'istio-ingressgateway');
    assert.equal(l.source_workload_namespace, 'istio-system');
    assert.equal(l.source_canonical_revision, 'latest');
    assert.equal(l.destination_service, 'echo-a.demo.svc.cluster.local');
    assert.equal(l.destination_service_name, 'echo-a');
    assert.equal(l.destination_service_namespace, 'demo');
    assert.equal(l.destination_workload, 'unknown');
    assert.equal(l.request_protocol, 'http');
    assert.equal(l.response_flags, '-');
    assert.equal(l.grpc_response_status, '');
    assert.equal(l.connection_security_policy, 'unknown');
    assert.ok(counts.some(([k]) => k.includes('response_flags="UF,URX"') && k.includes('response_code="503"')));
    const buckets = [...s.keys()].filter((k) => k.startsWith('istio_request_duration_milliseconds_bucket{') && k.includes('response_code="200"'));
    assert.deepEqual(buckets.map((k) => labelsOf(k).le), [...ENVOY_BUCKETS.map(String), '+Inf']);
    const sumKey = [...s.keys()].find((k) => k.startsWith('istio_request_bytes_sum{') && k.includes('"200"'))!;
    assert.equal(s.get(sumKey), 240, 'request bytes are wire bytes (head + body)');
    assert.match(text, /# TYPE istio_tcp_connections_opened_total counter/);
  });

  it('no route / no cluster: destination labels are unknown (no Host fallback)', () => {
    const m = new Metrics(SRC);
    m.onStream(req(404, '', 'NR'));
    const k = [...samples(m.render().body).keys()].find((x) => x.startsWith('istio_requests_total{'))!;
    const l = labelsOf(k);
    assert.equal(l.destination_service, 'unknown');
    assert.equal(l.destination_service_name, 'unknown');
    assert.equal(l.response_flags, 'NR');
  });

  it('tagOverrides add a dimension from a header and remove one, only on the metric they name', () => {
    const m = new Metrics(SRC);
    m.configureIstio(true, { REQUEST_COUNT: { tags: [{ name: 'tenant', remove: false, value: "request.headers['x-tenant']" }, { name: 'response_flags', remove: true }] } });
    m.onStream(req(200));
    const s = samples(m.render().body);
    const count = labelsOf([...s.keys()].find((k) => k.startsWith('istio_requests_total{'))!);
    assert.equal(count.tenant, 'blue');
    assert.equal(count.response_flags, undefined);
    const dur = labelsOf([...s.keys()].find((k) => k.startsWith('istio_request_duration_milliseconds_count{'))!);
    assert.equal(dur.tenant, undefined);
    assert.equal(dur.response_flags, '-');
  });

  it('a disabled metric is not reported; all disabled stops Istio metrics', () => {
    const m = new Metrics(SRC);
    m.configureIstio(true, { REQUEST_SIZE: { disabled: true } });
    m.onStream(req(200));
    const text = m.render().body;
    assert.doesNotMatch(text, /istio_request_bytes_count\{/);
    assert.match(text, /istio_requests_total\{/);
    const off = new Metrics(SRC);
    off.configureIstio(false, {});
    off.onStream(req(200));
    assert.doesNotMatch(off.render().body, /istio_requests_total\{/);
    assert.match(off.render().body, /portico_route_requests_total\{/);
  });

  it('source workload and destination label derivation', () => {
    assert.equal(sourceWorkload('gw', { app: 'edge', version: 'v2' }).workload, 'edge');
    assert.equal(sourceWorkload('gw', { app: 'edge', version: 'v2' }).canonicalRevision, 'v2');
    assert.equal(sourceWorkload('gw', {}).workload, 'portico');
    assert.deepEqual(destinationOf('api.example.com', 'ext'), { service: 'api.example.com', name: 'api.example.com', namespace: 'ext' });
  });
});

describe('Portico metrics', () => {
  it('per route (id, never the path) and code class; per cluster failures, retries, timeouts', () => {
    const m = new Metrics(SRC);
    const a = req(200);
    a.originalPath = '/secret/path';
    m.onStream(a);
    const b = req(504, 'outbound|80||echo-a.demo.svc.cluster.local', 'UT');
    b.retries = 2;
    b.connectFailures = 1;
    m.onStream(b);
    m.onStream(req(404, '', 'NR'));
    const text = m.render().body;
    assert.doesNotMatch(text, /secret/);
    const s = samples(text);
    assert.equal(s.get('portico_route_requests_total{route="virtualservice/demo/vs/http/0/match/0",code_class="2xx"}'), 1);
    assert.equal(s.get('portico_route_requests_total{route="virtualservice/demo/vs/http/0/match/0",code_class="5xx"}'), 1);
    assert.equal(s.get('portico_route_requests_total{route="-",code_class="4xx"}'), 1);
    const c = 'cluster="outbound|80||echo-a.demo.svc.cluster.local"';
    assert.equal(s.get(`portico_cluster_upstream_retries_total{${c}}`), 2);
    assert.equal(s.get(`portico_cluster_upstream_connect_failures_total{${c}}`), 1);
    assert.equal(s.get(`portico_cluster_upstream_timeouts_total{${c}}`), 1);
    assert.ok((s.get('portico_process_resident_memory_bytes') ?? 0) > 0);
    m.close();
  });

  it('certificate expiry gauge: set, update, remove', () => {
    const m = new Metrics(SRC);
    m.setCertificateExpiry({ secret: 'istio-system/shop', listener: '0.0.0.0:443' }, 1_900_000_000);
    assert.match(m.render().body, /portico_certificate_expiry_timestamp_seconds\{listener="0.0.0.0:443",secret="istio-system\/shop"\} 1900000000/);
    m.setCertificateExpiry({ listener: '0.0.0.0:443', secret: 'istio-system/shop' }, 1_900_000_001);
    assert.match(m.render().body, /\} 1900000001/);
    m.setCertificateExpiry({ secret: 'istio-system/shop', listener: '0.0.0.0:443' }, undefined);
    assert.doesNotMatch(m.render().body, /portico_certificate_expiry_timestamp_seconds\{/);
    m.close();
  });

  it('OpenMetrics when the Accept header asks for it', () => {
    const m = new Metrics(SRC);
    const r = m.render('application/openmetrics-text; version=1.0.0,text/plain;q=0.5');
    assert.match(r.contentType, /^application\/openmetrics-text; version=1.0.0/);
    assert.ok(r.body.endsWith('# EOF\n'));
    assert.match(m.render('text/plain').contentType, /^text\/plain; version=0.0.4/);
    m.close();
  });
});
