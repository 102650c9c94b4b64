/**
 * Gateway API translator: GatewayClass, Gateway, HTTPRoute, ReferenceGrant (and Namespace labels)
 * → ListenerIR. Pure: everything comes from the TranslateContext.
 *
 * Shape: Gateways of our GatewayClasses bind `identity.bindAddress:<port>`; listeners sharing a
 * port share one ListenerIR. Each Gateway listener becomes ONE ServerIR whose hostnames are the
 * listener hostname (or `*`), so the runtime's "most specific server for the Host" choice gives
 * listener isolation. Inside a server, one VirtualHostIR per effective (intersected) hostname holds
 * every attached route whose hostnames cover it, ordered by precedence.ts.
 */
import type { ResourceKey } from '../../../errors/diagnostic.js';
import type { ListenerIR, ServerIR, TlsRouteIR, VirtualHostIR } from '../../ir/types.js';
import type { LoadedResource } from '../../resources/types.js';
import type { Condition, ParentStatus, TranslateContext, Translator } from '../context.js';
import type { CredentialMaterial } from '../tls/credentials.js';
import { type ParentResult, attachRoute, namespaceLabels } from './attach.js';
import { indexGrants } from './backends.js';
import { translateTlsRoute } from './tls-route.js';
import { cmpStr, compareResources, cond, creationMs, gwKind, keyOf } from './common.js';
import { type GatewayInfo, type ListenerInfo, collectGateways, writeGatewayStatuses } from './gateways.js';
import { compareDomains, covers, hostnameSpecificity, pickMoreSpecific } from './hostnames.js';
import { type RankedRoute, sortByPrecedence } from './precedence.js';
import { type RouteTranslation, translateRoute } from './rules.js';

export { CONTROLLER_NAME } from './common.js';

/** One HTTPRoute attached to one listener. */
interface ListenerRoute {
  readonly resource: LoadedResource;
  readonly translation: RouteTranslation;
  /** Effective hostname → most specific original hostname. */
  readonly hostnames: Map<string, string>;
}

/** Translates Gateway API resources into listeners. */
export const translateGatewayApi: Translator = (ctx) => {
  const grants = indexGrants(ctx);
  const credentials = new Map<string, CredentialMaterial>();
  const gateways = collectGateways(ctx, grants, credentials);
  const byName = new Map<string, GatewayInfo>(gateways.map((g) => [`${g.resource.key.namespace}/${g.resource.key.name}`, g]));
  const nsLabels = namespaceLabels(ctx);
  const perListener = new Map<ListenerInfo, Map<string, ListenerRoute>>();
  const tlsPerListener = new Map<ListenerInfo, TlsRouteIR[]>();

  for (const route of [...gwKind(ctx, 'HTTPRoute')].sort(compareResources)) {
    const parents = attachRoute(ctx, route, byName, nsLabels);
    if (parents.length === 0) {
      ctx.setStatus({ key: route.key, state: 'ignored', reasons: ['No parentRef names a Gateway served by Portico'] });
      continue;
    }
    const attached = parents.some((p) => p.attachments.length > 0);
    // Only attached routes are translated, so unattached ones create no clusters.
    const translation = attached ? translateRoute(ctx, grants, route) : undefined;
    if (translation) {
      for (const p of parents) {
        for (const a of p.attachments) {
          const routes = perListener.get(a.listener) ?? new Map<string, ListenerRoute>();
          perListener.set(a.listener, routes);
          const k = keyOf(route.key);
          const prev = routes.get(k);
          if (!prev) {
            routes.set(k, { resource: route, translation, hostnames: new Map(a.hostnames) });
            a.listener.attachedRoutes++;
          } else {
            for (const [eff, orig] of a.hostnames) prev.hostnames.set(eff, pickMoreSpecific(orig, prev.hostnames.get(eff)));
          }
        }
      }
    }
    writeRouteStatus(ctx, route.key, parents, translation);
  }

  // TLSRoutes (v1alpha2, v1alpha3, v1): SNI → weighted backends on TLS listeners.
  for (const route of [...gwKind(ctx, 'TLSRoute')].sort(compareResources)) {
    const parents = attachRoute(ctx, route, byName, nsLabels);
    if (parents.length === 0) {
      ctx.setStatus({ key: route.key, state: 'ignored', reasons: ['No parentRef names a Gateway served by Portico'] });
      continue;
    }
    const attached = parents.some((p) => p.attachments.length > 0);
    const translation = attached ? translateTlsRoute(ctx, grants, route) : undefined;
    if (translation) {
      for (const p of parents) {
        for (const a of p.attachments) {
          const list = tlsPerListener.get(a.listener) ?? [];
          tlsPerListener.set(a.listener, list);
          if (list.some((r) => r.source === route.key)) continue;
          a.listener.attachedRoutes++;
          const sni = [...a.hostnames.keys()].sort(compareDomains);
          for (const r of translation.routes) list.push({ ...r, sniHosts: sni });
        }
      }
    }
    writeRouteStatus(ctx, route.key, parents, translation && { templates: [], refProblems: translation.refProblems, invalid: translation.invalid });
  }

  const listeners = buildListeners(ctx, gateways, perListener, tlsPerListener);
  writeGatewayStatuses(ctx, gateways);
  return { listeners, credentials };
};

function buildListeners(
  ctx: TranslateContext,
  gateways: readonly GatewayInfo[],
  perListener: ReadonlyMap<ListenerInfo, ReadonlyMap<string, ListenerRoute>>,
  tlsPerListener: ReadonlyMap<ListenerInfo, readonly TlsRouteIR[]>,
): ListenerIR[] {
  const byPort = new Map<number, { servers: ServerIR[]; sources: Map<string, ResourceKey>; protocol: 'HTTP' | 'HTTPS' | 'TLS' }>();
  for (const g of gateways) {
    for (const l of g.listeners) {
      if (!l.programmed) continue;
      const entry = byPort.get(l.port) ?? { servers: [], sources: new Map<string, ResourceKey>(), protocol: l.protocol };
      byPort.set(l.port, entry);
      if (l.protocol === 'HTTPS') entry.protocol = 'HTTPS';
      entry.sources.set(keyOf(g.resource.key), g.resource.key);
      const server = buildServer(l, [...(perListener.get(l)?.values() ?? [])]);
      if (l.tls === undefined) entry.servers.push(server);
      else if (l.protocol === 'TLS') entry.servers.push({ ...server, tls: l.tls, virtualHosts: [], tlsRoutes: [...(tlsPerListener.get(l) ?? [])] });
      else entry.servers.push({ ...server, tls: l.tls });
    }
  }
  const bind = ctx.identity.bindAddress;
  return [...byPort.entries()]
    .sort(([a], [b]) => a - b)
    .map(([port, e]) => ({
      name: `${bind}:${port}`,
      address: bind,
      port,
      protocol: e.protocol,
      servers: e.servers.sort((a, b) => cmpStr(a.name, b.name)),
      sources: [...e.sources.entries()].sort(([a], [b]) => cmpStr(a, b)).map(([, k]) => k),
    }));
}

/**
 * One server per listener, even without routes: its hostname must still claim matching requests
 * (they get 404) so they never fall through to a less specific listener.
 */
function buildServer(l: ListenerInfo, routes: readonly ListenerRoute[]): ServerIR {
  const name = `gateway/${l.gateway.key.namespace}/${l.gateway.key.name}/listener/${l.name}`;
  const domains = new Set<string>();
  for (const r of routes) for (const eff of r.hostnames.keys()) domains.add(eff);
  const virtualHosts: VirtualHostIR[] = [...domains].sort(compareDomains).map((domain) => {
    const ranked: RankedRoute[] = [];
    for (const r of routes) {
      let best: string | undefined;
      for (const [eff, orig] of r.hostnames) if (covers(eff, domain)) best = pickMoreSpecific(orig, best);
      if (best === undefined) continue;
      const host = hostnameSpecificity(best);
      const created = creationMs(r.resource);
      const nsName = `${r.resource.key.namespace}/${r.resource.key.name}`;
      for (const t of r.translation.templates) {
        ranked.push({ route: t.route, created, nsName, ruleIndex: t.ruleIndex, matchIndex: t.matchIndex, host });
      }
    }
    return { name: `${name}/vhost/${domain}`, domains: [domain], routes: sortByPrecedence(ranked).map((x) => x.route) };
  });
  return { name, hostnames: [l.hostname], virtualHosts, source: l.gateway.key };
}

function writeRouteStatus(ctx: TranslateContext, key: ResourceKey, parents: readonly ParentResult[], t: RouteTranslation | undefined): void {
  const extra: Condition[] = [];
  if (t) {
    const first = t.refProblems[0];
    extra.push(first
      ? cond('ResolvedRefs', false, first.reason, t.refProblems.map((p) => p.message).join('; '))
      : cond('ResolvedRefs', true, 'ResolvedRefs', 'All references resolved'));
    // Accepted describes attachment only; invalid rules answer 500 and are flagged here.
    if (t.invalid.length > 0) extra.push(cond('PartiallyInvalid', true, 'UnsupportedValue', t.invalid.join('; ')));
  }
  const statuses: ParentStatus[] = parents.map((p) => ({ parentRef: p.parentRef, conditions: [p.accepted, ...extra] }));
  const attached = parents.filter((p) => p.attachments.length > 0).length;
  const reasons = [
    ...parents.filter((p) => p.attachments.length === 0).map((p) => `${p.parentRef}: ${p.accepted.reason}: ${p.accepted.message}`),
    ...(t?.refProblems.map((p) => `${p.reason}: ${p.message}`) ?? []),
    ...(t?.invalid ?? []),
  ];
  const state = attached === 0 ? 'rejected' : reasons.length > 0 ? 'partial' : 'accepted';
  ctx.setStatus({ key, state, reasons, parents: statuses });
}
