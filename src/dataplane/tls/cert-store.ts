/**
 * The certificate store: every credential (server certificate and key, client CA, upstream client
 * certificate) in use, keyed by CredentialIR.key, living across snapshots like the registry's
 * pools (STYLE.md §4). Rotation happens here and never rebinds a listener:
 *
 * - Secret material arrives with each translation (`updateSecrets`); file credentials are read
 *   from disk and their directories watched (config tools and Kubernetes mounts replace files by
 *   rename, so directories, not inodes), with a 2-second stat poll as a safety net.
 * - New material is validated as a whole before it replaces the old: every PEM block parses, the
 *   key matches the leaf, a CA bundle holds at least one unexpired certificate, and OpenSSL
 *   accepts the set. Otherwise TLS_CREDENTIAL_REJECTED is logged and the previous version keeps
 *   serving. A file read that fails validation is retried once after 300 ms before it counts, so
 *   a half-written file or a cert/key pair replaced one file at a time is not an error.
 * - Each accepted change bumps `version`; TLS servers compare versions on every new connection,
 *   so new handshakes use the new certificate within one watch event while established
 *   connections keep theirs.
 *
 * Key material never leaves this module except into node:tls; messages name files and Secrets,
 * never contents.
 */
import { createHash, type X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { CredentialIR } from '../../config/ir/types.js';
import { certTime, rfc2253, type Sans } from './cert-info.js';
import { summarize, validateMaterial } from './material.js';

export { validateMaterial } from './material.js';
export { exportCertificateExpiry } from './expiry-gauge.js';

/** Operational log sink (runtime Logger). */
export interface StoreLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** PEM parts as they come from a Secret or files. */
export interface Material {
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
}

/** One accepted version of a credential. */
export interface CredentialVersion {
  readonly version: number;
  /** PEM, leaf first then intermediates (served whole). */
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
  readonly leaf?: X509Certificate;
  readonly chain: readonly X509Certificate[];
  readonly caCerts: readonly X509Certificate[];
  readonly leafSans: Sans;
  readonly leafCn?: string;
  readonly loadedAt: number;
  readonly digest: string;
}

/** A live credential. */
export interface Credential {
  readonly ir: CredentialIR;
  /** undefined until a valid version was loaded once. */
  readonly current: CredentialVersion | undefined;
  /** Why the last change was rejected (or why nothing could be loaded), if it was. */
  readonly lastError: string | undefined;
}

class LiveCredential implements Credential {
  ir: CredentialIR;
  current: CredentialVersion | undefined;
  lastError: string | undefined;
  /** Digest of the last material looked at (accepted or rejected): unchanged input is skipped. */
  seenDigest = '';
  retry: NodeJS.Timeout | undefined;
  stamp = '';
  constructor(ir: CredentialIR) { this.ir = ir; }
}

export interface CertStoreOptions {
  readonly log: StoreLog;
  /** Warn this many days before a certificate expires (default 30). */
  readonly warnDays?: number;
  /** Stat poll interval for file credentials (default 2000 ms; 0 disables). */
  readonly pollMs?: number;
  readonly now?: () => number;
}

const DAY = 86_400_000;

/** One certificate in the inventory (admin /certs, expiry gauge). */
export interface CertSummary {
  readonly role: 'leaf' | 'intermediate' | 'ca';
  readonly subject: string;
  readonly issuer: string;
  readonly serial: string;
  readonly sans: readonly string[];
  readonly notBefore: string;
  readonly notAfter: string;
  readonly daysLeft: number;
  readonly sha256: string;
}

/** A credential with its certificates, for /certs. */
export interface CredentialSummary {
  readonly key: string;
  readonly source: { readonly type: 'file'; readonly cert?: string; readonly key?: string; readonly ca?: string }
    | { readonly type: 'secret'; readonly secret: string; readonly caSecret?: string };
  readonly version: number;
  readonly loadedAt?: string;
  readonly error?: string;
  readonly certificates: readonly CertSummary[];
}

/** Expiry of one certificate in use, for a Prometheus gauge (seconds since the epoch). */
export interface CertExpiry {
  readonly labels: { readonly credential: string; readonly source: string; readonly role: string; readonly subject: string; readonly serial: string };
  readonly expirySeconds: number;
}

export class CertStore {
  readonly #creds = new Map<string, LiveCredential>();
  readonly #watchers = new Map<string, fs.FSWatcher>();
  readonly #dirTimers = new Map<string, NodeJS.Timeout>();
  readonly #opts: CertStoreOptions;
  readonly #warnDays: number;
  readonly #now: () => number;
  #poll: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  /** `key|version|level|day` of expiry messages already logged. */
  readonly #expiryLogged = new Set<string>();
  readonly #listeners = new Set<(key: string) => void>();

  constructor(opts: CertStoreOptions) {
    this.#opts = opts;
    this.#warnDays = opts.warnDays ?? 30;
    this.#now = opts.now ?? Date.now;
    this.#expiryTimer = setInterval(() => this.checkExpiry(), 3_600_000);
    this.#expiryTimer.unref();
  }

  get warnDays(): number { return this.#warnDays; }

  /** The credential for a key, or undefined when unknown. */
  get(key: string): Credential | undefined { return this.#creds.get(key); }

  /** Be told after every accepted change (key of the credential). */
  onChange(fn: (key: string) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * Secret material from a translation. Material whose digest did not change since the last
   * look is skipped, so a rejected Secret is logged once, not on every reload.
   */
  updateSecrets(material: ReadonlyMap<string, Material>): void {
    for (const [key, m] of material) {
      if (!key.startsWith('secret:')) continue;
      let c = this.#creds.get(key);
      if (!c) {
        const secret = key.slice('secret:'.length);
        c = new LiveCredential({ key, source: 'secret', secret });
        this.#creds.set(key, c);
      }
      this.#offer(c, m, `Secret "${key.slice(7)}"`);
    }
  }

  /**
   * The credentials the new snapshot uses. Unknown file credentials are loaded now (so the first
   * handshake has them) and their directories watched; credentials no longer used are dropped.
   */
  retain(irs: Iterable<CredentialIR>): void {
    const wanted = new Map<string, CredentialIR>();
    for (const ir of irs) wanted.set(ir.key, ir);
    for (const [key, ir] of wanted) {
      let c = this.#creds.get(key);
      if (!c) {
        c = new LiveCredential(ir);
        this.#creds.set(key, c);
        if (ir.source === 'file') this.#loadFiles(c, false);
        else if (!c.current) c.lastError = `Secret "${ir.secret}" has not been seen`;
      } else if (ir.caSecret !== c.ir.caSecret) {
        c.ir = ir;
      }
    }
    for (const [key, c] of this.#creds) {
      if (wanted.has(key)) continue;
      if (c.retry) clearTimeout(c.retry);
      this.#creds.delete(key);
      this.#notify(key);
    }
    this.#syncWatches();
  }

  /** Log expiry warnings/errors for every certificate in use (also run hourly). */
  checkExpiry(): void {
    const now = this.#now();
    const day = Math.floor(now / DAY);
    for (const c of this.#creds.values()) {
      const v = c.current;
      if (!v) continue;
      const certs: [string, X509Certificate][] = [
        ...(v.leaf ? [['certificate', v.leaf] as [string, X509Certificate]] : []),
        ...v.caCerts.map((x) => ['CA certificate', x] as [string, X509Certificate]),
      ];
      for (const [what, x] of certs) {
        const end = certTime(x.validTo);
        const days = Math.floor((end - now) / DAY);
        const level = end <= now ? 'expired' : days < this.#warnDays ? 'expiring' : undefined;
        if (!level) continue;
        const id = `${c.ir.key}|${v.version}|${x.serialNumber}|${level}|${day}`;
        if (this.#expiryLogged.has(id)) continue;
        this.#expiryLogged.add(id);
        const subject = rfc2253(x.subject);
        if (level === 'expired') {
          this.#opts.log.error(`TLS_CERT_EXPIRED: The ${what} "${subject}" of ${describe(c.ir)} expired on ${new Date(end).toISOString()}`,
            { code: 'TLS_CERT_EXPIRED', credential: c.ir.key, serial: x.serialNumber });
        } else {
          this.#opts.log.warn(`TLS_CERT_EXPIRING: The ${what} "${subject}" of ${describe(c.ir)} expires in ${days} days (${new Date(end).toISOString()})`,
            { code: 'TLS_CERT_EXPIRING', credential: c.ir.key, serial: x.serialNumber, daysLeft: days });
        }
      }
    }
  }

  /** Every credential with its certificates (no key material). */
  inventory(): CredentialSummary[] {
    const now = this.#now();
    return [...this.#creds.values()].sort((a, b) => (a.ir.key < b.ir.key ? -1 : 1)).map((c) => {
      const v = c.current;
      const certs: CertSummary[] = [];
      if (v) {
        v.chain.forEach((x, i) => certs.push(summarize(x, i === 0 ? 'leaf' : 'intermediate', now)));
        for (const x of v.caCerts) certs.push(summarize(x, 'ca', now));
      }
      return {
        key: c.ir.key,
        source: c.ir.source === 'file'
          ? { type: 'file' as const, ...(c.ir.certFile ? { cert: c.ir.certFile } : {}), ...(c.ir.keyFile ? { key: c.ir.keyFile } : {}), ...(c.ir.caFile ? { ca: c.ir.caFile } : {}) }
          : { type: 'secret' as const, secret: c.ir.secret ?? '', ...(c.ir.caSecret ? { caSecret: c.ir.caSecret } : {}) },
        version: v?.version ?? 0,
        ...(v ? { loadedAt: new Date(v.loadedAt).toISOString() } : {}),
        ...(c.lastError ? { error: c.lastError } : {}),
        certificates: certs,
      };
    });
  }

  /** Expiry of every certificate in use: what the `portico_certificate_expiry_seconds` gauge shows. */
  expiries(): CertExpiry[] {
    const out: CertExpiry[] = [];
    for (const c of this.#creds.values()) {
      const v = c.current;
      if (!v) continue;
      const source = c.ir.source === 'file' ? (c.ir.certFile ?? c.ir.caFile ?? '') : (c.ir.secret ?? '');
      const add = (x: X509Certificate, role: string) => out.push({
        labels: { credential: c.ir.key, source, role, subject: rfc2253(x.subject), serial: x.serialNumber },
        expirySeconds: Math.floor(certTime(x.validTo) / 1000),
      });
      if (v.leaf) add(v.leaf, 'leaf');
      for (const x of v.caCerts) add(x, 'ca');
    }
    return out;
  }

  close(): void {
    if (this.#poll) clearInterval(this.#poll);
    if (this.#expiryTimer) clearInterval(this.#expiryTimer);
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
    for (const t of this.#dirTimers.values()) clearTimeout(t);
    for (const c of this.#creds.values()) if (c.retry) clearTimeout(c.retry);
  }

  // ---------------------------------------------------------------- loading

  /** Validate material and make it current, or keep the previous version. */
  #offer(c: LiveCredential, m: Material, what: string, fromFiles = false, retried = false): void {
    const digest = createHash('sha256').update(`${m.cert ?? ''}\0${m.key ?? ''}\0${m.ca ?? ''}`).digest('hex');
    if (digest === c.seenDigest) return;
    const checked = validateMaterial(m, this.#now());
    if ('error' in checked) {
      if (fromFiles && !retried) {
        // Possibly caught mid-write or between a cert and a key rename: look again shortly.
        if (c.retry) clearTimeout(c.retry);
        c.retry = setTimeout(() => { c.retry = undefined; this.#loadFiles(c, true); }, 300);
        c.retry.unref();
        return;
      }
      c.seenDigest = digest;
      c.lastError = checked.error;
      const keep = c.current ? 'the previous certificate keeps serving' : 'nothing can be served with it until it is fixed';
      this.#opts.log.error(`TLS_CREDENTIAL_REJECTED: Cannot use the new material of ${what}: ${checked.error}; ${keep}`,
        { code: 'TLS_CREDENTIAL_REJECTED', credential: c.ir.key });
      return;
    }
    c.seenDigest = digest;
    c.lastError = undefined;
    const first = c.current === undefined;
    c.current = { ...checked, version: (c.current?.version ?? 0) + 1, loadedAt: this.#now(), digest };
    if (!first) {
      this.#opts.log.info(`Certificate rotated: ${what} now serves "${c.current.leaf ? rfc2253(c.current.leaf.subject) : 'CA bundle'}"`, {
        credential: c.ir.key, version: c.current.version, ...(c.current.leaf ? { serial: c.current.leaf.serialNumber, notAfter: c.current.leaf.validTo } : {}),
      });
    }
    this.checkExpiry();
    this.#notify(c.ir.key);
  }

  #notify(key: string): void {
    for (const fn of this.#listeners) { try { fn(key); } catch { /* listeners never break the store */ } }
  }

  #loadFiles(c: LiveCredential, retried: boolean): void {
    const ir = c.ir;
    const read = (f: string | undefined): string | undefined => (f ? fs.readFileSync(f, 'utf8') : undefined);
    let m: Material;
    try {
      const cert = read(ir.certFile);
      const key = read(ir.keyFile);
      const ca = read(ir.caFile);
      m = { ...(cert !== undefined ? { cert } : {}), ...(key !== undefined ? { key } : {}), ...(ca !== undefined ? { ca } : {}) };
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const msg = `Cannot read ${err.path ?? 'a certificate file'}: ${err.code ?? err.message}`;
      if (msg !== c.lastError) {
        c.lastError = msg;
        c.seenDigest = '';
        const keep = c.current ? 'the previous certificate keeps serving' : 'its TLS servers refuse handshakes until the file exists';
        this.#opts.log.error(`${c.current ? 'TLS_CREDENTIAL_REJECTED' : 'TLS_CREDENTIAL_UNAVAILABLE'}: ${msg}; ${keep}`,
          { code: c.current ? 'TLS_CREDENTIAL_REJECTED' : 'TLS_CREDENTIAL_UNAVAILABLE', credential: ir.key });
      }
      return;
    }
    c.stamp = fileStamp(ir);
    this.#offer(c, m, describe(ir), true, retried);
  }

  #syncWatches(): void {
    const dirs = new Set<string>();
    for (const c of this.#creds.values()) {
      if (c.ir.source !== 'file') continue;
      for (const f of [c.ir.certFile, c.ir.keyFile, c.ir.caFile]) if (f) dirs.add(path.dirname(path.resolve(f)));
    }
    for (const [d, w] of this.#watchers) if (!dirs.has(d)) { w.close(); this.#watchers.delete(d); }
    for (const d of dirs) {
      if (this.#watchers.has(d)) continue;
      try {
        const w = fs.watch(d, { persistent: false }, () => this.#dirChanged(d));
        w.on('error', () => { w.close(); this.#watchers.delete(d); });
        this.#watchers.set(d, w);
      } catch (e) {
        this.#opts.log.warn(`TLS_WATCH_FAILED: Cannot watch "${d}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; polling it every 2 s`,
          { code: 'TLS_WATCH_FAILED' });
      }
    }
    const pollMs = this.#opts.pollMs ?? 2000;
    if (dirs.size > 0 && !this.#poll && pollMs > 0) {
      this.#poll = setInterval(() => this.#pollFiles(), pollMs);
      this.#poll.unref();
    } else if (dirs.size === 0 && this.#poll) {
      clearInterval(this.#poll);
      this.#poll = undefined;
    }
  }

  /** A watch event: debounce 50 ms (a rename burst), then reload the credentials in that folder. */
  #dirChanged(dir: string): void {
    const t = this.#dirTimers.get(dir);
    if (t) clearTimeout(t);
    const nt = setTimeout(() => {
      this.#dirTimers.delete(dir);
      for (const c of this.#creds.values()) {
        if (c.ir.source !== 'file') continue;
        if ([c.ir.certFile, c.ir.keyFile, c.ir.caFile].some((f) => f && path.dirname(path.resolve(f)) === dir)) this.#loadFiles(c, false);
      }
    }, 50);
    nt.unref();
    this.#dirTimers.set(dir, nt);
  }

  #pollFiles(): void {
    for (const c of this.#creds.values()) {
      if (c.ir.source !== 'file' || c.retry) continue;
      if (fileStamp(c.ir) !== c.stamp) this.#loadFiles(c, false);
    }
  }
}

/** size+mtime+inode of a credential's files: the poll's cheap change test. */
function fileStamp(ir: CredentialIR): string {
  return [ir.certFile, ir.keyFile, ir.caFile].map((f) => {
    if (!f) return '-';
    try { const s = fs.statSync(f); return `${s.ino}:${s.size}:${s.mtimeMs}`; } catch { return 'missing'; }
  }).join('|');
}

/** `Secret "ns/name"` or `files "a.crt", "a.key"`. */
export function describe(ir: CredentialIR): string {
  if (ir.source === 'secret') return `Secret "${ir.secret}"`;
  const files = [ir.certFile, ir.keyFile, ir.caFile].filter(Boolean).map((f) => `"${f}"`);
  return `file${files.length > 1 ? 's' : ''} ${files.join(', ')}`;
}
