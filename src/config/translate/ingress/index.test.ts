import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedResource } from '../../resources/types.js';
import { DEFAULT_RETRY } from '../../ir/types.js';
import { backendsOf, fakeContext, probe } from '../../../../test/helpers/fake-registry-gw.js';
import { res } from '../../../../test/helpers/resources.js';
import { translateIngress } from './index.js';

const SERVICES = ['a', 'b', 'c', 'fallback'].map((name) => ({ name, ports: [{ port: 80, name: 'http' }, { port: 8080 }] }));
const C = (svc: string, port = 80) => `outbound|${port}||${svc}.default.svc.cluster.local`;

function ingress(name: string, spec: Record<string, unknown>, meta: Record<string, unknown> = {}): LoadedResource {
  return res({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'default', ...meta }, spec });
}
function ingressClass(name: string, controller: string, isDefault = false): LoadedResource {
  return res({
    apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass',
    metadata: { name, ...(isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}) },
    spec: { controller },
  });
}
const backend = (name: string, port: Record<string, unknown> = { number: 80 }) => ({ service: { name, port } });
const path = (p: string, pathType: string, svc: string) => ({ path: p, pathType, backend: backend(svc) });
const simple = (name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) =>
  ingress(name, { rules: [{ host: `${name}.example.com`, http: { paths: [path('/', 'Prefix', 'a')] } }], ...spec }, meta);

function served(list: LoadedResource[]): string[] {
  const run = fakeContext(list, SERVICES);
  const { listeners } = translateIngress(run.ctx);
  return (listeners[0]?.servers[0]?.virtualHosts ?? []).flatMap((v) => v.domains);
}

test('class selection: ingressClassName, IngressClass of ours, legacy annotation, default class', () => {
  assert.deepEqual(served([simple('named', { ingressClassName: 'portico' })]), ['named.example.com']);
  assert.deepEqual(served([simple('other', { ingressClassName: 'nginx' })]), []);
  assert.deepEqual(served([ingressClass('edge', 'portico.dev/ingress-controller'), simple('byclass', { ingressClassName: 'edge' })]), ['byclass.example.com']);
  assert.deepEqual(served([simple('legacy', {}, { annotations: { 'kubernetes.io/ingress.class': 'portico' } })]), ['legacy.example.com']);
  assert.deepEqual(served([simple('legacy-other', {}, { annotations: { 'kubernetes.io/ingress.class': 'nginx' } })]), []);
  assert.deepEqual(served([simple('noclass')]), []);
  assert.deepEqual(served([ingressClass('edge', 'portico.dev/ingress-controller', true), simple('noclass')]), ['noclass.example.com']);
  assert.deepEqual(served([ingressClass('edge', 'portico.dev/ingress-controller', true), simple('explicit-other', { ingressClassName: 'nginx' })]), []);
  // An IngressClass named "portico" that belongs to another controller wins over the built-in name.
  assert.deepEqual(served([ingressClass('portico', 'k8s.io/ingress-nginx'), simple('named', { ingressClassName: 'portico' })]), []);
});

test('statuses: served Ingresses accepted, others ignored; classes marked', () => {
  const run = fakeContext([ingressClass('edge', 'portico.dev/ingress-controller'), ingressClass('nginx', 'k8s.io/ingress-nginx'),
    simple('mine', { ingressClassName: 'edge' }), simple('theirs', { ingressClassName: 'nginx' })], SERVICES);
  translateIngress(run.ctx);
  assert.equal(run.statuses.get('Ingress/default/mine')!.state, 'accepted');
  assert.equal(run.statuses.get('Ingress/default/theirs')!.state, 'ignored');
  assert.equal(run.statuses.get('IngressClass//edge')!.state, 'accepted');
  assert.equal(run.statuses.get('IngressClass//nginx')!.state, 'ignored');
});

test('one listener on the ingress port with one "*" server', () => {
  const run = fakeContext([simple('x', { ingressClassName: 'portico' })], SERVICES, { ingressPort: 8000, bindAddress: '127.0.0.1' });
  const { listeners } = translateIngress(run.ctx);
  assert.equal(listeners.length, 1);
  assert.equal(listeners[0]!.name, '127.0.0.1:8000');
  assert.deepEqual(listeners[0]!.servers.map((s) => [s.name, s.hostnames]), [['ingress/8000', ['*']]]);
  const r = listeners[0]!.servers[0]!.virtualHosts[0]!.routes[0]!;
  assert.equal(r.id, 'ingress/default/x/rule/0/path/0');
  assert.deepEqual(r.retry, DEFAULT_RETRY);
  assert.deepEqual(r.action, { type: 'forward', backends: [{ weight: 1, cluster: C('a') }] });
});

test('precedence across Ingresses: Exact before Prefix, longer prefix first, then the oldest Ingress', () => {
  const host = 'shop.example.com';
  const run = fakeContext([
    ingress('newer', { ingressClassName: 'portico', rules: [{ host, http: { paths: [path('/api', 'Prefix', 'b'), path('/', 'Prefix', 'b')] } }] },
      { creationTimestamp: '2024-02-01T00:00:00Z' }),
    ingress('older', { ingressClassName: 'portico', rules: [{ host, http: { paths: [path('/api', 'Prefix', 'a'), path('/api/v1', 'Prefix', 'a'), path('/api', 'Exact', 'c')] } }] },
      { creationTimestamp: '2024-01-01T00:00:00Z' }),
  ], SERVICES);
  const { listeners } = translateIngress(run.ctx);
  const ids = listeners[0]!.servers[0]!.virtualHosts[0]!.routes.map((r) => r.id);
  assert.deepEqual(ids, [
    'ingress/default/older/rule/0/path/2', // Exact /api
    'ingress/default/older/rule/0/path/1', // Prefix /api/v1
    'ingress/default/older/rule/0/path/0', // Prefix /api (older)
    'ingress/default/newer/rule/0/path/0', // Prefix /api (newer)
    'ingress/default/newer/rule/0/path/1', // Prefix /
  ]);
  const to = (p: string) => { const r = probe(listeners, { host, path: p }); return 'cluster' in r ? r.cluster : r.status; };
  assert.equal(to('/api'), C('c'));
  assert.equal(to('/api/'), C('a'));
  assert.equal(to('/api/v1/x'), C('a'));
  assert.equal(to('/apix'), C('b'), 'Prefix is segment-wise');
});

test('defaultBackend catches unknown hosts and unknown paths of known hosts', () => {
  const run = fakeContext([
    ingress('main', {
      ingressClassName: 'portico', defaultBackend: backend('fallback'),
      rules: [{ host: 'known.example.com', http: { paths: [path('/app', 'Prefix', 'a')] } }, { http: { paths: [path('/any', 'Exact', 'b')] } }],
    }, { creationTimestamp: '2024-01-01T00:00:00Z' }),
    ingress('late', { ingressClassName: 'portico', defaultBackend: backend('c') }, { creationTimestamp: '2024-03-01T00:00:00Z' }),
  ], SERVICES);
  const { listeners } = translateIngress(run.ctx);
  const vhosts = listeners[0]!.servers[0]!.virtualHosts;
  assert.deepEqual(vhosts.map((v) => [v.domains[0], v.routes.map((r) => r.id)]), [
    ['known.example.com', ['ingress/default/main/rule/0/path/0', 'ingress/default/main/default-backend']],
    ['*', ['ingress/default/main/rule/1/path/0', 'ingress/default/main/default-backend']],
  ]);
  const to = (host: string, p: string) => { const r = probe(listeners, { host, path: p }); return 'cluster' in r ? r.cluster : r.status; };
  assert.equal(to('known.example.com', '/app/x'), C('a'));
  assert.equal(to('known.example.com', '/elsewhere'), C('fallback'));
  assert.equal(to('unknown.example.com', '/'), C('fallback'));
  assert.equal(to('unknown.example.com', '/any'), C('b'));
  assert.deepEqual(run.diagnostics.map((d) => [d.code, d.resource?.name]), [['INGRESS_DEFAULT_BACKEND_CONFLICT', 'late']]);
  assert.equal(run.statuses.get('Ingress/default/late')!.state, 'partial');
});

test('without defaultBackend unmatched requests get 404', () => {
  const run = fakeContext([simple('x', { ingressClassName: 'portico' })], SERVICES);
  const { listeners } = translateIngress(run.ctx);
  assert.equal(probe(listeners, { host: 'other.example.com', path: '/' }).status, 404);
});

test('ImplementationSpecific is served as a segment prefix; a trailing "/*" is dropped', () => {
  const run = fakeContext([ingress('x', { ingressClassName: 'portico', rules: [{ http: { paths: [
    { path: '/legacy/*', pathType: 'ImplementationSpecific', backend: backend('a') },
    { path: '/impl', pathType: 'ImplementationSpecific', backend: backend('b') },
    { backend: backend('c') },
  ] } }] })], SERVICES);
  const { listeners } = translateIngress(run.ctx);
  const paths = listeners[0]!.servers[0]!.virtualHosts[0]!.routes.map((r) => r.match.path);
  assert.deepEqual(paths, [{ type: 'PathPrefix', value: '/legacy' }, { type: 'PathPrefix', value: '/impl' }, { type: 'PathPrefix', value: '/' }]);
  assert.equal(probe(listeners, { host: 'h', path: '/impl/x' }).status, 200);
});

test('an Ingress wildcard covers exactly one label', () => {
  const run = fakeContext([ingress('w', { ingressClassName: 'portico', defaultBackend: backend('fallback'),
    rules: [{ host: '*.foo.com', http: { paths: [path('/', 'Prefix', 'a')] } }] })], SERVICES);
  const { listeners } = translateIngress(run.ctx);
  const to = (host: string) => { const r = probe(listeners, { host, path: '/' }); return 'cluster' in r ? r.cluster : r.status; };
  assert.equal(to('bar.foo.com'), C('a'));
  assert.equal(to('Bar.Foo.com:8080'), C('a'));
  assert.equal(to('baz.bar.foo.com'), C('fallback'));
  assert.equal(to('foo.com'), C('fallback'));
});

test('backends: port.name resolves through the Service; unknown Service or port answers 503 cluster_not_found', () => {
  const run = fakeContext([ingress('x', { ingressClassName: 'portico', rules: [{ http: { paths: [
    { path: '/named', pathType: 'Prefix', backend: backend('b', { name: 'http' }) },
    { path: '/number', pathType: 'Prefix', backend: backend('b', { number: 8080 }) },
    { path: '/ghost', pathType: 'Prefix', backend: backend('ghost') },
    { path: '/badport', pathType: 'Prefix', backend: backend('b', { name: 'grpc' }) },
    { path: '/resource', pathType: 'Prefix', backend: { resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'static' } } },
  ] } }] })], SERVICES);
  const { listeners } = translateIngress(run.ctx);
  const backends = Object.fromEntries(listeners[0]!.servers[0]!.virtualHosts[0]!.routes.map((r) => [r.match.path!.value, backendsOf(r)[0]]));
  const nc = { weight: 1, invalid: { status: 503, detail: 'cluster_not_found', flag: 'NC' } };
  assert.deepEqual(backends, {
    '/named': { weight: 1, cluster: C('b') },
    '/number': { weight: 1, cluster: C('b', 8080) },
    '/ghost': nc, '/badport': nc, '/resource': nc,
  });
  assert.deepEqual(run.diagnostics.map((d) => [d.code, d.severity]), [
    ['INGRESS_BACKEND_NOT_FOUND', 'warning'], ['INGRESS_BACKEND_NOT_FOUND', 'warning'], ['INGRESS_BACKEND_INVALID', 'error'],
  ]);
});

test('spec.tls with a missing Secret is a warning; invalid hosts and paths are skipped with errors', () => {
  const run = fakeContext([ingress('x', {
    ingressClassName: 'portico', tls: [{ hosts: ['a.example.com'], secretName: 's' }],
    rules: [
      { host: 'foo.*.com', http: { paths: [path('/', 'Prefix', 'a')] } },
      { host: 'ok.example.com', http: { paths: [path('relative', 'Prefix', 'a'), path('/x', 'Regex', 'a'), path('/y', 'Exact', 'a')] } },
    ],
  })], SERVICES);
  const { listeners } = translateIngress(run.ctx);
  assert.deepEqual(run.diagnostics.map((d) => [d.code, d.path]), [
    ['INGRESS_HOST_INVALID', 'spec.rules[0].host'],
    ['INGRESS_PATH_INVALID', 'spec.rules[1].http.paths[0]'],
    ['INGRESS_PATH_INVALID', 'spec.rules[1].http.paths[1]'],
    ['TLS_CREDENTIAL_NOT_FOUND', 'spec.tls[0].secretName'],
  ]);
  assert.equal(listeners.length, 1);
  assert.deepEqual(listeners[0]!.servers[0]!.virtualHosts.map((v) => [v.domains[0], v.routes.length]), [['ok.example.com', 1]]);
  assert.equal(run.statuses.get('Ingress/default/x')!.state, 'partial');
});

test('no served Ingress → no listener', () => {
  const run = fakeContext([simple('x', { ingressClassName: 'nginx' })], SERVICES);
  assert.deepEqual(translateIngress(run.ctx).listeners, []);
});
