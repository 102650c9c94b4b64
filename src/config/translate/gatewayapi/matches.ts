/**
 * HTTPRouteMatch → MatchIR (httproute_types.go HTTPPathMatch, HTTPHeaderMatch,
 * HTTPQueryParamMatch, HTTPMethod). Conformance: httproute-matching, httproute-header-matching,
 * httproute-query-param-matching, httproute-method-matching.
 */
import type { HeaderMatchIR, MatchIR, PathMatchIR, QueryMatchIR, StringMatchIR } from '../../ir/types.js';
import { re2Error } from '../../resources/re2.js';
import { arr } from './common.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

/** The implicit match of a rule without matches (and of a match without path). */
export const ROOT_PREFIX: PathMatchIR = { type: 'PathPrefix', value: '/' };

export type ParsedMatch = { readonly ok: true; readonly match: MatchIR } | { readonly ok: false; readonly path: string; readonly message: string };

/**
 * Parses one match. `at` is the match's field path (`spec.rules[0].matches[1]`). Errors name the
 * exact field; the caller turns them into an invalid (500) rule.
 */
export function parseMatch(m: any, at: string): ParsedMatch {
  const bad = (path: string, message: string): ParsedMatch => ({ ok: false, path: `${at}.${path}`, message });

  let path: PathMatchIR = ROOT_PREFIX;
  if (m?.path !== undefined) {
    const type = m.path?.type ?? 'PathPrefix';
    const value = m.path?.value ?? '/';
    if (typeof value !== 'string') return bad('path.value', 'Cannot use path match: value must be a string');
    if (type === 'Exact' || type === 'PathPrefix') {
      if (!value.startsWith('/')) return bad('path.value', `Cannot use path match "${value}": it must start with "/"`);
      if (value.includes('//')) return bad('path.value', `Cannot use path match "${value}": it must not contain "//"`);
      // PathPrefix is segment-wise and ignores a trailing "/" (the runtime implements both).
      path = { type, value };
    } else if (type === 'RegularExpression') {
      const err = checkRegex(value);
      if (err) return bad('path.value', `Cannot use path regex "${value}": ${err}`);
      path = { type: 'Regex', value };
    } else {
      return bad('path.type', `Cannot use path match type "${String(type)}": expected Exact, PathPrefix or RegularExpression`);
    }
  }

  const headers: HeaderMatchIR[] = [];
  const seenHeaders = new Set<string>();
  for (const [i, h] of arr(m?.headers).entries()) {
    const name = typeof h?.name === 'string' ? h.name.toLowerCase() : '';
    if (!name) return bad(`headers[${i}].name`, 'Cannot use header match: name is required');
    // Spec: "only the first entry with an equivalent name MUST be considered"; names are case-insensitive.
    if (seenHeaders.has(name)) continue;
    seenHeaders.add(name);
    const sm = stringMatch(h, `header "${name}"`);
    if (typeof sm === 'string') return bad(`headers[${i}]`, sm);
    headers.push({ name, match: sm });
  }

  const queryParams: QueryMatchIR[] = [];
  const seenQuery = new Set<string>();
  for (const [i, q] of arr(m?.queryParams).entries()) {
    const name = typeof q?.name === 'string' ? q.name : '';
    if (!name) return bad(`queryParams[${i}].name`, 'Cannot use query param match: name is required');
    // Query param names are compared exactly (case-sensitive); the first entry wins.
    if (seenQuery.has(name)) continue;
    seenQuery.add(name);
    const sm = stringMatch(q, `query param "${name}"`);
    if (typeof sm === 'string') return bad(`queryParams[${i}]`, sm);
    queryParams.push({ name, match: sm });
  }

  let method: StringMatchIR | undefined;
  if (m?.method !== undefined) {
    if (!METHODS.has(m.method)) return bad('method', `Cannot use method match "${String(m.method)}": expected one of ${[...METHODS].join(', ')}`);
    // Exact on the request method: HEAD does not match a GET rule.
    method = { type: 'Exact', value: m.method };
  }

  const match: MatchIR = {
    path,
    ...(method ? { method } : {}),
    ...(headers.length ? { headers } : {}),
    ...(queryParams.length ? { queryParams } : {}),
  };
  return { ok: true, match };
}

function stringMatch(v: any, what: string): StringMatchIR | string {
  const type = v?.type ?? 'Exact';
  const value = v?.value;
  if (typeof value !== 'string') return `Cannot use ${what} match: value must be a string`;
  if (type === 'Exact') return { type: 'Exact', value };
  if (type === 'RegularExpression') {
    const err = checkRegex(value);
    return err ? `Cannot use ${what} regex "${value}": ${err}` : { type: 'Regex', value };
  }
  return `Cannot use ${what} match type "${String(type)}": expected Exact or RegularExpression`;
}

/**
 * RE2 syntax check with the project's RE2 → JavaScript translator (the same one the runtime
 * compiles with), so a pattern accepted here always compiles at build time.
 */
export function checkRegex(pattern: string): string | undefined {
  if (pattern === '') return 'the pattern is empty';
  return re2Error(pattern);
}
