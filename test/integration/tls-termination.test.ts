/**
 * TLS termination over real sockets with certificates made in the test: certificate per SNI
 * (exact > wildcard > default), the whole chain served, per-server TLS versions and ciphers on
 * one port, mutual TLS (required, optional, subjectAltNames), X-Forwarded-Client-Cert upstream
 * and never trusted from clients, server pinning by SNI, HTTP/2 on/off by ALPN, SNI misses.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { EchoServer } from '../../src/cli/echo.js';
import { freePort, request, serviceYaml, startEchos, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import {
  cnOf, createCA, createIntermediate, createLeaf, fullChain, h2Request, httpsRequest, tlsSecretYaml, type TestCert,
} from '../helpers/tls.js';

interface Echo { name: string; host: string; path: string; headers: Record<string, string> }

describe('TLS termination (Istio Gateway, several servers on one port)', () => {
  let gw: TestGateway;
  let echos: EchoServer[];
  let port: number;
  let httpPort: number;
  let ca: TestCert;
  let clientCa: TestCert;
  let exact: TestCert;
  let wild: TestCert;
  let dflt: TestCert;
  let mtls: TestCert;
  let legacy: TestCert;
  let client: TestCert;
  let otherClient: TestCert;
  let strangerClient: TestCert;

  before(async () => {
    ca = createCA({ cn: 'Server Root' });
    const inter = createIntermediate(ca, { cn: 'Server Intermediate' });
    exact = createLeaf(inter, { dns: ['shop.example.com'], uris: ['spiffe://cluster.local/ns/istio-system/sa/ingress'] });
    wild = createLeaf(ca, { dns: ['*.example.com'] });
    dflt = createLeaf(ca, { dns: ['default.test'] });
    mtls = createLeaf(ca, { dns: ['secure.test'] });
    legacy = createLeaf(ca, { dns: ['legacy.test'] });
    clientCa = createCA({ cn: 'Client Root' });
    client = createLeaf(clientCa, { cn: 'client-a', usage: 'client', uris: ['spiffe://cluster.local/ns/apps/sa/client-a'], dns: ['client-a.apps'] });
    otherClient = createLeaf(clientCa, { cn: 'client-b', usage: 'client', uris: ['spiffe://cluster.local/ns/apps/sa/client-b'] });
    strangerClient = createLeaf(createCA({ cn: 'Stranger Root' }), { cn: 'stranger', usage: 'client' });
    echos = await startEchos('echo-shop', 'echo-wild', 'echo-default', 'echo-secure', 'echo-legacy');
    port = await freePort();
    httpPort = await freePort();
    const secrets = [
      tlsSecretYaml('exact-cert', 'istio-system', { cert: fullChain(exact), key: exact.keyPem }),
      tlsSecretYaml('wild-cert', 'istio-system', { cert: wild.certPem, key: wild.keyPem }),
      tlsSecretYaml('default-cert', 'istio-system', { cert: dflt.certPem, key: dflt.keyPem }),
      // Generic layout plus the "-cacert" companion Secret Istio accepts for the client CA.
      tlsSecretYaml('secure-cert', 'istio-system', { cert: mtls.certPem, key: mtls.keyPem }, { generic: true }),
      tlsSecretYaml('secure-cert-cacert', 'istio-system', { ca: clientCa.certPem }, { generic: true }),
      tlsSecretYaml('legacy-cert', 'istio-system', { cert: legacy.certPem, key: legacy.keyPem, ca: clientCa.certPem }),
    ].join('---\n');
    const server = (i: number, hosts: string[], tlsBlock: string) => `  - port: {number: ${port}, name: https-${i}, protocol: HTTPS}
    hosts: ${JSON.stringify(hosts)}
    tls: ${tlsBlock}
`;
    gw = await startTestGateway({
      'secrets.yaml': secrets,
      'gw.yaml': `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: tls-gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
${server(0, ['shop.example.com'], '{mode: SIMPLE, credentialName: exact-cert}')}${server(1, ['*.example.com'], '{mode: SIMPLE, credentialName: wild-cert}')}${server(2, ['*'], '{mode: SIMPLE, credentialName: default-cert}')}${server(3, ['secure.test'], '{mode: MUTUAL, credentialName: secure-cert, subjectAltNames: ["spiffe://cluster.local/ns/apps/sa/client-a"]}')}${server(4, ['legacy.test'], '{mode: OPTIONAL_MUTUAL, credentialName: legacy-cert, minProtocolVersion: TLSV1_1, maxProtocolVersion: TLSV1_2, cipherSuites: [ECDHE-ECDSA-AES128-SHA, ECDHE-ECDSA-AES128-GCM-SHA256]}')}  - port: {number: ${httpPort}, name: http, protocol: HTTP}
    hosts: ["*"]
    tls: {httpsRedirect: true}
`,
      'svc.yaml': ['echo-shop', 'echo-wild', 'echo-default', 'echo-secure', 'echo-legacy'].map((n, i) => serviceYaml(n, [echos[i]!.port])).join('---\n'),
      'vs.yaml': [
        ['shop', 'shop.example.com', 'echo-shop'], ['wild', '*.example.com', 'echo-wild'], ['default', 'other.test', 'echo-default'],
        ['secure', 'secure.test', 'echo-secure'], ['legacy', 'legacy.test', 'echo-legacy'],
      ].map(([name, host, svc]) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: demo}
spec:
  hosts: ["${host}"]
  gateways: ["istio-system/tls-gw"]
  http:
  - route: [{destination: {host: ${svc}.demo.svc.cluster.local}}]
`).join('---\n'),
    });
  });

  after(async () => {
    await gw?.close();
    await Promise.all((echos ?? []).map((e) => e.close()));
  });

  it('serves the certificate chosen by SNI: exact, then wildcard, then the default server', async () => {
    const a = await httpsRequest(port, { sni: 'shop.example.com', ca: ca.certPem });
    assert.equal(cnOf(a.peer), 'shop.example.com');
    assert.equal((JSON.parse(a.body) as Echo).name, 'echo-shop');
    const b = await httpsRequest(port, { sni: 'cart.example.com', ca: ca.certPem });
    assert.equal(cnOf(b.peer), '*.example.com');
    assert.equal((JSON.parse(b.body) as Echo).name, 'echo-wild');
    const c = await httpsRequest(port, { sni: 'other.test', ca: ca.certPem });
    assert.equal(cnOf(c.peer), 'default.test');
    assert.equal((JSON.parse(c.body) as Echo).name, 'echo-default');
    // No SNI at all (client connects by IP): the "*" server answers.
    const d = await httpsRequest(port, { host: 'other.test', ca: ca.certPem, insecure: true });
    assert.equal(cnOf(d.peer), 'default.test');
    assert.equal((JSON.parse(d.body) as Echo).name, 'echo-default');
  });

  it('serves the whole chain from tls.crt (leaf + intermediate), verifiable with the root only', async () => {
    const r = await httpsRequest(port, { sni: 'shop.example.com', ca: ca.certPem });
    assert.equal(r.status, 200);
    assert.deepEqual(r.chain.map((s) => s.split(',').pop()), ['CN=shop.example.com', 'CN=Server Intermediate', 'CN=Server Root']);
  });

  it('pins the server by SNI: a Host header naming another server does not reach its routes', async () => {
    // SNI shop (SIMPLE) with Host secure.test (a MUTUAL server's host): 404, never echo-secure.
    const r = await httpsRequest(port, { sni: 'shop.example.com', host: 'secure.test', ca: ca.certPem });
    assert.equal(r.status, 404);
    // SNI shop with Host cart.example.com (the wildcard server's host): the shop server has no such route.
    const r2 = await httpsRequest(port, { sni: 'shop.example.com', host: 'cart.example.com', ca: ca.certPem });
    assert.equal(r2.status, 404);
  });

  it('refuses TLS 1.1 by default and accepts it where minProtocolVersion allows', async () => {
    const old = { minVersion: 'TLSv1.1' as const, maxVersion: 'TLSv1.1' as const, ciphers: 'DEFAULT:@SECLEVEL=0' };
    await assert.rejects(httpsRequest(port, { sni: 'shop.example.com', ca: ca.certPem, ...old }), /protocol version|alert/i);
    const r = await httpsRequest(port, { sni: 'legacy.test', ca: ca.certPem, ...old });
    assert.equal(r.protocol, 'TLSv1.1');
    assert.equal((JSON.parse(r.body) as Echo).name, 'echo-legacy');
    // The legacy server's maximum (1.2) holds: a TLS 1.3-only client is refused there, not on shop.
    await assert.rejects(httpsRequest(port, { sni: 'legacy.test', ca: ca.certPem, minVersion: 'TLSv1.3' }));
    const s = await httpsRequest(port, { sni: 'shop.example.com', ca: ca.certPem, minVersion: 'TLSv1.3' });
    assert.equal(s.protocol, 'TLSv1.3');
  });

  it('applies cipherSuites per server (TLS ≤ 1.2)', async () => {
    const tls12 = { maxVersion: 'TLSv1.2' as const };
    const ok = await httpsRequest(port, { sni: 'legacy.test', ca: ca.certPem, ...tls12, ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    assert.equal(ok.cipher, 'ECDHE-ECDSA-AES128-GCM-SHA256');
    await assert.rejects(httpsRequest(port, { sni: 'legacy.test', ca: ca.certPem, ...tls12, ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }), /handshake failure|alert/i);
    const other = await httpsRequest(port, { sni: 'shop.example.com', ca: ca.certPem, ...tls12, ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' });
    assert.equal(other.cipher, 'ECDHE-ECDSA-AES256-GCM-SHA384');
  });

  it('default ciphers are Envoy\'s: AES-128-GCM preferred (TLS 1.3 and 1.2), no CBC suites', async () => {
    // The client offers AES-256 first: the server's preference (Envoy/BoringSSL order) wins.
    const t13 = await httpsRequest(port, { sni: 'shop.example.com', ca: ca.certPem, minVersion: 'TLSv1.3' });
    assert.equal(t13.cipher, 'TLS_AES_128_GCM_SHA256');
    const t12 = await httpsRequest(port, { sni: 'shop.example.com', ca: ca.certPem, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256' });
    assert.equal(t12.cipher, 'ECDHE-ECDSA-AES128-GCM-SHA256');
    await assert.rejects(httpsRequest(port, { sni: 'shop.example.com', ca: ca.certPem, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' }), /handshake failure|alert/i);
  });

  it('MUTUAL: refuses no certificate, a certificate from another CA, and a SAN not listed', async () => {
    await assert.rejects(httpsRequest(port, { sni: 'secure.test', ca: ca.certPem }));
    await assert.rejects(httpsRequest(port, { sni: 'secure.test', ca: ca.certPem, cert: strangerClient.certPem, key: strangerClient.keyPem }));
    await assert.rejects(httpsRequest(port, { sni: 'secure.test', ca: ca.certPem, cert: otherClient.certPem, key: otherClient.keyPem }));
  });

  it('MUTUAL: a verified client gets through and X-Forwarded-Client-Cert carries it, a forged one never', async () => {
    const r = await httpsRequest(port, {
      sni: 'secure.test', ca: ca.certPem, cert: client.certPem, key: client.keyPem,
      headers: { 'x-forwarded-client-cert': 'By=spiffe://forged;Hash=00;Subject="CN=admin"' },
    });
    assert.equal(r.status, 200);
    const echo = JSON.parse(r.body) as Echo;
    assert.equal(echo.name, 'echo-secure');
    const xfcc = echo.headers['x-forwarded-client-cert']!;
    assert.match(xfcc, new RegExp(`^Hash=${client.x509.fingerprint256.replace(/:/g, '').toLowerCase()};`));
    assert.match(xfcc, /;Subject="CN=client-a,O=Portico Test";URI=spiffe:\/\/cluster\.local\/ns\/apps\/sa\/client-a;DNS=client-a\.apps$/);
    assert.doesNotMatch(xfcc, /forged|admin/);
  });

  it('OPTIONAL_MUTUAL: accepts no certificate, validates a presented one', async () => {
    const none = await httpsRequest(port, { sni: 'legacy.test', ca: ca.certPem, headers: { 'x-forwarded-client-cert': 'Hash=forged' } });
    assert.equal(none.status, 200);
    assert.equal((JSON.parse(none.body) as Echo).headers['x-forwarded-client-cert'], undefined);
    const good = await httpsRequest(port, { sni: 'legacy.test', ca: ca.certPem, cert: client.certPem, key: client.keyPem });
    assert.match((JSON.parse(good.body) as Echo).headers['x-forwarded-client-cert']!, /Subject="CN=client-a/);
    await assert.rejects(httpsRequest(port, { sni: 'legacy.test', ca: ca.certPem, cert: strangerClient.certPem, key: strangerClient.keyPem }));
    // An expired certificate from the right CA is refused too.
    const expired = createLeaf(clientCa, { cn: 'old-client', usage: 'client', notBeforeDays: -30, notAfterDays: -1 });
    await assert.rejects(httpsRequest(port, { sni: 'legacy.test', ca: ca.certPem, cert: expired.certPem, key: expired.keyPem }));
  });

  it('strips X-Forwarded-Client-Cert on plaintext and SIMPLE connections; XFCC By names our URI SAN', async () => {
    const simple = await httpsRequest(port, { sni: 'shop.example.com', ca: ca.certPem, headers: { 'x-forwarded-client-cert': 'Hash=forged' } });
    assert.equal((JSON.parse(simple.body) as Echo).headers['x-forwarded-client-cert'], undefined);
    assert.equal((JSON.parse(simple.body) as Echo).headers['x-forwarded-proto'], 'https');
  });

  it('negotiates HTTP/2 by ALPN and routes it with the server pinned', async () => {
    const r = await h2Request(port, { sni: 'shop.example.com', ca: ca.certPem });
    assert.equal(r.alpn, 'h2');
    assert.equal(r.status, 200);
    const e = JSON.parse(r.body) as Echo;
    assert.equal(e.name, 'echo-shop');
    assert.equal(e.headers['x-forwarded-proto'], 'https');
    const pinned = await h2Request(port, { sni: 'shop.example.com', host: 'secure.test', ca: ca.certPem });
    assert.equal(pinned.status, 404);
    const h1 = await httpsRequest(port, { sni: 'shop.example.com', ca: ca.certPem, alpn: ['http/1.1'] });
    assert.equal(h1.alpn, 'http/1.1');
  });

  it('HTTP/2 over mTLS carries the client certificate too', async () => {
    const r = await h2Request(port, { sni: 'secure.test', ca: ca.certPem, cert: client.certPem, key: client.keyPem });
    assert.equal(r.status, 200);
    assert.match((JSON.parse(r.body) as Echo).headers['x-forwarded-client-cert']!, /URI=spiffe:\/\/cluster\.local\/ns\/apps\/sa\/client-a/);
  });

  it('answers a plaintext request on the HTTP port with a 301 to https (httpsRedirect)', async () => {
    const r = await request(httpPort, { host: 'shop.example.com', path: '/cart?x=1' });
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, 'https://shop.example.com/cart?x=1');
  });

  it('closes plaintext bytes on a TLS port at once', async () => {
    const got = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let out = '';
      s.on('data', (d) => { out += d.toString('latin1'); });
      s.on('error', () => {});
      s.on('close', () => resolve(out));
      s.write('GET / HTTP/1.1\r\nhost: shop.example.com\r\n\r\n');
    });
    assert.equal(got, '');
  });

  it('logs the SNI in the access log', async () => {
    await httpsRequest(port, { sni: 'shop.example.com', ca: ca.certPem, path: '/logged-sni' });
    await new Promise((r) => setTimeout(r, 50));
    const line = gw.logs.find((l) => l.path === '/logged-sni');
    assert.equal(line?.requested_server_name, 'shop.example.com');
  });
});

describe('TLS: SNI matching no server', () => {
  let gw: TestGateway;
  let port: number;
  let ca: TestCert;

  before(async () => {
    ca = createCA();
    const leaf = createLeaf(ca, { dns: ['only.test'] });
    port = await freePort();
    gw = await startTestGateway({
      'gw.yaml': `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: g, namespace: istio-system}
spec:
  servers:
  - port: {number: ${port}, name: https, protocol: HTTPS}
    hosts: ["only.test"]
    tls: {mode: SIMPLE, credentialName: only}
---
${tlsSecretYaml('only', 'istio-system', { cert: leaf.certPem, key: leaf.keyPem })}`,
    });
  });
  after(async () => { await gw?.close(); });

  it('gets a fatal unrecognized_name alert (and so does a client without SNI)', async () => {
    const attempt = (servername?: string) => new Promise<string>((resolve) => {
      const s = tls.connect({ port, host: '127.0.0.1', ...(servername ? { servername } : {}), ca: ca.certPem });
      s.on('secureConnect', () => { resolve('connected'); s.destroy(); });
      s.on('error', (e) => resolve(e.message));
    });
    assert.match(await attempt('nope.test'), /unrecognized name/);
    assert.match(await attempt(undefined), /unrecognized name/);
    assert.equal(await attempt('only.test'), 'connected');
  });
});
