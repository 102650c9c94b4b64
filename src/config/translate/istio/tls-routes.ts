/**
 * VirtualService `tls` routes (PASSTHROUGH servers) and `tcp` routes (TLS servers that terminate
 * and proxy TCP) → TlsRouteIR (istio-networking.md §2, TLSRoute / TCPRoute).
 *
 * A route applies to a server when the VirtualService is bound to the server's Gateway (top-level
 * `gateways`, or the match block's own `gateways`), the match `port` (if any) is the server port,
 * and its SNI hosts meet the server hosts whose namespace part admits the VirtualService. The
 * route's SNI patterns are those intersections. `sniHosts` must lie within the VirtualService
 * hosts (Istio validation); outside ones are dropped with a warning. `tcp` routes carry no SNI:
 * they serve the server hosts shared with the VirtualService hosts, first matching route only.
 */
import type { TlsRouteIR } from '../../ir/types.js';
import type { TranslateContext } from '../context.js';
import { at, atIndex, intIn, isObj, strList, type Loc, type Reporter } from './diag.js';
import type { PlainServer } from './gateway.js';
import { intersectHost, isSubsetOf, namespaceAllowed, resolveGatewayRef, uniqueSorted } from './hosts.js';
import { translateForward } from './route-action.js';
import type { VsInfo } from './virtual-service.js';

/** Routes of `section` from every VirtualService (oldest first) that apply to `server`. */
export function buildTlsRoutes(
  server: PlainServer, section: 'tls' | 'tcp', virtualServices: readonly VsInfo[], ctx: TranslateContext, rep: Reporter,
  onUse: (vs: VsInfo, sni: readonly string[]) => void,
): TlsRouteIR[] {
  const out: TlsRouteIR[] = [];
  for (const vs of virtualServices) {
    const list = vs.spec[section];
    if (!Array.isArray(list) || list.length === 0) continue;
    const hosts = server.hosts.filter((h) => namespaceAllowed(h, vs.key.namespace));
    if (hosts.length === 0) continue;
    const base: Loc = { resource: vs.key, path: `spec.${section}` };
    for (let i = 0; i < list.length; i++) {
      const route: unknown = list[i];
      const loc = atIndex(base, i);
      if (!isObj(route)) continue;
      const matches = Array.isArray(route['match']) && route['match'].length > 0 ? route['match'] : [undefined];
      let taken = false;
      for (let j = 0; j < matches.length && !taken; j++) {
        const m: unknown = matches[j];
        const mloc = m === undefined ? loc : atIndex(at(loc, 'match'), j);
        if (!applies(m, vs, server)) continue;
        let sni: string[];
        if (section === 'tls') {
          const wanted: string[] = [];
          strList(isObj(m) ? m['sniHosts'] : undefined).forEach((h, k) => {
            const v = h.toLowerCase();
            if (vs.hosts.some((vh) => isSubsetOf(v, vh))) wanted.push(v);
            else {
              rep.report('TLS_ROUTE_INVALID', 'warning', atIndex(at(mloc, 'sniHosts'), k),
                `Ignoring sniHost "${h}": it is not within the VirtualService hosts ${JSON.stringify(vs.hosts)}`);
            }
          });
          sni = intersectAll(wanted, hosts.map((h) => h.host));
        } else {
          sni = intersectAll(vs.hosts, hosts.map((h) => h.host));
        }
        if (sni.length === 0) continue;
        const action = translateForward(Array.isArray(route['route']) ? route['route'] : [], at(loc, 'route'), ctx, rep);
        if (!action || action.backends.length === 0) {
          rep.report('TLS_ROUTE_INVALID', 'warning', at(loc, 'route'), `Dropping ${section} route: it has no usable destination`);
          break;
        }
        out.push({
          id: `virtualservice/${vs.key.namespace}/${vs.key.name}/${section}/${i}${m === undefined ? '' : `/match/${j}`}`,
          sniHosts: sni,
          backends: action.backends,
          source: vs.key,
          sourcePath: mloc.path,
        });
        onUse(vs, sni);
        // A tcp route has no SNI of its own: the first one that applies takes the server.
        if (section === 'tcp') return out;
        taken = true;
      }
    }
  }
  return out;
}

function applies(m: unknown, vs: VsInfo, server: PlainServer): boolean {
  const own = isObj(m) ? strList(m['gateways']).map((g) => resolveGatewayRef(g, vs.key.namespace)) : [];
  const gateways = own.length > 0 ? own : vs.gateways;
  if (!gateways.includes(server.gatewayRef)) return false;
  const port = isObj(m) ? intIn(m['port'], 1, 65535) : undefined;
  return port === undefined || port === server.port;
}

function intersectAll(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  for (const x of a) for (const y of b) {
    const i = intersectHost(x, y);
    if (i !== undefined) out.push(i);
  }
  return uniqueSorted(out);
}
