/**
 * HTTPRoute rules → RouteIR templates, one per (rule, match). Templates are independent of the
 * listener; index.ts places them into virtual hosts and sorts them by precedence.
 */
import type { BackendIR, MatchIR, RetryIR, RouteActionIR, RouteIR } from '../../ir/types.js';
import { DEFAULT_RETRY } from '../../ir/types.js';
import { parseGatewayDuration } from '../../resources/duration.js';
import type { LoadedResource } from '../../resources/types.js';
import type { TranslateContext } from '../context.js';
import { type GrantIndex, resolveBackend } from './backends.js';
import { arr } from './common.js';
import { type FilterIssue, type RuleFilters, parseHeaderOps, parseRuleFilters, pathRewriteFor } from './filters.js';
import { ROOT_PREFIX, parseMatch } from './matches.js';

/** One translated (rule, match) before placement. */
export interface RouteTemplate {
  readonly route: RouteIR;
  readonly ruleIndex: number;
  readonly matchIndex: number;
}

/** A ResolvedRefs problem (first one names the condition reason). */
export interface RefProblem {
  readonly reason: string;
  readonly message: string;
}

export interface RouteTranslation {
  readonly templates: readonly RouteTemplate[];
  readonly refProblems: readonly RefProblem[];
  /** Messages of rules (or backends) that answer 500 because their config is invalid. */
  readonly invalid: readonly string[];
}

/** Local reply of an invalid rule (unsupported filter, bad match or modifier). */
const INVALID_RULE: BackendIR = { weight: 1, invalid: { status: 500, detail: 'invalid_route_rule', flag: 'NC' } };
/** Local reply when no backendRef carries weight (spec: all traffic of the rule gets 500). */
const NO_BACKENDS: BackendIR = { weight: 1, invalid: { status: 500, detail: 'backend_not_found', flag: 'NC' } };

/** Translates every rule of an HTTPRoute. Reports diagnostics as it goes. */
export function translateRoute(ctx: TranslateContext, grants: GrantIndex, route: LoadedResource): RouteTranslation {
  const templates: RouteTemplate[] = [];
  const refProblems: RefProblem[] = [];
  const invalid: string[] = [];
  const report = (i: FilterIssue, severity: 'error' | 'warning' = 'error'): void =>
    ctx.report({ code: i.code, severity, resource: route.key, path: i.path, message: i.message });

  const rules = arr(route.object.spec?.rules);
  // CRD default: one rule matching PathPrefix "/" (and, without backendRefs, answering 500).
  const effectiveRules = rules.length > 0 ? rules : [{}];
  effectiveRules.forEach((rule: any, ri: number) => {
    const at = `spec.rules[${ri}]`;
    const ruleInvalid: FilterIssue[] = [];

    // Matches: each becomes its own RouteIR; none = the implicit PathPrefix "/".
    const rawMatches = arr(rule?.matches);
    const matches: { match: MatchIR; index: number; path: string }[] = [];
    if (rawMatches.length === 0) matches.push({ match: { path: ROOT_PREFIX }, index: 0, path: at });
    rawMatches.forEach((m: any, mi: number) => {
      const p = parseMatch(m, `${at}.matches[${mi}]`);
      if (p.ok) matches.push({ match: p.match, index: mi, path: `${at}.matches[${mi}]` });
      else ruleInvalid.push({ code: 'GWAPI_MATCH_INVALID', path: p.path, message: p.message });
    });

    const f = parseRuleFilters(ctx, grants, route, arr(rule?.filters), `${at}.filters`);
    ruleInvalid.push(...f.invalid);
    for (const r of f.refs) {
      report(r);
      refProblems.push({ reason: r.refReason ?? 'BackendNotFound', message: r.message });
    }
    const pathMod = f.filters.redirect?.path ?? f.filters.rewrite?.path;
    if (pathMod?.kind === 'prefix' && matches.some((m) => m.match.path?.type !== 'PathPrefix')) {
      ruleInvalid.push({
        code: 'GWAPI_FILTER_INVALID', path: `${at}.filters`,
        message: 'Cannot use ReplacePrefixMatch: every match of the rule must be a PathPrefix match',
      });
    }

    const timing = parseTimeouts(ctx, route, rule, at);
    let action: RouteActionIR;
    if (ruleInvalid.length > 0) {
      for (const i of ruleInvalid) report(i);
      invalid.push(`rule ${ri}: ${ruleInvalid.map((i) => i.message).join('; ')}`);
      action = { type: 'forward', backends: [INVALID_RULE] };
    } else if (f.filters.redirect) {
      if (arr(rule?.backendRefs).length > 0) {
        report({ code: 'GWAPI_REDIRECT_WITH_BACKENDS', path: `${at}.backendRefs`, message: 'Cannot use backendRefs together with a RequestRedirect filter: the redirect wins' }, 'warning');
      }
      action = { type: 'redirect', portMode: 'Keep', statusCode: f.filters.redirect.statusCode }; // path added per match
    } else {
      action = { type: 'forward', backends: translateBackends(ctx, grants, route, arr(rule?.backendRefs), at, refProblems, invalid) };
    }

    for (const m of matches) {
      templates.push({ route: buildRoute(route, ri, m, action, f.filters, ruleInvalid.length > 0, timing), ruleIndex: ri, matchIndex: m.index });
    }
  });
  return { templates, refProblems, invalid };
}

function buildRoute(
  route: LoadedResource,
  ri: number,
  m: { match: MatchIR; index: number; path: string },
  action: RouteActionIR,
  filters: RuleFilters,
  invalid: boolean,
  timing: { timeoutMs?: number; retry: RetryIR },
): RouteIR {
  const id = `httproute/${route.key.namespace}/${route.key.name}/rule/${ri}/match/${m.index}`;
  const base = { name: id, id, match: m.match };
  const origin = { source: route.key, sourcePath: m.path };
  if (invalid) return { ...base, action, ...origin };
  const matchPath = m.match.path ?? ROOT_PREFIX;
  const headers = {
    ...(filters.requestHeaders ? { requestHeaders: filters.requestHeaders } : {}),
    ...(filters.responseHeaders ? { responseHeaders: filters.responseHeaders } : {}),
  };
  if (action.type === 'redirect') {
    const r = filters.redirect!;
    const path = r.path ? pathRewriteFor(r.path, matchPath) : undefined;
    return {
      ...base,
      action: {
        type: 'redirect',
        ...(r.scheme ? { scheme: r.scheme } : {}), ...(r.host ? { host: r.host } : {}), ...(r.port ? { port: r.port } : {}),
        // Gateway API: no port → the scheme's well-known port when a scheme is set, else the
        // listener port; :80 for http and :443 for https are never written (runtime).
        portMode: 'Keep',
        ...(path ? { path } : {}),
        statusCode: r.statusCode,
      },
      ...headers,
      ...origin,
    };
  }
  const rw = filters.rewrite;
  const rwPath = rw?.path ? pathRewriteFor(rw.path, matchPath) : undefined;
  const rewrite = rw && (rw.authority || rwPath) ? { ...(rwPath ? { path: rwPath } : {}), ...(rw.authority ? { authority: rw.authority } : {}) } : undefined;
  return {
    ...base,
    action,
    ...(rewrite ? { rewrite } : {}),
    ...headers,
    ...(timing.timeoutMs !== undefined ? { timeoutMs: timing.timeoutMs } : {}),
    retry: timing.retry,
    ...(filters.mirrors.length ? { mirrors: filters.mirrors } : {}),
    ...origin,
  };
}

/**
 * backendRefs → BackendIR[]. Weight 0 gets nothing (dropped); absent weight is 1. An invalid
 * reference keeps its weight and answers 500, so only its share of traffic fails. No weighted
 * backend at all → the whole rule answers 500 (the spec; Istio does the same).
 */
function translateBackends(
  ctx: TranslateContext,
  grants: GrantIndex,
  route: LoadedResource,
  refs: readonly any[],
  at: string,
  refProblems: RefProblem[],
  invalid: string[],
): BackendIR[] {
  const out: BackendIR[] = [];
  refs.forEach((ref: any, bi: number) => {
    const path = `${at}.backendRefs[${bi}]`;
    const weight = typeof ref?.weight === 'number' && Number.isInteger(ref.weight) && ref.weight >= 0 ? ref.weight : 1;
    if (weight === 0) {
      // Still validated for the ResolvedRefs condition, without creating an unused cluster.
      const probe = resolveBackend(ctx, grants, route, ref, true);
      if (!probe.ok) {
        ctx.report({ code: probe.code, severity: 'error', resource: route.key, path, message: probe.message });
        refProblems.push({ reason: probe.reason, message: probe.message });
      }
      return;
    }
    const res = resolveBackend(ctx, grants, route, ref);
    if (!res.ok) {
      ctx.report({ code: res.code, severity: 'error', resource: route.key, path, message: res.message });
      refProblems.push({ reason: res.reason, message: res.message });
      out.push({ weight, invalid: { status: 500, detail: res.detail, flag: 'NC' } });
      return;
    }
    const b = backendFilters(ctx, route, arr(ref?.filters), `${path}.filters`, invalid);
    if (b === 'invalid') {
      out.push({ weight, invalid: { status: 500, detail: 'invalid_route_rule', flag: 'NC' } });
      return;
    }
    out.push({ weight, cluster: res.cluster, ...b });
  });
  if (out.length === 0) {
    ctx.report({ code: 'GWAPI_NO_BACKENDS', severity: 'warning', resource: route.key, path: `${at}.backendRefs`, message: 'Cannot forward: the rule has no backendRef with a weight above 0, so it answers 500' });
    return [NO_BACKENDS];
  }
  return out;
}

/** backendRef-level filters: header modifiers apply to that backend only; others are unsupported. */
function backendFilters(
  ctx: TranslateContext, route: LoadedResource, filters: readonly any[], at: string, invalid: string[],
): Pick<BackendIR, 'requestHeaders' | 'responseHeaders'> | 'invalid' {
  let requestHeaders;
  let responseHeaders;
  for (const [i, f] of filters.entries()) {
    if (f?.type === 'RequestHeaderModifier') requestHeaders = parseHeaderOps(f.requestHeaderModifier);
    else if (f?.type === 'ResponseHeaderModifier') responseHeaders = parseHeaderOps(f.responseHeaderModifier);
    else {
      const message = `Cannot apply backendRef filter of type "${String(f?.type)}": only RequestHeaderModifier and ResponseHeaderModifier are supported on a backendRef`;
      ctx.report({ code: 'GWAPI_BACKEND_FILTER_UNSUPPORTED', severity: 'error', resource: route.key, path: `${at}[${i}].type`, message });
      invalid.push(message);
      return 'invalid';
    }
  }
  return { ...(requestHeaders ? { requestHeaders } : {}), ...(responseHeaders ? { responseHeaders } : {}) };
}

/**
 * timeouts.request → route timeout; timeouts.backendRequest → per-try timeout; "0s" disables.
 * Retry: rule.retry when given, else Istio's default policy (Istio converts an HTTPRoute to a
 * VirtualService, which gets the mesh default retry; Portico keeps that behaviour).
 */
function parseTimeouts(ctx: TranslateContext, route: LoadedResource, rule: any, at: string): { timeoutMs?: number; retry: RetryIR } {
  const dur = (v: unknown, path: string): number | undefined => {
    if (v === undefined) return undefined;
    const ms = typeof v === 'string' ? parseGatewayDuration(v) : undefined;
    if (ms === undefined) {
      ctx.report({ code: 'GWAPI_DURATION_INVALID', severity: 'warning', resource: route.key, path, message: `Cannot parse duration "${String(v)}": expected a Gateway API duration such as "10s", "1h30m" or "500ms"` });
    }
    return ms;
  };
  const request = dur(rule?.timeouts?.request, `${at}.timeouts.request`);
  const backend = dur(rule?.timeouts?.backendRequest, `${at}.timeouts.backendRequest`);
  let retry: RetryIR = DEFAULT_RETRY;
  const r = rule?.retry;
  if (r && typeof r === 'object') {
    const attempts = typeof r.attempts === 'number' && r.attempts >= 0 ? Math.floor(r.attempts) : 2;
    const codes = arr(r.codes).filter((c): c is number => typeof c === 'number' && c >= 400 && c <= 599);
    const backoff = dur(r.backoff, `${at}.retry.backoff`);
    retry = attempts === 0
      ? { attempts: 0, retryOn: [], retriableStatusCodes: [], backoffBaseMs: DEFAULT_RETRY.backoffBaseMs }
      : {
          attempts,
          // Spec: retry when the connection could not be established or the backend refused the
          // request before processing it; plus the listed codes.
          retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', ...(codes.length ? ['retriable-status-codes'] : [])],
          retriableStatusCodes: codes,
          backoffBaseMs: backoff ?? DEFAULT_RETRY.backoffBaseMs,
        };
  }
  if (backend !== undefined && backend > 0) retry = { ...retry, perTryTimeoutMs: backend };
  return { ...(request !== undefined && request > 0 ? { timeoutMs: request } : {}), retry };
}
