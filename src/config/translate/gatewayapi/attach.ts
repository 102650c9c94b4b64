/**
 * HTTPRoute attachment: parentRefs → listeners, allowedRoutes (namespaces, kinds) and hostname
 * intersection. Produces one Accepted condition per parentRef (gateway_types.go, shared_types.go
 * ParentReference; conformance: httproute-hostname-intersection, gateway-http-listener-isolation,
 * httproute-invalid-cross-namespace-parent-ref, httproute-invalid-parentref-*).
 */
import type { LoadedResource } from '../../resources/types.js';
import type { Condition, TranslateContext } from '../context.js';
import { GATEWAY_GROUP, arr, cond, gwKind, selectorMatches, str } from './common.js';
import type { GatewayInfo, ListenerInfo } from './gateways.js';
import { checkHostname, intersectHostname, normalizeHostname, pickMoreSpecific } from './hostnames.js';

/** A route attached to one listener. */
export interface Attachment {
  readonly listener: ListenerInfo;
  /**
   * Effective (intersected) hostname → the most specific ORIGINAL route hostname that produced it
   * (`*` when the route has no hostnames). The original decides hostname precedence.
   */
  readonly hostnames: ReadonlyMap<string, string>;
}

/** Outcome for one parentRef that names a Gateway of ours (or a missing one). */
export interface ParentResult {
  /** `Gateway/ns/name` plus `/sectionName` when given. */
  readonly parentRef: string;
  readonly accepted: Condition;
  readonly attachments: readonly Attachment[];
}

/** Namespace labels, with the label Kubernetes sets on every namespace. */
export type NamespaceLabels = (ns: string) => Readonly<Record<string, string>>;

/** Builds the namespace label lookup from Namespace resources. */
export function namespaceLabels(ctx: TranslateContext): NamespaceLabels {
  const byName = new Map<string, Readonly<Record<string, string>>>();
  for (const n of ctx.byKind('Namespace')) byName.set(n.key.name, n.object.metadata.labels ?? {});
  // Kubernetes ≥1.22 labels every namespace with its own name; files rarely spell it out.
  return (ns) => ({ ...(byName.get(ns) ?? {}), 'kubernetes.io/metadata.name': ns });
}

/**
 * Resolves every parentRef of a route. parentRefs to other kinds (mesh Services) or to Gateways of
 * other controllers are not ours and produce no entry; parentRefs to a Gateway that does not exist
 * at all produce NoMatchingParent.
 */
export function attachRoute(
  ctx: TranslateContext,
  route: LoadedResource,
  gateways: ReadonlyMap<string, GatewayInfo>,
  nsLabels: NamespaceLabels,
): ParentResult[] {
  const ns = route.key.namespace;
  const routeHosts: string[] = [];
  const badHosts: { path: string; message: string }[] = [];
  arr(route.object.spec?.hostnames).forEach((h: unknown, i: number) => {
    const n = normalizeHostname(typeof h === 'string' ? h : '');
    const bad = n === '*' ? 'the hostname is empty' : checkHostname(n);
    if (bad) badHosts.push({ path: `spec.hostnames[${i}]`, message: `Cannot use hostname: ${bad}` });
    else if (!routeHosts.includes(n)) routeHosts.push(n);
  });
  const hadHostnames = arr(route.object.spec?.hostnames).length > 0;
  const existing = new Set(gwKind(ctx, 'Gateway').map((g) => `${g.key.namespace}/${g.key.name}`));
  const out: ParentResult[] = [];

  arr(route.object.spec?.parentRefs).forEach((p: any, i: number) => {
    const group = p?.group ?? GATEWAY_GROUP;
    const kind = p?.kind ?? 'Gateway';
    if (group !== GATEWAY_GROUP || kind !== 'Gateway') return;
    const gns = str(p?.namespace) ?? ns;
    const name = String(p?.name ?? '');
    const section = str(p?.sectionName);
    const port: unknown = p?.port;
    const parentRef = `Gateway/${gns}/${name}${section ? `/${section}` : ''}`;
    const path = `spec.parentRefs[${i}]`;
    const fail = (reason: string, message: string, code: string): void => {
      ctx.report({ code, severity: 'warning', resource: route.key, path, message: `Cannot attach to "${parentRef}": ${message}` });
      out.push({ parentRef, accepted: cond('Accepted', false, reason, message), attachments: [] });
    };

    const gw = gateways.get(`${gns}/${name}`);
    if (!gw) {
      if (!existing.has(`${gns}/${name}`)) fail('NoMatchingParent', `Gateway "${gns}/${name}" not found`, 'GWAPI_PARENT_NOT_FOUND');
      return; // another controller's Gateway: not ours to report
    }
    let candidates = gw.listeners;
    if (section) candidates = candidates.filter((l) => l.name === section);
    if (port !== undefined) candidates = candidates.filter((l) => l.port === port);
    if (candidates.length === 0) {
      const what = [section && `sectionName "${section}"`, port !== undefined && `port ${String(port)}`].filter(Boolean).join(' and ');
      return fail('NoMatchingParent', `no listener matches ${what}`, 'GWAPI_PARENT_NOT_FOUND');
    }
    const programmed = candidates.filter((l) => l.programmed);
    if (programmed.length === 0) return fail('NoMatchingParent', 'no matching listener is programmed', 'GWAPI_PARENT_NOT_FOUND');
    // HTTPRoutes attach to HTTP/HTTPS listeners, TLSRoutes to TLS listeners.
    const live = programmed.filter((l) => l.routeKind === route.key.kind);
    if (live.length === 0) {
      return fail('NotAllowedByListeners', `no matching listener allows kind ${route.key.kind}`, 'GWAPI_ROUTE_NOT_ALLOWED');
    }
    const allowed = live.filter((l) => namespaceAllowed(l, ns, nsLabels));
    if (allowed.length === 0) {
      return fail('NotAllowedByListeners', `namespace "${ns}" is not allowed by the listeners' allowedRoutes`, 'GWAPI_ROUTE_NOT_ALLOWED');
    }
    const attachments: Attachment[] = [];
    for (const l of allowed) {
      const hostnames = intersect(l.hostname, routeHosts, hadHostnames);
      if (hostnames.size > 0) attachments.push({ listener: l, hostnames });
    }
    if (attachments.length === 0) {
      return fail('NoMatchingListenerHostname', 'no route hostname intersects a listener hostname', 'GWAPI_ROUTE_NO_MATCHING_HOSTNAME');
    }
    out.push({ parentRef, accepted: cond('Accepted', true, 'Accepted', `Attached to ${attachments.length} listener(s)`), attachments });
  });
  // Hostname problems matter only for routes that name one of our Gateways.
  if (out.length > 0) {
    for (const b of badHosts) ctx.report({ code: 'GWAPI_MATCH_INVALID', severity: 'error', resource: route.key, path: b.path, message: b.message });
  }
  return out;
}

function namespaceAllowed(l: ListenerInfo, routeNs: string, nsLabels: NamespaceLabels): boolean {
  switch (l.from) {
    case 'All': return true;
    case 'Selector': return selectorMatches(l.selector, nsLabels(routeNs));
    default: return routeNs === l.gateway.key.namespace;
  }
}

/**
 * Effective hostnames of a route on one listener. With no route hostnames the listener's own
 * hostname applies. When every hostname of the route is invalid the route matches nothing.
 */
function intersect(listener: string, routeHosts: readonly string[], hadHostnames: boolean): Map<string, string> {
  const out = new Map<string, string>();
  if (routeHosts.length === 0) {
    if (!hadHostnames) out.set(listener, '*');
    return out;
  }
  for (const rh of routeHosts) {
    const eff = intersectHostname(listener, rh);
    if (eff === undefined) continue;
    out.set(eff, pickMoreSpecific(rh, out.get(eff)));
  }
  return out;
}
