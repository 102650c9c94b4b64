/**
 * Plaintext servers → ListenerIR, one per bind address and port.
 *
 * Istio gives all plaintext HTTP servers of one port (across Gateway resources) ONE route
 * table, so they become one ServerIR with hostnames ["*"] holding the merged virtual hosts:
 * the request's Host then only selects a virtual host, exactly like Envoy's RDS for that port.
 *
 * Exception: a server with `tls.httpsRedirect` answers every request for its hosts with a
 * 301 before routes are looked at (Envoy `require_tls: ALL` on those virtual hosts). To keep
 * it distinguishable it is its own ServerIR whose hostnames are its hosts, so the Host header
 * selects it. When such a server shares the port, the route-table server lists its virtual
 * host domains as hostnames instead of "*" (otherwise both would claim "*"), and a domain
 * equal to a redirect host is left to the redirect server — in Istio the redirect flag wins
 * on a shared virtual host. The more specific hostname wins between the two servers, as
 * Envoy's most-specific virtual host would.
 */
import type { ResourceKey } from '../../../errors/diagnostic.js';
import type { ListenerIR, RouteIR, ServerIR, VirtualHostIR } from '../../ir/types.js';
import { cmp, keyOrder, type PlainServer } from './gateway.js';
import { intersectHost, namespaceAllowed, uniqueSorted } from './hosts.js';
import { mergeVirtualHostRoutes } from './merge.js';
import type { VsInfo } from './virtual-service.js';

/** How a VirtualService is used on one virtual host. */
export interface VhostUse {
  readonly listener: string;
  readonly domain: string;
  /** The other VirtualServices merged into the same virtual host. */
  readonly peers: readonly ResourceKey[];
}

/** Inputs of listener assembly. */
export interface AssembleInput {
  readonly servers: readonly PlainServer[];
  /** Exported, non-delegate VirtualServices, oldest first. */
  readonly virtualServices: readonly VsInfo[];
  /** Routes of one VirtualService for a listener port and the gateways binding it there. */
  routesFor(vs: VsInfo, port: number, gateways: ReadonlySet<string>): RouteIR[];
  /** Called for every virtual host a VirtualService contributes to. */
  onUse(vs: VsInfo, use: VhostUse): void;
}

/** Builds the listeners, sorted by port then address. */
export function assembleListeners(input: AssembleInput): ListenerIR[] {
  const groups = new Map<string, PlainServer[]>();
  for (const s of input.servers) {
    const id = `${s.address}:${s.port}`;
    const list = groups.get(id);
    if (list) list.push(s);
    else groups.set(id, [s]);
  }
  const out = [...groups.entries()].map(([name, list]) => buildListener(name, list, input));
  return out.sort((a, b) => a.port - b.port || cmp(a.address, b.address));
}

function buildListener(name: string, servers: readonly PlainServer[], input: AssembleInput): ListenerIR {
  const first = servers[0]!;
  const routeServers = servers.filter((s) => !s.httpsRedirect).sort(serverOrder);
  const redirectServers = servers.filter((s) => s.httpsRedirect).sort(serverOrder);
  const out: ServerIR[] = [];
  const redirectHosts = new Set(redirectServers.flatMap((s) => s.hosts.map((h) => h.host)));

  if (routeServers.length > 0) {
    const serverName = `istio/${name}/http`;
    let vhosts = buildVirtualHosts(serverName, name, first.port, routeServers, input);
    let hostnames = ['*'];
    if (redirectServers.length > 0) {
      vhosts = vhosts.filter((v) => !redirectHosts.has(v.domains[0]!));
      hostnames = uniqueSorted(vhosts.flatMap((v) => v.domains));
    }
    if (hostnames.length > 0) {
      out.push({ name: serverName, hostnames, virtualHosts: vhosts, source: routeServers[0]!.gateway });
    }
  }
  for (const s of redirectServers) {
    out.push({ name: s.name, hostnames: uniqueSorted(s.hosts.map((h) => h.host)), httpsRedirect: true, virtualHosts: [], source: s.gateway });
  }
  const sources = new Map(servers.map((s) => [s.gatewayRef, s.gateway]));
  return {
    name,
    address: first.address,
    port: first.port,
    protocol: 'HTTP',
    servers: out.sort((a, b) => cmp(a.name, b.name)),
    sources: [...sources.values()].sort(keyOrder),
  };
}

/** Virtual hosts of the shared route table, sorted by domain. */
function buildVirtualHosts(serverName: string, listener: string, port: number, servers: readonly PlainServer[], input: AssembleInput): VirtualHostIR[] {
  // domain → VirtualService → gateways binding it to this domain on this port
  const domains = new Map<string, Map<VsInfo, Set<string>>>();
  for (const s of servers) {
    for (const vs of input.virtualServices) {
      if (!vs.boundTo.has(s.gatewayRef)) continue;
      for (const h of s.hosts) {
        if (!namespaceAllowed(h, vs.key.namespace)) continue;
        for (const vsHost of vs.hosts) {
          const domain = intersectHost(vsHost, h.host);
          if (domain === undefined) continue;
          let byVs = domains.get(domain);
          if (!byVs) domains.set(domain, (byVs = new Map()));
          let gws = byVs.get(vs);
          if (!gws) byVs.set(vs, (gws = new Set()));
          gws.add(s.gatewayRef);
        }
      }
    }
  }
  const order = new Map(input.virtualServices.map((vs, i) => [vs, i]));
  const out: VirtualHostIR[] = [];
  for (const domain of [...domains.keys()].sort(cmp)) {
    const contributions = [...domains.get(domain)!.entries()].sort((a, b) => order.get(a[0])! - order.get(b[0])!);
    const routes = mergeVirtualHostRoutes(contributions.map(([vs, gws]) => input.routesFor(vs, port, gws)));
    for (const [vs] of contributions) {
      input.onUse(vs, { listener, domain, peers: contributions.filter(([o]) => o !== vs).map(([o]) => o.key) });
    }
    out.push({ name: `${serverName}/vhost/${domain}`, domains: [domain], routes });
  }
  return out;
}

function serverOrder(a: PlainServer, b: PlainServer): number {
  return cmp(a.name, b.name);
}
