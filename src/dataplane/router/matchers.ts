/**
 * Compiles IR match conditions into small predicate objects. The data plane calls `test`;
 * `portico explain` calls the very same `test` and uses `label`/`actual` to say why a
 * candidate did not match, so there is one matching implementation.
 */
import type { HeaderMatchIR, MatchIR, PathMatchIR, QueryMatchIR, StringMatchIR } from '../../config/ir/types.js';
import { compileFullMatch } from '../../config/resources/re2.js';
import { headerJoined, queryParams, type RequestView } from './request-view.js';

export interface Condition {
  /** Human description of the condition: `path prefix "/api"`. */
  readonly label: string;
  test(req: RequestView): boolean;
  /** The request value the condition looked at (for explain). */
  actual(req: RequestView): string;
}

type StrTest = (v: string) => boolean;

/** Case-insensitive ASCII equality without allocating. */
function eqIgnoreCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x !== y) return false;
  }
  return true;
}

function startsWithIgnoreCase(s: string, prefix: string): boolean {
  return s.length >= prefix.length && eqIgnoreCase(s.slice(0, prefix.length), prefix);
}

/** Compile a string matcher (value present). Present is handled by callers. */
export function compileString(m: StringMatchIR): StrTest {
  switch (m.type) {
    case 'Exact': {
      const v = m.value;
      return m.ignoreCase ? (s) => eqIgnoreCase(s, v) : (s) => s === v;
    }
    case 'Prefix': {
      const v = m.value;
      return m.ignoreCase ? (s) => startsWithIgnoreCase(s, v) : (s) => s.startsWith(v);
    }
    case 'Suffix': {
      const v = m.value;
      return m.ignoreCase
        ? (s) => s.length >= v.length && eqIgnoreCase(s.slice(s.length - v.length), v)
        : (s) => s.endsWith(v);
    }
    case 'Regex': {
      const re = compileFullMatch(m.value);
      return (s) => re.test(s);
    }
    case 'Present':
      return () => true;
  }
}

export function describeString(m: StringMatchIR): string {
  if (m.type === 'Present') return 'present';
  const ic = 'ignoreCase' in m && m.ignoreCase ? ' (ignore case)' : '';
  return `${m.type.toLowerCase()} ${JSON.stringify(m.value)}${ic}`;
}

/** Segment-aware prefix test (Gateway API PathPrefix / Ingress Prefix). */
function pathPrefixTest(value: string, ignoreCase: boolean): StrTest {
  let v = value;
  while (v.length > 1 && v.endsWith('/')) v = v.slice(0, -1);
  if (v === '/' || v === '') return () => true;
  const len = v.length;
  if (ignoreCase) {
    return (p) => startsWithIgnoreCase(p, v) && (p.length === len || p.charCodeAt(len) === 47);
  }
  return (p) => p.startsWith(v) && (p.length === len || p.charCodeAt(len) === 47);
}

export function compilePath(m: PathMatchIR): Condition {
  let t: StrTest;
  let label: string;
  switch (m.type) {
    case 'Exact': t = compileString(m); label = `path exact ${JSON.stringify(m.value)}`; break;
    case 'Prefix': t = compileString(m); label = `path prefix ${JSON.stringify(m.value)}`; break;
    case 'PathPrefix': t = pathPrefixTest(m.value, m.ignoreCase === true); label = `path segment prefix ${JSON.stringify(m.value)}`; break;
    case 'Regex': t = compileString(m); label = `path regex ${JSON.stringify(m.value)}`; break;
  }
  if ('ignoreCase' in m && m.ignoreCase) label += ' (ignore case)';
  return { label, test: (r) => t(r.path), actual: (r) => r.path };
}

function compileHeader(h: HeaderMatchIR): Condition {
  const name = h.name;
  if (h.match.type === 'Present') {
    return h.invert
      ? { label: `header ${name} absent`, test: (r) => headerJoined(r, name) === undefined, actual: (r) => headerJoined(r, name) ?? '(absent)' }
      : { label: `header ${name} present`, test: (r) => headerJoined(r, name) !== undefined, actual: (r) => headerJoined(r, name) ?? '(absent)' };
  }
  const t = compileString(h.match);
  const d = describeString(h.match);
  if (h.invert) {
    // Istio withoutHeaders: a missing header counts as the empty string.
    return { label: `header ${name} not ${d}`, test: (r) => !t(headerJoined(r, name) ?? ''), actual: (r) => headerJoined(r, name) ?? '(absent)' };
  }
  return {
    label: `header ${name} ${d}`,
    test: (r) => { const v = headerJoined(r, name); return v !== undefined && t(v); },
    actual: (r) => headerJoined(r, name) ?? '(absent)',
  };
}

function compileQuery(q: QueryMatchIR): Condition {
  const name = q.name;
  if (q.match.type === 'Present') {
    return { label: `query ${name} present`, test: (r) => queryParams(r).has(name), actual: (r) => queryParams(r).get(name) ?? '(absent)' };
  }
  const t = compileString(q.match);
  return {
    label: `query ${name} ${describeString(q.match)}`,
    test: (r) => { const v = queryParams(r).get(name); return v !== undefined && t(v); },
    actual: (r) => queryParams(r).get(name) ?? '(absent)',
  };
}

function compileField(label: string, m: StringMatchIR, get: (r: RequestView) => string): Condition {
  const t = compileString(m);
  return { label: `${label} ${describeString(m)}`, test: (r) => t(get(r)), actual: get };
}

/** Does `host` (lower-case, no port) match `pattern` (exact, `*.suffix` — one or more labels — or `*`)? */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.charCodeAt(0) === 42 /* * */) {
    const suffix = pattern.slice(1); // ".example.com"
    return host.length > suffix.length && host.endsWith(suffix);
  }
  return pattern === host;
}

/** Compile every condition of a MatchIR, cheapest first (method, port, path before headers). */
export function compileMatch(m: MatchIR): Condition[] {
  const out: Condition[] = [];
  if (m.port !== undefined) {
    const p = m.port;
    out.push({ label: `port ${p}`, test: (r) => r.port === p, actual: (r) => String(r.port) });
  }
  if (m.hostnames && m.hostnames.length > 0) {
    const hs = m.hostnames.map((h) => h.toLowerCase());
    out.push({ label: `hostname in ${hs.join(', ')}`, test: (r) => hs.some((h) => hostMatches(h, r.host)), actual: (r) => r.host });
  }
  if (m.method) out.push(compileField('method', m.method, (r) => r.method));
  if (m.path) out.push(compilePath(m.path));
  if (m.scheme) out.push(compileField('scheme', m.scheme, (r) => r.scheme));
  if (m.authority) out.push(compileField('authority', m.authority, (r) => r.authority));
  for (const h of m.headers ?? []) out.push(compileHeader(h));
  for (const q of m.queryParams ?? []) out.push(compileQuery(q));
  return out;
}
