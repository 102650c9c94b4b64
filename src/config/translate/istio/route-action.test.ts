import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpRoutes } from '../../../../test/helpers/istio-fixtures.js';

const actionOf = (http: Record<string, unknown>) => {
  const { routes, r } = httpRoutes([http]);
  return { action: routes[0]?.action, route: routes[0], r };
};

test('destinations resolve through the registry with short hosts expanded in the VirtualService namespace', () => {
  const { action } = actionOf({ route: [{ destination: { host: 'reviews', subset: 'v2', port: { number: 9080 } } }] });
  assert.deepEqual(action, { type: 'forward', backends: [{ weight: 100, cluster: 'outbound|9080|v2|reviews.default.svc.cluster.local' }] });
});

test('weights: single destination 100%, weight 0 dropped, all absent equal', () => {
  assert.deepEqual(actionOf({ route: [{ destination: { host: 'ratings' }, weight: 10 }] }).action, {
    type: 'forward', backends: [{ weight: 100, cluster: 'outbound|9080||ratings.default.svc.cluster.local' }],
  });
  const w = actionOf({ route: [
    { destination: { host: 'reviews', subset: 'v1' }, weight: 90 },
    { destination: { host: 'reviews', subset: 'v2' }, weight: 0 },
    { destination: { host: 'reviews', subset: 'v3' }, weight: 10 },
  ] });
  const weighted = w.action;
  // A dropped destination requests no cluster, so none reaches the IR.
  assert.deepEqual(w.r.ctx.registry.clusters().map((c) => c.subset), ['v1', 'v3']);
  assert.deepEqual(weighted, { type: 'forward', backends: [
    { weight: 90, cluster: 'outbound|9080|v1|reviews.default.svc.cluster.local' },
    { weight: 10, cluster: 'outbound|9080|v3|reviews.default.svc.cluster.local' },
  ] });
  const equal = actionOf({ route: [{ destination: { host: 'reviews', subset: 'v1' } }, { destination: { host: 'reviews', subset: 'v2' } }] }).action;
  assert.deepEqual(equal, { type: 'forward', backends: [
    { weight: 1, cluster: 'outbound|9080|v1|reviews.default.svc.cluster.local' },
    { weight: 1, cluster: 'outbound|9080|v2|reviews.default.svc.cluster.local' },
  ] });
});

test('an unknown destination host keeps the route and answers 503 cluster_not_found (NC)', () => {
  const { action, r } = actionOf({ route: [{ destination: { host: 'nope' } }] });
  assert.deepEqual(action, { type: 'forward', backends: [{ weight: 100, invalid: { status: 503, detail: 'cluster_not_found', flag: 'NC' } }] });
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.severity, d.path, d.resource]), [
    ['ISTIO_DESTINATION_NOT_FOUND', 'warning', 'spec.http[0].route[0].destination.host', { kind: 'VirtualService', namespace: 'default', name: 'vs' }],
  ]);
  assert.match(r.diagnostics[0]!.message, /^Cannot resolve host "nope.default.svc.cluster.local": .*; requests get 503 cluster_not_found$/);
  assert.equal(r.status('VirtualService/default/vs')!.state, 'partial');
});

test('an unknown port is NC; a missing port on a multi-port service too', () => {
  const bad = actionOf({ route: [{ destination: { host: 'ratings', port: { number: 1 } } }] });
  assert.deepEqual(bad.r.diagnostics.map((d) => [d.code, d.path]), [['ISTIO_DESTINATION_NOT_FOUND', 'spec.http[0].route[0].destination.port.number']]);
  const multi = actionOf({ route: [{ destination: { host: 'multi' } }] });
  assert.deepEqual(multi.action, { type: 'forward', backends: [{ weight: 100, invalid: { status: 503, detail: 'cluster_not_found', flag: 'NC' } }] });
});

test('an undefined subset answers 503 no_healthy_upstream (UH), never all endpoints', () => {
  const { action, r } = actionOf({ route: [{ destination: { host: 'reviews', subset: 'v9' } }] });
  assert.deepEqual(action, { type: 'forward', backends: [{ weight: 100, invalid: { status: 503, detail: 'no_healthy_upstream', flag: 'UH' } }] });
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.path]), [['ISTIO_SUBSET_NOT_FOUND', 'spec.http[0].route[0].destination.subset']]);
});

test('destination headers become backend header ops; host/:authority set wins over add', () => {
  const { action, r } = actionOf({ route: [{ destination: { host: 'ratings' }, headers: {
    request: { set: { 'X-Env': 'prod', host: 'set.example.com' }, add: { ':authority': 'add.example.com', 'x-trace': '%REQ(x-request-id)%' }, remove: ['x-secret'] },
    response: { set: { ':status': '200' }, add: { 'x-served-by': '%UPSTREAM_CLUSTER%' } },
  } }] });
  assert.deepEqual(action, { type: 'forward', backends: [{
    weight: 100, cluster: 'outbound|9080||ratings.default.svc.cluster.local',
    requestHeaders: { set: [{ name: 'x-env', value: 'prod' }], add: [{ name: 'x-trace', value: '%REQ(x-request-id)%' }], remove: ['x-secret'] },
    responseHeaders: { add: [{ name: 'x-served-by', value: '%UPSTREAM_CLUSTER%' }] },
    authority: 'set.example.com',
  }] });
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.path]), [['ISTIO_HEADER_OP_INVALID', 'spec.http[0].route[0].headers.response.set.:status']]);
});

test('redirect: uri replaces the whole path, authority, scheme, port modes, default 301', () => {
  assert.deepEqual(actionOf({ redirect: { uri: '/new', authority: 'new.io' } }).action, {
    type: 'redirect', portMode: 'Original', statusCode: 301, path: { type: 'ReplaceFull', value: '/new' }, host: 'new.io',
  });
  assert.deepEqual(actionOf({ redirect: { scheme: 'HTTPS', derivePort: 'FROM_PROTOCOL_DEFAULT', redirectCode: 308 } }).action, {
    type: 'redirect', portMode: 'FromScheme', statusCode: 308, scheme: 'https',
  });
  assert.deepEqual(actionOf({ redirect: { derivePort: 'FROM_REQUEST_PORT', redirectCode: 302 } }).action, {
    type: 'redirect', portMode: 'FromRequest', statusCode: 302,
  });
  assert.deepEqual(actionOf({ redirect: { port: 8443 } }).action, { type: 'redirect', portMode: 'Original', statusCode: 301, port: 8443 });
});

test('redirect with an unsupported code is an error and the route is dropped', () => {
  const { routes, r } = httpRoutes([{ redirect: { uri: '/x', redirectCode: 305 } }, { route: [{ destination: { host: 'ratings' } }] }]);
  assert.deepEqual(routes.map((x) => x.id), ['virtualservice/default/vs/http/1/match/0']);
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.severity, d.path]), [['ISTIO_REDIRECT_CODE_INVALID', 'error', 'spec.http[0].redirect.redirectCode']]);
});

test('redirect routes carry no retry or timeout; rewrite with redirect is rejected', () => {
  const { route } = actionOf({ redirect: { uri: '/x' }, timeout: '5s' });
  assert.equal(route!.retry, undefined);
  assert.equal(route!.timeoutMs, undefined);
  const { routes, r } = httpRoutes([{ redirect: { uri: '/x' }, rewrite: { uri: '/y' } }]);
  assert.deepEqual(routes, []);
  assert.deepEqual(r.codes(), ['ISTIO_ROUTE_ACTION_INVALID']);
});

test('directResponse with string or base64 body', () => {
  assert.deepEqual(actionOf({ directResponse: { status: 503, body: { string: 'down for maintenance' } } }).action, {
    type: 'direct', status: 503, body: 'down for maintenance',
  });
  assert.deepEqual(actionOf({ directResponse: { status: 200, body: { bytes: 'aGVsbG8=' } } }).action, { type: 'direct', status: 200, bodyBase64: 'aGVsbG8=' });
  assert.deepEqual(actionOf({ directResponse: { status: 404 } }).action, { type: 'direct', status: 404 });
  const bad = actionOf({ directResponse: { status: 99 } });
  assert.equal(bad.action, undefined);
  assert.deepEqual(bad.r.diagnostics.map((d) => [d.code, d.path]), [['ISTIO_FIELD_INVALID', 'spec.http[0].directResponse.status']]);
});

test('a route with no action or several actions is dropped', () => {
  const none = actionOf({ match: [{ uri: { prefix: '/' } }] });
  assert.equal(none.action, undefined);
  assert.deepEqual(none.r.diagnostics.map((d) => [d.code, d.path]), [['ISTIO_ROUTE_ACTION_INVALID', 'spec.http[0]']]);
  const two = actionOf({ route: [{ destination: { host: 'ratings' } }], directResponse: { status: 200 } });
  assert.equal(two.action, undefined);
  assert.deepEqual(two.r.codes(), ['ISTIO_ROUTE_ACTION_INVALID']);
  const noHost = actionOf({ route: [{ destination: {} }] });
  assert.deepEqual(noHost.r.diagnostics.map((d) => [d.code, d.path]), [['ISTIO_ROUTE_ACTION_INVALID', 'spec.http[0].route[0].destination.host']]);
});

test('mirror + mirrorPercentage (default 100, 0 = none) and mirrors[]', () => {
  const one = actionOf({ route: [{ destination: { host: 'ratings' } }], mirror: { host: 'mirror' }, mirrorPercentage: { value: 12.5 } }).route!;
  assert.deepEqual(one.mirrors, [{ cluster: 'outbound|80||mirror.default.svc.cluster.local', percent: 12.5 }]);
  const dflt = actionOf({ route: [{ destination: { host: 'ratings' } }], mirror: { host: 'mirror' } }).route!;
  assert.deepEqual(dflt.mirrors, [{ cluster: 'outbound|80||mirror.default.svc.cluster.local', percent: 100 }]);
  const off = actionOf({ route: [{ destination: { host: 'ratings' } }], mirror: { host: 'mirror' }, mirrorPercentage: { value: 0 } }).route!;
  assert.equal(off.mirrors, undefined);
  const many = actionOf({ route: [{ destination: { host: 'ratings' } }], mirrors: [
    { destination: { host: 'mirror' } },
    { destination: { host: 'reviews', subset: 'v3' }, percentage: { value: 5 } },
    { destination: { host: 'reviews', subset: 'v2' }, percentage: { value: 0 } },
    { destination: { host: 'ghost' }, percentage: { value: 50 } },
  ] });
  assert.deepEqual(many.route!.mirrors, [
    { cluster: 'outbound|80||mirror.default.svc.cluster.local', percent: 100 },
    { cluster: 'outbound|9080|v3|reviews.default.svc.cluster.local', percent: 5 },
  ]);
  assert.deepEqual(many.r.diagnostics.map((d) => [d.code, d.path]), [['ISTIO_MIRROR_NOT_FOUND', 'spec.http[0].mirrors[3].destination.host']]);
});

test('corsPolicy and fault are warned about but the route is kept', () => {
  const { route, r } = actionOf({ route: [{ destination: { host: 'ratings' } }], corsPolicy: { allowOrigins: [{ exact: 'https://a.io' }] }, fault: { abort: { httpStatus: 500 } } });
  assert.ok(route);
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.severity, d.path]), [
    ['ISTIO_FIELD_NOT_YET_SUPPORTED', 'warning', 'spec.http[0].corsPolicy'],
    ['ISTIO_FIELD_NOT_YET_SUPPORTED', 'warning', 'spec.http[0].fault'],
  ]);
});
