/**
 * Compiled routing for one listener: server selection (Host isolation groups), virtual-host
 * selection (exact > longest wildcard > `*`) and first-match route lookup. `explainRoute`
 * walks the same structures with the same predicates and records why candidates failed.
 */
import type { ListenerIR, RouteIR, ServerIR, VirtualHostIR } from '../../config/ir/types.js';
import { compileMatch, hostMatches, type Condition } from './matchers.js';
import type { RequestView } from './request-view.js';

/** Host → value lookup with Envoy domain semantics. */
export class HostMap<T> {
  readonly #exact = new Map<string, T>();
  /** Wildcards sorted by suffix length, longest first: [suffix ('.example.com'), value]. */
  #wild: [string, T][] = [];
  #star: T | undefined;

  add(pattern: string, value: T): void {
    const p = pattern.toLowerCase();
    if (p === '*') { if (this.#star === undefined) this.#star = value; return; }
    if (p.startsWith('*.')) {
      const suffix = p.slice(1);
      if (!this.#wild.some(([s]) => s === suffix)) {
        this.#wild.push([suffix, value]);
        this.#wild.sort((a, b) => b[0].length - a[0].length);
      }
      return;
    }
    if (!this.#exact.has(p)) this.#exact.set(p, value);
  }

  get(host: string): T | undefined {
    const e = this.#exact.get(host);
    if (e !== undefined) return e;
    const w = this.#wild;
    for (let i = 0; i < w.length; i++) {
      const [suffix, v] = w[i]!;
      if (host.length > suffix.length && host.endsWith(suffix)) return v;
    }
    return this.#star;
  }
}

/** A compiled route: the IR plus its predicates and whatever the action compiled to. */
export interface CompiledRoute<A = unknown> {
  readonly ir: RouteIR;
  readonly conds: readonly Condition[];
  /** Compiled action (built by runtime/build.ts). */
  readonly action: A;
}

export interface CompiledVhost<A = unknown> {
  readonly ir: VirtualHostIR;
  readonly routes: readonly CompiledRoute<A>[];
}

export interface CompiledServer<A = unknown> {
  readonly ir: ServerIR;
  readonly vhosts: HostMap<CompiledVhost<A>>;
  readonly vhostList: readonly CompiledVhost<A>[];
}

export interface RouteTable<A = unknown> {
  readonly listener: ListenerIR;
  readonly servers: HostMap<CompiledServer<A>>;
  readonly serverList: readonly CompiledServer<A>[];
  /** By ServerIR name: TLS connections are pinned to the server their SNI selected. */
  readonly byName: ReadonlyMap<string, CompiledServer<A>>;
}

/** Compile a listener's routing; `compileAction` turns each RouteIR into the runtime action. */
export function compileRouteTable<A>(listener: ListenerIR, compileAction: (r: RouteIR) => A): RouteTable<A> {
  const servers = new HostMap<CompiledServer<A>>();
  const serverList: CompiledServer<A>[] = [];
  const byName = new Map<string, CompiledServer<A>>();
  for (const s of listener.servers) {
    const vhosts = new HostMap<CompiledVhost<A>>();
    const vhostList: CompiledVhost<A>[] = [];
    for (const vh of s.virtualHosts) {
      const cv: CompiledVhost<A> = {
        ir: vh,
        routes: vh.routes.map((r) => ({ ir: r, conds: compileMatch(r.match), action: compileAction(r) })),
      };
      vhostList.push(cv);
      for (const d of vh.domains) vhosts.add(d, cv);
    }
    const cs: CompiledServer<A> = { ir: s, vhosts, vhostList };
    serverList.push(cs);
    byName.set(s.name, cs);
    for (const h of s.hostnames.length ? s.hostnames : ['*']) servers.add(h, cs);
  }
  return { listener, servers, serverList, byName };
}

function routeMatches(conds: readonly Condition[], req: RequestView): boolean {
  for (let i = 0; i < conds.length; i++) if (!conds[i]!.test(req)) return false;
  return true;
}

/** Result of routing: what the data plane needs. */
export interface RouteResult<A> {
  readonly server: CompiledServer<A>;
  readonly vhost: CompiledVhost<A> | undefined;
  readonly route: CompiledRoute<A> | undefined;
}

/**
 * Select server → vhost → first matching route. `pinned` (TLS connections) names the server the
 * handshake's SNI chose: the Host header then only picks a virtual host inside it, so a request
 * can never reach another server's routes (or a MUTUAL server's through a SIMPLE one).
 */
export function findRoute<A>(table: RouteTable<A>, req: RequestView, pinned?: string): RouteResult<A> | undefined {
  const server = pinned === undefined ? table.servers.get(req.host) : table.byName.get(pinned);
  if (server === undefined) return undefined;
  const vhost = server.vhosts.get(req.host);
  if (vhost === undefined) return { server, vhost, route: undefined };
  const routes = vhost.routes;
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i]!;
    if (routeMatches(r.conds, req)) return { server, vhost, route: r };
  }
  return { server, vhost, route: undefined };
}

export interface ExplainStep {
  readonly candidate: string;
  readonly matched: boolean;
  readonly reason: string;
}

export interface RouteExplanation<A> {
  readonly result: RouteResult<A> | undefined;
  readonly servers: readonly ExplainStep[];
  readonly vhosts: readonly ExplainStep[];
  readonly routes: readonly ExplainStep[];
}

/** Same selection as findRoute, recording why each earlier candidate did not match. */
export function explainRoute<A>(table: RouteTable<A>, req: RequestView): RouteExplanation<A> {
  const result = findRoute(table, req);
  const servers: ExplainStep[] = table.serverList.map((s) => {
    const hit = result?.server === s;
    const any = (s.ir.hostnames.length ? s.ir.hostnames : ['*']).some((h) => hostMatches(h.toLowerCase(), req.host));
    return {
      candidate: `${s.ir.name} (hostnames ${s.ir.hostnames.join(', ') || '*'})`,
      matched: hit,
      reason: hit ? 'most specific hostname match' : any ? 'a more specific server hostname matched' : `host "${req.host}" does not match`,
    };
  });
  const vhosts: ExplainStep[] = [];
  const routes: ExplainStep[] = [];
  if (result) {
    for (const v of result.server.vhostList) {
      const hit = result.vhost === v;
      const any = v.ir.domains.some((d) => hostMatches(d.toLowerCase(), req.host));
      vhosts.push({
        candidate: `${v.ir.name} (domains ${v.ir.domains.join(', ')})`,
        matched: hit,
        reason: hit ? 'most specific domain match' : any ? 'a more specific domain matched' : `host "${req.host}" does not match`,
      });
    }
    if (result.vhost) {
      for (const r of result.vhost.routes) {
        if (r === result.route) {
          routes.push({ candidate: describeRoute(r.ir), matched: true, reason: 'all conditions hold' });
          break;
        }
        const failed = r.conds.find((c) => !c.test(req));
        routes.push({
          candidate: describeRoute(r.ir),
          matched: false,
          reason: failed ? `${failed.label} does not match ${JSON.stringify(failed.actual(req))}` : 'no match',
        });
      }
    }
  }
  return { result, servers, vhosts, routes };
}

function describeRoute(r: RouteIR): string {
  return r.name && r.name !== r.id ? `${r.id} (route ${r.name})` : r.id;
}
