/**
 * TLS settings shared by the translators: protocol versions, ALPN (the HTTP/2 knob), client
 * certificate pins.
 */
import type { TlsVersionIR } from '../../ir/types.js';

/** Istio's default minimum for gateways (Envoy server default: TLS 1.2). */
export const DEFAULT_MIN_VERSION: TlsVersionIR = 'TLSv1.2';
/** Envoy's default maximum: TLS 1.3. */
export const DEFAULT_MAX_VERSION: TlsVersionIR = 'TLSv1.3';

/** Istio TLSProtocol enum → node:tls name; TLS_AUTO (and absent) = undefined (default). */
export const ISTIO_TLS_VERSIONS: Readonly<Record<string, TlsVersionIR | undefined>> = {
  TLS_AUTO: undefined,
  TLSV1_0: 'TLSv1',
  TLSV1_1: 'TLSv1.1',
  TLSV1_2: 'TLSv1.2',
  TLSV1_3: 'TLSv1.3',
};

/** Short spellings accepted in Portico options (`portico.dev/tls-min-version: "1.2"`). */
export const OPTION_TLS_VERSIONS: Readonly<Record<string, TlsVersionIR>> = {
  '1.0': 'TLSv1', '1.1': 'TLSv1.1', '1.2': 'TLSv1.2', '1.3': 'TLSv1.3',
  TLSv1: 'TLSv1', 'TLSv1.0': 'TLSv1', 'TLSv1.1': 'TLSv1.1', 'TLSv1.2': 'TLSv1.2', 'TLSv1.3': 'TLSv1.3',
};

/**
 * Cipher suite names Istio accepts (istio-networking.md, ServerTLSSettings.cipherSuites); Istio
 * silently drops others, and so does Portico (the schema warns about them).
 */
export const SUPPORTED_CIPHER_SUITES: ReadonlySet<string> = new Set([
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-SHA', 'ECDHE-RSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA', 'ECDHE-RSA-AES256-SHA',
  'AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-SHA', 'AES256-SHA', 'DES-CBC3-SHA',
]);

const RANK: Readonly<Record<TlsVersionIR, number>> = { TLSv1: 0, 'TLSv1.1': 1, 'TLSv1.2': 2, 'TLSv1.3': 3 };

/** Order of versions (TLSv1 < TLSv1.1 < TLSv1.2 < TLSv1.3). */
export function versionRank(v: TlsVersionIR): number {
  return RANK[v];
}

/**
 * The HTTP/2 knob: ALPN offers `h2` unless this annotation (Istio Gateway metadata) or option
 * (Gateway API listener `tls.options`) is `"false"`. MISSION F36.
 */
export const HTTP2_KEY = 'portico.dev/http2';
/** Gateway API listener `tls.options` for versions and ciphers (Gateway API has no field yet). */
export const MIN_VERSION_KEY = 'portico.dev/tls-min-version';
export const MAX_VERSION_KEY = 'portico.dev/tls-max-version';
export const CIPHERS_KEY = 'portico.dev/tls-cipher-suites';

/** ALPN list for an HTTPS server. */
export function alpnFor(http2: string | undefined): string[] {
  return http2 !== undefined && http2.trim().toLowerCase() === 'false' ? ['http/1.1'] : ['h2', 'http/1.1'];
}

/** verifyCertificateHash value: hex SHA-256, colons allowed, any case → lower-case hex without colons. */
export function normalizeCertHash(h: string): string | undefined {
  const v = h.replace(/:/g, '').trim().toLowerCase();
  return /^[0-9a-f]{64}$/.test(v) ? v : undefined;
}

/** verifyCertificateSpki value: base64 SHA-256 (32 bytes). */
export function normalizeSpki(h: string): string | undefined {
  const v = h.trim();
  try {
    return Buffer.from(v, 'base64').length === 32 ? Buffer.from(v, 'base64').toString('base64') : undefined;
  } catch {
    return undefined;
  }
}
