import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gateway, httpServer, mainGateway, run, virtualService } from '../../../../test/helpers/istio-fixtures.js';
import { res } from '../../../../test/helpers/resources.js';

const route = [{ route: [{ destination: { host: 'productpage' } }] }];

test('a Gateway whose selector does not match the proxy labels is ignored', () => {
  const r = run([gateway('egress', { selector: { istio: 'egressgateway' }, servers: [httpServer(80, ['*'])] })]);
  assert.deepEqual(r.out.listeners, []);
  const s = r.status('Gateway/istio-system/egress')!;
  assert.equal(s.state, 'ignored');
  assert.match(s.reasons[0]!, /Selector \{"istio":"egressgateway"\} does not match/);
});

test('a Gateway without selector applies to every proxy; every selector label must match', () => {
  const r = run([
    gateway('all', { servers: [httpServer(80, ['*'])] }),
    gateway('partial', { selector: { istio: 'ingressgateway', zone: 'b' }, servers: [httpServer(81, ['*'])] }),
  ]);
  assert.deepEqual(r.out.listeners.map((l) => l.port), [80]);
  assert.equal(r.status('Gateway/istio-system/all')!.state, 'accepted');
  assert.equal(r.status('Gateway/istio-system/partial')!.state, 'ignored');
});

test('HTTP, HTTP2, GRPC and GRPC-WEB servers (any case) become plaintext HTTP listeners', () => {
  const servers = ['HTTP', 'http2', 'grpc', 'GRPC-WEB'].map((protocol, i) => ({ port: { number: 8000 + i, name: `p${i}`, protocol }, hosts: ['*'] }));
  const r = run([mainGateway(servers)]);
  assert.deepEqual(r.out.listeners.map((l) => [l.name, l.protocol]), [
    ['0.0.0.0:8000', 'HTTP'], ['0.0.0.0:8001', 'HTTP'], ['0.0.0.0:8002', 'HTTP'], ['0.0.0.0:8003', 'HTTP'],
  ]);
  assert.deepEqual(r.diagnostics, []);
});

test('TCP servers are skipped with a warning; an HTTPS server with a missing Secret is skipped; the Gateway is partial', () => {
  const r = run([mainGateway([
    httpServer(80, ['*']),
    { port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['*'], tls: { mode: 'SIMPLE', credentialName: 'c' } },
    { port: { number: 31400, name: 'tcp', protocol: 'TCP' }, hosts: ['*'] },
  ])]);
  assert.deepEqual(r.out.listeners.map((l) => l.port), [80]);
  const warnings = r.diagnostics.filter((d) => d.code === 'ISTIO_SERVER_PROTOCOL_UNSUPPORTED');
  assert.deepEqual(warnings.map((d) => [d.severity, d.path]), [['warning', 'spec.servers[2].port.protocol']]);
  assert.match(warnings[0]!.message, /TCP proxying arrives with a later release/);
  assert.deepEqual(r.diagnostics.filter((d) => d.code === 'TLS_CREDENTIAL_NOT_FOUND').map((d) => d.path), ['spec.servers[1].tls.credentialName']);
  assert.equal(r.status('Gateway/istio-system/main')!.state, 'partial');
});

test('server.bind with an IP sets the listener address; a unix socket is skipped', () => {
  const r = run([mainGateway([httpServer(8080, ['*'], { bind: '127.0.0.1' }), httpServer(9090, ['*'], { bind: 'unix:///var/run/x.sock' })])]);
  assert.deepEqual(r.out.listeners.map((l) => l.name), ['127.0.0.1:8080']);
  assert.deepEqual(r.codes(), ['ISTIO_SERVER_BIND_UNSUPPORTED']);
});

test('invalid servers are reported with their field path and skipped', () => {
  const r = run([mainGateway([{ port: { number: 0, protocol: 'HTTP' }, hosts: ['*'] }, { port: { number: 81, protocol: 'HTTP' }, hosts: [] }])]);
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.path]), [
    ['ISTIO_SERVER_INVALID', 'spec.servers[0].port.number'],
    ['ISTIO_SERVER_INVALID', 'spec.servers[1].hosts'],
  ]);
  assert.deepEqual(r.out.listeners, []);
});

test('plaintext servers on one port across Gateways share one route table', () => {
  const r = run([
    mainGateway([httpServer(80, ['a.example.com'])]),
    gateway('second', { selector: { istio: 'ingressgateway' }, servers: [httpServer(80, ['b.example.com'])] }),
    virtualService('a', { hosts: ['a.example.com'], gateways: ['istio-system/main'], http: route }),
    virtualService('b', { hosts: ['b.example.com'], gateways: ['istio-system/second'], http: route }),
  ]);
  const l = r.listener(80);
  assert.equal(l.servers.length, 1);
  assert.deepEqual(l.servers[0]!.hostnames, ['*']);
  assert.deepEqual(l.servers[0]!.virtualHosts.map((v) => v.domains), [['a.example.com'], ['b.example.com']]);
  assert.deepEqual(l.sources.map((k) => k.name), ['main', 'second']);
});

test('an httpsRedirect server is its own ServerIR selected by its hosts', () => {
  const r = run([
    mainGateway([
      httpServer(80, ['secure.example.com'], { tls: { httpsRedirect: true } }),
      httpServer(80, ['*']),
    ]),
    virtualService('vs', { hosts: ['*'], gateways: ['istio-system/main'], http: route }),
    virtualService('plain', { hosts: ['plain.example.com', 'secure.example.com'], gateways: ['istio-system/main'], http: route }),
  ]);
  const servers = r.listener(80).servers;
  assert.deepEqual(servers.map((s) => [s.name, s.hostnames, s.httpsRedirect ?? false]), [
    ['gateway/istio-system/main/server/0', ['secure.example.com'], true],
    ['istio/0.0.0.0:80/http', ['*', 'plain.example.com'], false],
  ]);
  // Its own virtual hosts only serve requests that already are https (trusted X-Forwarded-Proto).
  assert.deepEqual(servers[0]!.virtualHosts.map((v) => v.domains), [['secure.example.com']]);
  // The redirect wins for its host: no route-table virtual host claims it.
  assert.equal(servers[1]!.virtualHosts.find((v) => v.domains.includes('secure.example.com')), undefined);
});

test('Gateway API Gateways (another group, same kind) are not read', () => {
  const k8s = res({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'istio-system' }, spec: { listeners: [] } });
  const r = run([k8s]);
  assert.deepEqual(r.out.listeners, []);
  assert.equal(r.status('Gateway/istio-system/gw'), undefined);
});

test('v1alpha3 and v1beta1 Gateways are read like v1', () => {
  const r = run([
    gateway('a', { selector: { istio: 'ingressgateway' }, servers: [httpServer(80, ['*'])] }, { apiVersion: 'networking.istio.io/v1alpha3' }),
    gateway('b', { selector: { istio: 'ingressgateway' }, servers: [httpServer(81, ['*'])] }, { apiVersion: 'networking.istio.io/v1beta1' }),
  ]);
  assert.deepEqual(r.out.listeners.map((l) => l.port), [80, 81]);
});
