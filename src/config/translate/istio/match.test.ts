import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpRoutes, httpServer, mainGateway, run, virtualService } from '../../../../test/helpers/istio-fixtures.js';
import { isCatchAll } from './match.js';

const dest = [{ destination: { host: 'ratings' } }];
const matchOf = (m: Record<string, unknown>) => {
  const { routes, r } = httpRoutes([{ match: [m], route: dest }]);
  return { match: routes[0]?.match, r };
};

test('uri exact, prefix (plain string prefix) and regex; ignoreUriCase on exact/prefix only', () => {
  assert.deepEqual(matchOf({ uri: { exact: '/a' } }).match, { path: { type: 'Exact', value: '/a' } });
  assert.deepEqual(matchOf({ uri: { prefix: '/pre' } }).match, { path: { type: 'Prefix', value: '/pre' } });
  assert.deepEqual(matchOf({ uri: { regex: '/v[0-9]+/.*' } }).match, { path: { type: 'Regex', value: '/v[0-9]+/.*' } });
  assert.deepEqual(matchOf({ uri: { prefix: '/Pre' }, ignoreUriCase: true }).match, { path: { type: 'Prefix', value: '/Pre', ignoreCase: true } });
  assert.deepEqual(matchOf({ uri: { exact: '/A' }, ignoreUriCase: true }).match, { path: { type: 'Exact', value: '/A', ignoreCase: true } });
  assert.deepEqual(matchOf({ uri: { regex: '/a.*' }, ignoreUriCase: true }).match, { path: { type: 'Regex', value: '/a.*' } });
});

test('scheme, method and authority are string matches (authority as received, port included)', () => {
  assert.deepEqual(matchOf({ scheme: { exact: 'https' }, method: { regex: 'GET|HEAD' }, authority: { prefix: 'shop.io:8080' } }).match, {
    scheme: { type: 'Exact', value: 'https' },
    method: { type: 'Regex', value: 'GET|HEAD' },
    authority: { type: 'Prefix', value: 'shop.io:8080' },
  });
});

test('headers: keys lower-cased; {}, omitted value and regex "*" mean present; exact "" is an empty value', () => {
  const { match } = matchOf({ headers: { 'X-User': { exact: 'bob' }, 'x-a': {}, 'x-b': null, 'x-c': { regex: '*' }, 'x-d': { exact: '' } } });
  assert.deepEqual(match, {
    headers: [
      { name: 'x-a', match: { type: 'Present' } },
      { name: 'x-b', match: { type: 'Present' } },
      { name: 'x-c', match: { type: 'Present' } },
      { name: 'x-d', match: { type: 'Exact', value: '' } },
      { name: 'x-user', match: { type: 'Exact', value: 'bob' } },
    ],
  });
});

test('withoutHeaders become inverted header matches', () => {
  assert.deepEqual(matchOf({ withoutHeaders: { 'x-canary': { exact: 'true' }, 'x-debug': {} } }).match, {
    headers: [
      { name: 'x-canary', match: { type: 'Exact', value: 'true' }, invert: true },
      { name: 'x-debug', match: { type: 'Present' }, invert: true },
    ],
  });
});

test('header keys uri/scheme/method/authority are ignored with a warning', () => {
  const { match, r } = matchOf({ headers: { uri: { exact: '/x' }, 'x-a': { prefix: 'p' } } });
  assert.deepEqual(match, { headers: [{ name: 'x-a', match: { type: 'Prefix', value: 'p' } }] });
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.severity, d.path]), [['ISTIO_HEADER_MATCH_IGNORED', 'warning', 'spec.http[0].match[0].headers.uri']]);
});

test('a JWT claim match drops the block with a warning', () => {
  const { routes, r } = httpRoutes([
    { match: [{ headers: { '@request.auth.claims.groups': { exact: 'admin' } } }, { uri: { prefix: '/open' } }], route: dest },
  ]);
  assert.deepEqual(routes.map((x) => x.sourcePath), ['spec.http[0].match[1]']);
  const d = r.diagnostics[0]!;
  assert.equal(d.code, 'ISTIO_JWT_CLAIM_MATCH_UNSUPPORTED');
  assert.equal(d.path, 'spec.http[0].match[0].headers["@request.auth.claims.groups"]');
  assert.match(d.message, /needs RequestAuthentication \(later release\)/);
});

test('queryParams: exact, prefix, regex, presence', () => {
  assert.deepEqual(matchOf({ queryParams: { v: { exact: '' }, q: { regex: '[a-z]+' }, p: {}, s: { prefix: 'x' } } }).match, {
    queryParams: [
      { name: 'p', match: { type: 'Present' } },
      { name: 'q', match: { type: 'Regex', value: '[a-z]+' } },
      { name: 's', match: { type: 'Prefix', value: 'x' } },
      { name: 'v', match: { type: 'Exact', value: '' } },
    ],
  });
});

test('an invalid regex drops the block with the precise field path', () => {
  const { routes, r } = httpRoutes([{ match: [{ uri: { regex: '/api/(v1' } }], route: dest }, { route: dest }]);
  assert.deepEqual(routes.map((x) => x.id), ['virtualservice/default/vs/http/1/match/0']);
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.severity, d.path]), [['ISTIO_REGEX_INVALID', 'error', 'spec.http[0].match[0].uri.regex']]);
});

test('a string match with two kinds set is invalid', () => {
  const { match, r } = matchOf({ uri: { exact: '/a', prefix: '/b' } });
  assert.equal(match, undefined);
  assert.deepEqual(r.codes(), ['ISTIO_FIELD_INVALID']);
});

test('match.port keeps the block only on listeners of that port (decided at translation time)', () => {
  const r = run([
    mainGateway([httpServer(80, ['*']), httpServer(8080, ['*'])]),
    virtualService('vs', { hosts: ['*'], gateways: ['istio-system/main'], http: [
      { match: [{ uri: { prefix: '/x' }, port: 8080 }], route: dest },
      { route: dest },
    ] }),
  ]);
  assert.deepEqual(r.routes(80, '*').map((x) => x.id), ['virtualservice/default/vs/http/1/match/0']);
  const on8080 = r.routes(8080, '*');
  assert.deepEqual(on8080.map((x) => x.id), ['virtualservice/default/vs/http/0/match/0', 'virtualservice/default/vs/http/1/match/0']);
  assert.equal(on8080[0]!.match.port, undefined);
});

test('sourceLabels and sourceNamespace are compared with the proxy identity', () => {
  const { routes } = httpRoutes([
    { match: [{ sourceLabels: { istio: 'ingressgateway' }, uri: { prefix: '/a' } }], route: dest },
    { match: [{ sourceLabels: { istio: 'egressgateway' }, uri: { prefix: '/b' } }], route: dest },
    { match: [{ sourceNamespace: 'istio-system', uri: { prefix: '/c' } }], route: dest },
    { match: [{ sourceNamespace: 'other', uri: { prefix: '/d' } }], route: dest },
    { match: [{ uri: { prefix: '/e' }, statPrefix: 'e', name: 'e' }], route: dest },
  ]);
  assert.deepEqual(routes.map((x) => (x.match.path as { value: string }).value), ['/a', '/c', '/e']);
});

test('route names: <route>.<match>, either alone, or empty', () => {
  const { routes } = httpRoutes([
    { name: 'r', match: [{ name: 'm', uri: { prefix: '/1' } }, { uri: { prefix: '/2' } }], route: dest },
    { match: [{ name: 'm', uri: { prefix: '/3' } }], route: dest },
    { match: [{ uri: { prefix: '/4' } }], route: dest },
  ]);
  assert.deepEqual(routes.map((x) => x.name), ['r.m', 'r', 'm', '']);
});

test('isCatchAll: no condition or only prefix "/"', () => {
  assert.equal(isCatchAll({}), true);
  assert.equal(isCatchAll({ path: { type: 'Prefix', value: '/' } }), true);
  assert.equal(isCatchAll({ path: { type: 'Prefix', value: '/' }, method: { type: 'Exact', value: 'GET' } }), false);
  assert.equal(isCatchAll({ path: { type: 'Prefix', value: '/a' } }), false);
  assert.equal(isCatchAll({ path: { type: 'Exact', value: '/' } }), false);
});

test('RE2-only syntax that JavaScript lacks is accepted as written', () => {
  const { match, r } = matchOf({ uri: { regex: '(?i)/api/(?P<v>v[0-9]+)/.*' } });
  assert.deepEqual(match, { path: { type: 'Regex', value: '(?i)/api/(?P<v>v[0-9]+)/.*' } });
  assert.deepEqual(r.diagnostics, []);
});
