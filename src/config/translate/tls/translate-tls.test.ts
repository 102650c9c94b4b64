/**
 * TLS translation through translate(): Istio servers, Gateway API listeners and TLSRoutes,
 * Ingress spec.tls, DestinationRule origination — and the rule that Secret data never enters
 * the (hashed, dumped) IR.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { res } from '../../../../test/helpers/resources.js';
import type { ListenerIR, ServerIR } from '../../ir/types.js';
import { translate } from '../index.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nSECRETKEYDATA\n-----END PRIVATE KEY-----\n';
const CA = '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n';

function secret(name: string, ns: string, data: Record<string, string>, type = 'kubernetes.io/tls') {
  return res({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, type, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) });
}
function istioGw(servers: unknown[], annotations?: Record<string, string>, name = 'gw') {
  return res({ apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name, namespace: 'istio-system', ...(annotations ? { annotations } : {}) }, spec: { servers } });
}
function https(port: number, hosts: string[], tls: Record<string, unknown>, protocol = 'HTTPS') {
  return { port: { number: port, name: `p${port}`, protocol }, hosts, tls };
}
const service = (name: string, ns = 'demo', port = 443) => [
  res({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { ports: [{ name: 'https', port }] } }),
  res({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns }, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'https', port: 8443 }] }] }),
];
const codes = (r: ReturnType<typeof translate>) => r.diagnostics.map((d) => [d.code, d.severity, d.path]);
const listener = (r: ReturnType<typeof translate>, port: number): ListenerIR => r.ir.listeners.find((l) => l.port === port)!;
const server = (r: ReturnType<typeof translate>, port: number, i = 0): ServerIR => listener(r, port).servers[i]!;

describe('Istio HTTPS/TLS servers', () => {
  it('credentialName (kubernetes.io/tls) → SIMPLE server; PEM travels beside the IR, never in it', () => {
    const r = translate([istioGw([https(443, ['a.test'], { mode: 'SIMPLE', credentialName: 'a-cert' })]), secret('a-cert', 'istio-system', { 'tls.crt': CERT, 'tls.key': KEY })]);
    assert.deepEqual(codes(r), []);
    const l = listener(r, 443);
    assert.equal(l.protocol, 'HTTPS');
    assert.deepEqual(server(r, 443).tls, {
      mode: 'SIMPLE', credentials: [{ key: 'secret:istio-system/a-cert', source: 'secret', secret: 'istio-system/a-cert' }],
      minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', alpn: ['h2', 'http/1.1'],
    });
    assert.deepEqual(r.credentials.get('secret:istio-system/a-cert'), { cert: CERT, key: KEY });
    assert.ok(!JSON.stringify(r.ir).includes('SECRETKEYDATA'));
  });

  it('MUTUAL: generic Secret with its "-cacert" companion; SANs, hashes and versions; the http2 annotation', () => {
    const hash = 'AB:'.repeat(31) + 'AB';
    const r = translate([
      istioGw([https(443, ['m.test'], {
        mode: 'MUTUAL', credentialName: 'm', subjectAltNames: ['spiffe://a'], verifyCertificateHash: [hash, 'nope'],
        minProtocolVersion: 'TLSV1_1', maxProtocolVersion: 'TLSV1_2', cipherSuites: ['ECDHE-RSA-AES128-SHA'],
      })], { 'portico.dev/http2': 'false' }),
      secret('m', 'istio-system', { cert: CERT, key: KEY }, 'Opaque'),
      secret('m-cacert', 'istio-system', { cacert: CA }, 'Opaque'),
    ]);
    const t = server(r, 443).tls!;
    assert.equal(t.mode, 'MUTUAL');
    assert.deepEqual(t.credentials[0], { key: 'secret:istio-system/m', source: 'secret', secret: 'istio-system/m', caSecret: 'istio-system/m-cacert' });
    assert.equal(t.clientCa!.key, 'secret:istio-system/m');
    assert.deepEqual([t.minVersion, t.maxVersion, t.cipherSuites, t.subjectAltNames, t.alpn], ['TLSv1.1', 'TLSv1.2', ['ECDHE-RSA-AES128-SHA'], ['spiffe://a'], ['http/1.1']]);
    assert.deepEqual(t.verifyCertificateHash, ['ab'.repeat(32)]);
    assert.deepEqual(codes(r), [['TLS_SETTINGS_INVALID', 'warning', 'spec.servers[0].tls.verifyCertificateHash[1]']]);
    assert.deepEqual(r.credentials.get('secret:istio-system/m'), { cert: CERT, key: KEY, ca: CA });
  });

  it('file paths; MUTUAL without a CA and min above max are errors; a missing mode warns and passes through', () => {
    const r = translate([istioGw([
      https(443, ['f.test'], { mode: 'SIMPLE', serverCertificate: '/etc/c/tls.crt', privateKey: '/etc/c/tls.key' }),
      https(8443, ['m.test'], { mode: 'MUTUAL', serverCertificate: '/c', privateKey: '/k' }),
      https(9443, ['v.test'], { mode: 'SIMPLE', serverCertificate: '/c', privateKey: '/k', minProtocolVersion: 'TLSV1_3', maxProtocolVersion: 'TLSV1_2' }),
      https(10443, ['p.test'], { credentialName: 'x' }),
      https(11443, ['i.test'], { mode: 'ISTIO_MUTUAL' }),
    ])]);
    assert.deepEqual(server(r, 443).tls!.credentials, [{ key: 'file:/etc/c/tls.crt|/etc/c/tls.key|', source: 'file', certFile: '/etc/c/tls.crt', keyFile: '/etc/c/tls.key' }]);
    assert.deepEqual(r.ir.listeners.map((l) => l.port), [443, 10443]);
    assert.equal(server(r, 10443).tls!.mode, 'PASSTHROUGH');
    assert.deepEqual(codes(r), [
      ['TLS_CA_MISSING', 'error', 'spec.servers[1].tls'],
      ['TLS_SETTINGS_INVALID', 'error', 'spec.servers[2].tls.minProtocolVersion'],
      ['TLS_SETTINGS_INVALID', 'warning', 'spec.servers[3].tls.mode'],
      ['TLS_MODE_UNSUPPORTED', 'warning', 'spec.servers[4].tls.mode'],
    ]);
  });

  it('keeps every TLS server on a port separate, with its own virtual hosts; a repeated SNI goes to the first', () => {
    const vs = res({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'v', namespace: 'demo' },
      spec: { hosts: ['a.test', 'b.test'], gateways: ['istio-system/gw', 'istio-system/gw2'], http: [{ route: [{ destination: { host: 'svc' } }] }] } });
    const r = translate([
      istioGw([https(443, ['a.test'], { mode: 'SIMPLE', credentialName: 'a' }), https(443, ['b.test'], { mode: 'MUTUAL', credentialName: 'b' })]),
      istioGw([https(443, ['a.test'], { mode: 'SIMPLE', credentialName: 'a' })], undefined, 'gw2'),
      secret('a', 'istio-system', { 'tls.crt': CERT, 'tls.key': KEY }),
      secret('b', 'istio-system', { 'tls.crt': CERT, 'tls.key': KEY, 'ca.crt': CA }),
      vs, ...service('svc', 'demo', 80),
    ]);
    const servers = listener(r, 443).servers;
    assert.deepEqual(servers.map((s) => [s.name, s.hostnames, s.tls!.mode, s.virtualHosts.map((v) => v.domains[0])]), [
      ['gateway/istio-system/gw/server/0', ['a.test'], 'SIMPLE', ['a.test']],
      ['gateway/istio-system/gw/server/1', ['b.test'], 'MUTUAL', ['b.test']],
    ]);
    assert.deepEqual(codes(r).filter(([c]) => c === 'TLS_SNI_CONFLICT'), [['TLS_SNI_CONFLICT', 'warning', 'spec.servers[0].hosts']]);
  });

  it('plaintext and TLS servers cannot share a port', () => {
    const r = translate([
      istioGw([https(443, ['a.test'], { mode: 'SIMPLE', credentialName: 'a' }), { port: { number: 443, name: 'h', protocol: 'HTTP' }, hosts: ['*'] }]),
      secret('a', 'istio-system', { 'tls.crt': CERT, 'tls.key': KEY }),
    ]);
    assert.equal(listener(r, 443).servers.length, 1);
    assert.deepEqual(codes(r), [['TLS_LISTENER_PROTOCOL_CONFLICT', 'warning', 'spec.servers[1].port']]);
  });

  it('PASSTHROUGH servers take VirtualService tls routes by SNI; outside sniHosts and unattached routes warn', () => {
    const r = translate([
      istioGw([https(443, ['*.p.test'], { mode: 'PASSTHROUGH' }, 'TLS')]),
      res({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'v', namespace: 'demo' }, spec: {
        hosts: ['a.p.test', 'b.p.test'], gateways: ['istio-system/gw'],
        tls: [
          { match: [{ sniHosts: ['a.p.test', 'z.other'] }], route: [{ destination: { host: 'a' } }] },
          { match: [{ sniHosts: ['b.p.test'], port: 9999 }], route: [{ destination: { host: 'a' } }] },
        ],
      } }),
      res({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'lost', namespace: 'demo' }, spec: {
        hosts: ['q.elsewhere'], gateways: ['istio-system/gw'], tls: [{ match: [{ sniHosts: ['q.elsewhere'] }], route: [{ destination: { host: 'a' } }] }],
      } }),
      ...service('a'),
    ]);
    const s = server(r, 443);
    assert.equal(listener(r, 443).protocol, 'TLS');
    assert.deepEqual(s.tlsRoutes!.map((t) => [t.id, t.sniHosts, t.backends]), [
      ['virtualservice/demo/v/tls/0/match/0', ['a.p.test'], [{ weight: 100, cluster: 'outbound|443||a.demo.svc.cluster.local' }]],
    ]);
    assert.deepEqual(codes(r), [
      ['TLS_ROUTE_INVALID', 'warning', 'spec.tls[0].match[0].sniHosts[1]'],
      ['TLS_ROUTE_NOT_ATTACHED', 'warning', 'spec.tls'],
    ]);
  });
});

describe('Gateway API TLS', () => {
  const gc = res({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: 'portico.dev/gateway-controller' } });
  const gw = (listeners: unknown[]) => res({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'edge', namespace: 'infra' }, spec: { gatewayClassName: 'portico', listeners } });
  const grant = (ns: string, fromKind: string) => res({ apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: `g-${fromKind}`, namespace: ns },
    spec: { from: [{ group: 'gateway.networking.k8s.io', kind: fromKind, namespace: 'infra' }], to: [{ group: '', kind: 'Secret' }] } });
  const listenerConds = (r: ReturnType<typeof translate>, name: string) =>
    r.statuses.get('Gateway/infra/edge')!.parents!.find((p) => p.parentRef === `listener/${name}`)!.conditions;

  it('HTTPS listeners: same-namespace ref, cross-namespace ref with a Gateway grant, refused with an HTTPRoute grant', () => {
    const r = translate([gc,
      gw([
        { name: 'a', port: 443, protocol: 'HTTPS', hostname: 'a.test', tls: { certificateRefs: [{ name: 'a' }], options: { 'portico.dev/tls-min-version': '1.3' } } },
        { name: 'b', port: 443, protocol: 'HTTPS', hostname: 'b.test', tls: { certificateRefs: [{ name: 'b', namespace: 'certs' }] } },
        { name: 'c', port: 443, protocol: 'HTTPS', hostname: 'c.test', tls: { certificateRefs: [{ name: 'c', namespace: 'other' }] } },
      ]),
      secret('a', 'infra', { 'tls.crt': CERT, 'tls.key': KEY }), secret('b', 'certs', { 'tls.crt': CERT, 'tls.key': KEY }), secret('c', 'other', { 'tls.crt': CERT, 'tls.key': KEY }),
      grant('certs', 'Gateway'), grant('other', 'HTTPRoute'),
    ]);
    const l = listener(r, 443);
    assert.equal(l.protocol, 'HTTPS');
    assert.deepEqual(l.servers.map((s) => [s.hostnames[0], s.tls!.minVersion, s.tls!.credentials[0]!.key]), [
      ['a.test', 'TLSv1.3', 'secret:infra/a'], ['b.test', 'TLSv1.2', 'secret:certs/b'],
    ]);
    assert.deepEqual(codes(r), [['TLS_CERT_REF_NOT_PERMITTED', 'error', 'spec.listeners[2].tls.certificateRefs[0]']]);
    assert.equal(listenerConds(r, 'c').find((c) => c.type === 'ResolvedRefs')!.reason, 'RefNotPermitted');
    assert.ok(!r.credentials.has('secret:other/c'));
  });

  it('TLS Passthrough listener + TLSRoute; an HTTPRoute cannot attach to it; HTTP and HTTPS cannot share a port', () => {
    const r = translate([gc,
      gw([
        { name: 'tls', port: 443, protocol: 'TLS', hostname: '*.p.test', tls: { mode: 'Passthrough' }, allowedRoutes: { namespaces: { from: 'All' } } },
        { name: 'plain', port: 443, protocol: 'HTTP' },
      ]),
      res({ apiVersion: 'gateway.networking.k8s.io/v1alpha2', kind: 'TLSRoute', metadata: { name: 't', namespace: 'demo' },
        spec: { parentRefs: [{ name: 'edge', namespace: 'infra' }], hostnames: ['x.p.test'], rules: [{ backendRefs: [{ name: 'a', port: 443, weight: 3 }, { name: 'missing', port: 443 }] }] } }),
      res({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'h', namespace: 'infra' },
        spec: { parentRefs: [{ name: 'edge', sectionName: 'tls' }], rules: [{ backendRefs: [{ name: 'a', port: 443 }] }] } }),
      ...service('a'),
    ]);
    const s = server(r, 443);
    assert.equal(s.tls!.mode, 'PASSTHROUGH');
    assert.deepEqual(s.tlsRoutes!.map((t) => [t.id, t.sniHosts, t.backends.map((b) => [b.weight, b.cluster ?? b.invalid!.detail])]), [
      ['tlsroute/demo/t/rule/0', ['x.p.test'], [[3, 'outbound|443||a.demo.svc.cluster.local'], [1, 'backend_not_found']]],
    ]);
    const h = r.statuses.get('HTTPRoute/infra/h')!;
    assert.equal(h.parents![0]!.conditions[0]!.reason, 'NotAllowedByListeners');
    assert.equal(listenerConds(r, 'plain').find((c) => c.type === 'Conflicted')!.reason, 'ProtocolConflict');
  });
});

describe('Ingress spec.tls', () => {
  it('adds an HTTPS listener whose servers serve only their hosts\' virtual hosts', () => {
    const ing = res({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'web' }, spec: {
      ingressClassName: 'portico',
      tls: [{ hosts: ['a.test'], secretName: 'a' }, { hosts: ['b.test'] }],
      rules: ['a.test', 'b.test'].map((host) => ({ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'svc', port: { number: 443 } } } }] } })),
    } });
    const r = translate([ing, secret('a', 'web', { 'tls.crt': CERT, 'tls.key': KEY }), ...service('svc', 'web')]);
    const l = listener(r, 443);
    assert.equal(l.protocol, 'HTTPS');
    assert.deepEqual(l.servers.map((s) => [s.name, s.hostnames, s.virtualHosts.map((v) => v.domains[0])]), [['ingress/443/tls/web/web/0', ['a.test'], ['a.test']]]);
    assert.deepEqual(codes(r), [['INGRESS_TLS_UNSUPPORTED', 'warning', 'spec.tls[1].secretName']]);
  });
});

describe('DestinationRule tls (origination)', () => {
  const dr = (trafficPolicy: unknown, subsets?: unknown[]) => res({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'a', namespace: 'demo' },
    spec: { host: 'a.demo.svc.cluster.local', trafficPolicy, ...(subsets ? { subsets } : {}) } });
  const vs = (subset?: string) => res({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'v', namespace: 'demo' },
    spec: { hosts: ['*'], gateways: ['istio-system/gw'], http: [{ route: [{ destination: { host: 'a', ...(subset ? { subset } : {}) } }] }] } });
  const plainGw = istioGw([{ port: { number: 80, name: 'h', protocol: 'HTTP' }, hosts: ['*'] }]);

  it('SIMPLE with caCertificates, sni and subjectAltNames; subsets inherit and may override', () => {
    const r = translate([plainGw, vs('v2'), ...service('a'), dr(
      { tls: { mode: 'SIMPLE', caCertificates: '/ca.crt', sni: 'a.example', subjectAltNames: ['spiffe://a'] } },
      [{ name: 'v2', trafficPolicy: { tls: { mode: 'DISABLE' } } }, { name: 'v3' }],
    )]);
    assert.equal(r.ir.clusters[0]!.tls, undefined, 'subset v2 disables TLS');
    const r2 = translate([plainGw, vs('v3'), ...service('a'), dr(
      { tls: { mode: 'SIMPLE', caCertificates: '/ca.crt', sni: 'a.example', subjectAltNames: ['spiffe://a'] } }, [{ name: 'v3' }])]);
    assert.deepEqual(r2.ir.clusters[0]!.tls, {
      mode: 'SIMPLE', credential: { key: 'file:||/ca.crt', source: 'file', caFile: '/ca.crt' }, sni: 'a.example', subjectAltNames: ['spiffe://a'],
    });
  });

  it('MUTUAL: credentialName from the gateway namespace; without a certificate it falls back to SIMPLE with a warning', () => {
    const r = translate([plainGw, vs(), ...service('a'), dr({ tls: { mode: 'MUTUAL', credentialName: 'client' } }),
      secret('client', 'istio-system', { 'tls.crt': CERT, 'tls.key': KEY, 'ca.crt': CA })]);
    assert.deepEqual(r.ir.clusters[0]!.tls, { mode: 'MUTUAL', credential: { key: 'secret:istio-system/client', source: 'secret', secret: 'istio-system/client' } });
    assert.deepEqual(r.credentials.get('secret:istio-system/client'), { cert: CERT, key: KEY, ca: CA });
    const r2 = translate([plainGw, vs(), ...service('a'), dr({ tls: { mode: 'MUTUAL', caCertificates: '/ca' } })]);
    assert.equal(r2.ir.clusters[0]!.tls!.mode, 'SIMPLE');
    assert.deepEqual(codes(r2), [['TLS_ORIGINATION_INVALID', 'warning', 'spec.trafficPolicy.tls']]);
    const r3 = translate([plainGw, vs(), ...service('a'), dr({ tls: { mode: 'ISTIO_MUTUAL' } })]);
    assert.equal(r3.ir.clusters[0]!.tls, undefined);
    assert.deepEqual(codes(r3), [['TLS_ORIGINATION_INVALID', 'warning', 'spec.trafficPolicy.tls.mode']]);
  });

  it('portLevelSettings replace the top-level tls', () => {
    const r = translate([plainGw, vs(), ...service('a'), dr({ tls: { mode: 'SIMPLE' }, portLevelSettings: [{ port: { number: 443 }, loadBalancer: { simple: 'RANDOM' } }] })]);
    assert.equal(r.ir.clusters[0]!.tls, undefined);
    assert.equal(r.ir.clusters[0]!.lb, 'RANDOM');
  });
});
