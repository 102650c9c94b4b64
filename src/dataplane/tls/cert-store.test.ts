import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createCA, createLeaf, fullChain, strayKeyPem, writeAtomic } from '../../../test/helpers/tls.js';
import { fileCredential, secretKey } from '../../config/translate/tls/credentials.js';
import { CertStore, exportCertificateExpiry, validateMaterial } from './cert-store.js';

function memLog() {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const push = (level: string) => (msg: string, fields?: Record<string, unknown>) => { lines.push({ level, msg, ...(fields ? { fields } : {}) }); };
  return { lines, log: { info: push('info'), warn: push('warn'), error: push('error') } };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, ms = 2000): Promise<number> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met');
    await sleep(10);
  }
  return Date.now() - t0;
}

describe('validateMaterial', () => {
  const ca = createCA();
  const leaf = createLeaf(ca, { dns: ['a.test'] });
  const now = Date.now();

  it('accepts a matching pair and a CA bundle, leaf first', () => {
    const v = validateMaterial({ cert: leaf.certPem, key: leaf.keyPem, ca: ca.certPem }, now);
    assert.ok(!('error' in v));
    if (!('error' in v)) {
      assert.deepEqual(v.leafSans.dns, ['a.test']);
      assert.equal(v.caCerts.length, 1);
    }
  });

  it('rejects a key that does not match, unparsable PEM, a lone key or cert, and an expired CA', () => {
    const err = (m: Parameters<typeof validateMaterial>[0]) => {
      const v = validateMaterial(m, now);
      return 'error' in v ? v.error : '';
    };
    assert.match(err({ cert: leaf.certPem, key: strayKeyPem() }), /does not match the certificate/);
    assert.match(err({ cert: 'garbage', key: leaf.keyPem }), /not PEM/);
    assert.match(err({ cert: leaf.certPem.replace(/[A-Za-z]{20}/, 'AAAAAAAAAAAAAAAAAAAA'), key: leaf.keyPem }), /does not parse|does not match/);
    assert.match(err({ cert: leaf.certPem, key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }), /private key does not parse/);
    assert.match(err({ cert: leaf.certPem }), /needs its private key/);
    const expiredCa = createCA({ notBeforeDays: -30, notAfterDays: -1 });
    assert.match(err({ ca: expiredCa.certPem }), /every CA certificate in the bundle has expired/);
    // One valid CA among expired ones is fine.
    assert.equal(err({ ca: expiredCa.certPem + ca.certPem }), '');
  });

  it('never puts key material in an error message', () => {
    const key = strayKeyPem();
    const v = validateMaterial({ cert: leaf.certPem, key }, now);
    assert.ok('error' in v && !v.error.includes(key.split('\n')[1]!));
  });
});

describe('CertStore', () => {
  const dirs: string[] = [];
  const stores: CertStore[] = [];
  after(() => {
    for (const s of stores) s.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  const tmp = () => { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-certs-')); dirs.push(d); return d; };
  const store = (opts: Partial<ConstructorParameters<typeof CertStore>[0]> = {}) => {
    const m = memLog();
    const s = new CertStore({ log: m.log, ...opts });
    stores.push(s);
    return { s, lines: m.lines };
  };

  it('loads Secret material, rotates it, and keeps the old version when the new one is broken', () => {
    const { s, lines } = store();
    const ca = createCA();
    const one = createLeaf(ca, { dns: ['a.test'] });
    const two = createLeaf(ca, { dns: ['a.test'] });
    const key = secretKey('istio-system', 'a');
    s.updateSecrets(new Map([[key, { cert: one.certPem, key: one.keyPem }]]));
    s.retain([{ key, source: 'secret', secret: 'istio-system/a' }]);
    assert.equal(s.get(key)!.current!.version, 1);
    s.updateSecrets(new Map([[key, { cert: two.certPem, key: two.keyPem }]]));
    assert.equal(s.get(key)!.current!.version, 2);
    assert.equal(s.get(key)!.current!.leaf!.serialNumber, two.x509.serialNumber);
    s.updateSecrets(new Map([[key, { cert: one.certPem, key: two.keyPem }]]));
    assert.equal(s.get(key)!.current!.leaf!.serialNumber, two.x509.serialNumber, 'previous kept');
    assert.match(s.get(key)!.lastError!, /does not match/);
    const rejected = lines.filter((l) => l.fields?.code === 'TLS_CREDENTIAL_REJECTED');
    assert.equal(rejected.length, 1);
    assert.match(rejected[0]!.msg, /Secret "istio-system\/a".*previous certificate keeps serving/);
    // The same broken material again is not logged again.
    s.updateSecrets(new Map([[key, { cert: one.certPem, key: two.keyPem }]]));
    assert.equal(lines.filter((l) => l.fields?.code === 'TLS_CREDENTIAL_REJECTED').length, 1);
  });

  it('reloads file credentials within 1 s of an atomic replace, ignoring a half-done cert/key swap', async () => {
    const { s, lines } = store();
    const dir = tmp();
    const ca = createCA();
    const one = createLeaf(ca, { dns: ['f.test'] });
    const two = createLeaf(ca, { dns: ['f.test'] });
    writeAtomic(dir, { 'tls.crt': one.certPem, 'tls.key': one.keyPem });
    const ir = fileCredential(path.join(dir, 'tls.crt'), path.join(dir, 'tls.key'), undefined);
    s.retain([ir]);
    assert.equal(s.get(ir.key)!.current!.leaf!.serialNumber, one.x509.serialNumber);
    // Replace the certificate first, the key 100 ms later: the mismatch in between is not a rotation or an error.
    writeAtomic(dir, { 'tls.crt': two.certPem });
    await sleep(100);
    writeAtomic(dir, { 'tls.key': two.keyPem });
    const ms = await until(() => s.get(ir.key)!.current!.leaf!.serialNumber === two.x509.serialNumber);
    assert.ok(ms < 1000, `rotated after ${ms} ms`);
    assert.equal(lines.filter((l) => l.level === 'error').length, 0);
    assert.equal(s.get(ir.key)!.current!.version, 2);
  });

  it('keeps serving the old pair when a file write leaves a mismatched key, and says why', async () => {
    const { s, lines } = store();
    const dir = tmp();
    const ca = createCA();
    const one = createLeaf(ca, { dns: ['g.test'] });
    writeAtomic(dir, { 'tls.crt': one.certPem, 'tls.key': one.keyPem });
    const ir = fileCredential(path.join(dir, 'tls.crt'), path.join(dir, 'tls.key'), undefined);
    s.retain([ir]);
    writeAtomic(dir, { 'tls.key': strayKeyPem() });
    await until(() => s.get(ir.key)!.lastError !== undefined);
    assert.equal(s.get(ir.key)!.current!.leaf!.serialNumber, one.x509.serialNumber);
    assert.ok(lines.some((l) => l.fields?.code === 'TLS_CREDENTIAL_REJECTED' && /tls\.key/.test(l.msg) && /previous certificate keeps serving/.test(l.msg)));
  });

  it('reports a missing file as unavailable until it appears', async () => {
    const { s, lines } = store();
    const dir = tmp();
    const ir = fileCredential(path.join(dir, 'late.crt'), path.join(dir, 'late.key'), undefined);
    s.retain([ir]);
    assert.equal(s.get(ir.key)!.current, undefined);
    assert.ok(lines.some((l) => l.fields?.code === 'TLS_CREDENTIAL_UNAVAILABLE'));
    const leaf = createLeaf(createCA(), { dns: ['late.test'] });
    writeAtomic(dir, { 'late.key': leaf.keyPem, 'late.crt': leaf.certPem });
    await until(() => s.get(ir.key)!.current !== undefined);
  });

  it('warns within the window, errors once expired, and exports one gauge series per certificate', () => {
    const { s, lines } = store({ warnDays: 30 });
    const ca = createCA();
    const soon = createLeaf(ca, { dns: ['soon.test'], notAfterDays: 10 });
    const gone = createLeaf(ca, { dns: ['gone.test'], notBeforeDays: -20, notAfterDays: -2 });
    const k1 = secretKey('ns', 'soon');
    const k2 = secretKey('ns', 'gone');
    s.updateSecrets(new Map([[k1, { cert: soon.certPem, key: soon.keyPem, ca: ca.certPem }], [k2, { cert: gone.certPem, key: gone.keyPem }]]));
    const warn = lines.find((l) => l.fields?.code === 'TLS_CERT_EXPIRING');
    assert.match(warn!.msg, /"CN=soon\.test,O=Portico Test" of Secret "ns\/soon" expires in 9 days/);
    assert.ok(lines.some((l) => l.level === 'error' && l.fields?.code === 'TLS_CERT_EXPIRED' && /gone\.test/.test(l.msg)));
    const before = lines.length;
    s.checkExpiry();
    assert.equal(lines.length, before, 'logged once per day');
    const series = new Map<string, number | undefined>();
    exportCertificateExpiry(s, { setCertificateExpiry: (l, v) => { series.set(JSON.stringify(l), v); } });
    const live = [...series.entries()].filter(([, v]) => v !== undefined);
    assert.equal(live.length, 3); // two leaves + one CA
    const soonSeries = live.find(([k]) => k.includes('soon.test'))!;
    assert.equal(soonSeries[1], Math.floor(Date.parse(soon.x509.validTo) / 1000));
    s.retain([{ key: k1, source: 'secret', secret: 'ns/soon' }]);
    assert.ok([...series.entries()].some(([k, v]) => k.includes('gone.test') && v === undefined), 'removed with its credential');
  });

  it('lists the inventory without key material', () => {
    const { s } = store();
    const ca = createCA({ cn: 'Inv CA' });
    const leaf = createLeaf(ca, { dns: ['inv.test', '*.inv.test'], ips: ['10.0.0.1'] });
    const k = secretKey('ns', 'inv');
    s.updateSecrets(new Map([[k, { cert: fullChain(leaf), key: leaf.keyPem }]]));
    const inv = s.inventory();
    const entry = inv.find((e) => e.key === k)!;
    assert.deepEqual(entry.source, { type: 'secret', secret: 'ns/inv' });
    const c = entry.certificates[0]!;
    assert.equal(c.role, 'leaf');
    assert.equal(c.subject, 'CN=inv.test,O=Portico Test');
    assert.equal(c.issuer, 'CN=Inv CA,O=Portico Test');
    assert.deepEqual(c.sans, ['DNS:inv.test', 'DNS:*.inv.test', 'IP:10.0.0.1']);
    assert.equal(c.serial, leaf.x509.serialNumber);
    assert.ok(c.daysLeft >= 363 && c.daysLeft <= 365);
    assert.ok(!JSON.stringify(inv).includes('PRIVATE KEY'));
  });
});
