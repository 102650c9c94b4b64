/**
 * TLS from every configuration source, end to end: Gateway API HTTPS listeners (certificateRefs,
 * cross-namespace Secrets only with a ReferenceGrant for Gateways, listener isolation by SNI,
 * the `portico.dev/http2` option), Istio's `portico.dev/http2` Gateway annotation, Ingress
 * spec.tls, and the forwarding settings behind a TLS-offloading load balancer
 * (--trusted-proxies) and for X-Forwarded-Client-Cert (--forward-client-cert).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EchoServer } from '../../src/cli/echo.js';
import { freePort, getJson, request, serviceYaml, startEchos, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cnOf, createCA, createLeaf, h2Request, httpsRequest, tlsSecretYaml, type TestCert } from '../helpers/tls.js';

interface Echo { name: string; host: string; headers: Record<string, string>; protocol: string }

describe('Gateway API HTTPS listeners and Ingress spec.tls', () => {
  let gw: TestGateway;
  let echos: EchoServer[];
  let port: number;
  let ingressHttps: number;
  let ingressHttp: number;
  let ca: TestCert;

  before(async () => {
    ca = createCA({ cn: 'Sources Root' });
    const shop = createLeaf(ca, { dns: ['shop.gw.test'] });
    const api = createLeaf(ca, { dns: ['api.gw.test'] });
    const denied = createLeaf(ca, { dns: ['denied.gw.test'] });
    const ing = createLeaf(ca, { dns: ['ing.test'] });
    echos = await startEchos('echo-shop', 'echo-api', 'echo-ing');
    port = await freePort();
    ingressHttps = await freePort();
    ingressHttp = await freePort();
    gw = await startTestGateway({
      'secrets.yaml': [
        tlsSecretYaml('shop-cert', 'infra', { cert: shop.certPem, key: shop.keyPem }),
        tlsSecretYaml('api-cert', 'certs', { cert: api.certPem, key: api.keyPem }),
        tlsSecretYaml('denied-cert', 'other', { cert: denied.certPem, key: denied.keyPem }),
        tlsSecretYaml('ing-cert', 'web', { cert: ing.certPem, key: ing.keyPem }),
      ].join('---\n'),
      'svc.yaml': [serviceYaml('echo-shop', [echos[0]!.port], { ns: 'apps' }), serviceYaml('echo-api', [echos[1]!.port], { ns: 'apps' }), serviceYaml('echo-ing', [echos[2]!.port], { ns: 'web' })].join('---\n'),
      'gwapi.yaml': `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: portico}
spec: {controllerName: portico.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: infra}
spec:
  gatewayClassName: portico
  listeners:
  - name: shop
    port: ${port}
    protocol: HTTPS
    hostname: shop.gw.test
    tls: {certificateRefs: [{name: shop-cert}], options: {portico.dev/http2: "false"}}
    allowedRoutes: {namespaces: {from: All}}
  - name: api
    port: ${port}
    protocol: HTTPS
    hostname: api.gw.test
    tls: {mode: Terminate, certificateRefs: [{name: api-cert, namespace: certs}]}
    allowedRoutes: {namespaces: {from: All}}
  - name: denied
    port: ${port}
    protocol: HTTPS
    hostname: denied.gw.test
    tls: {certificateRefs: [{name: denied-cert, namespace: other}]}
    allowedRoutes: {namespaces: {from: All}}
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: gateways-may-read-certs, namespace: certs}
spec:
  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: infra}]
  to: [{group: "", kind: Secret}]
---
# A grant for HTTPRoutes does not let a Gateway read Secrets.
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: routes-only, namespace: other}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: infra}]
  to: [{group: "", kind: Secret}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: apps}
spec:
  parentRefs: [{name: edge, namespace: infra, sectionName: shop}]
  rules: [{backendRefs: [{name: echo-shop, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: apps}
spec:
  parentRefs: [{name: edge, namespace: infra, sectionName: api}]
  rules: [{backendRefs: [{name: echo-api, port: 80}]}]
`,
      'ingress.yaml': `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: web}
spec:
  ingressClassName: portico
  tls: [{hosts: [ing.test], secretName: ing-cert}]
  rules:
  - host: ing.test
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: echo-ing, port: {number: 80}}}}]}
`,
    }, { 'ingress-port': String(ingressHttp), 'ingress-https-port': String(ingressHttps) });
  });

  after(async () => {
    await gw?.close();
    await Promise.all((echos ?? []).map((e) => e.close()));
  });

  it('terminates each HTTPS listener with its certificateRef and routes to its HTTPRoutes', async () => {
    const s = await httpsRequest(port, { sni: 'shop.gw.test', ca: ca.certPem });
    assert.equal(cnOf(s.peer), 'shop.gw.test');
    assert.equal((JSON.parse(s.body) as Echo).name, 'echo-shop');
    const a = await httpsRequest(port, { sni: 'api.gw.test', ca: ca.certPem });
    assert.equal(cnOf(a.peer), 'api.gw.test');
    assert.equal((JSON.parse(a.body) as Echo).name, 'echo-api');
    // Listener isolation: SNI shop with Host api never reaches the api listener's routes.
    assert.equal((await httpsRequest(port, { sni: 'shop.gw.test', host: 'api.gw.test', ca: ca.certPem })).status, 404);
  });

  it('refuses a cross-namespace certificateRef whose ReferenceGrant only names HTTPRoutes', async () => {
    await assert.rejects(httpsRequest(port, { sni: 'denied.gw.test', ca: ca.certPem }), /unrecognized name/);
    const dump = await getJson<{ resources: { kind: string; name: string; parents?: { parentRef: string; conditions: { type: string; status: string; reason: string }[] }[] }[] }>(gw.adminPort, '/config_dump');
    const edge = dump.resources.find((r) => r.kind === 'Gateway' && r.name === 'edge')!;
    const denied = edge.parents!.find((p) => p.parentRef === 'listener/denied')!;
    assert.deepEqual(denied.conditions.find((c) => c.type === 'ResolvedRefs'), { type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted', message: 'Secret "other/denied-cert" is not permitted by a ReferenceGrant' });
    assert.equal(denied.conditions.find((c) => c.type === 'Programmed')!.status, 'False');
  });

  it('turns HTTP/2 off per listener with tls.options portico.dev/http2: "false" (ALPN http/1.1 only)', async () => {
    const off = await httpsRequest(port, { sni: 'shop.gw.test', ca: ca.certPem, alpn: ['h2', 'http/1.1'] });
    assert.equal(off.alpn, 'http/1.1');
    const on = await h2Request(port, { sni: 'api.gw.test', ca: ca.certPem });
    assert.equal(on.alpn, 'h2');
    assert.equal(on.status, 200);
  });

  it('serves Ingress spec.tls hosts with their Secret on the HTTPS ingress port, and plaintext as before', async () => {
    const r = await httpsRequest(ingressHttps, { sni: 'ing.test', ca: ca.certPem });
    assert.equal(cnOf(r.peer), 'ing.test');
    assert.equal((JSON.parse(r.body) as Echo).name, 'echo-ing');
    assert.equal((JSON.parse(r.body) as Echo).headers['x-forwarded-proto'], 'https');
    assert.equal((await request(ingressHttp, { host: 'ing.test' })).status, 200);
  });
});

describe('Istio annotation portico.dev/http2 and forwarding behind a TLS-offloading load balancer', () => {
  let gw: TestGateway;
  let echo: EchoServer;
  let tlsPort: number;
  let httpPort: number;
  let ca: TestCert;
  let client: TestCert;

  before(async () => {
    ca = createCA();
    const leaf = createLeaf(ca, { dns: ['h1only.test'] });
    client = createLeaf(ca, { cn: 'lb-client', usage: 'client' });
    [echo] = await startEchos('echo');
    tlsPort = await freePort();
    httpPort = await freePort();
    gw = await startTestGateway({
      'all.yaml': `apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: g
  namespace: istio-system
  annotations: {portico.dev/http2: "false"}
spec:
  servers:
  - port: {number: ${tlsPort}, name: https, protocol: HTTPS}
    hosts: ["h1only.test"]
    tls: {mode: OPTIONAL_MUTUAL, credentialName: h1}
  - port: {number: ${httpPort}, name: http, protocol: HTTP}
    hosts: ["app.test"]
  - port: {number: ${httpPort}, name: http-redirect, protocol: HTTP}
    hosts: ["secure.app.test"]
    tls: {httpsRedirect: true}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: v, namespace: demo}
spec:
  hosts: ["h1only.test", "app.test", "secure.app.test"]
  gateways: ["istio-system/g"]
  http: [{route: [{destination: {host: echo.demo.svc.cluster.local}}]}]
---
${serviceYaml('echo', [echo!.port])}---
${tlsSecretYaml('h1', 'istio-system', { cert: leaf.certPem, key: leaf.keyPem, ca: ca.certPem })}`,
    }, { 'trusted-proxies': '1', 'forward-client-cert': 'APPEND_FORWARD' });
  });

  after(async () => {
    await gw?.close();
    await echo?.close();
  });

  it('offers only http/1.1 by ALPN on the annotated Gateway', async () => {
    const r = await httpsRequest(tlsPort, { sni: 'h1only.test', ca: ca.certPem, alpn: ['h2', 'http/1.1'] });
    assert.equal(r.alpn, 'http/1.1');
    await assert.rejects(h2Request(tlsPort, { sni: 'h1only.test', ca: ca.certPem }));
  });

  it('--trusted-proxies 1: trusts the load balancer\'s X-Forwarded-Proto and client address', async () => {
    const r = await request(httpPort, { host: 'app.test', headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' } });
    const e = JSON.parse(r.body) as Echo;
    assert.equal(e.headers['x-forwarded-proto'], 'https');
    assert.equal(e.headers['x-envoy-external-address'], '203.0.113.7');
    assert.equal(e.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
    // httpsRedirect does not loop behind the load balancer: the request already was https.
    const red = await request(httpPort, { host: 'secure.app.test', headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(red.status, 200);
    assert.equal((JSON.parse(red.body) as Echo).name, 'echo');
    const plain = await request(httpPort, { host: 'secure.app.test', headers: { 'x-forwarded-proto': 'http' } });
    assert.equal(plain.status, 301);
    assert.equal(plain.headers.location, 'https://secure.app.test/');
    await new Promise((res) => setTimeout(res, 50));
    const line = gw.logs.find((l) => l.x_forwarded_for === '203.0.113.7, 127.0.0.1');
    assert.equal(line?.downstream_remote_address, '203.0.113.7:0');
  });

  it('--forward-client-cert APPEND_FORWARD: appends to a verified client\'s XFCC, still strips on other connections', async () => {
    const m = await httpsRequest(tlsPort, { sni: 'h1only.test', ca: ca.certPem, cert: client.certPem, key: client.keyPem, headers: { 'x-forwarded-client-cert': 'By=spiffe://upstream-proxy;Hash=abc' } });
    const xfcc = (JSON.parse(m.body) as Echo).headers['x-forwarded-client-cert']!;
    assert.match(xfcc, /^By=spiffe:\/\/upstream-proxy;Hash=abc,Hash=[0-9a-f]{64};Subject="CN=lb-client,O=Portico Test"$/);
    const none = await httpsRequest(tlsPort, { sni: 'h1only.test', ca: ca.certPem, headers: { 'x-forwarded-client-cert': 'Hash=forged' } });
    assert.equal((JSON.parse(none.body) as Echo).headers['x-forwarded-client-cert'], undefined);
    const plain = await request(httpPort, { host: 'app.test', headers: { 'x-forwarded-client-cert': 'Hash=forged' } });
    assert.equal((JSON.parse(plain.body) as Echo).headers['x-forwarded-client-cert'], undefined);
  });
});

describe('forwarding defaults (no trusted proxies)', () => {
  let gw: TestGateway;
  let echo: EchoServer;
  let port: number;

  before(async () => {
    [echo] = await startEchos('echo');
    port = await freePort();
    gw = await startTestGateway({
      'all.yaml': `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: g, namespace: istio-system}
spec:
  servers:
  - port: {number: ${port}, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: v, namespace: demo}
spec:
  hosts: ["*"]
  gateways: ["istio-system/g"]
  http: [{route: [{destination: {host: echo.demo.svc.cluster.local}}]}]
---
${serviceYaml('echo', [echo!.port])}`,
    });
  });

  after(async () => {
    await gw?.close();
    await echo?.close();
  });

  it('ignores and overwrites a client\'s X-Forwarded-Proto, and strips its X-Forwarded-Client-Cert', async () => {
    const r = await request(port, { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7', 'x-forwarded-client-cert': 'Hash=forged' } });
    const e = JSON.parse(r.body) as Echo;
    assert.equal(e.headers['x-forwarded-proto'], 'http');
    assert.equal(e.headers['x-envoy-external-address'], undefined);
    assert.equal(e.headers['x-forwarded-client-cert'], undefined);
  });
});
