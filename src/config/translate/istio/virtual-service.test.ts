import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gateway, httpServer, mainGateway, run, virtualService } from '../../../../test/helpers/istio-fixtures.js';

const to = (host: string) => [{ route: [{ destination: { host } }] }];

test('gateways: "ns/name" binds; a bare name means the VirtualService namespace', () => {
  const r = run([
    mainGateway(),
    virtualService('qualified', { hosts: ['a.io'], gateways: ['istio-system/main'], http: to('productpage') }),
    virtualService('bare-same-ns', { hosts: ['b.io'], gateways: ['main'], http: to('productpage.default.svc.cluster.local') }, { namespace: 'istio-system' }),
    virtualService('bare-other-ns', { hosts: ['c.io'], gateways: ['main'], http: to('productpage') }),
    virtualService('mesh-only', { hosts: ['d.io'], http: to('productpage') }),
  ]);
  assert.deepEqual(r.listener(80).servers[0]!.virtualHosts.map((v) => v.domains[0]), ['a.io', 'b.io']);
  assert.equal(r.status('VirtualService/default/qualified')!.state, 'accepted');
  assert.equal(r.status('VirtualService/istio-system/bare-same-ns')!.state, 'accepted');
  const other = r.status('VirtualService/default/bare-other-ns')!;
  assert.equal(other.state, 'ignored');
  assert.match(other.reasons[0]!, /Not bound to any Gateway applied to this proxy \(gateways: "default\/main"\)/);
  assert.match(r.status('VirtualService/default/mesh-only')!.reasons[0]!, /gateways: "mesh"/);
});

test('match[].gateways overrides the top-level list for that block', () => {
  const r = run([
    mainGateway(),
    virtualService('vs', {
      hosts: ['a.io'], gateways: ['mesh'],
      http: [
        { match: [{ uri: { prefix: '/gw' }, gateways: ['istio-system/main'] }, { uri: { prefix: '/mesh' } }], route: [{ destination: { host: 'productpage' } }] },
        { match: [{ uri: { prefix: '/other' }, gateways: ['istio-system/other'] }], route: [{ destination: { host: 'ratings' } }] },
      ],
    }),
  ]);
  assert.deepEqual(r.routes(80, 'a.io').map((x) => x.id), ['virtualservice/default/vs/http/0/match/0']);
});

test('exportTo "." hides a VirtualService from a proxy in another namespace', () => {
  const r = run([
    mainGateway(),
    virtualService('private', { hosts: ['a.io'], gateways: ['istio-system/main'], exportTo: ['.'], http: to('productpage') }),
    virtualService('local', { hosts: ['b.io'], gateways: ['istio-system/main'], exportTo: ['.'], http: to('productpage') }, { namespace: 'istio-system' }),
    virtualService('named', { hosts: ['c.io'], gateways: ['istio-system/main'], exportTo: ['istio-system'], http: to('productpage') }),
  ]);
  assert.deepEqual(r.listener(80).servers[0]!.virtualHosts.map((v) => v.domains[0]), ['b.io', 'c.io']);
  const s = r.status('VirtualService/default/private')!;
  assert.equal(s.state, 'ignored');
  assert.match(s.reasons[0]!, /Not exported/);
});

test('server host namespace part restricts which VirtualServices bind', () => {
  const r = run([
    mainGateway([httpServer(80, ['shop/*', './ops.example.com'])]),
    virtualService('shop', { hosts: ['shop.example.com'], gateways: ['istio-system/main'], http: to('productpage') }, { namespace: 'shop' }),
    virtualService('web', { hosts: ['web.example.com'], gateways: ['istio-system/main'], http: to('productpage') }, { namespace: 'web' }),
    virtualService('ops', { hosts: ['ops.example.com'], gateways: ['istio-system/main'], http: to('productpage') }, { namespace: 'istio-system' }),
  ]);
  assert.deepEqual(r.listener(80).servers[0]!.virtualHosts.map((v) => v.domains[0]), ['ops.example.com', 'shop.example.com']);
  assert.equal(r.status('VirtualService/web/web')!.state, 'ignored');
});

test('host intersection: server *.example.com takes a.example.com, not example.com', () => {
  const r = run([
    mainGateway([httpServer(80, ['*.example.com'])]),
    virtualService('a', { hosts: ['A.Example.com'], gateways: ['istio-system/main'], http: to('productpage') }),
    virtualService('apex', { hosts: ['example.com'], gateways: ['istio-system/main'], http: to('productpage') }),
    virtualService('wild', { hosts: ['*'], gateways: ['istio-system/main'], http: to('ratings') }),
  ]);
  const domains = r.listener(80).servers[0]!.virtualHosts.map((v) => v.domains[0]);
  // VS "*" on server "*.example.com" → the more specific "*.example.com".
  assert.deepEqual(domains, ['*.example.com', 'a.example.com']);
  const apex = r.status('VirtualService/default/apex')!;
  assert.equal(apex.state, 'ignored');
  assert.match(apex.reasons[0]!, /Hosts "example.com" match no server host of Gateway "istio-system\/main"/);
});

test('short VirtualService hosts are DNS names for gateways and are not expanded', () => {
  const r = run([mainGateway(), virtualService('vs', { hosts: ['reviews'], gateways: ['istio-system/main'], http: to('reviews') })]);
  assert.ok(r.vhost(80, 'reviews'));
});

test('VirtualServices for one host are merged oldest first, catch-all routes moved last', () => {
  const r = run([
    mainGateway(),
    virtualService('newer', {
      hosts: ['shop.io'], gateways: ['istio-system/main'],
      http: [{ match: [{ uri: { prefix: '/cart' } }], route: [{ destination: { host: 'ratings' } }] }, { route: [{ destination: { host: 'ratings' } }] }],
    }, { creationTimestamp: '2024-02-01T00:00:00Z' }),
    virtualService('older', {
      hosts: ['shop.io'], gateways: ['istio-system/main'],
      http: [{ match: [{ uri: { prefix: '/api' } }], route: [{ destination: { host: 'productpage' } }] }, { match: [{ uri: { prefix: '/' } }], route: [{ destination: { host: 'productpage' } }] }],
    }, { creationTimestamp: '2024-01-01T00:00:00Z' }),
  ]);
  assert.deepEqual(r.routes(80, 'shop.io').map((x) => x.id), [
    'virtualservice/default/older/http/0/match/0',
    'virtualservice/default/newer/http/0/match/0',
    'virtualservice/default/older/http/1/match/0',
    'virtualservice/default/newer/http/1/match/0',
  ]);
  const s = r.status('VirtualService/default/older')!;
  assert.equal(s.state, 'accepted');
  assert.deepEqual(s.reasons, ['Serves "shop.io" on 0.0.0.0:80, merged with VirtualService/default/newer']);
});

test('merge order: timestamp ties by name; without timestamps input order decides', () => {
  const vs = (name: string, prefix: string, meta: object) =>
    virtualService(name, { hosts: ['x.io'], gateways: ['istio-system/main'], http: [{ match: [{ uri: { prefix } }], route: [{ destination: { host: 'ratings' } }] }] }, meta);
  const t = '2024-01-01T00:00:00Z';
  const tied = run([mainGateway(), vs('b', '/b', { creationTimestamp: t }), vs('a', '/a', { creationTimestamp: t })]);
  assert.deepEqual(tied.routes(80, 'x.io').map((x) => x.source.name), ['a', 'b']);
  const bySeq = run([mainGateway(), vs('b', '/b', { seq: 1 }), vs('a', '/a', { seq: 2 })]);
  assert.deepEqual(bySeq.routes(80, 'x.io').map((x) => x.source.name), ['b', 'a']);
});

test('routes after a catch-all in one VirtualService are unreachable and dropped', () => {
  const r = run([mainGateway(), virtualService('vs', {
    hosts: ['x.io'], gateways: ['istio-system/main'],
    http: [
      { match: [{ uri: { prefix: '/a' } }, { uri: { prefix: '/' } }, { uri: { prefix: '/b' } }], route: [{ destination: { host: 'ratings' } }] },
      { match: [{ uri: { prefix: '/c' } }], route: [{ destination: { host: 'ratings' } }] },
    ],
  })]);
  assert.deepEqual(r.routes(80, 'x.io').map((x) => x.sourcePath), ['spec.http[0].match[0]', 'spec.http[0].match[1]']);
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.severity, d.path]), [
    ['ISTIO_ROUTE_UNREACHABLE', 'warning', 'spec.http[0].match[2]'],
    ['ISTIO_ROUTE_UNREACHABLE', 'warning', 'spec.http[1]'],
  ]);
  assert.equal(r.status('VirtualService/default/vs')!.state, 'partial');
});

test('a VirtualService without spec is rejected', () => {
  const r = run([mainGateway(), virtualService('bad', undefined)]);
  assert.equal(r.status('VirtualService/default/bad')!.state, 'rejected');
  assert.deepEqual(r.codes(), ['ISTIO_VIRTUAL_SERVICE_INVALID']);
});

test('output does not depend on input order', () => {
  const list = [
    mainGateway([httpServer(80, ['*']), httpServer(8080, ['*'])]),
    gateway('side', { selector: { istio: 'ingressgateway' }, servers: [httpServer(80, ['*.io'])] }),
    virtualService('one', { hosts: ['a.io', 'b.io'], gateways: ['istio-system/main', 'istio-system/side'], http: to('ratings') }, { creationTimestamp: '2024-01-01T00:00:00Z' }),
    virtualService('two', { hosts: ['b.io'], gateways: ['istio-system/main'], http: to('reviews') }, { creationTimestamp: '2024-01-02T00:00:00Z' }),
  ];
  const a = run(list).out;
  const b = run([...list].reverse()).out;
  assert.equal(JSON.stringify(a), JSON.stringify(b));
});
