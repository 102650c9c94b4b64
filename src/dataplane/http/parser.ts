/**
 * HTTP/1.1 message-head parser for the raw-socket data plane (RFC 9112).
 *
 * Hot path: the head end is found with one native `indexOf`, the head is turned into one latin1
 * string, and every token is a `substring` of it; lines are validated with byte-class tables (no
 * regex). The caller owns the output object and passes it in; it is reset and refilled, and its
 * arrays are reused. Requests are parsed strictly (smuggling defence), responses leniently where
 * RFC 9112 allows it but strictly on framing. Rules and reasons: docs/http1.md.
 */

/** Non-error parse results. Positive numbers are the head length in bytes. */
export const enum ParseStatus { Incomplete = 0 }

/** Head-size limits. Envoy accepts 60 KiB of request headers and 100 header lines. */
export interface HeadLimits { maxHeadBytes: number; maxHeaders: number }

/** Envoy's defaults: 60 KiB of head, 100 header lines. */
export const DEFAULT_LIMITS: Readonly<HeadLimits> = Object.freeze({ maxHeadBytes: 60 * 1024, maxHeaders: 100 });

// Negative return codes. Each maps to one `http1.*` detail (ERROR_DETAILS) and a status
// (errorStatus(): 431 for ERR_HEADERS_TOO_LARGE, 400 for the rest; a response parse error is
// a 502 for the proxy, which is the caller's choice).
/** Head larger than maxHeadBytes (complete or not): answer 431. */
export const ERR_HEADERS_TOO_LARGE = -431;
/** Method is not a token or not followed by exactly one SP. */
export const ERR_INVALID_METHOD = -1;
/** Request-target empty, with a forbidden byte, or in a form the method does not allow. */
export const ERR_INVALID_URL = -2;
/** Version other than exactly `HTTP/1.0` / `HTTP/1.1`, or junk after it. */
export const ERR_INVALID_VERSION = -3;
/** A LF not preceded by CR. */
export const ERR_BARE_LF = -4;
/** Header name not a token, empty, missing colon, or whitespace before the colon. */
export const ERR_INVALID_HEADER_NAME = -5;
/** Forbidden byte (CTL, NUL, bare CR) in a header value. */
export const ERR_INVALID_HEADER_VALUE = -6;
/** Line folding (line starting with SP/HT) in a request, or before the first header. */
export const ERR_OBS_FOLD = -7;
/** More header lines than maxHeaders (400, not 431: the byte size is within the limit). */
export const ERR_TOO_MANY_HEADERS = -8;
/** HTTP/1.1 request without Host. */
export const ERR_MISSING_HOST = -9;
/** More than one Host line. */
export const ERR_MULTIPLE_HOST = -10;
/** Content-Length not 1*DIGIT (comma list allowed) or above 2^53-1. */
export const ERR_INVALID_CONTENT_LENGTH = -11;
/** Content-Length values (lines or list members) that differ. */
export const ERR_DUPLICATE_CONTENT_LENGTH = -12;
/** Request with both Content-Length and Transfer-Encoding. */
export const ERR_CL_AND_TE = -13;
/**
 * Transfer-Encoding not acceptable: in a request anything but one `chunked` (any case), or TE
 * in HTTP/1.0; in a response `chunked` twice or TE in HTTP/1.0. Answered with 400, not 501:
 * the message framing is unknown, so the connection cannot continue either way.
 */
export const ERR_TE_NOT_CHUNKED = -14;
/** Response status line malformed (status code not 3 digits 100-999). */
export const ERR_INVALID_STATUS = -15;

/** Detail string (Envoy `http1.*` style) for each negative code. */
export const ERROR_DETAILS: Readonly<Record<number, string>> = Object.freeze({
  [ERR_HEADERS_TOO_LARGE]: 'http1.headers_too_large',
  [ERR_INVALID_METHOD]: 'http1.invalid_method',
  [ERR_INVALID_URL]: 'http1.invalid_url',
  [ERR_INVALID_VERSION]: 'http1.invalid_version',
  [ERR_BARE_LF]: 'http1.bare_lf',
  [ERR_INVALID_HEADER_NAME]: 'http1.invalid_header_name',
  [ERR_INVALID_HEADER_VALUE]: 'http1.invalid_header_value',
  [ERR_OBS_FOLD]: 'http1.obs_fold_not_allowed',
  [ERR_TOO_MANY_HEADERS]: 'http1.too_many_headers',
  [ERR_MISSING_HOST]: 'http1.missing_host_header',
  [ERR_MULTIPLE_HOST]: 'http1.multiple_host_headers',
  [ERR_INVALID_CONTENT_LENGTH]: 'http1.invalid_content_length',
  [ERR_DUPLICATE_CONTENT_LENGTH]: 'http1.duplicate_content_length',
  [ERR_CL_AND_TE]: 'http1.content_length_and_chunked_not_allowed',
  [ERR_TE_NOT_CHUNKED]: 'http1.invalid_transfer_encoding',
  [ERR_INVALID_STATUS]: 'http1.invalid_status',
});

/** HTTP status a server answers for a negative request-parse code: 431 or 400. */
export function errorStatus(code: number): number {
  return code === ERR_HEADERS_TOO_LARGE ? 431 : 400;
}

/** A parsed request head. Reused across parses: see createRequestHead(). */
export interface RequestHead {
  /** As sent (case-sensitive token). */
  method: string;
  /** Raw request-target. */
  target: string;
  /** 0 or 1 (HTTP/1.0 or HTTP/1.1). */
  versionMinor: number;
  /** Header names as received, in order. */
  names: string[];
  /** Lower-cased names, same indexes (the same string when the name had no upper case). */
  lnames: string[];
  /** Values with OWS trimmed. */
  values: string[];
  /** -1 when absent. */
  contentLength: number;
  /** Transfer-Encoding: chunked. */
  chunked: boolean;
  /** HTTP/1.1: true unless Connection: close; HTTP/1.0: only with Connection: keep-alive. */
  keepAlive: boolean;
  /** Connection has the token `upgrade` and an Upgrade header is present. */
  upgrade: boolean;
  /** Expect: 100-continue (case-insensitive). */
  expectContinue: boolean;
  /** The single Host value. */
  host: string | undefined;
  /** Lower-cased Connection tokens other than close/keep-alive/upgrade (hop-by-hop names). */
  connectionTokens: string[];
  /** `http1.*` detail when a negative status was returned, else ''. */
  error: string;
}

/** A parsed response head. Reused across parses: see createResponseHead(). */
export interface ResponseHead {
  status: number;
  reason: string;
  versionMinor: number;
  names: string[];
  lnames: string[];
  values: string[];
  /** -1 when absent or overridden by Transfer-Encoding. */
  contentLength: number;
  /** Transfer-Encoding with final coding chunked. */
  chunked: boolean;
  /**
   * Whether the upstream connection may be reused after this response: false on
   * Connection: close, on HTTP/1.0 without keep-alive, and (defensively) when the framing was
   * ambiguous (CL+TE) or the body is delimited by close (TE whose final coding is not chunked).
   * A response with neither CL nor TE is read until close unless it has no body (1xx, 204,
   * 304, HEAD): the caller knows which and decides.
   */
  keepAlive: boolean;
  connectionTokens: string[];
  error: string;
}

/** A fresh request head for parseRequestHead() to fill; keep one per connection. */
export function createRequestHead(): RequestHead {
  return {
    method: '', target: '', versionMinor: 1, names: [], lnames: [], values: [],
    contentLength: -1, chunked: false, keepAlive: true, upgrade: false, expectContinue: false,
    host: undefined, connectionTokens: [], error: '',
  };
}

/** A fresh response head for parseResponseHead() to fill; keep one per upstream connection. */
export function createResponseHead(): ResponseHead {
  return {
    status: 0, reason: '', versionMinor: 1, names: [], lnames: [], values: [],
    contentLength: -1, chunked: false, keepAlive: true, connectionTokens: [], error: '',
  };
}

// ---------------------------------------------------------------------------------------------
// Byte classes

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;
const COLON = 58;
const COMMA = 44;
const SEMI = 59;
const SLASH = 47;
const STAR = 42;

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

/** tchar (RFC 9110 §5.6.2): 1 = token byte, 3 = upper-case letter (token, needs lowering). */
const TOKEN = new Uint8Array(256);
/** Request field-value bytes (RFC 9110 §5.5): HT, SP, VCHAR, obs-text. */
const VALUE = new Uint8Array(256);
/** Response field-value bytes: all but NUL, LF, CR (RFC 9110 §5.5 lets recipients keep other CTLs). */
const LAX_VALUE = new Uint8Array(256);
/** Request-target bytes: VCHAR except '#' (no fragment on the wire, RFC 9112 §3.2), plus obs-text. */
const TARGET = new Uint8Array(256);

for (let c = 0; c < 256; c++) {
  const vchar = c > 0x20 && c < 0x7f;
  const obsText = c >= 0x80;
  VALUE[c] = vchar || obsText || c === SP || c === HT ? 1 : 0;
  LAX_VALUE[c] = c === 0 || c === LF || c === CR ? 0 : 1;
  TARGET[c] = (vchar && c !== 0x23) || obsText ? 1 : 0;
}
for (const ch of "!#$%&'*+-.^_`|~") TOKEN[ch.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 3;

// ---------------------------------------------------------------------------------------------
// Field-line scan (shared by both parsers)
//
// Pass 1 walks the bytes once, validates them and records offsets into module scratch arrays
// (the parser is synchronous and not re-entrant); pass 2 makes one latin1 string of the head
// and cuts every token out of it with substring. Reading Buffer bytes is much cheaper than
// charCodeAt on a string, and one native slice is much cheaper than one per token.

/** Per field line: name start, name end, value start, value end (absolute buffer offsets). */
let OFFS = new Int32Array(4 * 128);
/** Per field line: 1 = name has upper case, 2 = obs-fold continuation (responses only). */
let FLAGS = new Uint8Array(128);
/** Number of entries in OFFS/FLAGS after scanFields(). */
let fieldCount = 0;

function ensureScratch(lines: number): void {
  if (FLAGS.length >= lines) return;
  OFFS = new Int32Array(4 * lines);
  FLAGS = new Uint8Array(lines);
}

/**
 * Scans field lines from buf[i] up to `lim` (end of data, capped by the size limit): returns
 * the index just past the empty line that ends the head, 0 when more bytes are needed, or a
 * negative code. `lax` selects response leniency.
 */
function scanFields(buf: Buffer, i: number, lim: number, lax: boolean, maxHeaders: number): number {
  const valueClass = lax ? LAX_VALUE : VALUE;
  const offs = OFFS;
  const flags = FLAGS;
  let n = 0;
  let headers = 0;
  let c = 0;
  for (;;) {
    if (i >= lim) return 0;
    c = buf[i]!;
    if (c === CR) {
      if (i + 1 >= lim) return 0;
      if (buf[i + 1] !== LF) return ERR_INVALID_HEADER_NAME;
      fieldCount = n;
      return i + 2;
    }
    let ns = i;
    let ne = i;
    let upper = 0;
    if (c === SP || c === HT) {
      // RFC 9112 §5.2: obs-fold. Requests: 400. Responses: a proxy may replace it by SP.
      if (!lax || n === 0) return ERR_OBS_FOLD;
      upper = 2;
      ns = -1;
    } else {
      // Loops stop on any byte outside their class, CR included, so they need no bound check
      // (past the buffer the lookup yields undefined, which also stops them); the position is
      // checked against `lim` afterwards.
      let t = 0;
      while ((t = TOKEN[buf[i]!]!) > 0) { upper |= t; i++; }
      if (i >= lim) return 0;
      ne = i;
      c = buf[i]!;
      // RFC 9112 §5.1: no whitespace before the colon; a server MUST reject such a request,
      // a proxy MUST strip it from a response.
      if (lax) while ((c === SP || c === HT) && ++i < lim) c = buf[i]!;
      if (i >= lim) return 0;
      if (c !== COLON || ne === ns) return c === LF ? ERR_BARE_LF : ERR_INVALID_HEADER_NAME;
      i++;
    }
    while ((c = buf[i]!) === SP || c === HT) i++;
    const vs = i;
    // Values are most of the head: unrolled by four (about 20% faster than the plain loop).
    for (;;) {
      if (valueClass[buf[i]!] !== 1) break;
      if (valueClass[buf[i + 1]!] !== 1) { i += 1; break; }
      if (valueClass[buf[i + 2]!] !== 1) { i += 2; break; }
      if (valueClass[buf[i + 3]!] !== 1) { i += 3; break; }
      i += 4;
    }
    if (i >= lim) return 0;
    c = buf[i]!;
    // RFC 9110 §5.5: CR, LF and NUL in a value are fatal (requests also refuse other CTLs).
    if (c !== CR) return c === LF ? ERR_BARE_LF : ERR_INVALID_HEADER_VALUE;
    if (i + 1 >= lim) return 0;
    if (buf[i + 1] !== LF) return ERR_INVALID_HEADER_VALUE; // bare CR
    let ve = i;
    while (ve > vs && ((c = buf[ve - 1]!) === SP || c === HT)) ve--;
    i += 2;
    if (upper !== 2 && ++headers > maxHeaders) return ERR_TOO_MANY_HEADERS;
    if (n >= flags.length) return ERR_TOO_MANY_HEADERS; // folds beyond the scratch size
    const o = n << 2;
    offs[o] = ns;
    offs[o + 1] = ne;
    offs[o + 2] = vs;
    offs[o + 3] = ve;
    flags[n++] = upper === 2 ? 2 : upper & 2 ? 1 : 0;
  }
}

/**
 * Lower-casing cache: the last name seen in each slot and its lower-case form. Most traffic
 * repeats the same few dozen names, so a hit (one string comparison) replaces toLowerCase()
 * and its allocation. A miss or a collision only costs the toLowerCase() it would have anyway.
 */
const LC_NAME: string[] = new Array<string>(256).fill('');
const LC_LOWER: string[] = new Array<string>(256).fill('');

/** Lower-case form of `name` = buf[a, b), which has an upper-case byte. */
function lowerName(buf: Buffer, a: number, b: number, name: string): string {
  const slot = ((b - a) * 7 + buf[a]! + buf[b - 1]! * 3) & 255;
  if (LC_NAME[slot] === name) return LC_LOWER[slot]!;
  const lower = name.toLowerCase();
  LC_NAME[slot] = name;
  LC_LOWER[slot] = lower;
  return lower;
}

/**
 * What to return when the data ran out before the head ended: 431 when the head cannot fit
 * in maxHeadBytes any more, else Incomplete.
 */
function needMore(out: RequestHead | ResponseHead, start: number, end: number, limits: HeadLimits): number {
  if (end - start >= limits.maxHeadBytes) return fail(out, ERR_HEADERS_TOO_LARGE);
  clearFields(out);
  return 0;
}

/**
 * Re-call fast path: with a `scanFrom` hint, bytes before it were scanned by an Incomplete
 * call. Returns -1 when the head may now be complete (do the full parse), else the result
 * (0 or a negative code) after checking only the new bytes.
 */
function recheck(buf: Buffer, start: number, from: number, end: number, out: RequestHead | ResponseHead, limits: HeadLimits, scanFrom: number): number {
  if (scanFrom - 3 <= from || scanFrom > end) return -1;
  const idx = buf.indexOf(HEAD_END, scanFrom - 3);
  if (idx !== -1 && idx + 4 <= end) return -1;
  // Still incomplete; a bare LF would never be followed by CRLFCRLF, so report it now.
  for (let i = scanFrom; i < end; i++) {
    if (buf[i] === LF && buf[i - 1] !== CR) return fail(out, ERR_BARE_LF);
  }
  return needMore(out, start, end, limits);
}

// ---------------------------------------------------------------------------------------------
// Small string helpers (no allocation)

/** s[a, b) equals the lower-case ASCII literal `lit`, ignoring ASCII case. */
function eqIgnoreCase(s: string, a: number, b: number, lit: string): boolean {
  if (b - a !== lit.length) return false;
  for (let k = 0; k < lit.length; k++) {
    let c = s.charCodeAt(a + k);
    if (c >= 0x41 && c <= 0x5a) c += 32;
    if (c !== lit.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * Content-Length value (RFC 9110 §8.6): 1*DIGIT, or a comma list of identical such values.
 * Returns the length, -1 when malformed or above 2^53-1, -2 when list members differ.
 */
function parseContentLength(v: string): number {
  const len = v.length;
  let result = -3;
  let i = 0;
  let c = 0;
  for (;;) {
    const ds = i;
    let n = 0;
    while (i < len && (c = v.charCodeAt(i)) >= 0x30 && c <= 0x39) {
      n = n * 10 + (c - 0x30);
      if (n > Number.MAX_SAFE_INTEGER) return -1;
      i++;
    }
    if (i === ds) return -1;
    if (result === -3) result = n;
    else if (result !== n) return -2;
    // After the digits: end, or OWS "," OWS and another member.
    while (i < len && ((c = v.charCodeAt(i)) === SP || c === HT)) i++;
    if (i === len) return result;
    if (c !== COMMA) return -1;
    i++;
    while (i < len && ((c = v.charCodeAt(i)) === SP || c === HT)) i++;
  }
}

const CONN_CLOSE = 1;
const CONN_KEEP_ALIVE = 2;
const CONN_UPGRADE = 4;

/**
 * Reads a Connection value (RFC 9110 §7.6.1): returns close/keep-alive/upgrade flags and
 * appends every other token, lower-cased, to `tokens`. Empty list members are skipped.
 */
function parseConnection(v: string, tokens: string[]): number {
  let flags = 0;
  const len = v.length;
  let i = 0;
  let c = 0;
  while (i < len) {
    c = v.charCodeAt(i);
    if (c === COMMA || c === SP || c === HT) { i++; continue; }
    const a = i;
    let upper = false;
    while (i < len && (c = v.charCodeAt(i)) !== COMMA) {
      if (c >= 0x41 && c <= 0x5a) upper = true;
      i++;
    }
    let b = i;
    while (b > a && ((c = v.charCodeAt(b - 1)) === SP || c === HT)) b--;
    if (eqIgnoreCase(v, a, b, 'close')) flags |= CONN_CLOSE;
    else if (eqIgnoreCase(v, a, b, 'keep-alive')) flags |= CONN_KEEP_ALIVE;
    else if (eqIgnoreCase(v, a, b, 'upgrade')) flags |= CONN_UPGRADE;
    else {
      const t = v.substring(a, b);
      tokens.push(upper ? t.toLowerCase() : t);
    }
  }
  return flags;
}

/**
 * Reads one Transfer-Encoding line (a list of codings with optional parameters): returns
 * (number of `chunked` codings << 2) | last coding (0 none, 1 chunked, 2 other).
 */
function scanCodings(v: string): number {
  let last = 0;
  let chunked = 0;
  let i = 0;
  let c = 0;
  const len = v.length;
  while (i < len) {
    c = v.charCodeAt(i);
    if (c === COMMA || c === SP || c === HT) { i++; continue; }
    const a = i;
    while (i < len && (c = v.charCodeAt(i)) !== COMMA && c !== SEMI && c !== SP && c !== HT) i++;
    if (eqIgnoreCase(v, a, i, 'chunked')) { chunked++; last = 1; } else last = 2;
    while (i < len && v.charCodeAt(i) !== COMMA) i++; // transfer-parameters
  }
  return (chunked << 2) | last;
}

/** Sets the error detail, empties the field arrays, and returns the code. */
function fail(out: RequestHead | ResponseHead, code: number): number {
  out.error = ERROR_DETAILS[code] ?? 'http1.codec_error';
  clearFields(out);
  return code;
}

/**
 * Empties the reused arrays. The success path instead overwrites them by index and trims
 * the tail: `length = 0` followed by push() would drop and regrow the backing stores on
 * every parse (measured: about 100 ns per 8-header request).
 */
function clearFields(out: RequestHead | ResponseHead): void {
  out.names.length = 0;
  out.lnames.length = 0;
  out.values.length = 0;
  out.connectionTokens.length = 0;
}

/** Trims the reused arrays to `n` entries. */
function trimFields(names: string[], lnames: string[], values: string[], n: number): void {
  if (names.length !== n) {
    names.length = n;
    lnames.length = n;
    values.length = n;
  }
}

/** "HTTP/1.0" or "HTTP/1.1" at buf[i]: returns the minor version, -1 if not, -2 if too short to tell. */
function httpVersionAt(buf: Buffer, i: number, lim: number): number {
  const avail = lim - i;
  const m = buf[i + 7]!;
  if (
    avail >= 8 && buf[i] === 0x48 && buf[i + 1] === 0x54 && buf[i + 2] === 0x54 && buf[i + 3] === 0x50 &&
    buf[i + 4] === SLASH && buf[i + 5] === 0x31 && buf[i + 6] === 0x2e && (m === 0x30 || m === 0x31)
  ) {
    return m - 0x30;
  }
  if (avail >= 8) return -1;
  // Partial: wrong as soon as a byte differs from both HTTP/1.0 and HTTP/1.1.
  for (let k = 0; k < avail; k++) {
    const c = buf[i + k];
    if (k === 7 ? c !== 0x30 && c !== 0x31 : c !== VERSION_PREFIX[k]) return -1;
  }
  return -2;
}
const VERSION_PREFIX = Buffer.from('HTTP/1.', 'latin1');

// ---------------------------------------------------------------------------------------------
// Requests

/**
 * Parses a request head from buf[start, end). Returns the head length (bytes up to and
 * including the final CRLFCRLF, leading empty lines included) when complete, 0
 * (ParseStatus.Incomplete) when more bytes are needed and no limit is exceeded, or a negative
 * ERR_* code with `out.error` set. Errors in a partial head are reported as soon as they are
 * seen, and a head that cannot fit in limits.maxHeadBytes gives ERR_HEADERS_TOO_LARGE.
 *
 * Cost: O(end - start) per call, bounded by limits.maxHeadBytes. A caller that re-calls with
 * the accumulated head may pass `scanFrom`: the index in this `buf` up to which bytes were
 * already given to an Incomplete call (with `start` = 0 and the carried-over bytes first,
 * that is their length). Until the head is complete only the new bytes are then examined.
 * The native CRLFCRLF search may look past `end` (to the end of `buf`), never the decision.
 */
export function parseRequestHead(buf: Buffer, start: number, end: number, out: RequestHead, limits: HeadLimits, scanFrom = 0): number {
  out.method = '';
  out.target = '';
  out.versionMinor = 1;
  out.contentLength = -1;
  out.chunked = false;
  out.keepAlive = false;
  out.upgrade = false;
  out.expectContinue = false;
  out.host = undefined;
  out.error = '';
  const names = out.names;
  const lnames = out.lnames;
  const values = out.values;
  const tokens = out.connectionTokens;
  if (tokens.length !== 0) tokens.length = 0;

  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line.
  let p = start;
  while (p + 1 < end && buf[p] === CR && buf[p + 1] === LF) p += 2;
  if (p + 1 === end && buf[p] === CR) return needMore(out, start, end, limits);
  const again = recheck(buf, start, p, end, out, limits, scanFrom);
  if (again !== -1) return again;
  const lim = end - start > limits.maxHeadBytes ? start + limits.maxHeadBytes : end;

  // Request line (RFC 9112 §3): method SP request-target SP HTTP-version CRLF.
  // (Class loops run unbounded, as in scanFields(), and are checked against `lim` after.)
  let i = p;
  while (TOKEN[buf[i]!]! > 0) i++;
  if (i >= lim) return needMore(out, start, end, limits);
  let c = buf[i]!;
  if (c !== SP || i === p) return fail(out, c === LF ? ERR_BARE_LF : ERR_INVALID_METHOD);
  const me = i;
  const ts = ++i;
  while (TARGET[buf[i]!] === 1) i++;
  if (i >= lim) return needMore(out, start, end, limits);
  c = buf[i]!;
  if (c !== SP || i === ts) {
    return fail(out, c === LF ? ERR_BARE_LF : c === CR && i > ts ? ERR_INVALID_VERSION : ERR_INVALID_URL);
  }
  const te = i++;
  // HTTP-version: exactly "HTTP/1.0" or "HTTP/1.1", case-sensitive (RFC 9112 §2.3).
  const minor = httpVersionAt(buf, i, lim);
  if (minor === -1) return fail(out, ERR_INVALID_VERSION);
  if (minor === -2 || i + 9 >= lim) return needMore(out, start, end, limits);
  c = buf[i + 8]!;
  if (c !== CR) return fail(out, c === LF ? ERR_BARE_LF : ERR_INVALID_VERSION);
  if (buf[i + 9] !== LF) return fail(out, ERR_INVALID_VERSION);

  ensureScratch(limits.maxHeaders + 1);
  const headEnd = scanFields(buf, i + 10, lim, false, limits.maxHeaders);
  if (headEnd <= 0) return headEnd < 0 ? fail(out, headEnd) : needMore(out, start, end, limits);

  // Pass 2: one string for the head, every token a substring of it.
  const s = buf.toString('latin1', p, headEnd - 2);
  const method = me - p === 3 && buf[p] === 0x47 && buf[p + 1] === 0x45 && buf[p + 2] === 0x54 ? 'GET' : s.substring(0, me - p);
  const target = s.substring(ts - p, te - p);

  // Request-target form (RFC 9112 §3.2), checked after the version so that an HTTP/2
  // preface (`PRI * HTTP/2.0`) reports the version.
  const t0 = target.charCodeAt(0);
  if (method === 'CONNECT') {
    if (!isAuthorityForm(target)) return fail(out, ERR_INVALID_URL);
  } else if (t0 === STAR) {
    if (target.length !== 1 || method !== 'OPTIONS') return fail(out, ERR_INVALID_URL);
  } else if (t0 !== SLASH && !isAbsoluteForm(target)) {
    return fail(out, ERR_INVALID_URL);
  }

  const count = fieldCount;
  const offs = OFFS;
  const flags = FLAGS;
  trimFields(names, lnames, values, count);
  let hosts = 0;
  let clSeen = false;
  let teSeen = false;
  let conn = 0;
  let upgradeHeader = false;
  for (let k = 0; k < count; k++) {
    const o = k << 2;
    const ns = offs[o]!;
    const ne = offs[o + 1]!;
    const name = s.substring(ns - p, ne - p);
    const lname = flags[k] === 1 ? lowerName(buf, ns, ne, name) : name;
    const vs = offs[o + 2]!;
    const ve = offs[o + 3]!;
    const value = vs === ve ? '' : s.substring(vs - p, ve - p);
    names[k] = name;
    lnames[k] = lname;
    values[k] = value;

    switch (lname.length) {
      case 4:
        if (lname === 'host') {
          // RFC 9112 §3.2: a request with more than one Host line gets 400.
          if (++hosts > 1) return fail(out, ERR_MULTIPLE_HOST);
          out.host = value;
        }
        break;
      case 6:
        if (lname === 'expect' && eqIgnoreCase(value, 0, value.length, '100-continue')) out.expectContinue = true;
        break;
      case 7:
        if (lname === 'upgrade') upgradeHeader = true;
        break;
      case 10:
        if (lname === 'connection') conn |= parseConnection(value, tokens);
        break;
      case 14:
        if (lname === 'content-length') {
          const n = parseContentLength(value);
          if (n === -1) return fail(out, ERR_INVALID_CONTENT_LENGTH);
          // RFC 9110 §8.6, RFC 9112 §6.3: differing values are an unrecoverable framing error.
          if (n === -2 || (clSeen && n !== out.contentLength)) return fail(out, ERR_DUPLICATE_CONTENT_LENGTH);
          clSeen = true;
          out.contentLength = n;
        }
        break;
      case 17:
        if (lname === 'transfer-encoding') {
          // Like Envoy, the only accepted value is one `chunked`. RFC 9112 §6.1: TE in
          // HTTP/1.0 means faulty framing; §7: chunked at most once and last; other codings
          // cannot be framed by a proxy that does not decode them (see ERR_TE_NOT_CHUNKED).
          if (minor === 0 || teSeen || !eqIgnoreCase(value, 0, value.length, 'chunked')) {
            return fail(out, ERR_TE_NOT_CHUNKED);
          }
          teSeen = true;
          out.chunked = true;
        }
        break;
    }
  }

  // RFC 9112 §6.1: CL with TE may be a smuggling attempt; reject rather than pick one.
  if (teSeen && clSeen) return fail(out, ERR_CL_AND_TE);
  // RFC 9112 §3.2: an HTTP/1.1 request MUST carry Host.
  if (hosts === 0 && minor === 1) return fail(out, ERR_MISSING_HOST);
  out.method = method;
  out.target = target;
  out.versionMinor = minor;
  out.keepAlive = minor === 1 ? (conn & CONN_CLOSE) === 0 : (conn & (CONN_CLOSE | CONN_KEEP_ALIVE)) === CONN_KEEP_ALIVE;
  out.upgrade = (conn & CONN_UPGRADE) !== 0 && upgradeHeader;
  return headEnd - start;
}

/** authority-form (RFC 9112 §3.2.3): uri-host ":" port, for CONNECT only. */
function isAuthorityForm(t: string): boolean {
  const colon = t.lastIndexOf(':');
  if (colon <= 0 || colon === t.length - 1 || t.length - colon > 6) return false;
  for (let k = colon + 1; k < t.length; k++) {
    const c = t.charCodeAt(k);
    if (c < 0x30 || c > 0x39) return false;
  }
  return hostChars(t, 0, colon);
}

/**
 * absolute-form (RFC 9112 §3.2.2) with scheme http or https, a non-empty authority
 * (RFC 9110 §4.2.1) and no userinfo (RFC 9110 §4.2.4); the path may be empty.
 */
function isAbsoluteForm(t: string): boolean {
  let k: number;
  if (eqIgnoreCase(t, 0, 7, 'http://')) k = 7;
  else if (eqIgnoreCase(t, 0, 8, 'https://')) k = 8;
  else return false;
  let e = k;
  while (e < t.length) {
    const c = t.charCodeAt(e);
    if (c === SLASH || c === 0x3f) break;
    e++;
  }
  return e > k && hostChars(t, k, e);
}

/** t[a, b) has no '@', '/', '?' (userinfo or path where a host[:port] is expected). */
function hostChars(t: string, a: number, b: number): boolean {
  for (let k = a; k < b; k++) {
    const c = t.charCodeAt(k);
    if (c === 0x40 || c === SLASH || c === 0x3f) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Responses

/**
 * Parses a response head from buf[start, end); same return convention as parseRequestHead().
 * Lenient where RFC 9112 lets a recipient be (whitespace before a colon is dropped, obs-fold
 * is replaced by SP, a missing reason phrase is accepted, CTLs other than NUL/CR/LF are kept),
 * strict on framing: Transfer-Encoding overrides Content-Length, an invalid or conflicting
 * Content-Length is an error, `chunked` twice or TE in HTTP/1.0 is an error. Status codes
 * 100-999 are accepted; 1xx/204/304 and HEAD body rules are the caller's.
 */
export function parseResponseHead(buf: Buffer, start: number, end: number, out: ResponseHead, limits: HeadLimits, scanFrom = 0): number {
  out.status = 0;
  out.reason = '';
  out.versionMinor = 1;
  out.contentLength = -1;
  out.chunked = false;
  out.keepAlive = false;
  out.error = '';
  const names = out.names;
  const lnames = out.lnames;
  const values = out.values;
  const tokens = out.connectionTokens;
  if (tokens.length !== 0) tokens.length = 0;

  const again = recheck(buf, start, start, end, out, limits, scanFrom);
  if (again !== -1) return again;
  const lim = end - start > limits.maxHeadBytes ? start + limits.maxHeadBytes : end;

  // Status line (RFC 9112 §4): HTTP-version SP status-code SP [ reason-phrase ] CRLF.
  const minor = httpVersionAt(buf, start, lim);
  if (minor === -1) return fail(out, ERR_INVALID_VERSION);
  if (minor === -2 || start + 13 >= lim) return needMore(out, start, end, limits);
  let i = start + 8;
  if (buf[i] !== SP) return fail(out, ERR_INVALID_STATUS);
  const d0 = buf[i + 1]! - 0x30;
  const d1 = buf[i + 2]! - 0x30;
  const d2 = buf[i + 3]! - 0x30;
  if (!(d0 >= 1 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9)) return fail(out, ERR_INVALID_STATUS);
  i += 4;
  let c = buf[i]!;
  let rs = i;
  if (c === SP) {
    rs = ++i;
    while (i < lim && LAX_VALUE[buf[i]!] === 1) i++;
    if (i + 1 >= lim) return needMore(out, start, end, limits);
    c = buf[i]!;
  }
  // A missing SP before an empty reason is tolerated (RFC 9112 §4: the reason is ignorable).
  if (c !== CR) return fail(out, c === LF ? ERR_BARE_LF : ERR_INVALID_STATUS);
  if (buf[i + 1] !== LF) return fail(out, ERR_INVALID_STATUS);
  const re = i;

  ensureScratch(2 * limits.maxHeaders + 1);
  const headEnd = scanFields(buf, i + 2, lim, true, limits.maxHeaders);
  if (headEnd <= 0) return headEnd < 0 ? fail(out, headEnd) : needMore(out, start, end, limits);

  const s = buf.toString('latin1', start, headEnd - 2);
  const count = fieldCount;
  const offs = OFFS;
  const flags = FLAGS;
  let h = 0;
  for (let k = 0; k < count; k++) {
    const o = k << 2;
    const vs = offs[o + 2]!;
    const ve = offs[o + 3]!;
    const f = flags[k];
    if (f === 2) {
      // obs-fold: append the continuation to the previous value, joined by one SP.
      if (ve > vs) {
        const prev = values[h - 1]!;
        const more = s.substring(vs - start, ve - start);
        values[h - 1] = prev === '' ? more : `${prev} ${more}`;
      }
      continue;
    }
    const ns = offs[o]!;
    const ne = offs[o + 1]!;
    const name = s.substring(ns - start, ne - start);
    names[h] = name;
    lnames[h] = f === 1 ? lowerName(buf, ns, ne, name) : name;
    values[h] = vs === ve ? '' : s.substring(vs - start, ve - start);
    h++;
  }
  trimFields(names, lnames, values, h);

  // Framing and connection fields, read once folding has been undone.
  let conn = 0;
  let cl = -1;
  let te = 0; // 0 none, 1 final coding chunked, 2 other final coding
  let chunkedCount = 0;
  for (let k = 0; k < h; k++) {
    const ln = lnames[k]!;
    const n = ln.length;
    if (n === 10 && ln === 'connection') {
      conn |= parseConnection(values[k]!, tokens);
    } else if (n === 14 && ln === 'content-length') {
      const v = parseContentLength(values[k]!);
      if (v === -1) return fail(out, ERR_INVALID_CONTENT_LENGTH);
      if (v === -2 || (cl !== -1 && v !== cl)) return fail(out, ERR_DUPLICATE_CONTENT_LENGTH);
      cl = v;
    } else if (n === 17 && ln === 'transfer-encoding') {
      // RFC 9112 §6.1: TE in an HTTP/1.0 message means faulty framing.
      if (minor === 0) return fail(out, ERR_TE_NOT_CHUNKED);
      // Lines form one list (RFC 9110 §5.3): the last coding of the last non-empty line wins.
      const r = scanCodings(values[k]!);
      chunkedCount += r >> 2;
      if ((r & 3) !== 0) te = r & 3;
    }
  }
  // RFC 9112 §7: chunked is applied at most once.
  if (chunkedCount > 1) return fail(out, ERR_TE_NOT_CHUNKED);
  const close = minor === 1 ? (conn & CONN_CLOSE) !== 0 : (conn & (CONN_CLOSE | CONN_KEEP_ALIVE)) !== CONN_KEEP_ALIVE;
  out.status = d0 * 100 + d1 * 10 + d2;
  out.reason = re === rs ? '' : re - rs === 2 && buf[rs] === 0x4f && buf[rs + 1] === 0x4b ? 'OK' : s.substring(rs - start, re - start);
  out.versionMinor = minor;
  if (te !== 0) {
    // RFC 9112 §6.3: TE overrides CL; if chunked is not final the body runs until close.
    // Either way the connection is not reused (ambiguous or close-delimited framing).
    out.chunked = te === 1;
    out.keepAlive = !close && te === 1 && cl === -1;
  } else {
    out.contentLength = cl;
    out.keepAlive = !close;
  }
  return headEnd - start;
}
