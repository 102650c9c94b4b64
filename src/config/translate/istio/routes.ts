/**
 * Expanded VirtualService routes → RouteIR[] for one listener port and one set of gateways.
 *
 * Order is the VirtualService's: first match wins, no specificity sort. Per match block,
 * translation-time conditions decide whether the block exists on this proxy at all:
 * - `gateways` (the block's own list, else the VirtualService's) must name a gateway whose
 *   server shares this route table;
 * - `port`: the block is dropped on listeners of other ports. Dropping here (instead of
 *   putting the port in MatchIR) gives the same result, keeps the IR free of conditions that
 *   are constant per listener, and lets the catch-all rule see what really remains;
 * - `sourceLabels` / `sourceNamespace` select the proxy the route is generated for, here
 *   the gateway itself (identity labels / namespace).
 * After the first catch-all block the rest of the VirtualService is unreachable (Istio stops
 * there); it is dropped with ISTIO_ROUTE_UNREACHABLE.
 */
import type { HeaderOpsIR, MirrorIR, RetryIR, RouteActionIR, RouteIR } from '../../ir/types.js';
import type { TranslateContext } from '../context.js';
import { at, intIn, labelsMatch, str, strMap, type Reporter } from './diag.js';
import { translateHeaders } from './headers.js';
import { isCatchAll, translateMatch } from './match.js';
import { translateRetry, translateRewrite, translateTimeout } from './policy.js';
import { translateAction, translateMirrors } from './route-action.js';
import type { ExpandedRoute } from './virtual-service.js';

/** Everything about a route that does not depend on the match block; null = route dropped. */
interface Plan {
  readonly action: RouteActionIR;
  readonly requestHeaders?: HeaderOpsIR;
  readonly responseHeaders?: HeaderOpsIR;
  readonly headerAuthority?: string;
  readonly timeoutMs?: number;
  readonly retry?: RetryIR;
  readonly mirrors: readonly MirrorIR[];
}

/** Shared by every build of one translation. */
export interface RouteBuildEnv {
  readonly ctx: TranslateContext;
  readonly rep: Reporter;
  /** Plans by route, computed once per translation (and only for routes that are used). */
  readonly plans: Map<ExpandedRoute, Plan | null>;
}

/** RouteIR name (%ROUTE_NAME%): `<route.name>.<match.name>`, whichever is set, or ''. */
export function routeName(route: string, match: string): string {
  if (route && match) return `${route}.${match}`;
  return route || match;
}

/** Routes of one VirtualService for listener `port`, served for `gateways`. */
export function buildRoutes(routes: readonly ExpandedRoute[], port: number, gateways: ReadonlySet<string>, env: RouteBuildEnv): RouteIR[] {
  const { ctx, rep } = env;
  const out: RouteIR[] = [];
  let catchAll: { route: ExpandedRoute; path: string } | undefined;
  for (const r of routes) {
    for (const block of r.blocks) {
      if (!block.gateways.some((g) => gateways.has(g))) continue;
      const m = block.match?.value ?? {};
      if (m['port'] !== undefined && m['port'] !== null && m['port'] !== 0) {
        const p = intIn(m['port'], 1, 65535);
        if (p === undefined) {
          rep.report('ISTIO_FIELD_INVALID', 'error', block.match!.loc('port'), 'Dropping match block: port must be an integer from 1 to 65535');
          continue;
        }
        if (p !== port) continue;
      }
      if (!labelsMatch(strMap(m['sourceLabels']), ctx.identity.labels)) continue;
      const sourceNamespace = str(m['sourceNamespace']);
      if (sourceNamespace && sourceNamespace !== ctx.identity.namespace) continue;
      if (catchAll) {
        const path = catchAll.route === r ? block.path : r.loc.path;
        rep.report('ISTIO_ROUTE_UNREACHABLE', 'warning', { resource: r.loc.resource, path },
          `Dropping route: it follows the catch-all route "${catchAll.path}" and can never match`);
        if (catchAll.route === r) continue;
        break;
      }
      const match = translateMatch(block.match, rep);
      if (!match) continue;
      const plan = planFor(r, env);
      if (!plan) continue;
      const isForward = plan.action.type === 'forward';
      const rewrite = isForward ? translateRewrite(r.route, match, plan.headerAuthority, rep) : { ok: true as const, value: undefined };
      if (!rewrite.ok) continue;
      // Keys in RouteIR declaration order, so dumps and goldens read naturally.
      const route: RouteIR = {
        name: routeName(r.name, block.name),
        id: block.id,
        match,
        action: plan.action,
        ...(rewrite.value ? { rewrite: rewrite.value } : {}),
        ...(plan.requestHeaders ? { requestHeaders: plan.requestHeaders } : {}),
        ...(plan.responseHeaders ? { responseHeaders: plan.responseHeaders } : {}),
        ...(plan.timeoutMs !== undefined ? { timeoutMs: plan.timeoutMs } : {}),
        ...(plan.retry ? { retry: plan.retry } : {}),
        ...(plan.mirrors.length > 0 ? { mirrors: plan.mirrors } : {}),
        source: r.loc.resource,
        sourcePath: block.path,
      };
      out.push(route);
      if (isCatchAll(match)) catchAll = { route: r, path: block.path };
    }
  }
  return out;
}

function planFor(r: ExpandedRoute, env: RouteBuildEnv): Plan | null {
  let plan = env.plans.get(r);
  if (plan === undefined) {
    plan = makePlan(r, env);
    env.plans.set(r, plan);
  }
  return plan;
}

function makePlan(r: ExpandedRoute, { ctx, rep }: RouteBuildEnv): Plan | null {
  const route = r.route;
  const action = translateAction(route, ctx, rep, r.loc);
  if (!action) return null;
  for (const f of ['corsPolicy', 'fault'] as const) {
    if (route.value[f] !== undefined && route.value[f] !== null) {
      rep.report('ISTIO_FIELD_NOT_YET_SUPPORTED', 'warning', route.loc(f), `Ignoring ${f}: supported in a later release; the route is kept without it`);
    }
  }
  const hasRewrite = route.value['rewrite'] !== undefined && route.value['rewrite'] !== null;
  if (hasRewrite && action.type === 'redirect') {
    rep.report('ISTIO_ROUTE_ACTION_INVALID', 'error', route.loc('rewrite'), 'Dropping route: rewrite cannot be combined with redirect');
    return null;
  }
  if (hasRewrite && action.type === 'direct') {
    rep.report('ISTIO_FIELD_IGNORED', 'warning', route.loc('rewrite'), 'Ignoring rewrite: a directResponse route does not forward');
  }
  const headers = translateHeaders(route.value['headers'], route.loc('headers'), rep);
  const plan: { -readonly [K in keyof Plan]: Plan[K] } = { action, mirrors: [] };
  if (headers.request.ops) plan.requestHeaders = headers.request.ops;
  if (headers.response.ops) plan.responseHeaders = headers.response.ops;
  if (headers.request.authority !== undefined) plan.headerAuthority = headers.request.authority;
  if (action.type !== 'forward') {
    if (headers.request.authority !== undefined) {
      rep.report('ISTIO_FIELD_IGNORED', 'warning', at(route.loc('headers'), 'request'), 'Ignoring host/:authority header: only forwarded requests get an authority rewrite');
    }
    return plan;
  }
  // Timeouts, retries and mirrors belong to forwarding (Envoy RouteAction) only.
  const timeout = translateTimeout(route, rep);
  const retry = translateRetry(route, rep);
  if (!timeout.ok || !retry.ok) return null;
  if (timeout.value !== undefined) plan.timeoutMs = timeout.value;
  plan.retry = retry.value;
  plan.mirrors = translateMirrors(route, ctx, rep);
  return plan;
}
