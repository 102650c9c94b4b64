/**
 * The request as the router sees it. Built once per request by the HTTP/1.1 and HTTP/2
 * front ends (and by `portico explain`), so matching code never knows the wire protocol.
 */
export interface RequestView {
  readonly method: string;
  /** Normalised path without the query string. */
  readonly path: string;
  /** Raw query without the leading `?` ('' when none). */
  readonly query: string;
  /** Host header as received (port included): Istio `authority` matches this. */
  readonly authority: string;
  /** Lower-cased host without port: virtual-host and hostname selection use this. */
  readonly host: string;
  /** `http` or `https`. */
  readonly scheme: string;
  /** Listener port the request arrived on. */
  readonly port: number;
  /** Lower-cased header names, parallel to `values`. */
  readonly lnames: readonly string[];
  readonly values: readonly string[];
  /** Upgrade protocol requested (`websocket`) when the request asked to switch protocols. */
  readonly upgrade?: string | undefined;
  /** Lazily parsed query parameters (see queryParams()). */
  parsedQuery?: Map<string, string> | undefined;
}

/**
 * The mutable view the front ends fill per request (one class, so matching code sees one
 * object shape whatever the protocol).
 */
export class MutableRequestView implements RequestView {
  upgrade: string | undefined = undefined;
  method = '';
  path = '';
  query = '';
  authority = '';
  host = '';
  scheme = 'http';
  port = 0;
  lnames: readonly string[] = [];
  values: readonly string[] = [];
  parsedQuery: Map<string, string> | undefined = undefined;
}

/** First value of a header (names are lower-case), or undefined. */
export function headerValue(req: RequestView, lname: string): string | undefined {
  const n = req.lnames;
  for (let i = 0; i < n.length; i++) if (n[i] === lname) return req.values[i];
  return undefined;
}

/**
 * All values of a header joined with `,` (RFC 9110 §5.3), or undefined when absent.
 * Only allocates when the header repeats.
 */
export function headerJoined(req: RequestView, lname: string): string | undefined {
  const n = req.lnames;
  let out: string | undefined;
  for (let i = 0; i < n.length; i++) {
    if (n[i] === lname) out = out === undefined ? req.values[i] : `${out},${req.values[i]}`;
  }
  return out;
}

/**
 * Query parameters, parsed on first use and cached on the view. The first occurrence of a
 * key wins (Envoy's query parameter matcher looks at the first). Keys and values are
 * percent-decoded; a key without `=` has the value ''.
 */
export function queryParams(req: RequestView): Map<string, string> {
  if (req.parsedQuery) return req.parsedQuery;
  const m = new Map<string, string>();
  const q = req.query;
  if (q.length > 0) {
    let start = 0;
    while (start <= q.length) {
      let amp = q.indexOf('&', start);
      if (amp === -1) amp = q.length;
      if (amp > start) {
        const eq = q.indexOf('=', start);
        let k: string;
        let v: string;
        if (eq === -1 || eq > amp) { k = q.slice(start, amp); v = ''; }
        else { k = q.slice(start, eq); v = q.slice(eq + 1, amp); }
        k = safeDecode(k);
        if (!m.has(k)) m.set(k, safeDecode(v));
      }
      start = amp + 1;
    }
  }
  req.parsedQuery = m;
  return m;
}

function safeDecode(s: string): string {
  if (s.indexOf('%') === -1 && s.indexOf('+') === -1) return s;
  try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; }
}

/** Lower-cased host without the port (handles `[::1]:8080`). */
export function hostWithoutPort(authority: string): string {
  let h = authority;
  if (h.charCodeAt(0) === 91 /* [ */) {
    const end = h.indexOf(']');
    h = end === -1 ? h : h.slice(0, end + 1);
  } else {
    const colon = h.lastIndexOf(':');
    if (colon !== -1) h = h.slice(0, colon);
  }
  // Fast path: most hosts are already lower-case.
  for (let i = 0; i < h.length; i++) {
    const c = h.charCodeAt(i);
    if (c >= 65 && c <= 90) return h.toLowerCase();
  }
  return h;
}
