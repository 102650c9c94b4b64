/**
 * TLS passthrough (Istio VirtualService tls routes, Gateway API TLSRoute) to TLS backends whose
 * own certificates reach the client, weighted by SNI; terminated TLS proxied as TCP; and TLS
 * origination to HTTPS upstreams (DestinationRule SIMPLE with a CA, MUTUAL with a client
 * certificate from files or a Secret, HTTP/2 upstream by ALPN).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { freePort, request, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cnOf, createCA, createLeaf, httpsRequest, tlsSecretYaml, writeAtomic, type TestCert } from '../helpers/tls.js';

interface Backend { readonly port: number; close(): Promise<void> }

/** An HTTPS backend answering JSON about the TLS connection it saw. */
function tlsBackend(name: string, cert: TestCert, opts: { ca?: string; requireClientCert?: boolean; h2?: boolean } = {}): Promise<Backend> {
  const handler = (req: import('node:http').IncomingMessage | http2.Http2ServerRequest, res: import('node:http').ServerResponse | http2.Http2ServerResponse) => {
    const s = req.socket as tls.TLSSocket;
    const body = JSON.stringify({
      name, servername: s.servername, alpn: s.alpnProtocol, httpVersion: req.httpVersion,
      clientCn: cnOf(s.getPeerX509Certificate()) ?? null, host: req.headers.host ?? req.headers[':authority'], path: req.url,
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  };
  const options = { cert: cert.certPem, key: cert.keyPem, ...(opts.ca ? { ca: opts.ca } : {}), requestCert: opts.requireClientCert === true, rejectUnauthorized: opts.requireClientCert === true };
  const srv = opts.h2 ? http2.createSecureServer({ ...options, allowHTTP1: false }, handler) : https.createServer(options, handler);
  return new Promise((resolve) => {
    srv.listen(0, '127.0.0.1', () => resolve({
      port: (srv.address() as net.AddressInfo).port,
      close: () => new Promise<void>((r) => { (srv as https.Server).closeAllConnections?.(); srv.close(() => r()); }),
    }));
  });
}

function svc(name: string, port: number, opts: { ns?: string; appProtocol?: string; portName?: string; svcPort?: number } = {}): string {
  const ns = opts.ns ?? 'demo';
  const pn = opts.portName ?? 'https';
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec:
  ports: [{name: ${pn}, port: ${opts.svcPort ?? 443}${opts.appProtocol ? `, appProtocol: ${opts.appProtocol}` : ''}}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: ${name}, namespace: ${ns}}
subsets:
- addresses: [{ip: 127.0.0.1}]
  ports: [{name: ${pn}, port: ${port}}]
`;
}

describe('TLS passthrough and TCP after termination', () => {
  let gw: TestGateway;
  let backends: Backend[] = [];
  let port: number;
  let gwapiPort: number;
  let tcpPort: number;
  let backendCa: TestCert;
  let frontCa: TestCert;

  before(async () => {
    backendCa = createCA({ cn: 'Backend Root' });
    frontCa = createCA({ cn: 'Front Root' });
    const a = await tlsBackend('backend-a', createLeaf(backendCa, { dns: ['a.pass.test'] }));
    const b1 = await tlsBackend('backend-b1', createLeaf(backendCa, { dns: ['b.pass.test'] }));
    const b2 = await tlsBackend('backend-b2', createLeaf(backendCa, { dns: ['b.pass.test'] }));
    const g = await tlsBackend('backend-gwapi', createLeaf(backendCa, { dns: ['x.gw.test'] }));
    // A plain HTTP backend behind a TLS server that terminates and proxies TCP.
    const plain = net.createServer((s) => { s.once('data', () => s.end('HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nplain')); });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
    backends = [a, b1, b2, g, { port: (plain.address() as net.AddressInfo).port, close: () => new Promise<void>((r) => plain.close(() => r())) }];
    port = await freePort();
    gwapiPort = await freePort();
    tcpPort = await freePort();
    const front = createLeaf(frontCa, { dns: ['tcp.test'] });
    gw = await startTestGateway({
      'svc.yaml': [svc('a', a.port), svc('b1', b1.port), svc('b2', b2.port), svc('g', g.port, { ns: 'apps' }), svc('plain', backends[4]!.port, { portName: 'tcp', svcPort: 9000 })].join('---\n'),
      'istio.yaml': `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: pass, namespace: istio-system}
spec:
  servers:
  - port: {number: ${port}, name: tls, protocol: TLS}
    hosts: ["*.pass.test"]
    tls: {mode: PASSTHROUGH}
  - port: {number: ${tcpPort}, name: tls-term, protocol: TLS}
    hosts: ["tcp.test"]
    tls: {mode: SIMPLE, credentialName: tcp-cert}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: pass, namespace: demo}
spec:
  hosts: ["*.pass.test"]
  gateways: ["istio-system/pass"]
  tls:
  - match: [{sniHosts: [a.pass.test]}]
    route: [{destination: {host: a.demo.svc.cluster.local, port: {number: 443}}}]
  - match: [{sniHosts: [b.pass.test]}]
    route:
    - {destination: {host: b1.demo.svc.cluster.local, port: {number: 443}}, weight: 50}
    - {destination: {host: b2.demo.svc.cluster.local, port: {number: 443}}, weight: 50}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: tcp, namespace: demo}
spec:
  hosts: ["tcp.test"]
  gateways: ["istio-system/pass"]
  tcp:
  - route: [{destination: {host: plain.demo.svc.cluster.local, port: {number: 9000}}}]
---
${tlsSecretYaml('tcp-cert', 'istio-system', { cert: front.certPem, key: front.keyPem })}`,
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
  - name: tls
    port: ${gwapiPort}
    protocol: TLS
    hostname: "*.gw.test"
    tls: {mode: Passthrough}
    allowedRoutes: {namespaces: {from: All}}
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: x, namespace: apps}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  hostnames: ["x.gw.test"]
  rules:
  - backendRefs: [{name: g, port: 443}]
`,
    });
  });

  after(async () => {
    await gw?.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  it('pipes TLS by SNI without terminating: the backend\'s own certificate reaches the client', async () => {
    const r = await httpsRequest(port, { sni: 'a.pass.test', ca: backendCa.certPem });
    assert.equal(r.status, 200);
    assert.equal(cnOf(r.peer), 'a.pass.test');
    const body = JSON.parse(r.body) as { name: string; servername: string };
    assert.equal(body.name, 'backend-a');
    assert.equal(body.servername, 'a.pass.test');
  });

  it('splits by weight between passthrough destinations', async () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const r = await httpsRequest(port, { sni: 'b.pass.test', ca: backendCa.certPem });
      const name = (JSON.parse(r.body) as { name: string }).name;
      seen.set(name, (seen.get(name) ?? 0) + 1);
    }
    assert.ok((seen.get('backend-b1') ?? 0) >= 5 && (seen.get('backend-b2') ?? 0) >= 5, JSON.stringify([...seen]));
  });

  it('closes a passthrough connection whose SNI has no route, and logs it', async () => {
    await assert.rejects(httpsRequest(port, { sni: 'c.pass.test', ca: backendCa.certPem }));
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(gw.logs.some((l) => l.requested_server_name === 'c.pass.test' && /NR/.test(l.response_flags ?? '')));
    const ok = gw.logs.find((l) => l.requested_server_name === 'a.pass.test');
    assert.equal(ok?.upstream_cluster, 'outbound|443||a.demo.svc.cluster.local');
  });

  it('routes Gateway API TLSRoute passthrough by listener and route hostname', async () => {
    const r = await httpsRequest(gwapiPort, { sni: 'x.gw.test', ca: backendCa.certPem });
    assert.equal((JSON.parse(r.body) as { name: string }).name, 'backend-gwapi');
    assert.equal(cnOf(r.peer), 'x.gw.test');
    await assert.rejects(httpsRequest(gwapiPort, { sni: 'y.gw.test', ca: backendCa.certPem }));
  });

  it('terminates TLS and proxies the plaintext bytes as TCP (Istio TLS server, mode SIMPLE, tcp route)', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ port: tcpPort, host: '127.0.0.1', servername: 'tcp.test', ca: frontCa.certPem }, () => s.write('hello'));
      let out = '';
      s.on('data', (d) => { out += d.toString(); });
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });
    assert.match(got, /^HTTP\/1\.1 200 OK[\s\S]*plain$/);
  });
});

describe('TLS origination to upstreams (DestinationRule tls)', () => {
  let gw: TestGateway;
  let backends: Backend[] = [];
  let port: number;
  let dir: string;
  let upstreamCa: TestCert;

  before(async () => {
    upstreamCa = createCA({ cn: 'Upstream Root' });
    const clientCa = createCA({ cn: 'Gateway Client Root' });
    const gwClient = createLeaf(clientCa, { cn: 'portico-gateway', usage: 'client' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-orig-'));
    writeAtomic(dir, { 'ca.crt': upstreamCa.certPem, 'client.crt': gwClient.certPem, 'client.key': gwClient.keyPem, 'wrong-ca.crt': createCA().certPem });
    const simple = await tlsBackend('simple', createLeaf(upstreamCa, { dns: ['simple.demo.svc.cluster.local'] }));
    const mutual = await tlsBackend('mutual', createLeaf(upstreamCa, { dns: ['mutual.demo.svc.cluster.local'] }), { ca: clientCa.certPem, requireClientCert: true });
    const secretMutual = await tlsBackend('secret-mutual', createLeaf(upstreamCa, { dns: ['api.partner.test'] }), { ca: clientCa.certPem, requireClientCert: true });
    const h2 = await tlsBackend('h2', createLeaf(upstreamCa, { dns: ['h2.demo.svc.cluster.local'] }), { h2: true });
    const wrong = await tlsBackend('wrong', createLeaf(upstreamCa, { dns: ['wrong.demo.svc.cluster.local'] }));
    backends = [simple, mutual, secretMutual, h2, wrong];
    port = await freePort();
    const dr = (name: string, tlsBlock: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: demo}
spec:
  host: ${name}.demo.svc.cluster.local
  trafficPolicy:
    tls: ${tlsBlock}
`;
    gw = await startTestGateway({
      'svc.yaml': [svc('simple', simple.port), svc('mutual', mutual.port), svc('secret-mutual', secretMutual.port), svc('h2', h2.port, { appProtocol: 'http2' }), svc('wrong', wrong.port)].join('---\n'),
      'dr.yaml': [
        dr('simple', `{mode: SIMPLE, caCertificates: ${dir}/ca.crt}`),
        dr('mutual', `{mode: MUTUAL, caCertificates: ${dir}/ca.crt, clientCertificate: ${dir}/client.crt, privateKey: ${dir}/client.key}`),
        dr('secret-mutual', '{mode: MUTUAL, credentialName: partner-client, sni: api.partner.test}'),
        dr('h2', `{mode: SIMPLE, caCertificates: ${dir}/ca.crt}`),
        dr('wrong', `{mode: SIMPLE, caCertificates: ${dir}/wrong-ca.crt}`),
      ].join('---\n'),
      'secret.yaml': tlsSecretYaml('partner-client', 'istio-system', { cert: gwClient.certPem, key: gwClient.keyPem, ca: upstreamCa.certPem }),
      'gw.yaml': `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  servers:
  - port: {number: ${port}, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: orig, namespace: demo}
spec:
  hosts: ["*"]
  gateways: ["istio-system/gw"]
  http:
${['simple', 'mutual', 'secret-mutual', 'h2', 'wrong'].map((n) => `  - match: [{uri: {prefix: /${n}}}]
    route: [{destination: {host: ${n}.demo.svc.cluster.local}}]`).join('\n')}
`,
    });
  });

  after(async () => {
    await gw?.close();
    await Promise.all(backends.map((b) => b.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('SIMPLE: verifies the upstream against caCertificates and sends the service host as SNI', async () => {
    const r = await request(port, { path: '/simple' });
    assert.equal(r.status, 200, r.body);
    const b = JSON.parse(r.body) as { name: string; servername: string; alpn: string; clientCn: string | null };
    assert.equal(b.name, 'simple');
    assert.equal(b.servername, 'simple.demo.svc.cluster.local');
    assert.equal(b.alpn, 'http/1.1');
    assert.equal(b.clientCn, null);
    // Keep-alive reuse of the TLS upstream connection.
    assert.equal((await request(port, { path: '/simple/again' })).status, 200);
  });

  it('MUTUAL: presents the client certificate from files', async () => {
    const r = await request(port, { path: '/mutual' });
    assert.equal(r.status, 200, r.body);
    assert.equal((JSON.parse(r.body) as { clientCn: string }).clientCn, 'portico-gateway');
  });

  it('MUTUAL: credentialName Secret (gateway namespace) and the sni field', async () => {
    const r = await request(port, { path: '/secret-mutual' });
    assert.equal(r.status, 200, r.body);
    const b = JSON.parse(r.body) as { clientCn: string; servername: string };
    assert.equal(b.clientCn, 'portico-gateway');
    assert.equal(b.servername, 'api.partner.test');
  });

  it('originates HTTP/2 by ALPN to an h2 upstream', async () => {
    const r = await request(port, { path: '/h2' });
    assert.equal(r.status, 200, r.body);
    const b = JSON.parse(r.body) as { alpn: string; httpVersion: string };
    assert.equal(b.alpn, 'h2');
    assert.equal(b.httpVersion, '2.0');
  });

  it('refuses an upstream whose certificate the CA does not verify (503, UF)', async () => {
    const r = await request(port, { path: '/wrong' });
    assert.equal(r.status, 503);
    await new Promise((res) => setTimeout(res, 50));
    const line = gw.logs.find((l) => l.path === '/wrong');
    assert.match(line?.response_flags ?? '', /UF/);
  });
});
