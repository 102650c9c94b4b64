/**
 * Certificate references → CredentialIR (+ the PEM material of Secrets, which travels beside the
 * IR, never inside it). Pure: Secrets are read from the loaded resources.
 *
 * Secret layouts (istio-networking.md, ServerTLSSettings.credentialName):
 * - `kubernetes.io/tls`: `tls.crt`, `tls.key`, optional `ca.crt`;
 * - generic: `cert`, `key`, optional `cacert`;
 * - the CA may instead live in a companion Secret `<name>-cacert` (`ca.crt` or `cacert`), which
 *   wins when it exists (Istio serves `<name>-cacert` from the companion first).
 */
import type { CredentialIR } from '../../ir/types.js';
import type { LoadedResource } from '../../resources/types.js';

/** PEM material of one credential (any part may be absent). Never logged. */
export interface CredentialMaterial {
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
}

/** Credential key of a Secret. */
export function secretKey(namespace: string, name: string): string {
  return `secret:${namespace}/${name}`;
}

/** Credential key of file paths. */
export function fileKey(cert: string | undefined, key: string | undefined, ca: string | undefined): string {
  return `file:${cert ?? ''}|${key ?? ''}|${ca ?? ''}`;
}

/** A file-based credential. */
export function fileCredential(cert: string | undefined, key: string | undefined, ca: string | undefined): CredentialIR {
  return {
    key: fileKey(cert, key, ca),
    source: 'file',
    ...(cert ? { certFile: cert } : {}),
    ...(key ? { keyFile: key } : {}),
    ...(ca ? { caFile: ca } : {}),
  };
}

export type SecretResult =
  | {
      readonly ok: true;
      readonly credential: CredentialIR;
      readonly material: CredentialMaterial;
      /** A CA bundle was found (same Secret or companion). */
      readonly hasCa: boolean;
      readonly hasCert: boolean;
    }
  | { readonly ok: false; readonly reason: 'not_found' | 'invalid'; readonly message: string };

/** What a reference needs from the Secret. */
export interface SecretNeeds {
  /** Certificate and key (server certificates, client certificates for MUTUAL origination). */
  readonly certificate: boolean;
  /** Look for a CA (same Secret or `<name>-cacert`). */
  readonly ca: boolean;
  /** Accept the generic `cert`/`key`/`cacert` layout and the companion (Istio); Gateway API and Ingress use kubernetes.io/tls only. */
  readonly istio: boolean;
}

/** Lookup of loaded resources by `Kind/namespace/name`. */
export type ResourceLookup = (kind: string, namespace: string, name: string) => LoadedResource | undefined;

/** Read a Secret (and its CA companion) into a credential. */
export function readSecret(lookup: ResourceLookup, namespace: string, name: string, needs: SecretNeeds): SecretResult {
  const r = lookup('Secret', namespace, name);
  const companion = needs.istio && needs.ca ? lookup('Secret', namespace, `${name}-cacert`) : undefined;
  if (!r && !companion) return { ok: false, reason: 'not_found', message: `Cannot find Secret "${namespace}/${name}"` };
  const data = r ? secretData(r) : new Map<string, string>();
  const cert = data.get('tls.crt') ?? (needs.istio ? data.get('cert') : undefined);
  const key = data.get('tls.key') ?? (needs.istio ? data.get('key') : undefined);
  let ca = data.get('ca.crt') ?? (needs.istio ? data.get('cacert') : undefined);
  let caSecret: string | undefined;
  if (companion) {
    const c = secretData(companion);
    const v = c.get('ca.crt') ?? c.get('cacert');
    if (v !== undefined) { ca = v; caSecret = `${namespace}/${name}-cacert`; }
  }
  if (needs.certificate) {
    if (!r) return { ok: false, reason: 'not_found', message: `Cannot find Secret "${namespace}/${name}"` };
    const keys = needs.istio ? '"tls.crt" and "tls.key" (or "cert" and "key")' : '"tls.crt" and "tls.key"';
    if (cert === undefined || key === undefined) {
      return { ok: false, reason: 'invalid', message: `Cannot use Secret "${namespace}/${name}": it needs ${keys}` };
    }
    if (!cert.includes('-----BEGIN CERTIFICATE-----')) {
      return { ok: false, reason: 'invalid', message: `Cannot use Secret "${namespace}/${name}": the certificate is not PEM` };
    }
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
      return { ok: false, reason: 'invalid', message: `Cannot use Secret "${namespace}/${name}": the private key is not PEM` };
    }
  }
  const material: CredentialMaterial = {
    ...(needs.certificate && cert !== undefined ? { cert } : {}),
    ...(needs.certificate && key !== undefined ? { key } : {}),
    ...(needs.ca && ca !== undefined ? { ca } : {}),
  };
  return {
    ok: true,
    credential: {
      key: secretKey(namespace, name),
      source: 'secret',
      secret: `${namespace}/${name}`,
      ...(needs.ca && caSecret ? { caSecret } : {}),
    },
    material,
    hasCa: needs.ca && ca !== undefined,
    hasCert: cert !== undefined && key !== undefined,
  };
}

/** Decoded `data` (base64) and `stringData` of a Secret; stringData wins, as the API server merges it. */
function secretData(r: LoadedResource): Map<string, string> {
  const out = new Map<string, string>();
  const data: unknown = r.object['data'];
  if (data && typeof data === 'object') {
    for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
      if (typeof v === 'string') out.set(k, Buffer.from(v.replace(/\s+/g, ''), 'base64').toString('utf8'));
    }
  }
  const sd: unknown = r.object['stringData'];
  if (sd && typeof sd === 'object') {
    for (const [k, v] of Object.entries(sd as Record<string, unknown>)) if (typeof v === 'string') out.set(k, v);
  }
  return out;
}

/**
 * Merge material by credential key. Two references to the same Secret with different needs
 * (a server certificate and a CA) merge into one entry holding both parts.
 */
export function mergeMaterial(into: Map<string, CredentialMaterial>, key: string, m: CredentialMaterial): void {
  const prev = into.get(key);
  into.set(key, prev ? { ...prev, ...m } : m);
}
