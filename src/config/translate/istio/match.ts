/**
 * HTTPMatchRequest → MatchIR.
 *
 * One match block becomes one MatchIR (conditions AND-ed). A block that cannot be
 * translated faithfully is dropped with a diagnostic rather than widened: a dropped
 * condition would make the route match more than its author asked for.
 *
 * Not handled here because they are decided at translation time by the caller:
 * `port` (the block is kept only on listeners of that port), `sourceLabels` and
 * `sourceNamespace` (compared with the proxy's identity), `gateways`. `statPrefix` and
 * `name` do not affect matching.
 */
import type { HeaderMatchIR, MatchIR, PathMatchIR, QueryMatchIR, StringMatchIR } from '../../ir/types.js';
import { re2Error } from '../../resources/re2.js';
import { at, isObj, type Loc, type Reporter } from './diag.js';
import type { Sourced } from './sourced.js';

/** Header keys Istio ignores in `headers` (they have their own match fields). */
const RESERVED_HEADER_KEYS = new Set(['uri', 'scheme', 'method', 'authority']);
const JWT_CLAIM_PREFIX = '@request.auth.claims';

type Parsed<T> = { readonly ok: true; readonly value: T | undefined } | { readonly ok: false };

/**
 * Translates one match block; undefined when the block must be dropped (diagnostics
 * reported). An absent block matches everything.
 */
export function translateMatch(block: Sourced | undefined, rep: Reporter): MatchIR | undefined {
  if (!block) return {};
  const m = block.value;
  let ok = true;
  const out: { -readonly [K in keyof MatchIR]: MatchIR[K] } = {};

  const uri = parseStringMatch(m['uri'], block.loc('uri'), rep);
  if (!uri.ok) ok = false;
  else if (uri.value) out.path = toPathMatch(uri.value, m['ignoreUriCase'] === true);

  for (const field of ['scheme', 'method', 'authority'] as const) {
    const r = parseStringMatch(m[field], block.loc(field), rep);
    if (!r.ok) ok = false;
    else if (r.value) out[field] = r.value;
  }

  const headers: HeaderMatchIR[] = [];
  for (const [field, invert] of [['headers', false], ['withoutHeaders', true]] as const) {
    const map = m[field];
    if (map === undefined || map === null) continue;
    if (!isObj(map)) {
      rep.report('ISTIO_FIELD_INVALID', 'error', block.loc(field), `Dropping match block: ${field} must be a map of header name to string match`);
      ok = false;
      continue;
    }
    for (const [rawName, v] of Object.entries(map)) {
      const loc = block.loc(field, rawName);
      const name = rawName.toLowerCase();
      if (name.startsWith(JWT_CLAIM_PREFIX)) {
        rep.report('ISTIO_JWT_CLAIM_MATCH_UNSUPPORTED', 'warning', loc,
          `Dropping match block: "${rawName}" matches a JWT claim, which needs RequestAuthentication (later release)`);
        ok = false;
        continue;
      }
      if (RESERVED_HEADER_KEYS.has(name)) {
        rep.report('ISTIO_HEADER_MATCH_IGNORED', 'warning', loc,
          `Ignoring ${field} key "${rawName}": Istio ignores it here, use the match field "${name}" instead`);
        continue;
      }
      const r = parsePresenceMatch(v, loc, rep, true);
      if (!r.ok) ok = false;
      else headers.push(invert ? { name, match: r.value, invert: true } : { name, match: r.value });
    }
  }
  if (headers.length > 0) out.headers = headers.sort((a, b) => cmpStr(a.name, b.name) || Number(!!a.invert) - Number(!!b.invert));

  const qp = m['queryParams'];
  if (qp !== undefined && qp !== null) {
    if (!isObj(qp)) {
      rep.report('ISTIO_FIELD_INVALID', 'error', block.loc('queryParams'), 'Dropping match block: queryParams must be a map of name to string match');
      ok = false;
    } else {
      const params: QueryMatchIR[] = [];
      for (const [name, v] of Object.entries(qp)) {
        const r = parsePresenceMatch(v, block.loc('queryParams', name), rep, false);
        if (!r.ok) ok = false;
        else params.push({ name, match: r.value });
      }
      if (params.length > 0) out.queryParams = params.sort((a, b) => cmpStr(a.name, b.name));
    }
  }
  return ok ? out : undefined;
}

/**
 * A catch-all match: nothing but (optionally) uri prefix `/`. Istio moves such routes of an
 * older VirtualService behind the routes of newer ones and stops reading a VirtualService
 * after its first one.
 */
export function isCatchAll(m: MatchIR): boolean {
  for (const [k, v] of Object.entries(m)) {
    if (v === undefined) continue;
    if (k !== 'path') return false;
    const p = v as PathMatchIR;
    if (p.type !== 'Prefix' || p.value !== '/') return false;
  }
  return true;
}

function toPathMatch(m: StringMatchIR, ignoreCase: boolean): PathMatchIR {
  switch (m.type) {
    case 'Exact':
    case 'Prefix':
      // ignoreUriCase affects exact and prefix only; regexes need (?i).
      return ignoreCase ? { type: m.type, value: m.value, ignoreCase: true } : { type: m.type, value: m.value };
    case 'Regex':
      return { type: 'Regex', value: m.value };
    default:
      throw new RangeError(`Unexpected uri match type ${m.type}`);
  }
}

/**
 * Header / query parameter value: `{}`, an omitted value or (headers only) `regex: "*"`
 * mean "present"; otherwise a StringMatch.
 */
function parsePresenceMatch(v: unknown, loc: Loc, rep: Reporter, header: boolean): { ok: true; value: StringMatchIR } | { ok: false } {
  if (v === undefined || v === null) return { ok: true, value: { type: 'Present' } };
  if (header && isObj(v) && v['regex'] === '*') return { ok: true, value: { type: 'Present' } };
  const r = parseStringMatch(v, loc, rep);
  if (!r.ok) return r;
  return { ok: true, value: r.value ?? { type: 'Present' } };
}

/**
 * StringMatch oneof {exact, prefix, regex}; `value` undefined when none is set (an empty
 * StringMatch adds no condition). Regexes are RE2 and match the whole value.
 */
export function parseStringMatch(v: unknown, loc: Loc, rep: Reporter): Parsed<StringMatchIR> {
  if (v === undefined || v === null) return { ok: true, value: undefined };
  if (!isObj(v)) {
    rep.report('ISTIO_FIELD_INVALID', 'error', loc, 'Dropping match block: a string match must be an object with exact, prefix or regex');
    return { ok: false };
  }
  const set = (['exact', 'prefix', 'regex'] as const).filter((k) => v[k] !== undefined && v[k] !== null);
  if (set.length === 0) return { ok: true, value: undefined };
  if (set.length > 1) {
    rep.report('ISTIO_FIELD_INVALID', 'error', loc, `Dropping match block: only one of exact, prefix, regex may be set, found ${set.join(', ')}`);
    return { ok: false };
  }
  const kind = set[0]!;
  const value = v[kind];
  if (typeof value !== 'string') {
    rep.report('ISTIO_FIELD_INVALID', 'error', at(loc, kind), `Dropping match block: ${kind} must be a string`);
    return { ok: false };
  }
  if (kind === 'regex') {
    const problem = re2Error(value);
    if (problem !== undefined) {
      rep.report('ISTIO_REGEX_INVALID', 'error', at(loc, 'regex'), `Dropping match block: regex "${value}" is not valid RE2: ${problem}`);
      return { ok: false };
    }
    return { ok: true, value: { type: 'Regex', value } };
  }
  return { ok: true, value: { type: kind === 'exact' ? 'Exact' : 'Prefix', value } };
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
