import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETRY } from '../../ir/types.js';
import { httpRoutes } from '../../../../test/helpers/istio-fixtures.js';

const dest = [{ destination: { host: 'ratings' } }];
const routeOf = (http: Record<string, unknown>) => {
  const { routes, r } = httpRoutes([{ route: dest, ...http }]);
  return { route: routes[0], r };
};

test('rewrite.uri replaces the matched prefix (plain string, not segment aware)', () => {
  assert.deepEqual(routeOf({ match: [{ uri: { prefix: '/api/' } }], rewrite: { uri: '/' } }).route!.rewrite, {
    path: { type: 'ReplacePrefix', prefix: '/api/', replacement: '/', segmentAware: false },
  });
});

test('rewrite.uri with no uri match uses the implicit prefix "/": /foo + /v1 → /v1foo', () => {
  assert.deepEqual(routeOf({ rewrite: { uri: '/v1' } }).route!.rewrite, {
    path: { type: 'ReplacePrefix', prefix: '/', replacement: '/v1', segmentAware: false },
  });
  assert.deepEqual(routeOf({ match: [{ headers: { 'x-a': {} } }], rewrite: { uri: '/v1' } }).route!.rewrite, {
    path: { type: 'ReplacePrefix', prefix: '/', replacement: '/v1', segmentAware: false },
  });
});

test('rewrite.uri on exact and regex matches replaces the whole path', () => {
  assert.deepEqual(routeOf({ match: [{ uri: { exact: '/login' } }], rewrite: { uri: '/auth/login' } }).route!.rewrite, {
    path: { type: 'ReplaceFull', value: '/auth/login' },
  });
  assert.deepEqual(routeOf({ match: [{ uri: { regex: '/u/[0-9]+' } }], rewrite: { uri: '/user' } }).route!.rewrite, {
    path: { type: 'ReplaceFull', value: '/user' },
  });
});

test('rewrite per match block: each block gets its own matched prefix', () => {
  const { routes } = httpRoutes([{ match: [{ uri: { prefix: '/a' } }, { uri: { prefix: '/bb' } }], rewrite: { uri: '/x' }, route: dest }]);
  assert.deepEqual(routes.map((r) => r.rewrite?.path), [
    { type: 'ReplacePrefix', prefix: '/a', replacement: '/x', segmentAware: false },
    { type: 'ReplacePrefix', prefix: '/bb', replacement: '/x', segmentAware: false },
  ]);
});

test('uriRegexRewrite takes precedence over uri; backreferences kept as written', () => {
  const { route, r } = routeOf({ rewrite: { uri: '/ignored', uriRegexRewrite: { match: '^/service/([^/]+)(/.*)$', rewrite: '\\2/instance/\\1' } } });
  assert.deepEqual(route!.rewrite, { path: { type: 'Regex', pattern: '^/service/([^/]+)(/.*)$', substitution: '\\2/instance/\\1' } });
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.path]), [['ISTIO_FIELD_IGNORED', 'spec.http[0].rewrite.uri']]);
  const bad = routeOf({ rewrite: { uriRegexRewrite: { match: '(', rewrite: 'x' } } });
  assert.equal(bad.route, undefined);
  assert.deepEqual(bad.r.diagnostics.map((d) => [d.code, d.path]), [['ISTIO_REGEX_INVALID', 'spec.http[0].rewrite.uriRegexRewrite.match']]);
});

test('authority: rewrite.authority, else host/:authority from request headers set (wins) or add', () => {
  assert.deepEqual(routeOf({ rewrite: { authority: 'a.internal' }, headers: { request: { set: { host: 'h.internal' } } } }).route!.rewrite, { authority: 'a.internal' });
  assert.deepEqual(routeOf({ headers: { request: { add: { host: 'add.internal' }, set: { ':authority': 'set.internal' } } } }).route!.rewrite, { authority: 'set.internal' });
});

test('route-level headers keep Envoy %VAR% operators verbatim; pseudo headers rejected', () => {
  const { route, r } = routeOf({ headers: {
    request: { set: { 'x-client': '%DOWNSTREAM_REMOTE_ADDRESS%', ':path': '/x' }, remove: ['host', 'x-internal'] },
    response: { add: { 'x-pct': '100%%' }, remove: ['server'] },
  } });
  assert.deepEqual(route!.requestHeaders, { set: [{ name: 'x-client', value: '%DOWNSTREAM_REMOTE_ADDRESS%' }], remove: ['x-internal'] });
  assert.deepEqual(route!.responseHeaders, { add: [{ name: 'x-pct', value: '100%%' }], remove: ['server'] });
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.path]), [
    ['ISTIO_HEADER_OP_INVALID', 'spec.http[0].headers.request.set.:path'],
    ['ISTIO_HEADER_OP_INVALID', 'spec.http[0].headers.request.remove[0]'],
  ]);
});

test('timeout: absent or 0 means none; durations in ms; invalid drops the route', () => {
  assert.equal(routeOf({}).route!.timeoutMs, undefined);
  assert.equal(routeOf({ timeout: '0s' }).route!.timeoutMs, undefined);
  assert.equal(routeOf({ timeout: '1.5s' }).route!.timeoutMs, 1500);
  assert.equal(routeOf({ timeout: '1m30s' }).route!.timeoutMs, 90_000);
  const bad = routeOf({ timeout: 'soon' });
  assert.equal(bad.route, undefined);
  assert.deepEqual(bad.r.diagnostics.map((d) => [d.code, d.path]), [['ISTIO_FIELD_INVALID', 'spec.http[0].timeout']]);
});

test('retries: absent → the default policy', () => {
  assert.deepEqual(routeOf({}).route!.retry, DEFAULT_RETRY);
});

test('retries: attempts only keeps the default retryOn', () => {
  assert.deepEqual(routeOf({ retries: { attempts: 5, perTryTimeout: '2s' } }).route!.retry, {
    attempts: 5, retryOn: DEFAULT_RETRY.retryOn, retriableStatusCodes: [], backoffBaseMs: 25, perTryTimeoutMs: 2000,
  });
});

test('retries: retryOn tokens, numeric codes add retriable-status-codes, backoff', () => {
  const { route, r } = routeOf({ retries: { attempts: 3, retryOn: 'gateway-error, connect-failure,503,429,bogus', backoff: '100ms' } });
  assert.deepEqual(route!.retry, {
    attempts: 3, retryOn: ['gateway-error', 'connect-failure', 'retriable-status-codes'], retriableStatusCodes: [503, 429], backoffBaseMs: 100,
  });
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.severity, d.path]), [['ISTIO_RETRY_ON_UNKNOWN', 'warning', 'spec.http[0].retries.retryOn']]);
});

test('retries: attempts 0 (or a block without attempts) disables retries', () => {
  const off = { attempts: 0, retryOn: [], retriableStatusCodes: [], backoffBaseMs: 25 };
  assert.deepEqual(routeOf({ retries: { attempts: 0 } }).route!.retry, off);
  assert.deepEqual(routeOf({ retries: { perTryTimeout: '1s' } }).route!.retry, off);
});

test('retries: an invalid perTryTimeout drops the route', () => {
  const bad = routeOf({ retries: { attempts: 2, perTryTimeout: '0s' } });
  assert.equal(bad.route, undefined);
  assert.deepEqual(bad.r.diagnostics.map((d) => [d.code, d.path]), [['ISTIO_FIELD_INVALID', 'spec.http[0].retries.perTryTimeout']]);
});
