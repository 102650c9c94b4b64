/**
 * Gateway API route precedence (httproute_types.go, HTTPRouteRule.Matches), computed across all
 * routes attached to one listener and placed in one virtual host:
 *
 *   1. Exact path > PathPrefix (more characters first) > RegularExpression.
 *      The spec leaves regex precedence implementation-specific; Portico follows Istio's Gateway
 *      API translation (Exact > Prefix > Regex, longer value first within each kind), because a
 *      regex's specificity cannot be compared with a prefix's. A PathPrefix "/" therefore shadows
 *      every regex route of the same host: give such routes a more specific prefix instead.
 *   2. Method match.
 *   3. More header matches.
 *   4. More query param matches.
 *   5. Hostname specificity of the ORIGINAL route hostname (characters of a matching non-wildcard
 *      hostname, then characters of a matching hostname). This comes after the match criteria:
 *      conformance test HTTPRouteMatchingAcrossRoutes sends `example.com/v2` to a `*.com` route's
 *      `/v2` rule rather than to an `example.com` route's `/` rule, while
 *      HTTPRouteMultipleRoutesAttachmentSameHostnameIntersection makes an exact hostname beat a
 *      wildcard one for identical matches, whatever their age.
 *   6. Oldest route (creationTimestamp), then `namespace/name` alphabetically.
 *   7. Rule order, then match order inside the rule.
 */
import type { RouteIR } from '../../ir/types.js';
import { cmpStr } from './common.js';

/** A route with the data its precedence needs. */
export interface RankedRoute {
  readonly route: RouteIR;
  readonly created: number;
  /** `namespace/name` of the HTTPRoute. */
  readonly nsName: string;
  readonly ruleIndex: number;
  readonly matchIndex: number;
  /** hostnameSpecificity() of the original hostname that matched this virtual host. */
  readonly host: readonly [number, number];
}

function pathRank(r: RouteIR): number {
  switch (r.match.path?.type) {
    case 'Exact': return 3;
    case 'PathPrefix':
    case 'Prefix': return 2;
    case 'Regex': return 1;
    default: return 2; // no path = implicit PathPrefix "/"
  }
}

/** Negative when `a` takes precedence over `b`. */
export function comparePrecedence(a: RankedRoute, b: RankedRoute): number {
  const ma = a.route.match;
  const mb = b.route.match;
  return (
    pathRank(b.route) - pathRank(a.route) ||
    (mb.path?.value.length ?? 1) - (ma.path?.value.length ?? 1) ||
    Number(mb.method !== undefined) - Number(ma.method !== undefined) ||
    (mb.headers?.length ?? 0) - (ma.headers?.length ?? 0) ||
    (mb.queryParams?.length ?? 0) - (ma.queryParams?.length ?? 0) ||
    b.host[0] - a.host[0] ||
    b.host[1] - a.host[1] ||
    (a.created === b.created ? 0 : a.created < b.created ? -1 : 1) ||
    cmpStr(a.nsName, b.nsName) ||
    a.ruleIndex - b.ruleIndex ||
    a.matchIndex - b.matchIndex
  );
}

/** Sorted copy, highest precedence first (first match wins at runtime). */
export function sortByPrecedence(list: readonly RankedRoute[]): RankedRoute[] {
  return [...list].sort(comparePrecedence);
}
