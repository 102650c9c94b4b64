/**
 * Test certificates made at runtime with node:crypto and a small DER/X.509 v3 builder: CAs,
 * intermediates, server and client leaves with SANs, expired certificates and mismatched keys.
 * Nothing here is committed to disk except into temp folders the tests create. EC P-256 keys
 * (fast to generate); signatures are ECDSA with SHA-256.
 */
import crypto, { X509Certificate, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import path from 'node:path';
import type tls from 'node:tls';

// ---------------------------------------------------------------- DER primitives

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) { bytes.unshift(n & 0xff); n >>= 8; }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), len(content.length), content]);
}

const seq = (...parts: Buffer[]): Buffer => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]): Buffer => tlv(0x31, Buffer.concat(parts));
const octets = (b: Buffer): Buffer => tlv(0x04, b);
const bitString = (b: Buffer, unused = 0): Buffer => tlv(0x03, Buffer.concat([Buffer.from([unused]), b]));
const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner);

function integer(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0 && (b[i + 1]! & 0x80) === 0) i++;
  let v = b.subarray(i);
  if ((v[0]! & 0x80) !== 0) v = Buffer.concat([Buffer.from([0]), v]);
  return tlv(0x02, v);
}

function oid(s: string): Buffer {
  const p = s.split('.').map(Number);
  const out = [40 * p[0]! + p[1]!];
  for (const n of p.slice(2)) {
    const enc = [n & 0x7f];
    let v = Math.floor(n / 128);
    while (v > 0) { enc.unshift((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
    out.push(...enc);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Buffer {
  const y = d.getUTCFullYear();
  const pad = (n: number) => String(n).padStart(2, '0');
  const rest = `${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(0x17, Buffer.from(`${pad(y % 100)}${rest}`, 'latin1'));
  return tlv(0x18, Buffer.from(`${y}${rest}`, 'latin1'));
}

const NAME_OIDS: Record<string, string> = { CN: '2.5.4.3', O: '2.5.4.10', OU: '2.5.4.11', C: '2.5.4.6', L: '2.5.4.7', ST: '2.5.4.8' };

/** X.501 Name from `[['C','US'],['O','Acme'],['CN','x']]` (most significant first). */
function name(parts: readonly (readonly [string, string])[]): Buffer {
  return seq(...parts.map(([k, v]) => set(seq(oid(NAME_OIDS[k]!), tlv(k === 'C' ? 0x13 : 0x0c, Buffer.from(v, 'utf8'))))));
}

function ext(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

function ipBytes(ip: string): Buffer {
  if (ip.includes(':')) {
    const [head, tail] = ip.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    return Buffer.from(groups.flatMap((g) => { const n = parseInt(g || '0', 16); return [n >> 8, n & 0xff]; }));
  }
  return Buffer.from(ip.split('.').map(Number));
}

// ---------------------------------------------------------------- certificates

/** A certificate with its key. */
export interface TestCert {
  /** PEM of this certificate alone. */
  readonly certPem: string;
  /** PKCS#8 PEM of the private key. */
  readonly keyPem: string;
  readonly key: KeyObject;
  readonly x509: X509Certificate;
  /** Distinguished name parts, most significant first. */
  readonly subject: readonly (readonly [string, string])[];
  /** Certificates above this one up to (not including) the root, leaf-side first: for chains. */
  readonly chain: readonly TestCert[];
  readonly skid: Buffer;
}

export interface CertOptions {
  readonly cn?: string;
  readonly o?: string;
  readonly dns?: readonly string[];
  readonly ips?: readonly string[];
  readonly uris?: readonly string[];
  /** Days from now; negative = in the past. Default -1 and +365. */
  readonly notBeforeDays?: number;
  readonly notAfterDays?: number;
  /** Extended key usage; default both serverAuth and clientAuth for leaves. */
  readonly usage?: 'server' | 'client' | 'both';
}

let serialCounter = 1;

function build(opts: CertOptions & { ca: boolean; pathLen?: number }, issuer: TestCert | undefined): TestCert {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // subjectPublicKey BIT STRING content is the tail of the SPKI; the key id is its SHA-1.
  const skid = crypto.createHash('sha1').update(spki.subarray(spki.length - 65)).digest();
  const subject: [string, string][] = [['O', opts.o ?? 'Portico Test'], ['CN', opts.cn ?? (opts.ca ? 'Test CA' : 'localhost')]];
  const now = Date.now();
  const day = 86_400_000;
  const notBefore = new Date(now + (opts.notBeforeDays ?? -1) * day);
  const notAfter = new Date(now + (opts.notAfterDays ?? 365) * day);
  const serial = Buffer.concat([Buffer.from([0x10 + (serialCounter++ % 0x60)]), crypto.randomBytes(15)]);
  const sigAlg = seq(oid('1.2.840.10045.4.3.2'));
  const exts: Buffer[] = [];
  if (opts.ca) {
    exts.push(ext('2.5.29.19', true, seq(bool(true), ...(opts.pathLen !== undefined ? [integer(Buffer.from([opts.pathLen]))] : []))));
    exts.push(ext('2.5.29.15', true, bitString(Buffer.from([0x06]), 1))); // keyCertSign, cRLSign
  } else {
    exts.push(ext('2.5.29.19', true, seq()));
    exts.push(ext('2.5.29.15', true, bitString(Buffer.from([0x80]), 7))); // digitalSignature
    const usage = opts.usage ?? 'both';
    const ekus = [
      ...(usage !== 'client' ? [oid('1.3.6.1.5.5.7.3.1')] : []),
      ...(usage !== 'server' ? [oid('1.3.6.1.5.5.7.3.2')] : []),
    ];
    exts.push(ext('2.5.29.37', false, seq(...ekus)));
    const names = [
      ...(opts.dns ?? []).map((d) => tlv(0x82, Buffer.from(d, 'latin1'))),
      ...(opts.ips ?? []).map((ip) => tlv(0x87, ipBytes(ip))),
      ...(opts.uris ?? []).map((u) => tlv(0x86, Buffer.from(u, 'latin1'))),
    ];
    if (names.length) exts.push(ext('2.5.29.17', false, seq(...names)));
  }
  exts.push(ext('2.5.29.14', false, octets(skid)));
  const signer = issuer ?? undefined;
  exts.push(ext('2.5.29.35', false, seq(tlv(0x80, signer ? signer.skid : skid))));
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    sigAlg,
    name(signer ? signer.subject : subject),
    seq(time(notBefore), time(notAfter)),
    name(subject),
    spki,
    explicit(3, seq(...exts)),
  );
  const signature = crypto.sign('sha256', tbs, signer ? signer.key : privateKey);
  const der = seq(tbs, sigAlg, bitString(signature));
  const certPem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const chain = signer ? (signer.chain.length || isIntermediate(signer) ? [signer, ...signer.chain] : []) : [];
  return { certPem, keyPem, key: privateKey, x509: new X509Certificate(der), subject, chain, skid };
}

const INTERMEDIATES = new WeakSet<TestCert>();
function isIntermediate(c: TestCert): boolean { return INTERMEDIATES.has(c); }

/** A self-signed root CA. */
export function createCA(opts: CertOptions = {}): TestCert {
  return build({ ...opts, ca: true, cn: opts.cn ?? `Test Root CA ${serialCounter}` }, undefined);
}

/** An intermediate CA signed by `issuer`; leaves it signs carry it in their chain. */
export function createIntermediate(issuer: TestCert, opts: CertOptions = {}): TestCert {
  const c = build({ ...opts, ca: true, pathLen: 0, cn: opts.cn ?? `Test Intermediate CA ${serialCounter}` }, issuer);
  INTERMEDIATES.add(c);
  return c;
}

/** A leaf certificate signed by `issuer`. */
export function createLeaf(issuer: TestCert, opts: CertOptions = {}): TestCert {
  return build({ ...opts, ca: false, cn: opts.cn ?? opts.dns?.[0] ?? 'localhost' }, issuer);
}

/** Leaf PEM followed by its intermediates (what tls.crt holds). */
export function fullChain(c: TestCert): string {
  return [c.certPem, ...c.chain.map((x) => x.certPem)].join('');
}

/** A private key that matches no certificate made here. */
export function strayKeyPem(): string {
  return crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** Write `files` (name → content) into `dir` atomically (write to a temp name, then rename). */
export function writeAtomic(dir: string, files: Record<string, string>): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, content] of Object.entries(files)) {
    const tmp = path.join(dir, `.${f}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, content);
    fs.renameSync(tmp, path.join(dir, f));
  }
}

/** A kubernetes.io/tls Secret (or an Opaque one with cert/key/cacert keys). */
export function tlsSecretYaml(name: string, ns: string, c: { cert?: string; key?: string; ca?: string }, opts: { generic?: boolean } = {}): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const keys = opts.generic ? { cert: 'cert', key: 'key', ca: 'cacert' } : { cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' };
  const data: string[] = [];
  if (c.cert !== undefined) data.push(`  ${keys.cert}: ${b64(c.cert)}`);
  if (c.key !== undefined) data.push(`  ${keys.key}: ${b64(c.key)}`);
  if (c.ca !== undefined) data.push(`  ${keys.ca}: ${b64(c.ca)}`);
  return `apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: ${ns}}
type: ${opts.generic ? 'Opaque' : 'kubernetes.io/tls'}
data:
${data.join('\n')}
`;
}

// ---------------------------------------------------------------- clients


/** What an HTTPS exchange showed. */
export interface TlsResp {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** Leaf the server presented, and the whole chain it sent (leaf first). */
  readonly peer: X509Certificate | undefined;
  readonly chain: readonly string[];
  readonly protocol: string | null;
  readonly alpn: string | false | null;
  readonly cipher: string;
}

export interface TlsClientOptions {
  /** SNI; omit for none (connecting by IP sends no SNI). */
  readonly sni?: string;
  /** Host header (default: the SNI, else 127.0.0.1). */
  readonly host?: string;
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly minVersion?: tls.SecureVersion;
  readonly maxVersion?: tls.SecureVersion;
  readonly ciphers?: string;
  readonly alpn?: string[];
  /** Accept any server certificate (inspect it instead). */
  readonly insecure?: boolean;
  readonly agent?: https.Agent;
}

type HandshakeFacts = Pick<TlsResp, 'peer' | 'chain' | 'protocol' | 'alpn' | 'cipher'>;
const HANDSHAKES = new WeakMap<object, HandshakeFacts>();

/** One HTTPS/1.1 request on a fresh connection (or `agent`), returning what the handshake showed. */
export function httpsRequest(port: number, o: TlsClientOptions = {}): Promise<TlsResp> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port, method: o.method ?? 'GET', path: o.path ?? '/',
      ...(o.sni !== undefined ? { servername: o.sni } : {}),
      headers: { host: o.host ?? o.sni ?? '127.0.0.1', ...(o.headers ?? {}) },
      ...(o.ca ? { ca: o.ca } : {}),
      ...(o.cert ? { cert: o.cert, key: o.key } : {}),
      ...(o.minVersion ? { minVersion: o.minVersion } : {}),
      ...(o.maxVersion ? { maxVersion: o.maxVersion } : {}),
      ...(o.ciphers ? { ciphers: o.ciphers } : {}),
      ...(o.alpn ? { ALPNProtocols: o.alpn } : {}),
      rejectUnauthorized: o.insecure !== true,
      agent: o.agent ?? false,
      checkServerIdentity: () => undefined,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), ...meta }));
      res.on('error', reject);
    });
    // Read the handshake's facts at secureConnect: by the time an empty response is parsed the
    // socket may already be detached.
    let meta: HandshakeFacts = { peer: undefined, chain: [], protocol: null, alpn: null, cipher: '' };
    req.on('socket', (s) => {
      const sock = s as tls.TLSSocket;
      const capture = (): void => {
        const chain: string[] = [];
        let c: tls.DetailedPeerCertificate | undefined = sock.getPeerCertificate(true) as tls.DetailedPeerCertificate;
        const seen = new Set<string>();
        while (c && c.raw && !seen.has(c.fingerprint256)) {
          seen.add(c.fingerprint256);
          chain.push(new X509Certificate(c.raw).subject.replace(/\n/g, ','));
          c = c.issuerCertificate;
        }
        meta = { peer: sock.getPeerX509Certificate(), chain, protocol: sock.getProtocol(), alpn: sock.alpnProtocol, cipher: sock.getCipher().name };
        HANDSHAKES.set(sock, meta);
      };
      // A kept-alive socket did its handshake for an earlier request.
      const known = HANDSHAKES.get(sock);
      if (known) meta = known;
      else sock.once('secureConnect', capture);
    });
    req.on('error', reject);
    req.end();
  });
}

/** One HTTP/2-over-TLS request (ALPN h2) on a fresh session. */
export async function h2Request(port: number, o: TlsClientOptions = {}): Promise<TlsResp> {
  const session = http2.connect(`https://127.0.0.1:${port}`, {
    ...(o.sni !== undefined ? { servername: o.sni } : {}),
    ...(o.ca ? { ca: o.ca } : {}),
    ...(o.cert ? { cert: o.cert, key: o.key } : {}),
    rejectUnauthorized: o.insecure !== true,
    checkServerIdentity: () => undefined,
  });
  try {
    return await new Promise<TlsResp>((resolve, reject) => {
      session.on('error', reject);
      const s = session.request({ ':method': o.method ?? 'GET', ':path': o.path ?? '/', ':authority': o.host ?? o.sni ?? '127.0.0.1', ...(o.headers ?? {}) });
      const chunks: Buffer[] = [];
      let status = 0;
      let headers: Record<string, string | string[] | undefined> = {};
      s.on('response', (h) => { status = Number(h[':status']); headers = h as Record<string, string | string[] | undefined>; });
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('error', reject);
      s.on('end', () => {
        const sock = session.socket as tls.TLSSocket;
        resolve({
          status, headers, body: Buffer.concat(chunks).toString(), peer: sock.getPeerX509Certificate(), chain: [],
          protocol: sock.getProtocol(), alpn: sock.alpnProtocol, cipher: sock.getCipher()?.name ?? '',
        });
      });
      s.end();
    });
  } finally {
    session.close();
  }
}

/** CN of a certificate (for assertions). */
export function cnOf(x: X509Certificate | undefined): string | undefined {
  return x?.subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3);
}
