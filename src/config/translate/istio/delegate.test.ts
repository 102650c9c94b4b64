import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mainGateway, run, virtualService } from '../../../../test/helpers/istio-fixtures.js';

const root = (http: unknown[]) => virtualService('root', { hosts: ['shop.io'], gateways: ['istio-system/main'], http }, { namespace: 'shop' });
const delegate = (http: unknown[], extra: Record<string, unknown> = {}, name = 'api-routes') =>
  virtualService(name, { http, ...extra }, { namespace: 'shop' });

test('delegate routes merge their match with the root match and inherit rewrite, timeout, retries and headers', () => {
  const r = run([
    mainGateway(),
    root([{
      name: 'api', match: [{ uri: { prefix: '/api' }, headers: { 'x-tenant': { exact: 'a' } } }],
      delegate: { name: 'api-routes' },
      rewrite: { authority: 'api.internal' }, timeout: '5s', retries: { attempts: 1 },
      headers: { request: { set: { 'x-from': 'root' } } },
    }]),
    delegate([
      { name: 'v1', match: [{ name: 'm', uri: { prefix: '/api/v1' } }], route: [{ destination: { host: 'api' } }] },
      { match: [{ method: { exact: 'GET' } }], route: [{ destination: { host: 'web' } }], timeout: '1s' },
    ]),
  ]);
  const routes = r.routes(80, 'shop.io');
  assert.equal(routes.length, 2);
  const [a, b] = routes as [typeof routes[0], typeof routes[0]];
  assert.equal(a.id, 'virtualservice/shop/root/http/0/delegate/http/0/match/0');
  assert.equal(a.name, 'api-v1.m');
  assert.deepEqual(a.source, { kind: 'VirtualService', namespace: 'shop', name: 'api-routes' });
  assert.equal(a.sourcePath, 'spec.http[0].match[0]');
  assert.deepEqual(a.match, { path: { type: 'Prefix', value: '/api/v1' }, headers: [{ name: 'x-tenant', match: { type: 'Exact', value: 'a' } }] });
  assert.deepEqual(a.action, { type: 'forward', backends: [{ weight: 100, cluster: 'outbound|8080||api.shop.svc.cluster.local' }] });
  assert.deepEqual(a.rewrite, { authority: 'api.internal' });
  assert.equal(a.timeoutMs, 5000);
  assert.equal(a.retry!.attempts, 1);
  assert.deepEqual(a.requestHeaders, { set: [{ name: 'x-from', value: 'root' }] });
  // Second delegate route: root uri AND delegate method; its own timeout wins.
  assert.deepEqual(b.match, {
    path: { type: 'Prefix', value: '/api' }, method: { type: 'Exact', value: 'GET' },
    headers: [{ name: 'x-tenant', match: { type: 'Exact', value: 'a' } }],
  });
  assert.equal(b.timeoutMs, 1000);
  assert.equal(b.name, 'api');
  assert.equal(r.status('VirtualService/shop/api-routes')!.state, 'accepted');
  assert.deepEqual(r.status('VirtualService/shop/api-routes')!.reasons, ['Used as delegate by VirtualService/shop/root']);
  assert.deepEqual(r.diagnostics, []);
});

test('a delegate route whose uri is outside the root match is dropped with a warning', () => {
  const r = run([
    mainGateway(),
    root([{ match: [{ uri: { prefix: '/api' } }], delegate: { name: 'api-routes' } }]),
    delegate([
      { match: [{ uri: { prefix: '/web' } }], route: [{ destination: { host: 'web' } }] },
      { match: [{ uri: { exact: '/api/health' } }], route: [{ destination: { host: 'api' } }] },
      { match: [{ uri: { regex: '/api/.*' } }], route: [{ destination: { host: 'api' } }] },
    ]),
  ]);
  assert.deepEqual(r.routes(80, 'shop.io').map((x) => x.match.path), [{ type: 'Exact', value: '/api/health' }]);
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.severity, d.resource!.name, d.path]), [
    ['ISTIO_DELEGATE_MATCH_CONFLICT', 'warning', 'api-routes', 'spec.http[0].match'],
    ['ISTIO_DELEGATE_MATCH_CONFLICT', 'warning', 'api-routes', 'spec.http[2].match'],
  ]);
  assert.equal(r.status('VirtualService/shop/api-routes')!.state, 'partial');
});

test('root without match takes the delegate matches; delegate without match takes the root ones', () => {
  const r = run([
    mainGateway(),
    root([{ delegate: { name: 'a' } }, { match: [{ uri: { prefix: '/b' } }, { uri: { prefix: '/c' } }], delegate: { name: 'b' } }]),
    delegate([{ match: [{ uri: { prefix: '/a' } }], route: [{ destination: { host: 'api' } }] }], {}, 'a'),
    delegate([{ route: [{ destination: { host: 'web' } }] }], {}, 'b'),
  ]);
  assert.deepEqual(r.routes(80, 'shop.io').map((x) => [x.id, x.sourcePath, (x.match.path as { value: string }).value]), [
    ['virtualservice/shop/root/http/0/delegate/http/0/match/0', 'spec.http[0].match[0]', '/a'],
    ['virtualservice/shop/root/http/1/delegate/http/0/match/0', 'spec.http[0]', '/b'],
    ['virtualservice/shop/root/http/1/delegate/http/0/match/1', 'spec.http[0]', '/c'],
  ]);
});

test('delegation is one level only; unknown, host-bearing or unexported delegates are errors', () => {
  const r = run([
    mainGateway(),
    root([
      { match: [{ uri: { prefix: '/n' } }], delegate: { name: 'nested' } },
      { match: [{ uri: { prefix: '/m' } }], delegate: { name: 'missing' } },
      { match: [{ uri: { prefix: '/h' } }], delegate: { name: 'has-hosts' } },
      { match: [{ uri: { prefix: '/p' } }], delegate: { name: 'private', namespace: 'other' } },
    ]),
    delegate([{ delegate: { name: 'deeper' } }, { route: [{ destination: { host: 'api' } }] }], {}, 'nested'),
    virtualService('has-hosts', { hosts: ['x.io'], http: [] }, { namespace: 'shop' }),
    virtualService('private', { exportTo: ['.'], http: [{ route: [{ destination: { host: 'api.shop.svc.cluster.local' } }] }] }, { namespace: 'other' }),
  ]);
  assert.deepEqual(r.routes(80, 'shop.io').map((x) => x.id), ['virtualservice/shop/root/http/0/delegate/http/1/match/0']);
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.resource!.name, d.path]), [
    ['ISTIO_DELEGATE_INVALID', 'nested', 'spec.http[0].delegate'],
    ['ISTIO_DELEGATE_NOT_FOUND', 'root', 'spec.http[1].delegate.name'],
    ['ISTIO_DELEGATE_INVALID', 'root', 'spec.http[2].delegate.name'],
    ['ISTIO_DELEGATE_INVALID', 'root', 'spec.http[3].delegate.name'],
  ]);
  assert.equal(r.status('VirtualService/other/private')!.state, 'ignored');
});

test('an unreferenced delegate is ignored, not bound to gateways itself', () => {
  const r = run([mainGateway(), delegate([{ route: [{ destination: { host: 'api' } }] }], { gateways: ['istio-system/main'] })]);
  assert.equal(r.status('VirtualService/shop/api-routes')!.state, 'ignored');
  assert.equal(r.listener(80).servers[0]!.virtualHosts.length, 0);
});
