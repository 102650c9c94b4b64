/**
 * Per-route policies: rewrite, timeout and retries.
 *
 * Istio semantics (route.go, retry.go) that differ from plain Envoy:
 * - `rewrite.uri` is Envoy `prefix_rewrite`: it replaces the *matched prefix*. For exact and
 *   regex uri matches the matched part is the whole path; with no uri match the implicit
 *   prefix is `/`, so `/foo` + `rewrite.uri: /v1` becomes `/v1foo`. It is a plain string
 *   replacement, not segment aware.
 * - `timeout` absent or 0 means no timeout (Istio writes 0s over Envoy's 15 s default).
 * - No `retries` block means the mesh default policy (DEFAULT_RETRY); a block whose
 *   `attempts` is 0 or absent disables retries; a block without `retryOn` keeps the default
 *   retry conditions.
 */
import { parseDuration } from '../../resources/duration.js';
import { DEFAULT_RETRY, type MatchIR, type PathRewriteIR, type RetryIR, type RewriteIR } from '../../ir/types.js';
import { re2Error } from '../../resources/re2.js';
import { at, intIn, isObj, str, type Loc, type Reporter } from './diag.js';
import type { Sourced } from './sourced.js';

type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false };

/**
 * Path and authority rewrite for one match block. `headerAuthority` comes from
 * `headers.request.set/add` of host/:authority and applies when `rewrite.authority` is unset.
 */
export function translateRewrite(route: Sourced, match: MatchIR, headerAuthority: string | undefined, rep: Reporter): Result<RewriteIR | undefined> {
  const v = route.value['rewrite'];
  const loc = route.loc('rewrite');
  const out: { path?: PathRewriteIR; authority?: string } = {};
  if (isObj(v)) {
    const regex = v['uriRegexRewrite'];
    const uri = str(v['uri']);
    if (isObj(regex)) {
      const pattern = str(regex['match']);
      const substitution = str(regex['rewrite']) ?? '';
      const problem = pattern === undefined ? 'match is required' : re2Error(pattern);
      if (problem !== undefined) {
        rep.report('ISTIO_REGEX_INVALID', 'error', at(at(loc, 'uriRegexRewrite'), 'match'), `Dropping route: uriRegexRewrite.match is not valid RE2: ${problem}`);
        return { ok: false };
      }
      // RE2 `\1` backreferences are kept as written; the runtime converts them.
      out.path = { type: 'Regex', pattern: pattern!, substitution };
      if (uri) rep.report('ISTIO_FIELD_IGNORED', 'warning', at(loc, 'uri'), 'Ignoring rewrite.uri: uriRegexRewrite takes precedence');
    } else if (uri) {
      out.path = prefixRewrite(match, uri);
    }
    const authority = str(v['authority']);
    if (authority) out.authority = authority;
  }
  if (out.authority === undefined && headerAuthority !== undefined) out.authority = headerAuthority;
  return { ok: true, value: out.path || out.authority !== undefined ? out : undefined };
}

function prefixRewrite(match: MatchIR, uri: string): PathRewriteIR {
  const p = match.path;
  if (!p) return { type: 'ReplacePrefix', prefix: '/', replacement: uri, segmentAware: false };
  if (p.type === 'Prefix') return { type: 'ReplacePrefix', prefix: p.value, replacement: uri, segmentAware: false };
  return { type: 'ReplaceFull', value: uri };
}

/** Route timeout in ms; undefined = none. */
export function translateTimeout(route: Sourced, rep: Reporter): Result<number | undefined> {
  const v = route.value['timeout'];
  if (v === undefined || v === null) return { ok: true, value: undefined };
  const ms = typeof v === 'string' ? parseDuration(v) : undefined;
  if (ms === undefined) {
    rep.report('ISTIO_FIELD_INVALID', 'error', route.loc('timeout'), `Dropping route: timeout ${JSON.stringify(v)} is not a duration like "10s" or "250ms"`);
    return { ok: false };
  }
  return { ok: true, value: ms > 0 ? ms : undefined };
}

/** Envoy x-envoy-retry-on and x-envoy-retry-grpc-on policies Istio passes through. */
const RETRY_ON = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'envoy-ratelimited', 'retriable-4xx',
  'refused-stream', 'retriable-status-codes', 'retriable-headers', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

/** The retry policy of a route. */
export function translateRetry(route: Sourced, rep: Reporter): Result<RetryIR> {
  const v = route.value['retries'];
  if (v === undefined || v === null) return { ok: true, value: DEFAULT_RETRY };
  const loc = route.loc('retries');
  if (!isObj(v)) {
    rep.report('ISTIO_FIELD_INVALID', 'error', loc, 'Dropping route: retries must be an object');
    return { ok: false };
  }
  const attempts = v['attempts'] === undefined ? 0 : intIn(v['attempts'], 0, 2 ** 31 - 1);
  if (attempts === undefined) {
    rep.report('ISTIO_FIELD_INVALID', 'error', at(loc, 'attempts'), 'Dropping route: retries.attempts must be a non-negative integer');
    return { ok: false };
  }
  const perTry = readDuration(v['perTryTimeout'], at(loc, 'perTryTimeout'), rep);
  const backoff = readDuration(v['backoff'], at(loc, 'backoff'), rep);
  if (!perTry.ok || !backoff.ok) return { ok: false };
  if (v['retryRemoteLocalities'] === true) {
    rep.report('ISTIO_FIELD_IGNORED', 'warning', at(loc, 'retryRemoteLocalities'), 'Ignoring retries.retryRemoteLocalities: Portico has no locality-aware load balancing');
  }
  if (v['retryIgnorePreviousHosts'] === false) {
    rep.report('ISTIO_FIELD_IGNORED', 'warning', at(loc, 'retryIgnorePreviousHosts'), 'Ignoring retries.retryIgnorePreviousHosts: retries always prefer other endpoints');
  }
  // Istio: attempts <= 0 means "retries explicitly disabled", whatever else the block says.
  if (attempts === 0) return { ok: true, value: { attempts: 0, retryOn: [], retriableStatusCodes: [], backoffBaseMs: DEFAULT_RETRY.backoffBaseMs } };
  let retryOn: readonly string[] = DEFAULT_RETRY.retryOn;
  let codes: readonly number[] = DEFAULT_RETRY.retriableStatusCodes;
  const text = str(v['retryOn']);
  if (text !== undefined && text.trim() !== '') {
    const tokens: string[] = [];
    const numeric: number[] = [];
    for (const raw of text.split(',')) {
      const t = raw.trim();
      if (t === '') continue;
      if (/^\d+$/.test(t)) {
        const code = Number(t);
        if (code >= 100 && code <= 599) {
          if (!numeric.includes(code)) numeric.push(code);
          continue;
        }
      } else if (RETRY_ON.has(t)) {
        if (!tokens.includes(t)) tokens.push(t);
        continue;
      }
      rep.report('ISTIO_RETRY_ON_UNKNOWN', 'warning', at(loc, 'retryOn'), `Ignoring retryOn token "${t}": not a known retry policy or HTTP status code`);
    }
    // Numeric tokens become retriable status codes, which Envoy only honours together with
    // the retriable-status-codes policy; Istio appends it.
    if (numeric.length > 0 && !tokens.includes('retriable-status-codes')) tokens.push('retriable-status-codes');
    retryOn = tokens;
    codes = numeric;
  }
  const out: { -readonly [K in keyof RetryIR]: RetryIR[K] } = {
    attempts, retryOn, retriableStatusCodes: codes, backoffBaseMs: backoff.value ?? DEFAULT_RETRY.backoffBaseMs,
  };
  if (perTry.value !== undefined) out.perTryTimeoutMs = perTry.value;
  return { ok: true, value: out };
}

/** A duration of at least 1 ms, absent = undefined. */
function readDuration(v: unknown, loc: Loc, rep: Reporter): Result<number | undefined> {
  if (v === undefined || v === null) return { ok: true, value: undefined };
  const ms = typeof v === 'string' ? parseDuration(v) : undefined;
  if (ms === undefined || ms < 1) {
    rep.report('ISTIO_FIELD_INVALID', 'error', loc, `Dropping route: ${JSON.stringify(v)} is not a duration of at least 1ms`);
    return { ok: false };
  }
  return { ok: true, value: ms };
}
