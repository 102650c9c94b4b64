import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fakeContext, gateway, gatewayClass, httpRoute, probe, rule,
} from '../../../../test/helpers/fake-registry-gw.js';
import { res } from '../../../../test/helpers/resources.js';
import { translateGatewayApi } from './index.js';

const NS = 'gateway-conformance-infra';
const SERVICES = [
  { name: 'infra-backend-v1', namespace: NS, ports: [{ port: 8080 }] },
  { name: 'infra-backend-v2', namespace: NS, ports: [{ port: 8080 }] },
  { name: 'infra-backend-v3', namespace: NS, ports: [{ port: 8080 }] },
  { name: 'v1', ports: [{ port: 8080 }] },
  { name: 'v2', ports: [{ port: 8080 }] },
];
const V1 = `outbound|8080||infra-backend-v1.${NS}.svc.cluster.local`;
const V2 = `outbound|8080||infra-backend-v2.${NS}.svc.cluster.local`;
const V3 = `outbound|8080||infra-backend-v3.${NS}.svc.cluster.local`;

function isolationGateway(name: string) {
  return gateway(name, [
    { name: 'empty-hostname', allowedRoutes: { namespaces: { from: 'All' } } },
    { name: 'wildcard-example-com', hostname: '*.example.com', allowedRoutes: { namespaces: { from: 'All' } } },
    { name: 'wildcard-foo-example-com', hostname: '*.foo.example.com', allowedRoutes: { namespaces: { from: 'All' } } },
    { name: 'abc-foo-example-com', hostname: 'abc.foo.example.com', allowedRoutes: { namespaces: { from: 'All' } } },
  ], { namespace: NS });
}

const SECTIONS = ['empty-hostname', 'wildcard-example-com', 'wildcard-foo-example-com', 'abc-foo-example-com'];
const ALL_HOSTS = ['bar.com', '*.example.com', '*.foo.example.com', 'abc.foo.example.com'];

function isolationCases(listeners: Parameters<typeof probe>[0]): void {
  // Conformance GatewayHTTPListenerIsolation: host → the only path that reaches a backend.
  const hosts: Record<string, string> = {
    'bar.com': '/empty-hostname',
    'bar.example.com': '/wildcard-example-com',
    'bar.foo.example.com': '/wildcard-foo-example-com',
    'abc.foo.example.com': '/abc-foo-example-com',
  };
  for (const [host, ok] of Object.entries(hosts)) {
    for (const section of SECTIONS) {
      const r = probe(listeners, { host, path: `/${section}` });
      if (`/${section}` === ok) assert.equal(r.status, 200, `${host}/${section}`);
      else assert.equal(r.status, 404, `${host}/${section} must be isolated`);
    }
  }
}

test('listener isolation: hostnames only on listeners (GatewayHTTPListenerIsolation)', () => {
  const routes = SECTIONS.map((s) => httpRoute(`attaches-to-${s}`, {
    parentRefs: [{ name: 'http-listener-isolation', sectionName: s }],
    rules: [rule([{ path: { type: 'PathPrefix', value: `/${s}` } }], 'infra-backend-v1')],
  }, { namespace: NS }));
  const run = fakeContext([gatewayClass(), isolationGateway('http-listener-isolation'), ...routes], SERVICES);
  const { listeners } = translateGatewayApi(run.ctx);
  assert.equal(listeners.length, 1);
  assert.equal(listeners[0]!.name, '0.0.0.0:80');
  assert.equal(listeners[0]!.servers.length, 4, 'one server per listener');
  isolationCases(listeners);
  assert.deepEqual(run.diagnostics, []);
});

test('listener isolation: intersecting hostnames on listeners and routes', () => {
  const routes = SECTIONS.map((s) => httpRoute(`attaches-to-${s}-with-hostname-intersection`, {
    parentRefs: [{ name: 'gw-isolation', sectionName: s }],
    hostnames: ALL_HOSTS,
    rules: [rule([{ path: { type: 'PathPrefix', value: `/${s}` } }], 'infra-backend-v1')],
  }, { namespace: NS }));
  const run = fakeContext([gatewayClass(), isolationGateway('gw-isolation'), ...routes], SERVICES);
  const { listeners } = translateGatewayApi(run.ctx);
  isolationCases(listeners);
  // On *.foo.example.com the route's *.example.com narrows to *.foo.example.com.
  const wfoo = listeners[0]!.servers.find((s) => s.name.endsWith('/wildcard-foo-example-com'))!;
  assert.deepEqual(wfoo.virtualHosts.map((v) => v.domains[0]), ['abc.foo.example.com', '*.foo.example.com']);
  const abc = listeners[0]!.servers.find((s) => s.name.endsWith('/abc-foo-example-com'))!;
  assert.deepEqual(abc.virtualHosts.map((v) => v.domains[0]), ['abc.foo.example.com']);
  for (const r of routes) {
    const st = run.statuses.get(`HTTPRoute/${NS}/${r.key.name}`)!;
    assert.equal(st.state, 'accepted');
    assert.equal(st.parents![0]!.conditions.find((c) => c.type === 'Accepted')!.status, 'True');
  }
});

test('hostname intersection (HTTPRouteHostnameIntersection)', () => {
  const gw = gateway('httproute-hostname-intersection', [
    { name: 'listener-1', hostname: 'very.specific.com' },
    { name: 'listener-2', hostname: '*.wildcard.io' },
    { name: 'listener-3', hostname: '*.anotherwildcard.io' },
  ], { namespace: NS });
  const mk = (name: string, hostnames: string[], prefix: string, svc: string) => httpRoute(name, {
    parentRefs: [{ name: 'httproute-hostname-intersection' }], hostnames,
    rules: [rule([{ path: { type: 'PathPrefix', value: prefix } }], svc)],
  }, { namespace: NS });
  const run = fakeContext([gatewayClass(), gw,
    mk('s1', ['non.matching.com', '*.nonmatchingwildcard.io', 'very.specific.com'], '/s1', 'infra-backend-v1'),
    mk('s2', ['non.matching.com', 'wildcard.io', 'foo.wildcard.io', 'bar.wildcard.io', 'foo.bar.wildcard.io'], '/s2', 'infra-backend-v2'),
    mk('s3', ['non.matching.com', '*.specific.com'], '/s3', 'infra-backend-v3'),
    mk('s4', ['*.anotherwildcard.io'], '/s4', 'infra-backend-v1'),
    mk('s5', ['specific.but.wrong.com', 'wildcard.io'], '/s5', 'infra-backend-v2'),
  ], SERVICES);
  const { listeners } = translateGatewayApi(run.ctx);
  const ok = (host: string, path: string, cluster: string) => {
    const r = probe(listeners, { host, path });
    assert.equal(r.status, 200, `${host}${path}`);
    assert.equal('cluster' in r && r.cluster, cluster, `${host}${path}`);
  };
  const nf = (host: string, path: string) => assert.equal(probe(listeners, { host, path }).status, 404, `${host}${path} must be 404`);
  ok('very.specific.com', '/s1', V1);
  ok('very.specific.com:1234', '/s1', V1);
  nf('non.matching.com', '/s1'); nf('foo.nonmatchingwildcard.io', '/s1'); nf('foo.wildcard.io', '/s1');
  nf('very.specific.com', '/non-matching-prefix');
  ok('foo.wildcard.io', '/s2', V2); ok('bar.wildcard.io', '/s2', V2); ok('foo.bar.wildcard.io', '/s2', V2);
  nf('non.matching.com', '/s2'); nf('wildcard.io', '/s2'); nf('very.specific.com', '/s2'); nf('foo.wildcard.io', '/non-matching-prefix');
  ok('very.specific.com', '/s3', V3);
  nf('non.matching.com', '/s3'); nf('foo.specific.com', '/s3'); nf('foo.wildcard.io', '/s3');
  ok('foo.anotherwildcard.io', '/s4', V1); ok('bar.anotherwildcard.io', '/s4', V1); ok('foo.bar.anotherwildcard.io', '/s4', V1);
  nf('anotherwildcard.io', '/s4'); nf('foo.wildcard.io', '/s4'); nf('very.specific.com', '/s4');
  nf('specific.but.wrong.com', '/s5'); nf('wildcard.io', '/s5');

  const s5 = run.statuses.get(`HTTPRoute/${NS}/s5`)!;
  assert.equal(s5.state, 'rejected');
  assert.deepEqual(s5.parents![0]!.conditions.map((c) => [c.type, c.status, c.reason]), [['Accepted', 'False', 'NoMatchingListenerHostname']]);
  assert.ok(run.diagnostics.some((d) => d.code === 'GWAPI_ROUTE_NO_MATCHING_HOSTNAME' && d.resource?.name === 's5'));
  // Attached route counts per listener (only Accepted routes count).
  const gst = run.statuses.get(`Gateway/${NS}/httproute-hostname-intersection`)!;
  const count = (l: string) => gst.parents!.find((p) => p.parentRef === `listener/${l}`)!.conditions.find((c) => c.type === 'Accepted')!.message;
  assert.match(count('listener-1'), /2 attached routes/);
  assert.match(count('listener-2'), /1 attached routes/);
  assert.match(count('listener-3'), /1 attached routes/);
  // The listener with no intersecting route hostname at all attracts nothing from s5.
  assert.equal(run.registry.requested().length, 3, 'the unattached route creates no cluster');
});

test('route with no hostnames on an unspecified-hostname listener serves every host', () => {
  const run = fakeContext([gatewayClass(), gateway('gw', [{ name: 'http' }]),
    httpRoute('r', { hostnames: ['first.com', '*.first.com', 'second.com', '*.second.com'], rules: [rule(undefined)] })], SERVICES);
  const { listeners } = translateGatewayApi(run.ctx);
  for (const h of ['first.com', 'sub.first.com', 'second.com', 'sub.second.com']) assert.equal(probe(listeners, { host: h, path: '/' }).status, 200, h);
  for (const h of ['third.com', 'sub.third.com']) assert.equal(probe(listeners, { host: h, path: '/' }).status, 404, h);
});

test('GatewayClass and Gateway selection', () => {
  const run = fakeContext([
    gatewayClass(), gatewayClass('other', 'example.com/controller'),
    gateway('mine', [{ name: 'http' }]),
    gateway('theirs', [{ name: 'http', port: 81 }], { className: 'other' }),
    gateway('lost', [{ name: 'http', port: 82 }], { className: 'missing' }),
  ]);
  const { listeners } = translateGatewayApi(run.ctx);
  assert.deepEqual(listeners.map((l) => l.port), [80]);
  assert.equal(run.statuses.get('GatewayClass//portico')!.state, 'accepted');
  assert.equal(run.statuses.get('GatewayClass//other')!.state, 'ignored');
  assert.equal(run.statuses.get('Gateway/default/theirs')!.state, 'ignored');
  assert.equal(run.statuses.get('Gateway/default/lost')!.state, 'ignored');
  assert.deepEqual(run.diagnostics.map((d) => d.code), ['GWAPI_GATEWAY_CLASS_NOT_FOUND']);
  const st = run.statuses.get('Gateway/default/mine')!;
  assert.equal(st.state, 'accepted');
  assert.deepEqual(st.parents!.map((p) => p.parentRef), ['', 'listener/http']);
  assert.deepEqual(st.parents![1]!.conditions.map((c) => [c.type, c.status]),
    [['Accepted', 'True'], ['ResolvedRefs', 'True'], ['Conflicted', 'False'], ['Programmed', 'True']]);
});

test('listeners on one port share a ListenerIR; TCP is skipped; HTTPS without certificateRefs is not programmed', () => {
  const run = fakeContext([gatewayClass(), gateway('gw', [
    { name: 'a', hostname: 'a.com' },
    { name: 'b', hostname: 'b.com' },
    { name: 'c', port: 8080 },
    { name: 'tls', port: 443, protocol: 'HTTPS', hostname: 'a.com' },
    { name: 'tcp', port: 9000, protocol: 'TCP' },
  ])], [], { bindAddress: '127.0.0.1' });
  const { listeners } = translateGatewayApi(run.ctx);
  assert.deepEqual(listeners.map((l) => [l.name, l.servers.map((s) => s.hostnames[0])]), [
    ['127.0.0.1:80', ['a.com', 'b.com']],
    ['127.0.0.1:8080', ['*']],
  ]);
  assert.deepEqual(run.diagnostics.map((d) => [d.code, d.path]), [
    ['TLS_SETTINGS_INVALID', 'spec.listeners[3].tls.certificateRefs'],
    ['GWAPI_LISTENER_PROTOCOL_UNSUPPORTED', 'spec.listeners[4].protocol'],
  ]);
  assert.match(run.diagnostics[1]!.message, /arrives with a later release/);
  const st = run.statuses.get('Gateway/default/gw')!;
  assert.equal(st.state, 'partial');
  const tls = st.parents!.find((p) => p.parentRef === 'listener/tls')!;
  assert.deepEqual(tls.conditions.find((c) => c.type === 'ResolvedRefs'), { type: 'ResolvedRefs', status: 'False', reason: 'InvalidCertificateRef', message: 'No certificateRefs' });
  assert.deepEqual(tls.conditions.find((c) => c.type === 'Programmed')?.status, 'False');
  assert.equal(tls.conditions.find((c) => c.type === 'Programmed')!.status, 'False');
});

test('two listeners on one port with the same hostname: the later one is Conflicted', () => {
  const run = fakeContext([gatewayClass(),
    gateway('older', [{ name: 'x', hostname: 'a.com' }], { created: '2024-01-01T00:00:00Z' }),
    gateway('newer', [{ name: 'y', hostname: 'a.com' }, { name: 'z', hostname: 'b.com' }], { created: '2024-02-01T00:00:00Z' }),
  ]);
  const { listeners } = translateGatewayApi(run.ctx);
  assert.deepEqual(listeners[0]!.servers.map((s) => s.name), ['gateway/default/newer/listener/z', 'gateway/default/older/listener/x']);
  const y = run.statuses.get('Gateway/default/newer')!.parents!.find((p) => p.parentRef === 'listener/y')!;
  assert.deepEqual(y.conditions.find((c) => c.type === 'Conflicted')!.reason, 'HostnameConflict');
  assert.equal(y.conditions.find((c) => c.type === 'Programmed')!.status, 'False');
  assert.deepEqual(run.diagnostics.map((d) => d.code), ['GWAPI_LISTENER_CONFLICT']);
});

test('allowedRoutes namespaces: Same (default), All, Selector', () => {
  const ns = (name: string, labels: Record<string, string>) => res({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  const gw = gateway('gw', [
    { name: 'same', port: 80 },
    { name: 'all', port: 81, allowedRoutes: { namespaces: { from: 'All' } } },
    { name: 'sel', port: 82, allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { team: 'a' } } } } },
    { name: 'expr', port: 83, allowedRoutes: { namespaces: { from: 'Selector', selector: { matchExpressions: [
      { key: 'team', operator: 'In', values: ['a', 'b'] }, { key: 'frozen', operator: 'DoesNotExist' }] } } } },
    { name: 'byname', port: 84, allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { 'kubernetes.io/metadata.name': 'team-c' } } } } },
  ], { namespace: 'infra' });
  const routeIn = (namespace: string) => httpRoute(`r-${namespace}`, {
    parentRefs: [{ name: 'gw', namespace: 'infra' }],
    rules: [rule(undefined, 'v1', { backendRefs: [] })],
  }, { namespace });
  const run = fakeContext([gatewayClass(), gw, ns('team-a', { team: 'a' }), ns('team-b', { team: 'b', frozen: 'yes' }),
    routeIn('infra'), routeIn('team-a'), routeIn('team-b'), routeIn('team-c')]);
  const { listeners } = translateGatewayApi(run.ctx);
  const attached = (port: number) => listeners.find((l) => l.port === port)!.servers[0]!.virtualHosts
    .flatMap((v) => v.routes.map((r) => r.source.namespace));
  assert.deepEqual(attached(80), ['infra']);
  assert.deepEqual(attached(81), ['infra', 'team-a', 'team-b', 'team-c']);
  assert.deepEqual(attached(82), ['team-a']);
  assert.deepEqual(attached(83), ['team-a']);
  assert.deepEqual(attached(84), ['team-c']);
});

test('a route not allowed by any listener gets NotAllowedByListeners', () => {
  const run = fakeContext([gatewayClass(), gateway('gw', [{ name: 'http' }], { namespace: 'infra' }),
    httpRoute('r', { parentRefs: [{ name: 'gw', namespace: 'infra' }], rules: [rule(undefined)] }, { namespace: 'apps' })], SERVICES);
  const { listeners } = translateGatewayApi(run.ctx);
  assert.deepEqual(listeners[0]!.servers[0]!.virtualHosts, []);
  const st = run.statuses.get('HTTPRoute/apps/r')!;
  assert.equal(st.state, 'rejected');
  assert.deepEqual(st.parents![0]!.conditions.map((c) => c.reason), ['NotAllowedByListeners']);
  assert.equal(st.parents![0]!.parentRef, 'Gateway/infra/gw');
});

test('allowedRoutes.kinds: unsupported kinds are reported; only-unsupported listeners are not programmed', () => {
  const run = fakeContext([gatewayClass(), gateway('gw', [
    { name: 'mixed', allowedRoutes: { kinds: [{ kind: 'HTTPRoute' }, { kind: 'TCPRoute' }] } },
    { name: 'grpc', port: 81, allowedRoutes: { kinds: [{ kind: 'GRPCRoute' }] } },
  ]), httpRoute('r', { parentRefs: [{ name: 'gw', sectionName: 'grpc' }], rules: [rule(undefined)] })], SERVICES);
  const { listeners } = translateGatewayApi(run.ctx);
  assert.deepEqual(listeners.map((l) => l.port), [80]);
  const st = run.statuses.get('Gateway/default/gw')!;
  const mixed = st.parents!.find((p) => p.parentRef === 'listener/mixed')!;
  assert.deepEqual(mixed.conditions.find((c) => c.type === 'ResolvedRefs')!.reason, 'InvalidRouteKinds');
  assert.equal(mixed.conditions.find((c) => c.type === 'Programmed')!.status, 'True');
  assert.equal(run.statuses.get('HTTPRoute/default/r')!.parents![0]!.conditions[0]!.reason, 'NoMatchingParent');
});

test('parentRef sectionName, port and missing Gateways give NoMatchingParent; foreign Gateways are not reported', () => {
  const run = fakeContext([gatewayClass(), gatewayClass('other', 'example.com/c'),
    gateway('gw', [{ name: 'http' }]), gateway('foreign', [{ name: 'http' }], { className: 'other' }),
    httpRoute('r', { parentRefs: [
      { name: 'gw', sectionName: 'nope' }, { name: 'gw', port: 8080 }, { name: 'ghost' }, { name: 'foreign' },
      { name: 'gw', sectionName: 'http', port: 80 }, { group: '', kind: 'Service', name: 'mesh' },
    ], rules: [rule(undefined)] })], SERVICES);
  translateGatewayApi(run.ctx);
  const st = run.statuses.get('HTTPRoute/default/r')!;
  assert.deepEqual(st.parents!.map((p) => [p.parentRef, p.conditions[0]!.reason]), [
    ['Gateway/default/gw/nope', 'NoMatchingParent'],
    ['Gateway/default/gw', 'NoMatchingParent'],
    ['Gateway/default/ghost', 'NoMatchingParent'],
    ['Gateway/default/gw/http', 'Accepted'],
  ]);
  assert.equal(st.state, 'partial');
});

test('a route that references no Gateway of ours is ignored', () => {
  const run = fakeContext([gatewayClass(), httpRoute('r', { parentRefs: [{ group: '', kind: 'Service', name: 'mesh' }], rules: [rule(undefined)] })]);
  assert.deepEqual(translateGatewayApi(run.ctx).listeners, []);
  assert.equal(run.statuses.get('HTTPRoute/default/r')!.state, 'ignored');
});

test('the same input gives byte-identical output', () => {
  const build = () => {
    const routes = SECTIONS.map((s) => httpRoute(`r-${s}`, {
      parentRefs: [{ name: 'gw-i', sectionName: s }], hostnames: ALL_HOSTS,
      rules: [rule([{ path: { type: 'PathPrefix', value: `/${s}` } }], 'infra-backend-v1')],
    }, { namespace: NS }));
    const run = fakeContext([gatewayClass(), isolationGateway('gw-i'), ...routes.reverse()], SERVICES);
    return JSON.stringify(translateGatewayApi(run.ctx));
  };
  assert.equal(build(), build());
});

test('Istio Gateways (same kind, networking.istio.io) are not read', () => {
  const istio = res({ apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' },
    spec: { gatewayClassName: 'portico', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } });
  const run = fakeContext([gatewayClass(), istio, httpRoute('r', { rules: [rule(undefined)] })], SERVICES);
  assert.deepEqual(translateGatewayApi(run.ctx).listeners, []);
  assert.equal(run.statuses.get('Gateway/default/gw'), undefined);
  assert.deepEqual(run.statuses.get('HTTPRoute/default/r')!.parents![0]!.conditions[0]!.reason, 'NoMatchingParent');
});

test('invalid route hostnames are dropped and reported; a route with only invalid hostnames matches nothing', () => {
  const run = fakeContext([gatewayClass(), gateway('gw', [{ name: 'http' }]),
    httpRoute('mixed', { hostnames: ['10.0.0.1', 'ok.example.com'], rules: [rule(undefined)] }),
    httpRoute('bad', { hostnames: ['foo.*.com'], rules: [rule(undefined)] })], SERVICES);
  const { listeners } = translateGatewayApi(run.ctx);
  assert.deepEqual(listeners[0]!.servers[0]!.virtualHosts.map((v) => v.domains[0]), ['ok.example.com']);
  assert.deepEqual(run.diagnostics.map((d) => [d.code, d.resource?.name, d.path]), [
    ['GWAPI_ROUTE_NO_MATCHING_HOSTNAME', 'bad', 'spec.parentRefs[0]'],
    ['GWAPI_MATCH_INVALID', 'bad', 'spec.hostnames[0]'],
    ['GWAPI_MATCH_INVALID', 'mixed', 'spec.hostnames[0]'],
  ]);
});
