/**
 * Request-path normalisation before route matching and authorization (RFC 3986 §5.2.4 and
 * §6.2.2.2, as Envoy's `normalize_path`). The normalised path is the one that is matched and
 * forwarded, so the upstream and the policy see the same resource.
 *
 * Choices (docs/http1.md, "Path normalisation"):
 * - Percent-escapes of unreserved characters (ALPHA, DIGIT, "-", ".", "_", "~") are decoded:
 *   RFC 3986 §6.2.2.2 says they are equivalent, and decoding them means `/%61dmin` and `/admin`
 *   hit the same route and policy. `%2E` is a dot, so `%2e%2E` is a `..` segment.
 * - Every other escape is kept exactly as sent, hex case included. In particular `%2F` and
 *   `%5C` are never decoded (Envoy's default `path_with_escaped_slashes_action: KEEP_UNCHANGED`),
 *   so `%2F` can never become a segment separator: `/public/%2F..%2Fadmin` stays one segment
 *   and cannot climb out of `/public` to bypass an AuthorizationPolicy on `/admin`.
 * - Backslash is an ordinary byte (not turned into `/`), and duplicate slashes are kept
 *   (Istio's default: no merge_slashes).
 */

const SLASH = 47;
const PERCENT = 37;
const DOT = 46;
const QUESTION = 63;

/** Hex value of a char code below 128, or -1. */
const HEX = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) { HEX[0x41 + c] = 10 + c; HEX[0x61 + c] = 10 + c; }

/** unreserved (RFC 3986 §2.3). */
const UNRESERVED = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) UNRESERVED[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) UNRESERVED[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) UNRESERVED[c] = 1;
for (const ch of '-._~') UNRESERVED[ch.charCodeAt(0)] = 1;

/** Value of the escape at p[i] ('%' at i), or -1 when it is not '%' HEXDIG HEXDIG. */
function escapeAt(p: string, i: number): number {
  if (i + 2 >= p.length) return -1;
  const a = p.charCodeAt(i + 1);
  const b = p.charCodeAt(i + 2);
  const h = a < 128 ? HEX[a]! : -1;
  const l = b < 128 ? HEX[b]! : -1;
  return h < 0 || l < 0 ? -1 : h * 16 + l;
}

/**
 * Normalises a path without its query: decodes unreserved escapes and removes dot segments.
 * Returns the same string (no allocation) when nothing changes, or null when the path is
 * invalid (empty, not starting with `/`, or with a malformed escape such as `%zz` or `%4`);
 * the caller answers 400 `path_normalization_failed`.
 */
export function normalizePath(p: string): string | null {
  const len = p.length;
  if (len === 0 || p.charCodeAt(0) !== SLASH) return null;
  // One scan: validate escapes, and see whether any work is needed.
  let work = false;
  let segStart = 1;
  let onlyDots = true;
  for (let i = 1; i <= len; i++) {
    const c = i < len ? p.charCodeAt(i) : SLASH;
    if (c === SLASH) {
      const n = i - segStart;
      if (onlyDots && (n === 1 || n === 2)) work = true; // `.` or `..`
      segStart = i + 1;
      onlyDots = true;
    } else if (c === PERCENT) {
      const v = escapeAt(p, i);
      if (v < 0) return null;
      if (UNRESERVED[v] === 1) work = true;
      onlyDots = false;
      i += 2;
    } else if (c !== DOT) {
      onlyDots = false;
    }
  }
  return work ? rewrite(p) : p;
}

/** Slow path of normalizePath(): the input is known valid and to need changes. */
function rewrite(p: string): string {
  const len = p.length;
  const out: string[] = [];
  let segStart = 1;
  for (let i = 1; i <= len; i++) {
    if (i < len && p.charCodeAt(i) !== SLASH) continue;
    const seg = decodeUnreserved(p, segStart, i);
    const last = i === len;
    // RFC 3986 §5.2.4: `.` is dropped, `..` drops the previous output segment; either one at
    // the end leaves a trailing slash (`/a/b/..` → `/a/`).
    if (seg === '.') {
      if (last) out.push('');
    } else if (seg === '..') {
      out.pop();
      if (last) out.push('');
    } else {
      out.push(seg);
    }
    segStart = i + 1;
  }
  return `/${out.join('/')}`;
}

/** p[a, b) with escapes of unreserved characters decoded; other escapes kept verbatim. */
function decodeUnreserved(p: string, a: number, b: number): string {
  let pct = p.indexOf('%', a);
  if (pct === -1 || pct >= b) return p.substring(a, b);
  const parts: string[] = [];
  let from = a;
  while (pct !== -1 && pct < b) {
    const v = escapeAt(p, pct);
    if (UNRESERVED[v] === 1) {
      parts.push(p.substring(from, pct), String.fromCharCode(v));
      from = pct + 3;
    }
    pct = p.indexOf('%', pct + 3);
  }
  parts.push(p.substring(from, b));
  return parts.join('');
}

/** Index of the '?' that starts the query in an origin-form target, or -1 (no allocation). */
export function queryIndex(target: string): number {
  return target.indexOf('?');
}

/**
 * Splits a request-target into path and query. The query keeps its leading `?` ('' when there
 * is none). Absolute-form (`http://host/p?q`) yields the path after the authority (`/` when
 * empty, RFC 9112 §3.2.2); asterisk- and authority-form yield the target as path.
 */
export function splitTarget(target: string): { path: string; query: string } {
  let ps = 0;
  if (target.charCodeAt(0) !== SLASH) {
    const auth = authorityEnd(target);
    if (auth < 0) return { path: target, query: '' };
    ps = auth;
  }
  const q = target.indexOf('?', ps);
  const pe = q === -1 ? target.length : q;
  const path = ps === 0 && pe === target.length ? target : pe === ps ? '/' : target.substring(ps, pe);
  return { path, query: q === -1 ? '' : target.substring(q) };
}

/** The authority of an absolute-form target (`http://a.example:8080/x` → `a.example:8080`), else ''. */
export function targetAuthority(target: string): string {
  if (target.charCodeAt(0) === SLASH) return '';
  const e = authorityEnd(target);
  if (e < 0) return '';
  return target.substring(target.indexOf('//') + 2, e);
}

/** Index just past the authority of an http(s) absolute-form target, or -1 for other forms. */
function authorityEnd(t: string): number {
  const sep = t.indexOf('://');
  if (sep !== 4 && sep !== 5) return -1;
  const scheme = t.substring(0, sep).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return -1;
  let i = sep + 3;
  while (i < t.length) {
    const c = t.charCodeAt(i);
    if (c === SLASH || c === QUESTION) break;
    i++;
  }
  return i;
}
