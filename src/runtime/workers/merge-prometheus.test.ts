import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultGaugeMerge, formatValue, mergePrometheus, parseSample } from './merge-prometheus.js';

const W1 = `# HELP portico_requests_total Requests handled
# TYPE portico_requests_total counter
portico_requests_total{code="200",route="a"} 10
portico_requests_total{code="503",route="a"} 1
# HELP portico_connections_active Open downstream connections
# TYPE portico_connections_active gauge
portico_connections_active 4
# HELP portico_request_duration_seconds Request duration
# TYPE portico_request_duration_seconds histogram
portico_request_duration_seconds_bucket{le="0.005"} 3
portico_request_duration_seconds_bucket{le="0.1"} 8
portico_request_duration_seconds_bucket{le="+Inf"} 11
portico_request_duration_seconds_sum 0.25
portico_request_duration_seconds_count 11
# HELP portico_build_info Build information
# TYPE portico_build_info gauge
portico_build_info{version="0.1.0"} 1
`;

const W2 = `# HELP portico_requests_total Requests handled
# TYPE portico_requests_total counter
portico_requests_total{route="a",code="200"} 5
portico_requests_total{code="404",route="b"} 2
# HELP portico_connections_active Open downstream connections
# TYPE portico_connections_active gauge
portico_connections_active 6
# HELP portico_request_duration_seconds Request duration
# TYPE portico_request_duration_seconds histogram
portico_request_duration_seconds_bucket{le="0.005"} 1
portico_request_duration_seconds_bucket{le="0.1"} 6
portico_request_duration_seconds_bucket{le="+Inf"} 7
portico_request_duration_seconds_sum 0.5
portico_request_duration_seconds_count 7
# HELP portico_build_info Build information
# TYPE portico_build_info gauge
portico_build_info{version="0.1.0"} 1
`;

/** name+labels → value of a merged exposition. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const s = parseSample(line)!;
    out.set(`${s.name}${s.labelKey}`, s.value);
  }
  return out;
}

describe('mergePrometheus', () => {
  it('sums counters by label set, whatever the label order', () => {
    const m = samples(mergePrometheus([W1, W2]));
    assert.equal(m.get('portico_requests_total{code="200",route="a"}'), 15);
    assert.equal(m.get('portico_requests_total{code="503",route="a"}'), 1, 'a series only one worker has is kept');
    assert.equal(m.get('portico_requests_total{code="404",route="b"}'), 2);
  });

  it('sums histogram buckets, _sum and _count', () => {
    const m = samples(mergePrometheus([W1, W2]));
    assert.equal(m.get('portico_request_duration_seconds_bucket{le="0.005"}'), 4);
    assert.equal(m.get('portico_request_duration_seconds_bucket{le="0.1"}'), 14);
    assert.equal(m.get('portico_request_duration_seconds_bucket{le="+Inf"}'), 18);
    assert.equal(m.get('portico_request_duration_seconds_sum'), 0.75);
    assert.equal(m.get('portico_request_duration_seconds_count'), 18);
  });

  it('sums ordinary gauges and takes the maximum of per-process-identical ones', () => {
    const m = samples(mergePrometheus([W1, W2]));
    assert.equal(m.get('portico_connections_active'), 10);
    assert.equal(m.get('portico_build_info{version="0.1.0"}'), 1);
    assert.equal(defaultGaugeMerge('portico_config_generation'), 'max');
    assert.equal(defaultGaugeMerge('process_start_time_seconds'), 'max');
    assert.equal(defaultGaugeMerge('process_resident_memory_bytes'), 'sum');
    assert.equal(defaultGaugeMerge('portico_downstream_connections_active'), 'sum');
    assert.equal(defaultGaugeMerge('portico_listener_up'), 'min');
    assert.equal(defaultGaugeMerge('portico_certificate_expiry_timestamp_seconds'), 'min');
    assert.equal(defaultGaugeMerge('portico_cluster_endpoints'), 'max');
    assert.equal(defaultGaugeMerge('portico_event_loop_delay_milliseconds'), 'max');
    assert.equal(defaultGaugeMerge('portico_event_loop_utilization'), 'max');
  });

  it('lets the caller choose the gauge rule per family', () => {
    const m = samples(mergePrometheus([W1, W2], { gauge: (f) => (f === 'portico_connections_active' ? 'min' : 'sum') }));
    assert.equal(m.get('portico_connections_active'), 4);
    assert.equal(m.get('portico_build_info{version="0.1.0"}'), 2);
  });

  it('writes HELP and TYPE once per family, in order of first appearance', () => {
    const text = mergePrometheus([W1, W2]);
    assert.equal(text.match(/# TYPE portico_requests_total counter/g)?.length, 1);
    assert.equal(text.match(/# HELP portico_request_duration_seconds /g)?.length, 1);
    const types = [...text.matchAll(/^# TYPE (\S+)/gm)].map((x) => x[1]);
    assert.deepEqual(types, ['portico_requests_total', 'portico_connections_active', 'portico_request_duration_seconds', 'portico_build_info']);
    // Buckets stay in order (Prometheus requires le ascending within a series group).
    const les = [...text.matchAll(/_bucket\{le="([^"]+)"\}/g)].map((x) => x[1]);
    assert.deepEqual(les, ['0.005', '0.1', '+Inf']);
    assert.ok(text.endsWith('\n'));
  });

  it('merges summaries: counts summed, quantiles as the largest worker value', () => {
    const a = '# TYPE rpc summary\nrpc{quantile="0.99"} 0.2\nrpc_sum 3\nrpc_count 30\n';
    const b = '# TYPE rpc summary\nrpc{quantile="0.99"} 0.5\nrpc_sum 1\nrpc_count 10\n';
    const m = samples(mergePrometheus([a, b]));
    assert.equal(m.get('rpc{quantile="0.99"}'), 0.5);
    assert.equal(m.get('rpc_sum'), 4);
    assert.equal(m.get('rpc_count'), 40);
  });

  it('keeps escaped label values intact and treats equal escaped values as one series', () => {
    const a = 'x{path="/a\\"b",msg="l1\\nl2"} 1\n';
    const b = 'x{msg="l1\\nl2",path="/a\\"b"} 2\n';
    const text = mergePrometheus([a, b]);
    assert.equal(text, 'x{path="/a\\"b",msg="l1\\nl2"} 3\n');
  });

  it('handles special values, timestamps, untyped series, OpenMetrics EOF and blank input', () => {
    assert.equal(formatValue(Infinity), '+Inf');
    assert.equal(formatValue(Number.NaN), 'NaN');
    assert.equal(mergePrometheus(['', '']), '');
    assert.equal(mergePrometheus(['a 1 1000\n', 'a 2 2000\n']), 'a 3 2000\n');
    assert.equal(mergePrometheus(['# TYPE c counter\nc_total 1\n# EOF\n', '# TYPE c counter\nc_total 2\n# EOF\n']),
      '# TYPE c counter\nc_total 3\n# EOF\n');
    assert.equal(mergePrometheus(['g NaN\n', 'g 2\n']), 'g NaN\n');
  });

  it('ignores lines that are not samples instead of corrupting the output', () => {
    assert.equal(mergePrometheus(['# a comment\nbogus{ 1\nok 1\n', 'ok 1\n']), 'ok 2\n');
  });

  it('is the identity for one input (modulo label text as first written)', () => {
    assert.deepEqual(samples(mergePrometheus([W1])), samples(W1));
  });
});
