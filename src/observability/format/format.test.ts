import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, it } from 'node:test';
import { StreamInfo } from '../stream-info.js';
import {
  compileFormat, compileHeaderValue, createJsonFormatter, createTextFormatter, FormatError, ISTIO_JSON_FORMAT, type JsonFormatSpec,
  ISTIO_TEXT_FORMAT, istioTextFormat, OPERATORS, render, tokenizeFormat,
} from './index.js';
import { compileTimeFormat } from './strftime.js';

/** 2020-11-25T21:26:18.409Z */
const T0 = Date.UTC(2020, 10, 25, 21, 26, 18, 409);

function sample(): StreamInfo {
  const i = new StreamInfo();
  i.startMs = T0;
  i.startHr = 1000.25; // .25 ms → 250000 ns below the millisecond
  i.requestEndHr = 1001;
  i.upstreamSentHr = 1001.2;
  i.upstreamFirstByteHr = 1004.6;
  i.endHr = 1005.4;
  i.method = 'GET';
  i.originalPath = '/status/418?x=1';
  i.authority = 'httpbin:8000';
  i.protocol = 'HTTP/1.1';
  i.scheme = 'http';
  i.requestId = '84961386-6d84-929d-98bd-c5aee93b5c88';
  i.xForwardedFor = '10.0.0.9, 10.44.1.23';
  i.responseCode = 418;
  i.detail = 'via_upstream';
  i.bytesReceived = 0;
  i.bytesSent = 135;
  i.requestWireBytes = 80;
  i.responseWireBytes = 300;
  i.upstreamHost = '10.44.1.27:80';
  i.upstreamCluster = 'outbound|8000||httpbin.foo.svc.cluster.local';
  i.upstreamProtocol = 'HTTP/1.1';
  i.upstreamLocalAddress = '10.44.1.23:37652';
  i.downstreamLocalAddress = '10.0.45.184:8000';
  i.downstreamRemoteAddress = '10.44.1.23:46520';
  i.routeName = 'default';
  i.reqNames = ['user-agent', 'x-waf-score', 'x-multi', 'x-multi'];
  i.reqValues = ['curl/7.73.0', '87', 'a', 'b'];
  i.resNames = ['content-type', 'x-envoy-upstream-service-time'];
  i.resValues = ['text/plain', '3'];
  i.trailerNames = ['grpc-status', 'grpc-message'];
  i.trailerValues = ['14', 'unavailable'];
  return i;
}

const one = (fmt: string, i = sample()): string => createTextFormatter(fmt).format(i);

describe('format: Istio defaults', () => {
  it('renders the default TEXT line byte for byte', () => {
    const line = createTextFormatter(ISTIO_TEXT_FORMAT).format(sample());
    assert.equal(line,
      '[2020-11-25T21:26:18.409Z] "GET /status/418?x=1 HTTP/1.1" 418 - via_upstream - "-" 0 135 5 3 ' +
      '"10.0.0.9, 10.44.1.23" "curl/7.73.0" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" ' +
      'outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default\n');
  });

  it('renders the default JSON object with Istio\'s 24 keys in Istio\'s order, string values, "-" for empty', () => {
    const line = createJsonFormatter(ISTIO_JSON_FORMAT).format(sample());
    assert.ok(line.endsWith('}\n'));
    const o = JSON.parse(line) as Record<string, string>;
    assert.deepEqual(Object.keys(o), [
      'start_time', 'route_name', 'method', 'path', 'protocol', 'response_code', 'response_flags', 'response_code_details',
      'connection_termination_details', 'bytes_received', 'bytes_sent', 'duration', 'upstream_service_time', 'x_forwarded_for',
      'user_agent', 'request_id', 'authority', 'upstream_host', 'upstream_cluster', 'upstream_local_address',
      'downstream_local_address', 'downstream_remote_address', 'requested_server_name', 'upstream_transport_failure_reason',
    ]);
    for (const v of Object.values(o)) assert.equal(typeof v, 'string');
    assert.equal(o.response_code, '418');
    assert.equal(o.response_flags, '-');
    assert.equal(o.requested_server_name, '-');
    assert.equal(o.path, '/status/418?x=1');
    assert.equal(o.upstream_service_time, '3');
  });

  it('appends the newline Istio adds to custom text formats, once', () => {
    assert.equal(istioTextFormat('%PROTOCOL%'), '%PROTOCOL%\n');
    assert.equal(istioTextFormat('%PROTOCOL%\n'), '%PROTOCOL%\n');
    assert.equal(istioTextFormat(''), ISTIO_TEXT_FORMAT);
  });
});

describe('format: operators', () => {
  it('every operator compiles and renders', () => {
    for (const [name, spec] of OPERATORS) {
      const arg = spec.arg === 'required' ? (name === 'ENVIRONMENT' ? '(HOME)' : '(user-agent)') : '';
      const out = one(`%${name}${arg}%`);
      assert.equal(typeof out, 'string', name);
      assert.notEqual(out, '', name);
    }
  });

  it('values of the scalar operators', () => {
    const cases: [string, string][] = [
      ['%PROTOCOL%', 'HTTP/1.1'], ['%UPSTREAM_PROTOCOL%', 'HTTP/1.1'], ['%RESPONSE_CODE%', '418'],
      ['%RESPONSE_CODE_DETAILS%', 'via_upstream'], ['%CONNECTION_TERMINATION_DETAILS%', '-'],
      ['%UPSTREAM_TRANSPORT_FAILURE_REASON%', '-'], ['%BYTES_RECEIVED%', '0'], ['%BYTES_SENT%', '135'],
      ['%DOWNSTREAM_WIRE_BYTES_RECEIVED%', '80'], ['%DOWNSTREAM_WIRE_BYTES_SENT%', '300'],
      ['%DURATION%', '5'], ['%REQUEST_DURATION%', '1'], ['%RESPONSE_DURATION%', '4'], ['%RESPONSE_TX_DURATION%', '1'],
      ['%REQUEST_TX_DURATION%', '1'], ['%UPSTREAM_SERVICE_TIME%', '3'], ['%UPSTREAM_REQUEST_ATTEMPT_COUNT%', '1'],
      ['%UPSTREAM_HOST%', '10.44.1.27:80'], ['%UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%', '10.44.1.27'], ['%UPSTREAM_REMOTE_PORT%', '80'],
      ['%UPSTREAM_CLUSTER%', 'outbound|8000||httpbin.foo.svc.cluster.local'], ['%UPSTREAM_CLUSTER_RAW%', 'outbound|8000||httpbin.foo.svc.cluster.local'],
      ['%UPSTREAM_LOCAL_ADDRESS%', '10.44.1.23:37652'], ['%UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%', '10.44.1.23'], ['%UPSTREAM_LOCAL_PORT%', '37652'],
      ['%DOWNSTREAM_LOCAL_ADDRESS%', '10.0.45.184:8000'], ['%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%', '10.0.45.184'], ['%DOWNSTREAM_LOCAL_PORT%', '8000'],
      ['%DOWNSTREAM_REMOTE_ADDRESS%', '10.44.1.23:46520'], ['%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%', '10.44.1.23'],
      ['%DOWNSTREAM_REMOTE_PORT%', '46520'], ['%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%', '10.44.1.23:46520'],
      ['%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%', '10.44.1.23'], ['%REQUESTED_SERVER_NAME%', '-'],
      ['%ROUTE_NAME%', 'default'], ['%STREAM_ID%', '84961386-6d84-929d-98bd-c5aee93b5c88'], ['%HOSTNAME%', os.hostname()],
      ['%GRPC_STATUS%', 'Unavailable'], ['%GRPC_STATUS(SNAKE_STRING)%', 'UNAVAILABLE'], ['%GRPC_STATUS(NUMBER)%', '14'],
      ['%GRPC_STATUS_NUMBER%', '14'],
    ];
    for (const [f, want] of cases) assert.equal(one(f), want, f);
  });

  it('flags: short, long, none', () => {
    const i = sample();
    assert.equal(one('%RESPONSE_FLAGS% %RESPONSE_FLAGS_LONG%', i), '- -');
    i.addFlag('UF');
    i.addFlag('URX');
    assert.equal(one('%RESPONSE_FLAGS% %RESPONSE_FLAGS_LONG%', i), 'UF,URX UpstreamConnectionFailure,UpstreamRetryLimitExceeded');
  });

  it('response code 0 when no response was started', () => {
    const i = sample();
    i.responseCode = 0;
    assert.equal(one('%RESPONSE_CODE% %RESP(:STATUS)%', i), '0 -');
  });

  it('IPv6 addresses strip brackets without the port', () => {
    const i = sample();
    i.downstreamRemoteAddress = '[::1]:5000';
    assert.equal(one('%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %DOWNSTREAM_REMOTE_PORT%', i), '::1 5000');
  });

  it('ENVIRONMENT reads the variable once', () => {
    process.env.PORTICO_FMT_TEST = 'abcdef';
    const f = createTextFormatter('%ENVIRONMENT(PORTICO_FMT_TEST):3% %ENVIRONMENT(PORTICO_NOPE_X)%');
    delete process.env.PORTICO_FMT_TEST;
    assert.equal(f.format(sample()), 'abc -');
  });
});

describe('format: REQ / RESP / TRAILER', () => {
  it('header lookup is case-insensitive; absent is "-"; duplicates are joined with ","', () => {
    assert.equal(one('%REQ(User-Agent)%|%REQ(x-none)%|%REQ(X-MULTI)%'), 'curl/7.73.0|-|a,b');
  });

  it('X?Y falls back to the second header', () => {
    assert.equal(one('%REQ(x-none?user-agent)%'), 'curl/7.73.0');
    assert.equal(one('%REQ(x-waf-score?user-agent)%'), '87');
    assert.equal(one('%REQ(x-a?x-b)%'), '-');
  });

  it(':Z truncates to Z characters', () => {
    assert.equal(one('%REQ(user-agent):4%'), 'curl');
    assert.equal(one('%REQ(x-none?user-agent):6%'), 'curl/7');
    assert.equal(one('%REQ(user-agent):100%'), 'curl/7.73.0');
    assert.equal(one('%UPSTREAM_CLUSTER:8%'), 'outbound');
  });

  it('pseudo headers and X-ENVOY-ORIGINAL-PATH?:PATH: path before rewrite, query included', () => {
    const i = sample();
    assert.equal(one('%REQ(:METHOD)% %REQ(:PATH)% %REQ(:AUTHORITY)% %REQ(:SCHEME)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %REQ(X-ENVOY-ORIGINAL-PATH)%', i),
      'GET /status/418?x=1 httpbin:8000 http /status/418?x=1 -');
    i.upstreamPath = '/new/418?x=1';
    assert.equal(one('%REQ(:PATH)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %REQ(X-ENVOY-ORIGINAL-PATH)%', i), '/new/418?x=1 /status/418?x=1 /status/418?x=1');
  });

  it('REQ_WITHOUT_QUERY drops the query', () => {
    assert.equal(one('%REQ_WITHOUT_QUERY(X-ENVOY-ORIGINAL-PATH?:PATH)%'), '/status/418');
  });

  it('logs X-Forwarded-For and X-Request-Id as sent upstream', () => {
    assert.equal(one('%REQ(X-FORWARDED-FOR)% %REQ(X-REQUEST-ID)%'), '10.0.0.9, 10.44.1.23 84961386-6d84-929d-98bd-c5aee93b5c88');
  });

  it('RESP and TRAILER read response headers and trailers', () => {
    assert.equal(one('%RESP(CONTENT-TYPE)% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% %RESP(:STATUS)% %TRAILER(grpc-message)% %RESPONSE_TRAILER(x)%'),
      'text/plain 3 418 unavailable -');
    assert.equal(one('%RESPONSE_HEADER(content-type)% %REQUEST_HEADER(user-agent)%'), 'text/plain curl/7.73.0');
  });
});

describe('format: START_TIME', () => {
  it('default is ISO-8601 UTC with milliseconds', () => {
    assert.equal(one('%START_TIME%'), '2020-11-25T21:26:18.409Z');
  });

  it('strftime specifiers', () => {
    assert.equal(one('%START_TIME(%Y/%m/%dT%H:%M:%S%z %s)%'), '2020/11/25T21:26:18+0000 1606339578');
    assert.equal(one('%START_TIME(%s.%3f)%'), '1606339578.409');
    assert.equal(one('%START_TIME(%s.%6f)%'), '1606339578.409250');
    assert.equal(one('%START_TIME(%s.%9f)%'), '1606339578.409250000');
    assert.equal(one('%START_TIME(%f)%'), '409250000');
    assert.equal(one('%START_TIME(%e|%a %b %j %y %I%p %T %F %D %%)%'), '25|Wed Nov 330 20 09PM 21:26:18 2020-11-25 11/25/20 %');
    assert.equal(one('%START_TIME(%H:%M)%:%START_TIME(%S)%'), '21:26:18');
  });

  it('the per-second cache does not leak between seconds or formatters', () => {
    const f = compileTimeFormat('%H:%M:%S.%3f');
    assert.equal(f.format(T0, 0), '21:26:18.409');
    assert.equal(f.format(T0 + 1000, 0), '21:26:19.409');
    assert.equal(f.format(T0 + 1, 0), '21:26:18.410');
    const day = compileTimeFormat('%e');
    assert.equal(day.format(Date.UTC(2021, 0, 5), 0), ' 5');
  });

  it('an unknown strftime specifier is an error with its position', () => {
    assert.throws(() => compileFormat('ts=%START_TIME(%Y-%Q)%'), (e: FormatError) => {
      assert.ok(e instanceof FormatError);
      assert.equal(e.position, 18);
      assert.match(e.message, /unknown specifier "%Q"/);
      return true;
    });
  });
});

describe('format: parser', () => {
  it('%% is a literal percent sign', () => {
    assert.equal(one('100%% %RESPONSE_CODE%'), '100% 418');
    assert.deepEqual(tokenizeFormat('a%%b'), ['a%b']);
  });

  it('an unknown operator is an error naming it and its position', () => {
    assert.throws(() => compileFormat('[%START_TIME%] %NOT_AN_OPERATOR% x'), (e: FormatError) => {
      assert.equal(e.position, 15);
      assert.equal(e.operator, 'NOT_AN_OPERATOR');
      assert.match(e.message, /Unknown command operator "%NOT_AN_OPERATOR%" at position 15/);
      return true;
    });
    assert.throws(() => compileFormat('%REQUEST_ID%'), /did you mean %REQ\(X-REQUEST-ID\)%/);
    assert.throws(() => compileFormat('%RESPONSE_COD%'), /did you mean %RESPONSE_CODE%/);
  });

  it('malformed operators are errors with positions', () => {
    assert.throws(() => compileFormat('50% off'), (e: FormatError) => e.position === 2 && /"%%"/.test(e.message));
    assert.throws(() => compileFormat('x %REQ(a'), (e: FormatError) => e.position === 2 && /Unterminated/.test(e.message));
    assert.throws(() => compileFormat('%PROTOCOL'), (e: FormatError) => e.position === 0);
    assert.throws(() => compileFormat('%REQ%'), /Missing argument for "%REQ%"/);
    assert.throws(() => compileFormat('%PROTOCOL(x)%'), /takes no argument/);
    assert.throws(() => compileFormat('%REQ(a?b?c)%'), /expected a header name/);
    assert.throws(() => compileFormat('%GRPC_STATUS(FOO)%'), /CAMEL_STRING/);
  });

  it('START_TIME arguments may contain "%" and ")"', () => {
    const t = tokenizeFormat('%START_TIME(%H)x)%-');
    assert.deepEqual(t, [{ name: 'START_TIME', arg: '%H)x', maxLength: undefined, pos: 0, text: '%START_TIME(%H)x)%' }, '-']);
  });
});

describe('format: JSON', () => {
  it('custom keys from any request or response header, nested objects, mixed literals', () => {
    const f = createJsonFormatter({ waf: '%REQ(X-WAF-SCORE)%', nested: { ct: '%RESP(content-type)%', none: '%REQ(x-none)%' }, mixed: 'code=%RESPONSE_CODE%' });
    assert.equal(f.format(sample()), '{"waf":"87","nested":{"ct":"text/plain","none":"-"},"mixed":"code=418"}\n');
  });

  it('the generated TEXT renderer equals the generic one, whatever the literals hold', () => {
    const formats = [
      ISTIO_TEXT_FORMAT,
      'plain literal only',
      '"quoted" \\back\\slash ${not.a.template} `tick` \u2028 é → %RESPONSE_CODE%\n%REQ(:METHOD)%',
      "'); process.exit(1); ('%PROTOCOL%')",
      '%REQ(x-none)%%RESPONSE_CODE%%REQ(x-none)%',
    ];
    for (const src of formats) {
      for (const omit of [false, true]) {
        const got = createTextFormatter(src, { omitEmptyValues: omit }).format(sample());
        assert.equal(got, render(compileFormat(src), sample(), omit ? '' : '-'), src);
      }
    }
  });

  it('the byte writers produce exactly the bytes of format() as latin1: TEXT and JSON, odd bytes, escapes, tight buffers', () => {
    const odd = sample();
    // Header values are byte strings: UTF-8 of "café →", a quote, a backslash, control bytes, DEL and 0xff.
    odd.reqNames = ['user-agent', 'x-odd', 'x-waf-score'];
    odd.reqValues = [Buffer.from('caf\u00e9 \u2192', 'utf8').toString('latin1'), 'a"b\\c\n\t\r\b\f\u0001\u001f\u007f\u00ff', ''];
    odd.routeName = 'r\u00fcte \u2192 "x"';
    odd.upstreamTransportFailureReason = 'TLS error: \u00fcber';
    const texts = [ISTIO_TEXT_FORMAT, 'lit only\n', '%REQ(x-odd)% %REQ(USER-AGENT)% %ROUTE_NAME% %REQ(x-waf-score)%\n', `${'long literal '.repeat(5)}%RESPONSE_CODE%\u00e9\n`];
    const jsons: JsonFormatSpec[] = [ISTIO_JSON_FORMAT, { odd: '%REQ(x-odd)%', ua: 'ua=%REQ(user-agent)% %REQ(x-none)%', 'k\u00e9y "q"': { r: '%ROUTE_NAME%', e: '%REQ(x-waf-score)%' } }];
    const formatters = [
      ...texts.flatMap((t) => [createTextFormatter(t), createTextFormatter(t, { omitEmptyValues: true })]),
      ...jsons.map((j) => createJsonFormatter(j)),
    ];
    for (const f of formatters) {
      assert.ok(f.write, 'every format gets a byte writer');
      for (const i of [sample(), odd, new StreamInfo()]) {
        const want = Buffer.from(f.format(i), 'latin1');
        const buf = Buffer.alloc(want.length * 6 + 64, 0xee);
        const end = f.write(i, buf, 3);
        assert.equal(end, 3 + want.length);
        assert.deepEqual(buf.subarray(3, end), want, f.format(i));
        assert.equal(buf[end], 0xee, 'nothing written past the line');
        assert.equal(f.write(i, Buffer.alloc(want.length - 1), 0), -1, 'a line that does not fit is refused');
      }
    }
    // JSON lines parse, and carry the bytes as sent (a UTF-8 reader sees the original text).
    const line = Buffer.from(createJsonFormatter(jsons[1]!).format(odd), 'latin1').toString('utf8');
    const o = JSON.parse(line) as Record<string, Record<string, string>>;
    assert.equal(o['k\u00e9y "q"']!['r'], 'r\u00fcte \u2192 "x"');
    assert.equal(String(o['ua']), 'ua=caf\u00e9 \u2192 -');
  });

  it('the generated JSON renderer quotes values and keys safely, whatever they hold', () => {
    const spec = {
      'k"ey\\${x}`': '%RESPONSE_CODE%',
      mixed: 'a "q" %REQ(:METHOD)% \\ é → \u2028',
      empty: '%REQ(x-none)%',
      nested: { "'); process.exit(1); ('": '%PROTOCOL%', deeper: { v: 'lit only' } },
    };
    const line = createJsonFormatter(spec).format(sample());
    assert.ok(line.endsWith('\n'));
    // Lines are byte strings (written as latin1): the configured text is there as UTF-8.
    const o = JSON.parse(Buffer.from(line, 'latin1').toString('utf8')) as Record<string, unknown>;
    const i = sample();
    assert.equal(o['k"ey\\${x}`'], String(i.responseCode));
    assert.equal(o['mixed'], `a "q" ${i.method} \\ é → \u2028`);
    assert.equal(o['empty'], '-');
    assert.deepEqual(o['nested'], { "'); process.exit(1); ('": i.protocol, deeper: { v: 'lit only' } });
  });

  it('omitEmptyValues drops keys with empty values (and empty objects)', () => {
    const f = createJsonFormatter({ a: '%REQ(x-none)%', b: '%RESPONSE_CODE%', c: { d: '%REQ(x-none)%' } }, { omitEmptyValues: true });
    assert.equal(f.format(sample()), '{"b":"418"}\n');
    assert.equal(createTextFormatter('[%REQ(x-none)%]', { omitEmptyValues: true }).format(sample()), '[]');
  });

  it('escapes values', () => {
    const i = sample();
    i.reqNames = ['user-agent'];
    i.reqValues = ['a"b\\c'];
    assert.equal(createJsonFormatter({ ua: '%REQ(user-agent)%' }).format(i), '{"ua":"a\\"b\\\\c"}\n');
  });

  it('an error names the JSON key', () => {
    assert.throws(() => createJsonFormatter({ a: { b: '%NOPE%' } }), /in JSON key "a\.b"/);
  });
});

describe('format: header values', () => {
  it('literal values stay plain strings; %% unescapes', () => {
    assert.equal(compileHeaderValue('plain'), 'plain');
    assert.equal(compileHeaderValue('100%%'), '100%');
  });

  it('operators render per request; empty renders nothing', () => {
    const f = compileHeaderValue('%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%');
    assert.equal(typeof f, 'function');
    assert.equal((f as (i: StreamInfo) => string)(sample()), '10.44.1.23');
    const g = compileHeaderValue('%REQ(x-none)%') as (i: StreamInfo) => string;
    assert.equal(g(sample()), '');
  });
});
