import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RouteIR } from '../../ir/types.js';
import { fakeContext, gateway, gatewayClass, httpRoute, probe, rule } from '../../../../test/helpers/fake-registry-gw.js';
import { translateGatewayApi } from './index.js';

const SERVICES = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8'].map((name) => ({ name, ports: [{ port: 8080 }] }));
const C = (svc: string) => `outbound|8080||${svc}.default.svc.cluster.local`;

function routesOf(listeners: ReturnType<typeof translateGatewayApi>['listeners'], domain = '*'): RouteIR[] {
  const vh = listeners[0]!.servers[0]!.virtualHosts.find((v) => v.domains[0] === domain);
  return [...(vh?.routes ?? [])];
}

test('precedence is computed across routes: exact > longer prefix > method > headers > query > age > name', () => {
  const a = httpRoute('a', {
    rules: [
      rule([{ path: { type: 'PathPrefix', value: '/' } }]), // 0: bare prefix
      rule([{ path: { type: 'PathPrefix', value: '/foo' }, queryParams: [{ name: 'q', value: '1' }] }]), // 1
      rule([{ path: { type: 'PathPrefix', value: '/foo' }, method: 'GET' }]), // 2
    ],
  }, { created: '2024-01-02T00:00:00Z' });
  const b = httpRoute('b', {
    rules: [
      rule([{ path: { type: 'PathPrefix', value: '/foo' }, headers: [{ name: 'x', value: '1' }] }]), // 0
      rule([{ path: { type: 'Exact', value: '/foo' } }]), // 1
      rule([{ path: { type: 'PathPrefix', value: '/foo/bar' } }]), // 2
      rule([{ path: { type: 'PathPrefix', value: '/foo' } }]), // 3: ties with c's, b is older
    ],
  }, { created: '2024-01-01T00:00:00Z' });
  const c = httpRoute('c', { rules: [rule([{ path: { type: 'PathPrefix', value: '/foo' } }])] }, { created: '2024-01-03T00:00:00Z' });
  const d = httpRoute('d', { rules: [rule([{ path: { type: 'PathPrefix', value: '/foo' } }])] }, { created: '2024-01-03T00:00:00Z' });
  const run = fakeContext([gatewayClass(), gateway('gw', [{ name: 'http' }]), d, c, a, b], SERVICES);
  const ids = routesOf(translateGatewayApi(run.ctx).listeners).map((r) => r.id.replace(/^httproute\/default\//, ''));
  assert.deepEqual(ids, [
    'b/rule/1/match/0', // Exact /foo
    'b/rule/2/match/0', // PathPrefix /foo/bar (longest)
    'a/rule/2/match/0', // /foo + method
    'b/rule/0/match/0', // /foo + 1 header
    'a/rule/1/match/0', // /foo + 1 query param
    'b/rule/3/match/0', // /foo, oldest route
    'c/rule/0/match/0', // /foo, same age as d, name c < d
    'd/rule/0/match/0',
    'a/rule/0/match/0', // "/"
  ]);
});

test('a header-only match carries an implicit "/" prefix and beats a bare "/" rule', () => {
  const run = fakeContext([gatewayClass(), gateway('gw', [{ name: 'http' }]),
    httpRoute('older', { rules: [rule(undefined, 'v1')] }, { created: '2024-01-01T00:00:00Z' }),
    httpRoute('newer', { rules: [rule([{ headers: [{ name: 'Version', value: 'two' }] }], 'v2')] }, { created: '2024-06-01T00:00:00Z' }),
  ], SERVICES);
  const { listeners } = translateGatewayApi(run.ctx);
  const routes = routesOf(listeners);
  assert.deepEqual(routes[0]!.match, { path: { type: 'PathPrefix', value: '/' }, headers: [{ name: 'version', match: { type: 'Exact', value: 'two' } }] });
  assert.equal(probe(listeners, { host: 'x', path: '/a', headers: { version: 'two' } }).route?.source.name, 'newer');
  assert.equal(probe(listeners, { host: 'x', path: '/a' }).route?.source.name, 'older');
});

test('rule order then match order break remaining ties; a rule without matches is PathPrefix "/"', () => {
  const run = fakeContext([gatewayClass(), gateway('gw', [{ name: 'http' }]),
    httpRoute('r', { rules: [
      rule(undefined),
      rule([{ path: { type: 'PathPrefix', value: '/x' } }, { path: { type: 'PathPrefix', value: '/y' } }]),
      rule([{ path: { type: 'PathPrefix', value: '/x' } }]),
    ] })], SERVICES);
  const routes = routesOf(translateGatewayApi(run.ctx).listeners);
  assert.deepEqual(routes.map((r) => [r.id, r.sourcePath]), [
    ['httproute/default/r/rule/1/match/0', 'spec.rules[1].matches[0]'],
    ['httproute/default/r/rule/1/match/1', 'spec.rules[1].matches[1]'],
    ['httproute/default/r/rule/2/match/0', 'spec.rules[2].matches[0]'],
    ['httproute/default/r/rule/0/match/0', 'spec.rules[0]'],
  ]);
  assert.equal(routes[0]!.name, routes[0]!.id);
});

test('regular expressions rank after every prefix (implementation-specific choice, like Istio)', () => {
  const run = fakeContext([gatewayClass(), gateway('gw', [{ name: 'http' }]),
    httpRoute('r', { rules: [
      rule([{ path: { type: 'RegularExpression', value: '/v[0-9]+/.*' } }], 'v1'),
      rule([{ path: { type: 'PathPrefix', value: '/api' } }], 'v2'),
      rule([{ path: { type: 'Exact', value: '/v1/x' } }], 'v3'),
    ] })], SERVICES);
  const routes = routesOf(translateGatewayApi(run.ctx).listeners);
  assert.deepEqual(routes.map((r) => r.match.path?.type), ['Exact', 'PathPrefix', 'Regex']);
});

test('matching across routes with hostnames (HTTPRouteMatchingAcrossRoutes)', () => {
  const run = fakeContext([gatewayClass(), gateway('gw', [{ name: 'http' }]),
    httpRoute('matching-part1', { hostnames: ['example.com', 'example.net'], rules: [
      rule([{ path: { type: 'PathPrefix', value: '/' } }, { headers: [{ name: 'version', value: 'one' }] }], 'v1')] }),
    httpRoute('matching-part2', { hostnames: ['*.com'], rules: [
      rule([{ path: { type: 'PathPrefix', value: '/v2' } }, { headers: [{ name: 'version', value: 'two' }] }], 'v2')] }),
  ], SERVICES);
  const { listeners } = translateGatewayApi(run.ctx);
  const to = (host: string, path: string, headers?: Record<string, string>) => {
    const r = probe(listeners, { host, path, ...(headers ? { headers } : {}) });
    return 'cluster' in r ? r.cluster : r.status;
  };
  assert.equal(to('example.com', '/'), C('v1'));
  assert.equal(to('example.com', '/example'), C('v1'));
  assert.equal(to('example.net', '/example'), C('v1'));
  assert.equal(to('example.com', '/example', { Version: 'one' }), C('v1'));
  assert.equal(to('example.com', '/v2'), C('v2'));
  assert.equal(to('example.net', '/v2'), C('v1'));
  assert.equal(to('example.com', '/v2/example'), C('v2'));
  assert.equal(to('example.com', '/', { Version: 'two' }), C('v2'));
  assert.equal(to('foo.com', '/v2'), C('v2'));
  assert.equal(to('foo.com', '/'), 404);
});

test('an exact route hostname beats a wildcard one with identical matches, whatever the age', () => {
  // HTTPRouteMultipleRoutesAttachmentSameHostnameIntersection
  const run = fakeContext([gatewayClass(),
    gateway('gw', [{ name: 'exact', hostname: 'abc.example.com' }, { name: 'wc', port: 81, hostname: '*.example.com' }]),
    httpRoute('wc-older', { parentRefs: [{ name: 'gw', sectionName: 'exact' }], hostnames: ['*.example.com'], rules: [rule(undefined, 'v1')] }, { created: '2024-01-01T00:00:00Z' }),
    httpRoute('exact-newer', { parentRefs: [{ name: 'gw', sectionName: 'exact' }], hostnames: ['abc.example.com'], rules: [rule(undefined, 'v2')] }, { created: '2024-02-01T00:00:00Z' }),
    httpRoute('less-specific-older', { parentRefs: [{ name: 'gw', sectionName: 'wc' }], hostnames: ['*.com'], rules: [rule(undefined, 'v1')] }, { created: '2024-01-01T00:00:00Z' }),
    httpRoute('more-specific-newer', { parentRefs: [{ name: 'gw', sectionName: 'wc' }], hostnames: ['*.example.com'], rules: [rule(undefined, 'v2')] }, { created: '2024-02-01T00:00:00Z' }),
  ], SERVICES);
  const { listeners } = translateGatewayApi(run.ctx);
  const r80 = probe(listeners, { host: 'abc.example.com', path: '/' });
  assert.equal('cluster' in r80 && r80.cluster, C('v2'));
  const r81 = probe(listeners, { host: 'abc.example.com', path: '/', port: 81 });
  assert.equal('cluster' in r81 && r81.cluster, C('v2'));
});

test('matches: exact/regex headers (first name wins, lower-cased), query params (case-sensitive), method', () => {
  const run = fakeContext([gatewayClass(), gateway('gw', [{ name: 'http' }]),
    httpRoute('r', { rules: [rule([{
      path: { type: 'Exact', value: '/m' },
      method: 'GET',
      headers: [{ name: 'X-Ver', value: 'a' }, { name: 'x-ver', value: 'b' }, { name: 'X-Re', type: 'RegularExpression', value: 'v[0-9]+' }],
      queryParams: [{ name: 'Animal', value: 'whale' }, { name: 'Animal', value: 'dolphin' }, { name: 'animal', type: 'RegularExpression', value: 'd.*' }],
    }])] })], SERVICES);
  const { listeners } = translateGatewayApi(run.ctx);
  const m = routesOf(listeners)[0]!.match;
  assert.deepEqual(m, {
    path: { type: 'Exact', value: '/m' },
    method: { type: 'Exact', value: 'GET' },
    headers: [{ name: 'x-ver', match: { type: 'Exact', value: 'a' } }, { name: 'x-re', match: { type: 'Regex', value: 'v[0-9]+' } }],
    queryParams: [{ name: 'Animal', match: { type: 'Exact', value: 'whale' } }, { name: 'animal', match: { type: 'Regex', value: 'd.*' } }],
  });
  const req = { host: 'x', path: '/m', headers: { 'x-ver': 'a', 'x-re': 'v12' }, query: 'Animal=whale&animal=dog' };
  assert.equal(probe(listeners, req).status, 200);
  assert.equal(probe(listeners, { ...req, method: 'HEAD' }).status, 404, 'HEAD does not match GET');
  assert.equal(probe(listeners, { ...req, path: '/m/' }).status, 404, 'Exact is exact');
});

test('PathPrefix is segment-wise and ignores a trailing slash (runtime contract)', () => {
  const run = fakeContext([gatewayClass(), gateway('gw', [{ name: 'http' }]),
    httpRoute('r', { rules: [rule([{ path: { type: 'PathPrefix', value: '/v2/' } }])] })], SERVICES);
  const { listeners } = translateGatewayApi(run.ctx);
  assert.deepEqual(routesOf(listeners)[0]!.match.path, { type: 'PathPrefix', value: '/v2/' });
  assert.equal(probe(listeners, { host: 'x', path: '/v2' }).status, 200);
  assert.equal(probe(listeners, { host: 'x', path: '/v2/x' }).status, 200);
  assert.equal(probe(listeners, { host: 'x', path: '/v2example' }).status, 404);
});

test('invalid matches make the rule answer 500 and are reported', () => {
  const run = fakeContext([gatewayClass(), gateway('gw', [{ name: 'http' }]),
    httpRoute('r', { rules: [
      rule([{ path: { type: 'PathPrefix', value: '/ok' } }, { path: { type: 'Glob', value: '/x*' } }]),
      rule([{ path: { type: 'RegularExpression', value: '/(unclosed' } }]),
      rule([{ method: 'FETCH' }]),
      rule([{ path: { type: 'PathPrefix', value: '/fine' } }]),
    ] })], SERVICES);
  const { listeners } = translateGatewayApi(run.ctx);
  const routes = routesOf(listeners);
  const byId = new Map(routes.map((r) => [r.id, r]));
  // Rule 0 keeps its valid match, answering 500; rules 1 and 2 have no valid match left.
  assert.deepEqual(byId.get('httproute/default/r/rule/0/match/0')!.action, { type: 'forward', backends: [{ weight: 1, invalid: { status: 500, detail: 'invalid_route_rule', flag: 'NC' } }] });
  assert.equal(byId.get('httproute/default/r/rule/3/match/0')!.action.type, 'forward');
  assert.ok(!byId.has('httproute/default/r/rule/1/match/0'));
  assert.deepEqual(run.diagnostics.map((d) => [d.code, d.path]), [
    ['GWAPI_MATCH_INVALID', 'spec.rules[0].matches[1].path.type'],
    ['GWAPI_MATCH_INVALID', 'spec.rules[1].matches[0].path.value'],
    ['GWAPI_MATCH_INVALID', 'spec.rules[2].matches[0].method'],
  ]);
  const st = run.statuses.get('HTTPRoute/default/r')!;
  assert.equal(st.state, 'partial');
  const pi = st.parents![0]!.conditions.find((c) => c.type === 'PartiallyInvalid')!;
  assert.equal(pi.status, 'True');
  assert.equal(pi.reason, 'UnsupportedValue');
});
