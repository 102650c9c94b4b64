import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RouteIR } from '../../ir/types.js';
import { backendsOf, fakeContext, gateway, gatewayClass, httpRoute } from '../../../../test/helpers/fake-registry-gw.js';
import { res } from '../../../../test/helpers/resources.js';
import { translateGatewayApi } from './index.js';

const SERVICES = [
  { name: 'web', ports: [{ port: 8080 }] },
  { name: 'web-backend', namespace: 'backends', ports: [{ port: 8080 }] },
  { name: 'other', namespace: 'backends', ports: [{ port: 8080 }] },
];
const WEB = 'outbound|8080||web.default.svc.cluster.local';
const CROSS = 'outbound|8080||web-backend.backends.svc.cluster.local';

function grant(namespace: string, from: Record<string, unknown>, to: Record<string, unknown> = { group: '', kind: 'Service' }) {
  return res({ apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: `g-${namespace}`, namespace }, spec: { from: [from], to: [to] } });
}
const FROM_DEFAULT = { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'default' };

function run1(backendRefs: unknown[], extra: ReturnType<typeof res>[] = [], ruleExtra: Record<string, unknown> = {}) {
  const run = fakeContext([gatewayClass(), gateway('gw', [{ name: 'http' }]), ...extra,
    httpRoute('r', { rules: [{ backendRefs, ...ruleExtra }] })], SERVICES);
  const { listeners } = translateGatewayApi(run.ctx);
  const route = listeners[0]!.servers[0]!.virtualHosts[0]!.routes[0]!;
  return { run, route, backends: backendsOf(route) };
}
const resolved = (run: ReturnType<typeof fakeContext>) =>
  run.statuses.get('HTTPRoute/default/r')!.parents![0]!.conditions.find((c) => c.type === 'ResolvedRefs')!;

test('a same-namespace Service resolves to its cluster; ResolvedRefs is True', () => {
  const { run, backends } = run1([{ name: 'web', port: 8080 }]);
  assert.deepEqual(backends, [{ weight: 1, cluster: WEB }]);
  assert.equal(resolved(run).status, 'True');
  assert.equal(run.statuses.get('HTTPRoute/default/r')!.state, 'accepted');
});

test('cross-namespace backend without a ReferenceGrant answers 500 (RefNotPermitted)', () => {
  const { run, backends } = run1([{ name: 'web-backend', namespace: 'backends', port: 8080 }]);
  assert.deepEqual(backends, [{ weight: 1, invalid: { status: 500, detail: 'ref_not_permitted', flag: 'NC' } }]);
  assert.deepEqual([resolved(run).status, resolved(run).reason], ['False', 'RefNotPermitted']);
  assert.deepEqual(run.diagnostics.map((d) => [d.code, d.path]), [['GWAPI_BACKEND_REF_NOT_PERMITTED', 'spec.rules[0].backendRefs[0]']]);
  // The route is still Accepted: the condition only describes attachment.
  assert.equal(run.statuses.get('HTTPRoute/default/r')!.parents![0]!.conditions[0]!.status, 'True');
  assert.deepEqual(run.registry.requested(), []);
});

test('cross-namespace backend with a matching ReferenceGrant resolves', () => {
  const { run, backends } = run1([{ name: 'web-backend', namespace: 'backends', port: 8080 }], [grant('backends', FROM_DEFAULT)]);
  assert.deepEqual(backends, [{ weight: 1, cluster: CROSS }]);
  assert.equal(resolved(run).status, 'True');
  assert.equal(run.statuses.get('ReferenceGrant/backends/g-backends')!.state, 'accepted');
});

test('ReferenceGrants that do not match: wrong namespace, wrong from, other Service name', () => {
  const ref = [{ name: 'web-backend', namespace: 'backends', port: 8080 }];
  for (const g of [
    grant('default', FROM_DEFAULT), // lives in the route namespace, not the target
    grant('backends', { ...FROM_DEFAULT, namespace: 'elsewhere' }),
    grant('backends', { ...FROM_DEFAULT, kind: 'Gateway' }),
    grant('backends', FROM_DEFAULT, { group: '', kind: 'Service', name: 'other' }),
    grant('backends', FROM_DEFAULT, { group: '', kind: 'Secret' }),
  ]) {
    const { backends } = run1(ref, [g]);
    assert.equal(backends[0]!.invalid?.detail, 'ref_not_permitted', JSON.stringify(g.object.spec));
  }
  const { backends } = run1(ref, [grant('backends', FROM_DEFAULT, { group: '', kind: 'Service', name: 'web-backend' })]);
  assert.equal(backends[0]!.cluster, CROSS);
});

test('unsupported kinds and missing Services or ports answer 500 with the right reason', () => {
  const cases: [unknown, string, string][] = [
    [{ group: 'example.com', kind: 'Bucket', name: 'b' }, 'invalid_backend_kind', 'InvalidKind'],
    [{ kind: 'ServiceImport', name: 'web', port: 8080 }, 'invalid_backend_kind', 'InvalidKind'],
    [{ name: 'missing', port: 8080 }, 'backend_not_found', 'BackendNotFound'],
    [{ name: 'web', port: 9999 }, 'backend_not_found', 'BackendNotFound'],
    [{ name: 'web' }, 'backend_not_found', 'BackendNotFound'],
  ];
  for (const [ref, detail, reason] of cases) {
    const { run, backends } = run1([ref]);
    assert.deepEqual(backends, [{ weight: 1, invalid: { status: 500, detail, flag: 'NC' } }], JSON.stringify(ref));
    assert.equal(resolved(run).reason, reason);
  }
});

test('weights: one invalid backend keeps its share (500), weight 0 is dropped, absent weight is 1', () => {
  const { run, backends } = run1([
    { name: 'web', port: 8080, weight: 3 },
    { name: 'missing', port: 8080, weight: 1 },
    { name: 'web', port: 8080, weight: 0 },
    { name: 'web', port: 8080 },
  ]);
  assert.deepEqual(backends, [
    { weight: 3, cluster: WEB },
    { weight: 1, invalid: { status: 500, detail: 'backend_not_found', flag: 'NC' } },
    { weight: 1, cluster: WEB },
  ]);
  assert.equal(resolved(run).reason, 'BackendNotFound');
  assert.equal(run.statuses.get('HTTPRoute/default/r')!.state, 'partial');
});

test('a weight-0 backend is still checked for ResolvedRefs but creates no cluster', () => {
  const { run } = run1([{ name: 'web', port: 8080 }, { name: 'missing', port: 8080, weight: 0 }]);
  assert.equal(resolved(run).reason, 'BackendNotFound');
  assert.deepEqual(run.registry.requested(), [WEB]);
});

test('empty backendRefs and all-zero weights answer 500', () => {
  for (const refs of [[], [{ name: 'web', port: 8080, weight: 0 }]]) {
    const { run, backends } = run1(refs);
    assert.deepEqual(backends, [{ weight: 1, invalid: { status: 500, detail: 'backend_not_found', flag: 'NC' } }]);
    assert.ok(run.diagnostics.some((d) => d.code === 'GWAPI_NO_BACKENDS'));
  }
  // No rules at all: the CRD default (one "/" rule without backends) answers 500 too.
  const run = fakeContext([gatewayClass(), gateway('gw', [{ name: 'http' }]), httpRoute('r', {})], SERVICES);
  const r: RouteIR = translateGatewayApi(run.ctx).listeners[0]!.servers[0]!.virtualHosts[0]!.routes[0]!;
  assert.deepEqual(r.match, { path: { type: 'PathPrefix', value: '/' } });
  assert.equal(backendsOf(r)[0]!.invalid?.status, 500);
});

test('backendRef-level header filters apply to that backend only; other backend filters invalidate it', () => {
  const { backends, route } = run1([
    { name: 'web', port: 8080, filters: [
      { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Backend', value: 'a' }] } },
      { type: 'ResponseHeaderModifier', responseHeaderModifier: { remove: ['Server'] } },
    ] },
    { name: 'web', port: 8080, filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'web', port: 8080 } } }] },
  ]);
  assert.deepEqual(backends, [
    { weight: 1, cluster: WEB, requestHeaders: { set: [{ name: 'x-backend', value: 'a' }] }, responseHeaders: { remove: ['server'] } },
    { weight: 1, invalid: { status: 500, detail: 'invalid_route_rule', flag: 'NC' } },
  ]);
  assert.equal(route.requestHeaders, undefined);
});
