/**
 * Validation of certificate material as a whole (before it may replace what is serving) and the
 * inventory view of one certificate. Errors name the part (certificate, key, CA), never content.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { certHash, certTime, commonName, parseSans, rfc2253, splitPemCertificates } from './cert-info.js';
import type { CertSummary, CredentialVersion, Material } from './cert-store.js';

const DAY = 86_400_000;

/** A validated credential, before the store numbers it. */
export type Checked = Omit<CredentialVersion, 'version' | 'loadedAt' | 'digest'>;

/**
 * Validate a credential's material (certificate + key and/or CA bundle) as a whole: every PEM
 * block parses, the key matches the leaf, a CA bundle holds an unexpired certificate, OpenSSL
 * accepts the set.
 */
export function validateMaterial(m: Material, now: number): Checked | { error: string } {
  let chain: X509Certificate[] = [];
  if (m.cert !== undefined) {
    const blocks = splitPemCertificates(m.cert);
    if (blocks.length === 0) return { error: 'the certificate is not PEM (no "BEGIN CERTIFICATE" block)' };
    try {
      chain = blocks.map((b) => new X509Certificate(b));
    } catch (e) {
      return { error: `the certificate PEM does not parse (${(e as Error).message})` };
    }
    if (m.key === undefined) return { error: 'a certificate needs its private key' };
  }
  if (m.key !== undefined) {
    if (m.cert === undefined) return { error: 'a private key needs its certificate' };
    let keyObject;
    try {
      keyObject = createPrivateKey(m.key);
    } catch (e) {
      return { error: `the private key does not parse (${(e as Error).message.replace(/\n[\s\S]*/, '')})` };
    }
    if (!chain[0]!.checkPrivateKey(keyObject)) return { error: 'the private key does not match the certificate' };
  }
  let caCerts: X509Certificate[] = [];
  if (m.ca !== undefined) {
    const blocks = splitPemCertificates(m.ca);
    if (blocks.length === 0) return { error: 'the CA bundle is not PEM (no "BEGIN CERTIFICATE" block)' };
    try {
      caCerts = blocks.map((b) => new X509Certificate(b));
    } catch (e) {
      return { error: `the CA bundle does not parse (${(e as Error).message})` };
    }
    if (caCerts.every((x) => certTime(x.validTo) <= now)) {
      return { error: `every CA certificate in the bundle has expired (latest ${caCerts.map((x) => x.validTo).sort().pop()})` };
    }
  }
  try {
    tls.createSecureContext({
      ...(m.cert !== undefined ? { cert: m.cert } : {}),
      ...(m.key !== undefined ? { key: m.key } : {}),
      ...(m.ca !== undefined ? { ca: m.ca } : {}),
    });
  } catch (e) {
    return { error: `OpenSSL refuses it (${(e as Error).message})` };
  }
  const leaf = chain[0];
  return {
    ...(m.cert !== undefined ? { cert: m.cert } : {}),
    ...(m.key !== undefined ? { key: m.key } : {}),
    ...(m.ca !== undefined ? { ca: m.ca } : {}),
    ...(leaf ? { leaf } : {}),
    chain,
    caCerts,
    leafSans: parseSans(leaf?.subjectAltName),
    ...(leaf && commonName(leaf.subject) ? { leafCn: commonName(leaf.subject)! } : {}),
  };
}

/** One certificate as /certs shows it. */
export function summarize(x: X509Certificate, role: CertSummary['role'], now: number): CertSummary {
  const end = certTime(x.validTo);
  const s = parseSans(x.subjectAltName);
  return {
    role,
    subject: rfc2253(x.subject),
    issuer: rfc2253(x.issuer),
    serial: x.serialNumber,
    sans: [...s.dns.map((d) => `DNS:${d}`), ...s.ip.map((d) => `IP:${d}`), ...s.uri.map((d) => `URI:${d}`), ...s.email.map((d) => `email:${d}`)],
    notBefore: new Date(certTime(x.validFrom)).toISOString(),
    notAfter: new Date(end).toISOString(),
    daysLeft: Math.floor((end - now) / DAY),
    sha256: certHash(x),
  };
}

