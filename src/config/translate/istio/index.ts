/**
 * Istio networking (Gateway + VirtualService) → listeners. See docs/istio.md for the
 * fields read and the semantic decisions.
 *
 * Pure: reads only the TranslateContext. Destinations are resolved through ctx.registry
 * (DestinationRule / ServiceEntry / WorkloadEntry statuses are the registry's business).
 * Statuses are set for every Istio Gateway and VirtualService in the input.
 */
import { keyString } from '../../../errors/diagnostic.js';
import type { RouteIR } from '../../ir/types.js';
import type { ResourceStatus, TranslateContext, Translator } from '../context.js';
import { createReporter, quoteList, type Reporter } from './diag.js';
import { isIstioNetworking, scanGateways } from './gateway.js';
import { isExportedTo } from './hosts.js';
import { assembleListeners, type VhostUse } from './listeners.js';
import { creationOrder } from './merge.js';
import { buildRoutes, type RouteBuildEnv } from './routes.js';
import { buildTlsRoutes } from './tls-routes.js';
import { expandVirtualService, readVirtualService, type ExpandedRoute, type VsInfo } from './virtual-service.js';

/** Translates Istio Gateways and VirtualServices for the proxy identity in ctx. */
export const translateIstio: Translator = (ctx) => {
  const rep = createReporter(ctx);
  const { servers, served, credentials } = scanGateways(ctx, rep);

  const all: VsInfo[] = [];
  for (const r of ctx.byKind('VirtualService').filter(isIstioNetworking)) {
    const vs = readVirtualService(r, rep);
    if (vs) all.push(vs);
    else ctx.setStatus({ key: r.key, state: 'rejected', reasons: ['The VirtualService spec is unusable (see diagnostics)'] });
  }
  const order = creationOrder(all);
  all.sort(order);

  const byRef = new Map(all.map((vs) => [`${vs.key.namespace}/${vs.key.name}`, vs]));
  const delegateUsers = new Map<string, Set<string>>();
  const expanded = new Map<VsInfo, ExpandedRoute[]>();
  const expand = (vs: VsInfo): ExpandedRoute[] => {
    let list = expanded.get(vs);
    if (!list) {
      list = expandVirtualService(vs, {
        find: (ns, name) => byRef.get(`${ns}/${name}`),
        markUsed: (k) => addTo(delegateUsers, keyString(k), keyString(vs.key)),
      }, rep);
      expanded.set(vs, list);
    }
    return list;
  };

  const env: RouteBuildEnv = { ctx, rep, plans: new Map() };
  const routeCache = new Map<string, RouteIR[]>();
  const uses = new Map<VsInfo, VhostUse[]>();
  const exported = (vs: VsInfo) => isExportedTo(vs.exportTo, vs.key.namespace, ctx.identity.namespace);

  const listeners = assembleListeners({
    servers,
    virtualServices: all.filter((vs) => vs.hosts.length > 0 && exported(vs)),
    routesFor(vs, port, gateways) {
      const id = `${keyString(vs.key)}|${port}|${[...gateways].sort().join(',')}`;
      let routes = routeCache.get(id);
      if (!routes) routeCache.set(id, (routes = buildRoutes(expand(vs), port, gateways, env)));
      return routes;
    },
    onUse(vs, use) {
      const list = uses.get(vs);
      if (list) list.push(use);
      else uses.set(vs, [use]);
    },
    tlsRoutesFor(server, section) {
      const vss = all.filter((vs) => vs.hosts.length > 0 && exported(vs) && vs.boundTo.has(server.gatewayRef));
      return buildTlsRoutes(server, section, vss, ctx, rep, (vs, sni) => {
        const use: VhostUse = { listener: `${server.address}:${server.port}`, domain: `${section}:${sni.join(',')}`, peers: [] };
        const list = uses.get(vs);
        if (list) list.push(use);
        else uses.set(vs, [use]);
      });
    },
    rep,
  });
  for (const vs of all) warnUnattachedL4(vs, uses.get(vs), served, rep);

  for (const vs of all) ctx.setStatus(virtualServiceStatus(vs, { served, exported: exported(vs), uses: uses.get(vs), delegateUsers, rep }));
  return { listeners, credentials };
};

interface StatusInput {
  readonly served: ReadonlySet<string>;
  readonly exported: boolean;
  readonly uses: readonly VhostUse[] | undefined;
  readonly delegateUsers: ReadonlyMap<string, ReadonlySet<string>>;
  readonly rep: Reporter;
}

function virtualServiceStatus(vs: VsInfo, s: StatusInput): ResourceStatus {
  const key = vs.key;
  const inEffect = (reasons: string[]): ResourceStatus => ({ key, state: s.rep.hasProblems(key) ? 'partial' : 'accepted', reasons });
  if (vs.hosts.length === 0) {
    const users = s.delegateUsers.get(keyString(key));
    if (users) return inEffect([...users].sort().map((u) => `Used as delegate by ${u}`));
    return { key, state: 'ignored', reasons: ['Delegate VirtualService (no hosts) not referenced by any root VirtualService served by this proxy'] };
  }
  if (!s.exported) {
    return { key, state: 'ignored', reasons: [`Not exported to the proxy namespace (exportTo: ${quoteList(vs.exportTo)})`] };
  }
  const bound = [...vs.boundTo].filter((g) => s.served.has(g)).sort();
  if (bound.length === 0) {
    return { key, state: 'ignored', reasons: [`Not bound to any Gateway applied to this proxy (gateways: ${quoteList([...new Set([...vs.gateways, ...vs.boundTo])])})`] };
  }
  if (!s.uses || s.uses.length === 0) {
    return {
      key, state: 'ignored',
      reasons: [`Hosts ${quoteList(vs.hosts)} match no server host of Gateway ${quoteList(bound)} open to namespace "${key.namespace}"`],
    };
  }
  const reasons = new Set<string>();
  for (const u of s.uses) {
    reasons.add(u.peers.length === 0
      ? `Serves "${u.domain}" on ${u.listener}`
      : `Serves "${u.domain}" on ${u.listener}, merged with ${u.peers.map(keyString).join(', ')}`);
  }
  return inEffect([...reasons].sort());
}

/** tls/tcp sections of a VirtualService bound to a served Gateway that no TLS server used. */
function warnUnattachedL4(vs: VsInfo, uses: readonly VhostUse[] | undefined, served: ReadonlySet<string>, rep: Reporter): void {
  if (vs.hosts.length === 0 || ![...vs.boundTo].some((g) => served.has(g))) return;
  for (const f of ['tls', 'tcp'] as const) {
    const v = vs.spec[f];
    if (!Array.isArray(v) || v.length === 0) continue;
    if (uses?.some((u) => u.domain.startsWith(`${f}:`))) continue;
    rep.report('TLS_ROUTE_NOT_ATTACHED', 'warning', { resource: vs.key, path: `spec.${f}` },
      f === 'tls'
        ? 'Ignoring tls routes: no PASSTHROUGH server of the bound Gateways matches their sniHosts'
        : 'Ignoring tcp routes: only TLS servers that terminate (mode SIMPLE or MUTUAL) serve tcp routes in this release, and none of the bound Gateways has one for these hosts');
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

