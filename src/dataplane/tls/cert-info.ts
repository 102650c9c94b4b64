/**
 * Certificate facts for the inventory, SNI selection and X-Forwarded-Client-Cert: PEM splitting,
 * SAN lists, RFC 2253 subjects, fingerprints. Built on node:crypto X509Certificate.
 */
import { createHash, X509Certificate } from 'node:crypto';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Every CERTIFICATE block of a PEM bundle (leaf first for tls.crt). */
export function splitPemCertificates(pem: string): string[] {
  return pem.match(PEM_CERT) ?? [];
}

/** Subject alternative names by type. */
export interface Sans {
  readonly dns: readonly string[];
  readonly uri: readonly string[];
  readonly ip: readonly string[];
  readonly email: readonly string[];
}

const EMPTY_SANS: Sans = { dns: [], uri: [], ip: [], email: [] };

/**
 * Parse X509Certificate.subjectAltName (`DNS:a, URI:spiffe://x, IP Address:1.2.3.4`). Values Node
 * had to escape are JSON-quoted (`DNS:"a, b"`) since v17.3.1; both forms are handled.
 */
export function parseSans(text: string | undefined): Sans {
  if (!text) return EMPTY_SANS;
  const out = { dns: [] as string[], uri: [] as string[], ip: [] as string[], email: [] as string[] };
  const re = /(DNS|URI|IP Address|email|othername|DirName|Registered ID):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    let v = m[2]!;
    if (v.startsWith('"')) { try { v = JSON.parse(v) as string; } catch { /* keep raw */ } }
    switch (m[1]) {
      case 'DNS': out.dns.push(v.toLowerCase()); break;
      case 'URI': out.uri.push(v); break;
      case 'IP Address': out.ip.push(v); break;
      case 'email': out.email.push(v); break;
      default: break;
    }
    if (m[0] === '') break;
  }
  return out;
}

/**
 * A distinguished name in RFC 2253 order (most specific first, comma separated), the form
 * Envoy uses for XFCC `Subject` and its access log: `CN=client,O=Acme`. Node gives one
 * `KEY=value` per line, most significant first.
 */
export function rfc2253(nodeDn: string | undefined): string {
  if (!nodeDn) return '';
  return nodeDn.split('\n').filter(Boolean).reverse().map((line) => {
    const eq = line.indexOf('=');
    if (eq < 0) return line;
    const value = line.slice(eq + 1).replace(/([,+"\\<>;])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
    return `${line.slice(0, eq)}=${value}`;
  }).join(',');
}

/** SHA-256 of the DER, lower-case hex (XFCC Hash, Istio verifyCertificateHash). */
export function certHash(x: X509Certificate): string {
  return createHash('sha256').update(x.raw).digest('hex');
}

/** Base64 SHA-256 of the DER SubjectPublicKeyInfo (Istio verifyCertificateSpki). */
export function spkiHash(x: X509Certificate): string {
  const spki = x.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** Milliseconds since the epoch of a validFrom/validTo string. */
export function certTime(s: string): number {
  return Date.parse(s);
}

/** Which credential's leaf serves a SNI best: 2 = exact SAN, 1 = wildcard SAN, 0 = none. */
export function sniScore(sans: Sans, cn: string | undefined, sni: string | undefined): number {
  if (sni === undefined) return 0;
  const names = sans.dns.length > 0 ? sans.dns : cn ? [cn.toLowerCase()] : [];
  let best = 0;
  for (const n of names) {
    if (n === sni) return 2;
    // RFC 6125 §6.4.3: `*.example.com` matches exactly one label.
    if (n.startsWith('*.')) {
      const suffix = n.slice(1);
      if (sni.endsWith(suffix) && sni.indexOf('.') === sni.length - suffix.length) best = 1;
    }
  }
  return best;
}

/** The CN of a Node DN string. */
export function commonName(nodeDn: string | undefined): string | undefined {
  if (!nodeDn) return undefined;
  for (const line of nodeDn.split('\n')) if (line.startsWith('CN=')) return line.slice(3);
  return undefined;
}

/** Parse a PEM certificate; undefined when it is not one. */
export function tryX509(pem: string): X509Certificate | undefined {
  try { return new X509Certificate(pem); } catch { return undefined; }
}
