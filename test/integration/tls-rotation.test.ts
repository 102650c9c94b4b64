/**
 * Live certificate rotation over real sockets: file certificates (atomic renames, a cert/key
 * pair replaced one file at a time) and Secrets reach new handshakes within 1 s under steady
 * HTTPS load (keep-alive and new connections) with zero failed requests; established
 * connections continue; a broken pair or an expired CA is rejected and the previous material
 * keeps serving; GET /certs lists it all.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { EchoServer } from '../../src/cli/echo.js';
import { freePort, getJson, request, serviceYaml, sleep, startEchos, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { createCA, createLeaf, httpsRequest, strayKeyPem, tlsSecretYaml, writeAtomic, type TestCert } from '../helpers/tls.js';

interface Inventory {
  warningDays: number;
  credentials: {
    key: string; source: Record<string, string>; version: number; error?: string;
    certificates: { role: string; subject: string; issuer: string; serial: string; sans: string[]; notBefore: string; notAfter: string; daysLeft: number }[];
    usedBy: { role: string; listener?: string; port?: number; server?: string; sniHosts?: string[]; hostsServed?: string[] }[];
  }[];
}

describe('certificate rotation', () => {
  let gw: TestGateway;
  let echo: EchoServer;
  let port: number;
  let certDir: string;
  let ca: TestCert;
  let clientCa: TestCert;
  let client: TestCert;

  const gatewayYaml = (p: number, dir: string) => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: rot, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: ${p}, name: https-file, protocol: HTTPS}
    hosts: ["file.test"]
    tls: {mode: SIMPLE, serverCertificate: ${dir}/tls.crt, privateKey: ${dir}/tls.key}
  - port: {number: ${p}, name: https-secret, protocol: HTTPS}
    hosts: ["secret.test"]
    tls: {mode: SIMPLE, credentialName: secret-cert}
  - port: {number: ${p}, name: https-mtls, protocol: HTTPS}
    hosts: ["mtls.test"]
    tls: {mode: MUTUAL, serverCertificate: ${dir}/mtls.crt, privateKey: ${dir}/mtls.key, caCertificates: ${dir}/client-ca.crt}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: all, namespace: demo}
spec:
  hosts: ["file.test", "secret.test", "mtls.test"]
  gateways: ["istio-system/rot"]
  http:
  - route: [{destination: {host: echo.demo.svc.cluster.local}}]
`;

  before(async () => {
    ca = createCA({ cn: 'Rotation Root' });
    clientCa = createCA({ cn: 'Rotation Client Root' });
    client = createLeaf(clientCa, { cn: 'rot-client', usage: 'client' });
    certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-rot-'));
    const f1 = createLeaf(ca, { dns: ['file.test'] });
    const m1 = createLeaf(ca, { dns: ['mtls.test'] });
    writeAtomic(certDir, { 'tls.crt': f1.certPem, 'tls.key': f1.keyPem, 'mtls.crt': m1.certPem, 'mtls.key': m1.keyPem, 'client-ca.crt': clientCa.certPem });
    const s1 = createLeaf(ca, { dns: ['secret.test'] });
    [echo] = await startEchos('echo');
    port = await freePort();
    gw = await startTestGateway({
      'gw.yaml': gatewayYaml(port, certDir),
      'svc.yaml': serviceYaml('echo', [echo!.port]),
      'secret.yaml': tlsSecretYaml('secret-cert', 'istio-system', { cert: s1.certPem, key: s1.keyPem }),
    });
  });

  after(async () => {
    await gw?.close();
    await echo?.close();
    fs.rmSync(certDir, { recursive: true, force: true });
  });

  const serialOf = async (sni: string): Promise<string> => (await httpsRequest(port, { sni, ca: ca.certPem })).peer!.serialNumber;

  /** Steady load on one SNI: keep-alive clients and new-connection clients, until `stop()`. */
  function steadyLoad(sni: string) {
    let running = true;
    const stats = { ok: 0, failed: 0, errors: [] as string[], keepAliveOk: 0, newConnOk: 0 };
    const agent = new https.Agent({ keepAlive: true, maxSockets: 2 });
    const loop = async (keepAlive: boolean) => {
      while (running) {
        try {
          const r = await httpsRequest(port, { sni, ca: ca.certPem, ...(keepAlive ? { agent } : {}) });
          if (r.status === 200) { stats.ok++; if (keepAlive) stats.keepAliveOk++; else stats.newConnOk++; } else { stats.failed++; stats.errors.push(`status ${r.status}`); }
        } catch (e) {
          stats.failed++;
          stats.errors.push((e as Error).message);
        }
      }
    };
    const loops = [loop(true), loop(true), loop(false), loop(false)];
    return {
      stats,
      agent,
      async stop() { running = false; await Promise.all(loops); agent.destroy(); return stats; },
    };
  }

  it('rotates a file certificate under load: new handshakes within 1 s, zero failed requests, open connections continue', async (t) => {
    const before = await serialOf('file.test');
    // An established connection opened before the rotation.
    const held = tls.connect({ port, host: '127.0.0.1', servername: 'file.test', ca: ca.certPem });
    await new Promise<void>((r) => held.once('secureConnect', () => r()));
    const heldSerial = held.getPeerX509Certificate()!.serialNumber;
    const load = steadyLoad('file.test');
    await sleep(400);
    const f2 = createLeaf(ca, { dns: ['file.test'] });
    // Replace the certificate first and the key 50 ms later, as a naive tool would.
    const t0 = Date.now();
    writeAtomic(certDir, { 'tls.crt': f2.certPem });
    await sleep(50);
    writeAtomic(certDir, { 'tls.key': f2.keyPem });
    let seen = before;
    while (seen !== f2.x509.serialNumber) {
      assert.ok(Date.now() - t0 < 1500, 'new certificate reached new handshakes in time');
      seen = await serialOf('file.test');
    }
    const latency = Date.now() - t0;
    await sleep(400);
    const stats = await load.stop();
    assert.equal(stats.failed, 0, `failures: ${stats.errors.slice(0, 3).join('; ')}`);
    assert.ok(stats.keepAliveOk > 20 && stats.newConnOk > 20, `load ran: ${JSON.stringify({ ka: stats.keepAliveOk, nc: stats.newConnOk })}`);
    assert.ok(latency < 1000, `rotation visible after ${latency} ms`);
    t.diagnostic(`file rotation visible after ${latency} ms; ${stats.keepAliveOk} keep-alive + ${stats.newConnOk} new-connection requests, ${stats.failed} failed`);
    // The connection opened before still works, on its original certificate.
    const answer = await new Promise<string>((resolve) => {
      held.once('data', (d) => resolve(d.toString()));
      held.write('GET /held HTTP/1.1\r\nhost: file.test\r\n\r\n');
    });
    assert.match(answer, /^HTTP\/1\.1 200/);
    assert.equal(heldSerial, before);
    held.destroy();
  });

  it('keeps the previous certificate when the new key does not match, and /certs says why', async () => {
    const before = await serialOf('file.test');
    writeAtomic(certDir, { 'tls.key': strayKeyPem() });
    const inv = async () => (await getJson<Inventory>(gw.adminPort, '/certs')).credentials.find((c) => c.source['cert'] === `${certDir}/tls.crt`)!;
    const t0 = Date.now();
    while (!(await inv()).error) { assert.ok(Date.now() - t0 < 2000); await sleep(25); }
    assert.match((await inv()).error!, /private key does not match the certificate/);
    assert.equal(await serialOf('file.test'), before);
    // Fixing the files recovers.
    const f3 = createLeaf(ca, { dns: ['file.test'] });
    writeAtomic(certDir, { 'tls.key': f3.keyPem, 'tls.crt': f3.certPem });
    while ((await serialOf('file.test')) !== f3.x509.serialNumber) { assert.ok(Date.now() - t0 < 3000); await sleep(25); }
    assert.equal((await inv()).error, undefined);
  });

  it('rotates a Secret (cert-manager style) within 1 s under load, and refuses a broken one', async (t) => {
    const load = steadyLoad('secret.test');
    await sleep(300);
    const s2 = createLeaf(ca, { dns: ['secret.test'] });
    const t0 = Date.now();
    await gw.write('secret.yaml', tlsSecretYaml('secret-cert', 'istio-system', { cert: s2.certPem, key: s2.keyPem }));
    while ((await serialOf('secret.test')) !== s2.x509.serialNumber) { assert.ok(Date.now() - t0 < 1500); await sleep(10); }
    const latency = Date.now() - t0;
    await sleep(300);
    const stats = await load.stop();
    assert.equal(stats.failed, 0, stats.errors.slice(0, 3).join('; '));
    assert.ok(latency < 1000, `Secret rotation visible after ${latency} ms`);
    t.diagnostic(`Secret rotation visible after ${latency} ms; ${stats.ok} requests, ${stats.failed} failed`);
    // A Secret whose key does not match: the old certificate keeps serving.
    await gw.write('secret.yaml', tlsSecretYaml('secret-cert', 'istio-system', { cert: createLeaf(ca, { dns: ['secret.test'] }).certPem, key: strayKeyPem() }));
    await sleep(100);
    assert.equal(await serialOf('secret.test'), s2.x509.serialNumber);
    const entry = (await getJson<Inventory>(gw.adminPort, '/certs')).credentials.find((c) => c.key === 'secret:istio-system/secret-cert')!;
    assert.match(entry.error!, /does not match/);
  });

  it('refuses an expired CA bundle: clients of the previous CA keep working', async () => {
    const ok = () => httpsRequest(port, { sni: 'mtls.test', ca: ca.certPem, cert: client.certPem, key: client.keyPem });
    assert.equal((await ok()).status, 200);
    writeAtomic(certDir, { 'client-ca.crt': createCA({ cn: 'Expired Root', notBeforeDays: -10, notAfterDays: -1 }).certPem });
    const inv = async () => (await getJson<Inventory>(gw.adminPort, '/certs')).credentials.find((c) => c.source['ca'] === `${certDir}/client-ca.crt`)!;
    const t0 = Date.now();
    while (!(await inv()).error) { assert.ok(Date.now() - t0 < 2000); await sleep(25); }
    assert.match((await inv()).error!, /every CA certificate in the bundle has expired/);
    assert.equal((await ok()).status, 200);
  });

  it('lists every certificate in use with its source, validity and the hosts it serves (GET /certs)', async () => {
    const inv = await getJson<Inventory>(gw.adminPort, '/certs');
    assert.equal(inv.warningDays, 30);
    const file = inv.credentials.find((c) => c.source['cert'] === `${certDir}/tls.crt`)!;
    assert.deepEqual(file.source, { type: 'file', cert: `${certDir}/tls.crt`, key: `${certDir}/tls.key` });
    const leaf = file.certificates[0]!;
    assert.equal(leaf.role, 'leaf');
    assert.equal(leaf.subject, 'CN=file.test,O=Portico Test');
    assert.equal(leaf.issuer, 'CN=Rotation Root,O=Portico Test');
    assert.deepEqual(leaf.sans, ['DNS:file.test']);
    assert.ok(leaf.daysLeft >= 363);
    assert.ok(Date.parse(leaf.notAfter) > Date.parse(leaf.notBefore));
    assert.deepEqual(file.usedBy, [{
      role: 'server', listener: `127.0.0.1:${port}`, port, server: 'gateway/istio-system/rot/server/0', mode: 'SIMPLE',
      sniHosts: ['file.test'], hostsServed: ['file.test'],
    }]);
    const secret = inv.credentials.find((c) => c.key === 'secret:istio-system/secret-cert')!;
    assert.deepEqual(secret.source, { type: 'secret', secret: 'istio-system/secret-cert' });
    const mtlsCa = inv.credentials.find((c) => c.source['ca'] === `${certDir}/client-ca.crt`)!;
    assert.ok(mtlsCa.usedBy.some((u) => u.role === 'client-ca' && u.port === port));
    assert.ok(mtlsCa.certificates.some((c) => c.role === 'ca' && c.subject === 'CN=Rotation Client Root,O=Portico Test'));
    assert.ok(!JSON.stringify(inv).includes('PRIVATE KEY'));
    // The expiry gauge: one series per certificate in use, notAfter as Unix time.
    const prom = (await request(gw.adminPort, { path: '/stats/prometheus', host: '127.0.0.1' })).body;
    const line = prom.split('\n').find((l) => l.startsWith('portico_certificate_expiry_timestamp_seconds{') && l.includes('subject="CN=file.test,O=Portico Test"'));
    assert.ok(line, 'gauge series for the file certificate');
    assert.equal(Number(line.split(' ').pop()), Math.floor(Date.parse(leaf.notAfter) / 1000));
  });
});
