/**
 * Host names and visibility: Gateway server hosts (`[namespace/]dnsName`), the
 * VirtualService ↔ server host intersection, exportTo and gateway references.
 */

/** A Gateway server host after parsing `[namespace/]dnsName`. */
export interface ServerHost {
  /** `*` (any namespace) or the one namespace whose VirtualServices may bind. */
  readonly namespace: string;
  /** Lower-case DNS name: exact, `*.suffix` or `*`. */
  readonly host: string;
}

/**
 * Parses a server host. A missing namespace part means `*`; `.` means the Gateway's own
 * namespace. Returns undefined when the DNS part is empty.
 */
export function parseServerHost(raw: string, gatewayNamespace: string): ServerHost | undefined {
  const slash = raw.indexOf('/');
  let ns = '*';
  let host = raw;
  if (slash >= 0) {
    ns = raw.slice(0, slash);
    host = raw.slice(slash + 1);
    if (ns === '.') ns = gatewayNamespace;
    if (ns === '') return undefined;
  }
  host = host.trim().toLowerCase();
  if (host === '') return undefined;
  return { namespace: ns, host };
}

/** True when a server host's namespace part lets VirtualServices of `vsNamespace` bind. */
export function namespaceAllowed(h: ServerHost, vsNamespace: string): boolean {
  return h.namespace === '*' || h.namespace === vsNamespace;
}

/**
 * Istio's host.Name.SubsetOf: `a` is within `b`. `*` contains everything; `*.example.com`
 * contains `a.example.com`, `*.a.example.com` and itself, but not `example.com`.
 */
export function isSubsetOf(a: string, b: string): boolean {
  if (b === '*') return true;
  if (a.startsWith('*')) return b.startsWith('*') && a.slice(1).endsWith(b.slice(1));
  if (b.startsWith('*')) return a.endsWith(b.slice(1));
  return a === b;
}

/**
 * The effective virtual-host domain of a VirtualService host on a server host: the more
 * specific of the two when one contains the other, else undefined. Istio
 * (gateway.go, `serverHosts.Intersection(virtualServiceHosts)`) intersects in both
 * directions: VS `a.example.com` on server `*.example.com` gives `a.example.com`, and VS `*`
 * on server `shop.example.com` gives `shop.example.com`.
 */
export function intersectHost(vsHost: string, serverHost: string): string | undefined {
  if (isSubsetOf(vsHost, serverHost)) return vsHost;
  if (isSubsetOf(serverHost, vsHost)) return serverHost;
  return undefined;
}

/**
 * exportTo visibility of a resource in `ownNamespace` for a proxy in `viewerNamespace`:
 * empty = everywhere, `*` = everywhere, `.` = own namespace, `~` = nowhere, else names.
 */
export function isExportedTo(exportTo: readonly string[], ownNamespace: string, viewerNamespace: string): boolean {
  if (exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || (e === '.' ? ownNamespace : e) === viewerNamespace);
}

/** The mesh-wide pseudo gateway (all sidecars); a gateway proxy never serves it. */
export const MESH_GATEWAY = 'mesh';

/**
 * Resolves a VirtualService gateway reference to `namespace/name`: a bare name is in the
 * VirtualService's namespace. `mesh` stays `mesh`.
 */
export function resolveGatewayRef(ref: string, vsNamespace: string): string {
  if (ref === MESH_GATEWAY) return ref;
  const slash = ref.indexOf('/');
  return slash >= 0 ? ref : `${vsNamespace}/${ref}`;
}

/** Sorts and deduplicates host names. */
export function uniqueSorted(items: Iterable<string>): string[] {
  return [...new Set(items)].sort();
}
