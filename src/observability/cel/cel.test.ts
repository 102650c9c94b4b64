import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamInfo } from '../stream-info.js';
import { ATTRIBUTES, checkCel, compileCel, compileFilter, compileStringExpr, CelError } from './index.js';

function info(code = 503, flags = 'UF,URX'): StreamInfo {
  const i = new StreamInfo();
  i.method = 'POST';
  i.originalPath = '/v1/items?q=2';
  i.authority = 'shop.example.com';
  i.scheme = 'http';
  i.protocol = 'HTTP/1.1';
  i.responseCode = code;
  i.flags = flags;
  i.detail = 'upstream_reset_before_response_started{connection_failure}';
  i.reqNames = ['x-user', 'user-agent'];
  i.reqValues = ['alice', 'curl/8'];
  i.resNames = ['content-type'];
  i.resValues = ['text/plain'];
  i.downstreamRemoteAddress = '10.1.2.3:5555';
  i.downstreamLocalAddress = '10.0.0.1:8080';
  i.upstreamCluster = 'outbound|80||shop.demo.svc.cluster.local';
  i.routeName = 'shop.api';
  return i;
}

const f = (e: string, i = info()): boolean => compileFilter(e)(i);

describe('CEL subset: filters', () => {
  it('comparisons of response.code', () => {
    assert.equal(f('response.code >= 400'), true);
    assert.equal(f('response.code >= 400', info(200, '')), false);
    assert.equal(f('response.code == 503 && response.code != 504'), true);
    assert.equal(f('response.code < 500 || response.code > 502'), true);
  });

  it('request attributes and header maps', () => {
    assert.equal(f("request.method == 'POST'"), true);
    assert.equal(f("request.headers['x-user'] == 'alice'"), true);
    assert.equal(f("request.headers['X-User'] == 'alice'"), true);
    assert.equal(f('request.headers["user-agent"].startsWith("curl")'), true);
    assert.equal(f("request.host.endsWith('.example.com') && request.url_path.contains('v1')"), true);
    assert.equal(f("request.path == '/v1/items?q=2' && request.url_path == '/v1/items' && request.query == 'q=2'"), true);
    assert.equal(f("'x-user' in request.headers && !('x-none' in request.headers)"), true);
    assert.equal(f('has(request.headers.x_none) == false'), true);
    assert.equal(f("request.url_path.matches('^/v[0-9]+/')"), true);
    assert.equal(f("xds.route_name == 'shop.api' && xds.cluster_name.contains('shop')"), true);
    assert.equal(f("source.address == '10.1.2.3' && destination.port == 8080"), true);
  });

  it('! and parentheses and the ternary', () => {
    assert.equal(f('!(response.code < 400)'), true);
    assert.equal(f('(response.code >= 500 ? 1 : 0) == 1'), true);
    assert.equal(f('response.code in [500, 503]'), true);
  });

  it('connection.mtls is false without downstream mTLS; response.flags is Envoy\'s bitmask', () => {
    assert.equal(f('connection.mtls'), false);
    assert.equal(f('!connection.mtls'), true);
    assert.equal(compileCel('response.flags')(info()), 0x20 + 0x8000);
    assert.equal(f('response.flags == 0', info(200, '')), true);
  });

  it('a missing header is an error: the filter is false, unless || / && decide', () => {
    assert.equal(f("request.headers['x-none'] == 'a'"), false);
    assert.equal(f("!(request.headers['x-none'] == 'a')"), false);
    assert.equal(f("request.headers['x-none'] == 'a' || response.code == 503"), true);
    assert.equal(f("response.code == 200 && request.headers['x-none'] == 'a'"), false);
  });

  it('type mismatches are errors, not crashes', () => {
    assert.equal(f("response.code == '503'"), false);
    assert.equal(f("response.code > 'a'"), false);
  });
});

describe('CEL subset: string expressions (tag values)', () => {
  it('headers, literals, string() and concatenation', () => {
    assert.equal(compileStringExpr("request.headers['x-user']")(info()), 'alice');
    assert.equal(compileStringExpr("'fixed'")(info()), 'fixed');
    assert.equal(compileStringExpr('string(destination.port)')(info()), '8080');
    assert.equal(compileStringExpr("request.method + '-' + string(response.code)")(info()), 'POST-503');
    assert.equal(compileStringExpr("request.headers['x-none']")(info()), 'unknown');
    assert.equal(compileStringExpr("has(request.headers.x_tenant) ? request.headers['x-tenant'] : 'none'")(info()), 'none');
  });
});

describe('CEL subset: wire bytes are read as UTF-8 text', () => {
  it('header values, host and path compare with configured text; tag values come out as text', () => {
    const i = info();
    const utf8 = (t: string): string => Buffer.from(t, 'utf8').toString('latin1'); // as the data plane holds them
    i.reqNames = ['x-city', 'user-agent'];
    i.reqValues = [utf8('Zürich'), utf8('café/1')];
    i.authority = utf8('bücher.example');
    i.originalPath = utf8('/straße?q=ü');
    assert.equal(f("request.headers['x-city'] == 'Zürich'", i), true);
    assert.equal(f("request.useragent.startsWith('café')", i), true);
    assert.equal(f("request.host == 'bücher.example' && request.url_path == '/straße' && request.query == 'q=ü'", i), true);
    assert.equal(compileStringExpr("request.headers['x-city']")(i), 'Zürich');
  });
});

describe('CEL subset: errors with positions', () => {
  it('unknown identifiers', () => {
    const e = checkCel('response.code >= 400 && request.bogus == 1');
    assert.ok(e instanceof CelError);
    assert.equal(e.position, 24);
    assert.match(e.message, /Unknown attribute "request.bogus" at position 24/);
    assert.match(checkCel('foo == 1')!.message, /Unknown attribute "foo" at position 0/);
  });

  it('syntax errors', () => {
    assert.equal(checkCel('response.code >= ')!.position, 17);
    assert.match(checkCel("request.method == 'GET")!.message, /Unterminated string literal at position 18/);
    assert.match(checkCel('(response.code')!.message, /Expected "\)"/);
    assert.match(checkCel('response.code # 1')!.message, /Unexpected character "#" at position 14/);
    assert.match(checkCel('nope(1)')!.message, /Unknown function "nope"/);
    assert.match(checkCel("request.path.matches('(')")!.message, /Invalid regex/);
    assert.match(checkCel('')!.message, /Empty expression/);
  });

  it('every documented attribute compiles', () => {
    for (const name of ATTRIBUTES.keys()) assert.equal(checkCel(name), undefined, name);
  });
});
