import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RouteIR } from '../../ir/types.js';
import { DEFAULT_RETRY } from '../../ir/types.js';
import { backendsOf, fakeContext, gateway, gatewayClass, httpRoute, rule } from '../../../../test/helpers/fake-registry-gw.js';
import { translateGatewayApi } from './index.js';

const SERVICES = [{ name: 'web', ports: [{ port: 8080 }] }, { name: 'mirror', ports: [{ port: 8080 }] }];
const WEB = 'outbound|8080||web.default.svc.cluster.local';
const MIRROR = 'outbound|8080||mirror.default.svc.cluster.local';

function translate(rules: unknown[]) {
  const run = fakeContext([gatewayClass(), gateway('gw', [{ name: 'http' }]), httpRoute('r', { rules })], SERVICES);
  const routes = translateGatewayApi(run.ctx).listeners[0]!.servers[0]!.virtualHosts[0]!.routes;
  const byId = (rule: number, match = 0): RouteIR => routes.find((r) => r.id === `httproute/default/r/rule/${rule}/match/${match}`)!;
  return { run, routes, byId };
}
const redirect = (requestRedirect: Record<string, unknown>, matches?: unknown[]) =>
  ({ ...(matches ? { matches } : {}), filters: [{ type: 'RequestRedirect', requestRedirect }] });

test('RequestRedirect: defaults, scheme, hostname, port, status code', () => {
  const { byId, run } = translate([
    redirect({}, [{ path: { type: 'PathPrefix', value: '/a' } }]),
    redirect({ scheme: 'https' }, [{ path: { type: 'PathPrefix', value: '/b' } }]),
    redirect({ hostname: 'Example.org', port: 8443, statusCode: 301 }, [{ path: { type: 'PathPrefix', value: '/c' } }]),
    redirect({ scheme: 'http', port: 80, statusCode: 308 }, [{ path: { type: 'PathPrefix', value: '/d' } }]),
  ]);
  assert.deepEqual(byId(0).action, { type: 'redirect', portMode: 'Keep', statusCode: 302 });
  assert.deepEqual(byId(1).action, { type: 'redirect', scheme: 'https', portMode: 'Keep', statusCode: 302 });
  assert.deepEqual(byId(2).action, { type: 'redirect', host: 'example.org', port: 8443, portMode: 'Keep', statusCode: 301 });
  assert.deepEqual(byId(3).action, { type: 'redirect', scheme: 'http', port: 80, portMode: 'Keep', statusCode: 308 });
  assert.equal(byId(0).retry, undefined, 'redirects carry no retry policy');
  assert.deepEqual(run.diagnostics, []);
});

test('RequestRedirect path: ReplaceFullPath and ReplacePrefixMatch (per matched prefix)', () => {
  const { byId } = translate([
    redirect({ path: { type: 'ReplaceFullPath', replaceFullPath: '/full' } }, [{ path: { type: 'Exact', value: '/x' } }]),
    redirect({ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } },
      [{ path: { type: 'PathPrefix', value: '/old' } }, { path: { type: 'PathPrefix', value: '/older/' } }]),
  ]);
  assert.deepEqual((byId(0).action as { path?: unknown }).path, { type: 'ReplaceFull', value: '/full' });
  assert.deepEqual((byId(1, 0).action as { path?: unknown }).path, { type: 'ReplacePrefix', prefix: '/old', replacement: '/new', segmentAware: true });
  assert.deepEqual((byId(1, 1).action as { path?: unknown }).path, { type: 'ReplacePrefix', prefix: '/older/', replacement: '/new', segmentAware: true });
});

test('invalid redirects answer 500: status code, scheme, ReplacePrefixMatch without PathPrefix', () => {
  const { byId, run } = translate([
    redirect({ statusCode: 304 }),
    redirect({ scheme: 'ftp' }),
    redirect({ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/n' } }, [{ path: { type: 'Exact', value: '/x' } }]),
  ]);
  for (const i of [0, 1, 2]) assert.deepEqual(byId(i).action, { type: 'forward', backends: [{ weight: 1, invalid: { status: 500, detail: 'invalid_route_rule', flag: 'NC' } }] });
  assert.deepEqual(run.diagnostics.map((d) => [d.code, d.path]), [
    ['GWAPI_FILTER_INVALID', 'spec.rules[0].filters[0].requestRedirect.statusCode'],
    ['GWAPI_FILTER_INVALID', 'spec.rules[1].filters[0].requestRedirect.scheme'],
    ['GWAPI_FILTER_INVALID', 'spec.rules[2].filters'],
  ]);
});

test('a redirect with backendRefs: the redirect wins, with a warning', () => {
  const { byId, run } = translate([{ ...redirect({ scheme: 'https' }), backendRefs: [{ name: 'web', port: 8080 }] }]);
  assert.equal(byId(0).action.type, 'redirect');
  assert.deepEqual(run.diagnostics.map((d) => d.code), ['GWAPI_REDIRECT_WITH_BACKENDS']);
  assert.deepEqual(run.registry.requested(), []);
});

test('URLRewrite: hostname → authority, ReplacePrefixMatch → segment-aware ReplacePrefix, ReplaceFullPath', () => {
  const { byId } = translate([
    rule([{ path: { type: 'PathPrefix', value: '/prefix/one' } }], 'web', {
      filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'Rewritten.example', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/one' } } }],
    }),
    rule([{ path: { type: 'Exact', value: '/full/one' } }], 'web', {
      filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/one' } } }],
    }),
    rule([{ path: { type: 'Exact', value: '/bad' } }], 'web', {
      filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '' } } }],
    }),
  ]);
  assert.deepEqual(byId(0).rewrite, { path: { type: 'ReplacePrefix', prefix: '/prefix/one', replacement: '/one', segmentAware: true }, authority: 'rewritten.example' });
  assert.deepEqual(byId(0).action, { type: 'forward', backends: [{ weight: 1, cluster: WEB }] });
  assert.deepEqual(byId(1).rewrite, { path: { type: 'ReplaceFull', value: '/one' } });
  assert.equal(byId(2).rewrite, undefined);
  assert.equal(backendsOf(byId(2))[0]!.invalid !== undefined, true);
});

test('header modifiers: set/add/remove with lower-cased names, request and response', () => {
  const { byId } = translate([rule(undefined, 'web', {
    filters: [
      { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Header-Set', value: 'set-overwrites-values' }], add: [{ name: 'X-Header-Add', value: 'add-appends-values' }], remove: ['X-Header-Remove'] } },
      { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'X-Resp', value: 'v' }] } },
    ],
  })]);
  assert.deepEqual(byId(0).requestHeaders, { set: [{ name: 'x-header-set', value: 'set-overwrites-values' }], add: [{ name: 'x-header-add', value: 'add-appends-values' }], remove: ['x-header-remove'] });
  assert.deepEqual(byId(0).responseHeaders, { add: [{ name: 'x-resp', value: 'v' }] });
});

test('RequestMirror: 100% by default, percent, fraction; an unresolvable mirror is dropped', () => {
  const mirror = (extra: Record<string, unknown>, name = 'mirror') => ({ type: 'RequestMirror', requestMirror: { backendRef: { name, port: 8080 }, ...extra } });
  const { byId, run } = translate([
    rule([{ path: { type: 'PathPrefix', value: '/a' } }], 'web', { filters: [mirror({})] }),
    rule([{ path: { type: 'PathPrefix', value: '/b' } }], 'web', { filters: [mirror({ percent: 35 }), mirror({ fraction: { numerator: 1, denominator: 8 } })] }),
    rule([{ path: { type: 'PathPrefix', value: '/c' } }], 'web', { filters: [mirror({}, 'ghost')] }),
  ]);
  assert.deepEqual(byId(0).mirrors, [{ cluster: MIRROR, percent: 100 }]);
  assert.deepEqual(byId(1).mirrors, [{ cluster: MIRROR, percent: 35 }, { cluster: MIRROR, percent: 12.5 }]);
  assert.equal(byId(2).mirrors, undefined);
  assert.equal(byId(2).action.type, 'forward');
  assert.deepEqual(run.diagnostics.map((d) => d.code), ['GWAPI_MIRROR_INVALID']);
  const rr = run.statuses.get('HTTPRoute/default/r')!.parents![0]!.conditions.find((c) => c.type === 'ResolvedRefs')!;
  assert.equal(rr.reason, 'BackendNotFound');
});

test('ExtensionRef, CORS and unknown filters are not skipped: the rule answers 500', () => {
  const { byId, run } = translate([
    rule([{ path: { type: 'PathPrefix', value: '/a' } }], 'web', { filters: [{ type: 'ExtensionRef', extensionRef: { group: 'x.io', kind: 'Auth', name: 'a' } }] }),
    rule([{ path: { type: 'PathPrefix', value: '/b' } }], 'web', { filters: [{ type: 'CORS', cors: { allowOrigins: ['*'] } }] }),
    rule([{ path: { type: 'PathPrefix', value: '/ok' } }], 'web'),
  ]);
  assert.equal(backendsOf(byId(0))[0]!.invalid?.status, 500);
  assert.equal(backendsOf(byId(1))[0]!.invalid?.status, 500);
  assert.deepEqual(backendsOf(byId(2)), [{ weight: 1, cluster: WEB }]);
  assert.deepEqual(run.diagnostics.map((d) => [d.code, d.path]), [
    ['GWAPI_FILTER_UNSUPPORTED', 'spec.rules[0].filters[0].type'],
    ['GWAPI_FILTER_UNSUPPORTED', 'spec.rules[1].filters[0].type'],
  ]);
  const st = run.statuses.get('HTTPRoute/default/r')!;
  assert.deepEqual(st.parents![0]!.conditions.map((c) => [c.type, c.status]), [['Accepted', 'True'], ['ResolvedRefs', 'True'], ['PartiallyInvalid', 'True']]);
});

test('timeouts and retries: request → timeoutMs, backendRequest → perTryTimeoutMs, "0s" disables, default retry', () => {
  const { byId, run } = translate([
    rule([{ path: { type: 'PathPrefix', value: '/a' } }], 'web', { timeouts: { request: '10s', backendRequest: '500ms' } }),
    rule([{ path: { type: 'PathPrefix', value: '/b' } }], 'web', { timeouts: { request: '0s' } }),
    rule([{ path: { type: 'PathPrefix', value: '/c' } }], 'web', { timeouts: { request: '1h30m' }, retry: { attempts: 3, codes: [503, 504], backoff: '100ms' } }),
    rule([{ path: { type: 'PathPrefix', value: '/d' } }], 'web', { timeouts: { request: '10 seconds' }, retry: { attempts: 0 } }),
  ]);
  assert.equal(byId(0).timeoutMs, 10_000);
  assert.deepEqual(byId(0).retry, { ...DEFAULT_RETRY, perTryTimeoutMs: 500 });
  assert.equal(byId(1).timeoutMs, undefined);
  assert.deepEqual(byId(1).retry, DEFAULT_RETRY);
  assert.equal(byId(2).timeoutMs, 5_400_000);
  assert.deepEqual(byId(2).retry, {
    attempts: 3, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'],
    retriableStatusCodes: [503, 504], backoffBaseMs: 100,
  });
  assert.equal(byId(3).timeoutMs, undefined);
  assert.deepEqual(byId(3).retry, { attempts: 0, retryOn: [], retriableStatusCodes: [], backoffBaseMs: DEFAULT_RETRY.backoffBaseMs });
  assert.deepEqual(run.diagnostics.map((d) => [d.code, d.path]), [['GWAPI_DURATION_INVALID', 'spec.rules[3].timeouts.request']]);
});
