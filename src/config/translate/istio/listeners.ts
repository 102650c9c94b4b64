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
 *
 * HTTPS and TLS servers are different: Istio gives every TLS server its own filter chain
 * (matched on SNI = the server hosts) and its own route table, so each becomes its own ServerIR
 * with its TLS settings. A host name already claimed on the port by an earlier server (by
 * server name order) is not given to a later one (TLS_SNI_CONFLICT). Plaintext and TLS servers
 * cannot share a port: the kind of the first server (by name) wins (TLS_LISTENER_PROTOCOL_CONFLICT).
 */
import type { ResourceKey } from '../../../errors/diagnostic.js';
import type { ListenerIR, RouteIR, ServerIR, TlsRouteIR, VirtualHostIR } from '../../ir/types.js';
import type { Reporter } from './diag.js';
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
  /** VirtualService `tls` (PASSTHROUGH) or `tcp` (terminated TLS server) routes of a server. */
  tlsRoutesFor(server: PlainServer, section: 'tls' | 'tcp'): TlsRouteIR[];
  readonly rep: Reporter;
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
  const out: ListenerIR[] = [];
  for (const [name, list] of groups) {
    const sorted = [...list].sort(serverOrder);
    const tls = sorted[0]!.kind !== 'HTTP';
    const same = sorted.filter((s) => (s.kind !== 'HTTP') === tls);
    for (const s of sorted) {
      if ((s.kind !== 'HTTP') === tls) continue;
      input.rep.report('TLS_LISTENER_PROTOCOL_CONFLICT', 'warning', { resource: s.gateway, path: `spec.servers[${s.name.slice(s.name.lastIndexOf('/') + 1)}].port` },
        `Skipping ${s.kind} server on ${name}: ${sorted[0]!.name} already serves ${tls ? 'TLS' : 'plaintext HTTP'} on this port`);
    }
    const l = tls ? buildTlsListener(name, same, input) : buildListener(name, same, input);
    if (l) out.push(l);
  }
  return out.sort((a, b) => a.port - b.port || cmp(a.address, b.address));
}

/** One ServerIR per TLS server, each with its own settings and route table. */
function buildTlsListener(name: string, servers: readonly PlainServer[], input: AssembleInput): ListenerIR | undefined {
  const first = servers[0]!;
  const claimed = new Map<string, string>();
  const out: ServerIR[] = [];
  let terminatesHttp = false;
  for (const s of servers) {
    const tls = s.tls!;
    const hostnames: string[] = [];
    for (const h of uniqueSorted(s.hosts.map((x) => x.host))) {
      const owner = claimed.get(h);
      if (owner !== undefined) {
        input.rep.report('TLS_SNI_CONFLICT', 'warning', { resource: s.gateway, path: `spec.servers[${s.name.slice(s.name.lastIndexOf('/') + 1)}].hosts` },
          `Not serving host "${h}" on ${name} for ${s.name}: ${owner} already claims it`);
        continue;
      }
      claimed.set(h, s.name);
      hostnames.push(h);
    }
    if (hostnames.length === 0) continue;
    const own: PlainServer = { ...s, hosts: s.hosts.filter((h) => hostnames.includes(h.host)) };
    if (tls.mode === 'PASSTHROUGH' || s.kind === 'TLS') {
      const tlsRoutes = input.tlsRoutesFor(own, tls.mode === 'PASSTHROUGH' ? 'tls' : 'tcp');
      out.push({ name: s.name, hostnames, tls, virtualHosts: [], tlsRoutes, source: s.gateway });
    } else {
      terminatesHttp = true;
      out.push({ name: s.name, hostnames, tls, virtualHosts: buildVirtualHosts(s.name, name, s.port, [own], input), source: s.gateway });
    }
  }
  if (out.length === 0) return undefined;
  const sources = new Map(servers.map((s) => [s.gatewayRef, s.gateway]));
  return {
    name,
    address: first.address,
    port: first.port,
    protocol: terminatesHttp ? 'HTTPS' : 'TLS',
    servers: out.sort((a, b) => cmp(a.name, b.name)),
    sources: [...sources.values()].sort(keyOrder),
  };
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
    // Its routes serve requests that already are https (trusted X-Forwarded-Proto); others get the 301.
    out.push({ name: s.name, hostnames: uniqueSorted(s.hosts.map((h) => h.host)), httpsRedirect: true, virtualHosts: buildVirtualHosts(s.name, name, first.port, [s], input), source: s.gateway });
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
