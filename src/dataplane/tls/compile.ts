/**
 * Compiled TLS view of one listener (built with the snapshot): SNI → server (exact > longest
 * wildcard > `*`, the same HostMap as HTTP hosts) and, for L4 servers, SNI → route → weighted
 * backend. Pure data plus small pickers; the live parts (tls.Server objects, certificates) are in
 * listener.ts and the certificate store.
 */
import type { ListenerIR, ServerIR, TlsRouteIR, TlsServerIR } from '../../config/ir/types.js';
import { HostMap } from '../router/route-table.js';
import type { ClusterHandle } from '../upstream/cluster.js';

/** A backend of an L4 route: a cluster, or a share of connections that is closed. */
export interface L4Backend {
  readonly cluster?: ClusterHandle;
  readonly invalid?: { readonly detail: string; readonly flag: string };
}

export interface CompiledTlsRoute {
  readonly ir: TlsRouteIR;
  /** Weighted choice; undefined when the route has no backend. */
  pick(): L4Backend | undefined;
}

export interface CompiledTlsServer {
  readonly ir: ServerIR;
  readonly tls: TlsServerIR;
  /** L4 routes by SNI (PASSTHROUGH, or terminated TCP); undefined for HTTP servers. */
  readonly routes: HostMap<CompiledTlsRoute> | undefined;
  /** Stable identity of the settings: a runtime server object is reused while it is unchanged. */
  readonly signature: string;
}

export interface CompiledTlsListener {
  readonly servers: HostMap<CompiledTlsServer>;
  readonly list: readonly CompiledTlsServer[];
}

/** True for listeners whose connections start with a TLS ClientHello. */
export function isTlsListener(l: ListenerIR): boolean {
  return l.protocol === 'HTTPS' || l.protocol === 'TLS';
}

/** Compile a TLS listener; undefined for plaintext ones. */
export function compileTlsListener(l: ListenerIR, clusters: ReadonlyMap<string, ClusterHandle>): CompiledTlsListener | undefined {
  if (!isTlsListener(l)) return undefined;
  const servers = new HostMap<CompiledTlsServer>();
  const list: CompiledTlsServer[] = [];
  for (const s of l.servers) {
    if (!s.tls) continue;
    let routes: HostMap<CompiledTlsRoute> | undefined;
    if (s.tlsRoutes !== undefined) {
      routes = new HostMap<CompiledTlsRoute>();
      for (const r of s.tlsRoutes) {
        const cr = compileRoute(r, clusters);
        for (const h of r.sniHosts) routes.add(h, cr);
      }
    }
    const cs: CompiledTlsServer = { ir: s, tls: s.tls, routes, signature: `${s.name}|${l.protocol}|${JSON.stringify(s.tls)}` };
    list.push(cs);
    for (const h of s.hostnames.length ? s.hostnames : ['*']) servers.add(h, cs);
  }
  return { servers, list };
}

function compileRoute(r: TlsRouteIR, clusters: ReadonlyMap<string, ClusterHandle>): CompiledTlsRoute {
  const backends: L4Backend[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (const b of r.backends) {
    if (b.weight <= 0) continue;
    const cluster = b.cluster !== undefined ? clusters.get(b.cluster) : undefined;
    backends.push(cluster ? { cluster } : { invalid: { detail: b.invalid?.detail ?? 'cluster_not_found', flag: b.invalid?.flag ?? 'NC' } });
    total += b.weight;
    cumulative.push(total);
  }
  return {
    ir: r,
    pick() {
      if (backends.length <= 1) return backends[0];
      const x = Math.random() * total;
      for (let i = 0; i < cumulative.length; i++) if (x < cumulative[i]!) return backends[i];
      return backends[backends.length - 1];
    },
  };
}
