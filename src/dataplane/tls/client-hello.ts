/**
 * TLS ClientHello peek (Envoy's tls_inspector): reads SNI, ALPN and supported_versions from the
 * first bytes of a connection without terminating TLS. Handles a ClientHello split across several
 * records (RFC 8446 §5.1 allows handshake fragmentation) and across reads; bounded in size.
 *
 * Pure functions over bytes: the listener buffers what it reads and calls {@link parseClientHello}
 * again with the whole buffer until the result is not `more`.
 */

/** Envoy's tls_inspector gives up past 64 KiB; so do we. */
export const MAX_CLIENT_HELLO = 64 * 1024;

/** What the ClientHello offered. */
export interface ClientHello {
  /** server_name (host_name), lower-cased, trailing dot dropped; undefined when absent. */
  readonly sni: string | undefined;
  /** application_layer_protocol_negotiation, in client order (empty when absent). */
  readonly alpn: readonly string[];
  /** supported_versions (TLS 1.3 clients) as wire numbers, e.g. 0x0304; empty when absent. */
  readonly versions: readonly number[];
  /** legacy_version of the ClientHello (0x0303 for TLS 1.2 and 1.3). */
  readonly legacyVersion: number;
  /** Version field of the first record header (for an alert record of the same version). */
  readonly recordVersion: number;
}

export type HelloResult =
  | { readonly state: 'ok'; readonly hello: ClientHello }
  /** Not enough bytes yet. */
  | { readonly state: 'more' }
  /** The first byte is not a TLS handshake record: not TLS at all. */
  | { readonly state: 'not-tls' }
  /** TLS framing, but malformed or oversized. */
  | { readonly state: 'invalid'; readonly reason: string };

const MORE: HelloResult = { state: 'more' };
const NOT_TLS: HelloResult = { state: 'not-tls' };

const CONTENT_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const EXT_SUPPORTED_VERSIONS = 43;

function invalid(reason: string): HelloResult {
  return { state: 'invalid', reason };
}

/**
 * Parse the ClientHello at the start of `buf` (all bytes read so far). Returns `more` until the
 * whole handshake message has arrived, however many records carry it.
 */
export function parseClientHello(buf: Buffer): HelloResult {
  if (buf.length === 0) return MORE;
  if (buf[0] !== CONTENT_HANDSHAKE) return NOT_TLS;
  if (buf.length >= 2 && buf[1] !== 0x03) return NOT_TLS; // record major version is always 3
  if (buf.length > MAX_CLIENT_HELLO + 5 * 8) return invalid('ClientHello larger than 64 KiB');
  // Reassemble the handshake layer from consecutive handshake records.
  const parts: Buffer[] = [];
  let have = 0;
  let need = -1; // total handshake message length incl. its 4-byte header, once known
  let off = 0;
  let recordVersion = 0;
  while (need < 0 || have < need) {
    if (off + 5 > buf.length) return MORE;
    if (buf[off] !== CONTENT_HANDSHAKE) return invalid('Record other than handshake before the ClientHello ended');
    const rlen = buf.readUInt16BE(off + 3);
    if (off === 0) recordVersion = buf.readUInt16BE(1);
    if (rlen === 0 || rlen > 16384 + 2048) return invalid(`Bad record length ${rlen}`);
    if (off + 5 + rlen > buf.length) {
      // Partial record: usable only once complete (records are never processed partially).
      return MORE;
    }
    parts.push(buf.subarray(off + 5, off + 5 + rlen));
    have += rlen;
    off += 5 + rlen;
    if (need < 0 && have >= 4) {
      const hs = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      if (hs[0] !== HANDSHAKE_CLIENT_HELLO) return invalid('First handshake message is not a ClientHello');
      need = 4 + ((hs[1]! << 16) | (hs[2]! << 8) | hs[3]!);
      if (need > MAX_CLIENT_HELLO) return invalid('ClientHello larger than 64 KiB');
    }
  }
  const hs = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  return parseBody(hs.subarray(4, need), recordVersion);
}

function parseBody(b: Buffer, recordVersion: number): HelloResult {
  let p = 0;
  const left = () => b.length - p;
  if (left() < 2 + 32 + 1) return invalid('Truncated ClientHello');
  const legacyVersion = b.readUInt16BE(p);
  p += 2 + 32; // version, random
  const sid = b[p]!;
  p += 1 + sid;
  if (left() < 2) return invalid('Truncated session id');
  const cs = b.readUInt16BE(p);
  p += 2 + cs;
  if (left() < 1) return invalid('Truncated cipher suites');
  const comp = b[p]!;
  p += 1 + comp;
  if (left() < 0) return invalid('Truncated compression methods');
  let sni: string | undefined;
  let alpn: string[] = [];
  let versions: number[] = [];
  if (left() >= 2) {
    const extLen = b.readUInt16BE(p);
    p += 2;
    const end = p + extLen;
    if (end > b.length) return invalid('Truncated extensions');
    while (p + 4 <= end) {
      const type = b.readUInt16BE(p);
      const l = b.readUInt16BE(p + 2);
      p += 4;
      if (p + l > end) return invalid('Truncated extension');
      const e = b.subarray(p, p + l);
      p += l;
      if (type === EXT_SERVER_NAME) {
        const r = readServerName(e);
        if (r === null) return invalid('Malformed server_name extension');
        sni = r;
      } else if (type === EXT_ALPN) {
        const r = readAlpn(e);
        if (r === null) return invalid('Malformed ALPN extension');
        alpn = r;
      } else if (type === EXT_SUPPORTED_VERSIONS) {
        if (e.length < 1 || e[0]! + 1 > e.length || e[0]! % 2 !== 0) return invalid('Malformed supported_versions extension');
        versions = [];
        for (let i = 1; i + 1 <= e[0]!; i += 2) versions.push(e.readUInt16BE(i));
      }
    }
  }
  return { state: 'ok', hello: { sni, alpn, versions, legacyVersion, recordVersion } };
}

/** RFC 6066 §3: ServerNameList; the first host_name entry. */
function readServerName(e: Buffer): string | undefined | null {
  if (e.length < 2) return null;
  const listLen = e.readUInt16BE(0);
  if (listLen + 2 > e.length) return null;
  let p = 2;
  while (p + 3 <= 2 + listLen) {
    const type = e[p]!;
    const l = e.readUInt16BE(p + 1);
    p += 3;
    if (p + l > e.length) return null;
    if (type === 0) {
      let name = e.toString('latin1', p, p + l).toLowerCase();
      if (name.endsWith('.')) name = name.slice(0, -1);
      // A host name is LDH with dots; anything else (NUL, spaces) is refused as malformed.
      if (name.length === 0 || !/^[a-z0-9._-]+$/.test(name)) return null;
      return name;
    }
    p += l;
  }
  return undefined;
}

/** RFC 7301 §3.1: ProtocolNameList. */
function readAlpn(e: Buffer): string[] | null {
  if (e.length < 2) return null;
  const listLen = e.readUInt16BE(0);
  if (listLen + 2 > e.length) return null;
  const out: string[] = [];
  let p = 2;
  while (p < 2 + listLen) {
    const l = e[p]!;
    if (l === 0 || p + 1 + l > 2 + listLen) return null;
    out.push(e.toString('latin1', p + 1, p + 1 + l));
    p += 1 + l;
  }
  return out;
}

/** A TLS alert record (fatal) to send before closing, e.g. 112 unrecognized_name (RFC 6066 §3). */
export function alertRecord(description: number, recordVersion = 0x0301): Buffer {
  return Buffer.from([0x15, recordVersion >> 8, recordVersion & 0xff, 0x00, 0x02, 0x02, description]);
}

/** Alert descriptions used by the listener (RFC 8446 §6). */
export const Alert = {
  handshakeFailure: 40,
  internalError: 80,
  unrecognizedName: 112,
} as const;
