/**
 * Istio ServerTLSSettings → TlsServerIR (istio-networking.md §1, ServerTLSSettings and modes).
 *
 * - `mode` defaults to PASSTHROUGH (the proto zero value), as in Istio; certificates given
 *   without a mode draw a warning, because that is nearly always a forgotten `mode: SIMPLE`.
 * - Certificates come from `credentialName` (a Secret in the gateway workload's namespace:
 *   kubernetes.io/tls or generic keys, CA from `ca.crt`/`cacert` or `<name>-cacert`), or from
 *   file paths `serverCertificate`/`privateKey`/`caCertificates` (or `tlsCertificates[0]`).
 * - MUTUAL and OPTIONAL_MUTUAL need a CA; `caCertCredentialName` (Istio ≥1.28) names a Secret
 *   whose CA wins over the one in `credentialName`.
 * - The Gateway annotation `portico.dev/http2: "false"` makes every HTTPS server of that Gateway
 *   offer ALPN `http/1.1` only.
 */
import type { CredentialIR, TlsModeIR, TlsServerIR, TlsVersionIR } from '../../ir/types.js';
import type { LoadedResource } from '../../resources/types.js';
import type { TranslateContext } from '../context.js';
import { type CredentialMaterial, fileCredential, mergeMaterial, readSecret, type ResourceLookup } from '../tls/credentials.js';
import {
  alpnFor, DEFAULT_MAX_VERSION, DEFAULT_MIN_VERSION, HTTP2_KEY, ISTIO_TLS_VERSIONS, normalizeCertHash, normalizeSpki,
  SUPPORTED_CIPHER_SUITES, versionRank,
} from '../tls/settings.js';
import { at, isObj, str, strList, type Loc, type Reporter } from './diag.js';

/** Result of reading one server's `tls` block. */
export type ServerTlsResult =
  | { readonly ok: true; readonly tls: TlsServerIR }
  | { readonly ok: false; readonly reason: string };

const SERVED_MODES = new Set(['SIMPLE', 'MUTUAL', 'OPTIONAL_MUTUAL', 'PASSTHROUGH']);

/** A lookup over the translation's resources. */
export function resourceLookup(ctx: TranslateContext): ResourceLookup {
  return (kind, ns, name) => ctx.resources.get(`${kind}/${ns}/${name}`);
}

/**
 * Reads the TLS settings of an HTTPS or TLS server. Secret material found on the way is added
 * to `material` (by credential key).
 */
export function readServerTls(
  ctx: TranslateContext, rep: Reporter, gw: LoadedResource, raw: unknown, protocol: 'HTTPS' | 'TLS', loc: Loc,
  material: Map<string, CredentialMaterial>,
): ServerTlsResult {
  const tl = at(loc, 'tls');
  if (!isObj(raw)) {
    rep.report('TLS_SETTINGS_INVALID', 'error', tl, `Cannot serve ${protocol} server: it has no tls settings`);
    return { ok: false, reason: 'no tls settings' };
  }
  const rawMode = str(raw['mode'])?.toUpperCase();
  const mode = rawMode ?? 'PASSTHROUGH';
  const hasCerts = ['credentialName', 'serverCertificate', 'privateKey', 'credentialNames', 'tlsCertificates'].some((k) => raw[k] !== undefined);
  if (rawMode === undefined && hasCerts) {
    rep.report('TLS_SETTINGS_INVALID', 'warning', at(tl, 'mode'),
      'Serving as PASSTHROUGH: tls.mode is not set, so Istio\'s default PASSTHROUGH applies and the certificates are not used (did you mean mode: SIMPLE?)');
  }
  if (!SERVED_MODES.has(mode)) {
    rep.report('TLS_MODE_UNSUPPORTED', 'warning', at(tl, 'mode'),
      `Skipping ${protocol} server: tls.mode "${mode}" is not served (${mode === 'ISTIO_MUTUAL' ? 'it needs an Istio mesh identity' : 'AUTO_PASSTHROUGH needs Istio\'s multi-network SNI scheme'})`);
    return { ok: false, reason: `tls.mode ${mode} not served` };
  }
  const tlsMode = mode as TlsModeIR;
  const versions = readVersions(raw, tl, rep);
  if (versions === undefined) return { ok: false, reason: 'invalid protocol versions' };
  if (tlsMode === 'PASSTHROUGH') {
    return { ok: true, tls: { mode: tlsMode, credentials: [], minVersion: versions.min, maxVersion: versions.max, alpn: [] } };
  }
  for (const f of ['caCrl', 'insecureSkipVerify'] as const) {
    if (raw[f] !== undefined) {
      rep.report('TLS_FIELD_UNSUPPORTED', 'warning', at(tl, f), `Ignoring tls.${f}: not applied by Portico`);
    }
  }
  const mutual = tlsMode !== 'SIMPLE';
  const lookup = resourceLookup(ctx);
  const ns = ctx.identity.namespace;

  let credential: CredentialIR;
  let hasCa = false;
  const credNames = [...(str(raw['credentialName']) ? [raw['credentialName'] as string] : []), ...strList(raw['credentialNames'])];
  const files = readCertFiles(raw);
  if (credNames.length > 0 && (files.cert || files.key)) {
    rep.report('TLS_SETTINGS_INVALID', 'error', tl, `Cannot serve ${protocol} server: use credentialName or serverCertificate/privateKey, not both`);
    return { ok: false, reason: 'credentialName and file paths both set' };
  }
  if (credNames.length > 0) {
    if (credNames.length > 1) {
      rep.report('TLS_FIELD_UNSUPPORTED', 'warning', at(tl, 'credentialNames'),
        `Serving only "${credNames[0]}": a second certificate for another key type is not used`);
    }
    const name = credNames[0]!;
    const r = readSecret(lookup, ns, name, { certificate: true, ca: mutual, istio: true });
    if (!r.ok) {
      rep.report(r.reason === 'not_found' ? 'TLS_CREDENTIAL_NOT_FOUND' : 'TLS_CREDENTIAL_INVALID', 'error', at(tl, 'credentialName'),
        `${r.message}${r.reason === 'not_found' ? ` in the gateway namespace "${ns}"` : ''}; the ${protocol} server on this port is skipped`);
      return { ok: false, reason: r.message };
    }
    credential = r.credential;
    hasCa = r.hasCa;
    mergeMaterial(material, credential.key, r.material);
    if (raw['caCertificates'] !== undefined) {
      rep.report('TLS_FIELD_UNSUPPORTED', 'warning', at(tl, 'caCertificates'),
        'Ignoring tls.caCertificates: with credentialName the CA comes from the Secret (ca.crt / cacert) or its "-cacert" companion');
    }
  } else {
    if (!files.cert || !files.key) {
      rep.report('TLS_SETTINGS_INVALID', 'error', tl,
        `Cannot serve ${protocol} server in mode ${tlsMode}: set credentialName, or serverCertificate and privateKey`);
      return { ok: false, reason: 'no certificate' };
    }
    const ca = mutual ? str(raw['caCertificates']) : undefined;
    credential = fileCredential(files.cert, files.key, ca || undefined);
    hasCa = Boolean(ca);
  }
  let clientCa: CredentialIR | undefined;
  if (mutual) {
    const caName = str(raw['caCertCredentialName']);
    if (caName) {
      const r = readSecret(lookup, ns, caName, { certificate: false, ca: true, istio: true });
      if (!r.ok || !r.hasCa) {
        rep.report(r.ok ? 'TLS_CREDENTIAL_INVALID' : 'TLS_CREDENTIAL_NOT_FOUND', 'error', at(tl, 'caCertCredentialName'),
          `${r.ok ? `Cannot use Secret "${ns}/${caName}": it has no "ca.crt" or "cacert"` : r.message}; the ${protocol} server on this port is skipped`);
        return { ok: false, reason: 'client CA not found' };
      }
      clientCa = r.credential;
      mergeMaterial(material, r.credential.key, r.material);
    } else if (hasCa) {
      clientCa = credential;
    } else {
      rep.report('TLS_CA_MISSING', 'error', tl,
        `Cannot serve ${protocol} server in mode ${tlsMode}: no CA to verify client certificates (set caCertificates, add ca.crt to the Secret, or create "${credNames[0] ?? '<name>'}-cacert")`);
      return { ok: false, reason: 'no client CA' };
    }
  } else if (raw['caCertificates'] !== undefined && credNames.length === 0) {
    rep.report('TLS_FIELD_UNSUPPORTED', 'warning', at(tl, 'caCertificates'), 'Ignoring tls.caCertificates: mode SIMPLE requests no client certificate');
  }

  const sans = strList(raw['subjectAltNames']);
  const hashes: string[] = [];
  strList(raw['verifyCertificateHash']).forEach((h, i) => {
    const n = normalizeCertHash(h);
    if (n) hashes.push(n);
    else rep.report('TLS_SETTINGS_INVALID', 'warning', { ...at(tl, 'verifyCertificateHash'), path: `${at(tl, 'verifyCertificateHash').path}[${i}]` }, `Ignoring verifyCertificateHash "${h}": expected 64 hex digits (colons allowed)`);
  });
  const spkis: string[] = [];
  strList(raw['verifyCertificateSpki']).forEach((h, i) => {
    const n = normalizeSpki(h);
    if (n) spkis.push(n);
    else rep.report('TLS_SETTINGS_INVALID', 'warning', { ...at(tl, 'verifyCertificateSpki'), path: `${at(tl, 'verifyCertificateSpki').path}[${i}]` }, `Ignoring verifyCertificateSpki "${h}": expected the base64 SHA-256 of a public key`);
  });
  if (!mutual && (sans.length || hashes.length || spkis.length)) {
    rep.report('TLS_FIELD_UNSUPPORTED', 'warning', tl, 'Ignoring client certificate checks (subjectAltNames, verifyCertificate*): mode SIMPLE requests no client certificate');
  }
  // Unknown names are dropped as Istio does (the schema already warned about each).
  const ciphers = strList(raw['cipherSuites']).map((c) => c.trim().toUpperCase()).filter((c) => SUPPORTED_CIPHER_SUITES.has(c));
  const http2 = gw.object.metadata.annotations?.[HTTP2_KEY];
  return {
    ok: true,
    tls: {
      mode: tlsMode,
      credentials: [credential],
      ...(clientCa ? { clientCa } : {}),
      minVersion: versions.min,
      maxVersion: versions.max,
      ...(ciphers.length ? { cipherSuites: ciphers } : {}),
      ...(mutual && sans.length ? { subjectAltNames: sans } : {}),
      ...(mutual && hashes.length ? { verifyCertificateHash: hashes } : {}),
      ...(mutual && spkis.length ? { verifyCertificateSpki: spkis } : {}),
      alpn: protocol === 'HTTPS' ? alpnFor(http2) : [],
    },
  };
}

function readCertFiles(raw: Record<string, unknown>): { cert?: string; key?: string } {
  const cert = str(raw['serverCertificate']);
  const key = str(raw['privateKey']);
  if (cert || key) return { ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  const list = Array.isArray(raw['tlsCertificates']) ? raw['tlsCertificates'] : [];
  const first = list[0];
  if (isObj(first)) {
    const c = str(first['serverCertificate']);
    const k = str(first['privateKey']);
    return { ...(c ? { cert: c } : {}), ...(k ? { key: k } : {}) };
  }
  return {};
}

function readVersions(raw: Record<string, unknown>, tl: Loc, rep: Reporter): { min: TlsVersionIR; max: TlsVersionIR } | undefined {
  const rawMin = str(raw['minProtocolVersion'])?.toUpperCase();
  const rawMax = str(raw['maxProtocolVersion'])?.toUpperCase();
  const min = (rawMin && ISTIO_TLS_VERSIONS[rawMin]) || DEFAULT_MIN_VERSION;
  const max = (rawMax && ISTIO_TLS_VERSIONS[rawMax]) || DEFAULT_MAX_VERSION;
  if (versionRank(min) > versionRank(max)) {
    rep.report('TLS_SETTINGS_INVALID', 'error', at(tl, 'minProtocolVersion'),
      `Cannot serve server: minProtocolVersion ${rawMin ?? 'TLS_AUTO'} is above maxProtocolVersion ${rawMax ?? 'TLS_AUTO'}`);
    return undefined;
  }
  return { min, max };
}
