/**
 * Several VirtualServices for one host on one route table are merged into one virtual host,
 * as Istio does:
 * - VirtualServices are ordered oldest first by metadata.creationTimestamp, ties by name
 *   then namespace (Istio sortConfigByCreationTime). When some VirtualService has no
 *   timestamp (plain YAML files), input order (`seq`) stands in for creation order, so the
 *   VirtualService written first counts as the oldest.
 * - Routes are concatenated in that order, except that catch-all routes (no condition but
 *   `prefix: /`) are moved behind every specific route, keeping their relative order
 *   (Istio CombineVHostRoutes): an older VirtualService's catch-all must not shadow a newer
 *   VirtualService's specific routes.
 */
import type { RouteIR } from '../../ir/types.js';
import { cmp } from './gateway.js';
import { isCatchAll } from './match.js';
import type { VsInfo } from './virtual-service.js';

/** A comparator putting the oldest VirtualService first; decided once for the whole input. */
export function creationOrder(all: readonly VsInfo[]): (a: VsInfo, b: VsInfo) => number {
  const stamp = (v: VsInfo) => {
    const t = v.res.object.metadata.creationTimestamp;
    const ms = typeof t === 'string' ? Date.parse(t) : NaN;
    return Number.isNaN(ms) ? undefined : ms;
  };
  const useStamps = all.every((v) => stamp(v) !== undefined);
  return (a, b) => {
    const byAge = useStamps ? stamp(a)! - stamp(b)! : a.res.seq - b.res.seq;
    return byAge || cmp(a.key.name, b.key.name) || cmp(a.key.namespace, b.key.namespace);
  };
}

/** Concatenates the routes of VirtualServices (oldest first), catch-alls last. */
export function mergeVirtualHostRoutes(perVs: readonly (readonly RouteIR[])[]): RouteIR[] {
  const specific: RouteIR[] = [];
  const catchAll: RouteIR[] = [];
  for (const routes of perVs) for (const r of routes) (isCatchAll(r.match) ? catchAll : specific).push(r);
  return [...specific, ...catchAll];
}
