/**
 * VirtualService reading: hosts, gateway binding, exportTo, and expansion of `http[]` into
 * ordered routes with their match blocks (delegates resolved, see delegate.ts).
 */
import type { ResourceKey } from '../../../errors/diagnostic.js';
import type { LoadedResource } from '../../resources/types.js';
import { at, atIndex, isObj, str, strList, type Loc, type Reporter } from './diag.js';
import { joinNames, matchBlock, mergeMatches, mergeRouteFields, type MatchBlock } from './delegate.js';
import { isExportedTo, MESH_GATEWAY, resolveGatewayRef } from './hosts.js';
import { sourced, type Sourced } from './sourced.js';

/** A readable VirtualService. */
export interface VsInfo {
  readonly res: LoadedResource;
  readonly key: ResourceKey;
  readonly spec: Readonly<Record<string, unknown>>;
  /** Lower-cased; empty for a delegate. Short names are not expanded (gateway hosts are DNS names). */
  readonly hosts: readonly string[];
  /** Top-level `gateways`, resolved to `ns/name` (default `mesh`). */
  readonly gateways: readonly string[];
  /** Every gateway named at top level or in a match block, resolved; `mesh` excluded. */
  readonly boundTo: ReadonlySet<string>;
  readonly exportTo: readonly string[];
}

/** Reads a VirtualService; undefined (with an error) when it is unusable. */
export function readVirtualService(r: LoadedResource, rep: Reporter): VsInfo | undefined {
  const spec: unknown = r.object.spec;
  const root: Loc = { resource: r.key, path: 'spec' };
  if (!isObj(spec)) {
    rep.report('ISTIO_VIRTUAL_SERVICE_INVALID', 'error', root, 'Cannot use VirtualService: spec is missing');
    return undefined;
  }
  const rawHosts = spec['hosts'] ?? [];
  if (!Array.isArray(rawHosts) || rawHosts.some((h) => typeof h !== 'string' || h === '')) {
    rep.report('ISTIO_VIRTUAL_SERVICE_INVALID', 'error', at(root, 'hosts'), 'Cannot use VirtualService: hosts must be a list of non-empty strings');
    return undefined;
  }
  const ns = r.key.namespace;
  const top = strList(spec['gateways']).map((g) => resolveGatewayRef(g, ns));
  const gateways = top.length > 0 ? top : [MESH_GATEWAY];
  const boundTo = new Set(gateways);
  for (const section of ['http', 'tls', 'tcp']) {
    const list = Array.isArray(spec[section]) ? spec[section] : [];
    for (const route of list) {
      const matches = isObj(route) && Array.isArray(route['match']) ? route['match'] : [];
      for (const m of matches) if (isObj(m)) for (const g of strList(m['gateways'])) boundTo.add(resolveGatewayRef(g, ns));
    }
  }
  boundTo.delete(MESH_GATEWAY);
  return {
    res: r,
    key: r.key,
    spec,
    hosts: (rawHosts as string[]).map((h) => h.toLowerCase()),
    gateways,
    boundTo,
    exportTo: strList(spec['exportTo']),
  };
}

/** One match block of an expanded route. */
export interface Block {
  /** Undefined: the route has no match list and matches everything. */
  readonly match?: Sourced;
  readonly name: string;
  /** Effective gateways (the block's own, else the root VirtualService's top-level list). */
  readonly gateways: readonly string[];
  /** Field path of the block in `source`: `spec.http[2].match[0]` (or `spec.http[2]`). */
  readonly path: string;
  /** `virtualservice/<ns>/<name>/http/<i>/match/<j>` (delegates: `.../http/<i>/delegate/http/<k>/match/<j>`). */
  readonly id: string;
}

/** One HTTP route after delegate expansion. */
export interface ExpandedRoute {
  readonly route: Sourced;
  /** Location of the route itself (`spec.http[i]` of the VirtualService that wrote it). */
  readonly loc: Loc;
  readonly name: string;
  readonly blocks: readonly Block[];
}

/** Resolves delegate references; records which delegates were used. */
export interface DelegateLookup {
  find(namespace: string, name: string): VsInfo | undefined;
  markUsed(key: ResourceKey): void;
}

/** Expands `http[]` of a root (or plain) VirtualService, in order. */
export function expandVirtualService(vs: VsInfo, delegates: DelegateLookup, rep: Reporter): ExpandedRoute[] {
  const out: ExpandedRoute[] = [];
  const http = vs.spec['http'];
  if (!Array.isArray(http)) return out;
  const ns = vs.key.namespace;
  http.forEach((raw: unknown, i: number) => {
    const loc = atIndex({ resource: vs.key, path: 'spec.http' }, i);
    if (!isObj(raw)) {
      rep.report('ISTIO_FIELD_INVALID', 'error', loc, 'Dropping route: it is not an object');
      return;
    }
    const route = sourced(raw, loc);
    const blocks = readBlocks(route, loc);
    const name = str(raw['name']) ?? '';
    const idBase = `virtualservice/${ns}/${vs.key.name}/http/${i}`;
    if (raw['delegate'] === undefined || raw['delegate'] === null) {
      out.push({ route, loc, name, blocks: toBlocks(blocks, vs.gateways, loc, idBase) });
      return;
    }
    const delegate = resolveDelegate(vs, raw, loc, delegates, rep);
    if (!delegate) return;
    const dHttp = Array.isArray(delegate.spec['http']) ? delegate.spec['http'] : [];
    dHttp.forEach((leafRaw: unknown, k: number) => {
      const leafLoc = atIndex({ resource: delegate.key, path: 'spec.http' }, k);
      if (!isObj(leafRaw)) {
        rep.report('ISTIO_FIELD_INVALID', 'error', leafLoc, 'Dropping route: it is not an object');
        return;
      }
      if (leafRaw['delegate'] !== undefined && leafRaw['delegate'] !== null) {
        rep.report('ISTIO_DELEGATE_INVALID', 'error', at(leafLoc, 'delegate'),
          `Dropping route: delegation is one level only, and this VirtualService is itself a delegate of VirtualService "${ns}/${vs.key.name}"`);
        return;
      }
      const leaf = sourced(leafRaw, leafLoc);
      const merged = mergeMatches(blocks, readBlocks(leaf, leafLoc), leafLoc);
      if (!merged) {
        rep.report('ISTIO_DELEGATE_MATCH_CONFLICT', 'warning', at(leafLoc, 'match'),
          `Dropping delegate route: its match is not within the match of root route "${loc.path}" of VirtualService "${ns}/${vs.key.name}"`);
        return;
      }
      const leafHasMatch = Array.isArray(leafRaw['match']) && leafRaw['match'].length > 0;
      out.push({
        route: mergeRouteFields(route, leaf, leafLoc),
        loc: leafLoc,
        name: joinNames(name, str(leafRaw['name']) ?? ''),
        blocks: toBlocks(merged, vs.gateways, leafLoc, `${idBase}/delegate/http/${k}`, leafHasMatch),
      });
    });
  });
  return out;
}

function readBlocks(route: Sourced, loc: Loc): MatchBlock[] {
  const list = route.value['match'];
  if (!Array.isArray(list)) return [];
  return list.map((m: unknown, j: number) => {
    const l = atIndex(at(loc, 'match'), j);
    return matchBlock(sourced(m, l), l);
  });
}

/**
 * Blocks of a route. No match list = one implicit match-all block `match/0` (same id shape
 * as explicit blocks so metrics stay uniform). For merged delegate blocks the path points at
 * the delegate's block when it had one (cross product order: delegate block, then root block).
 */
function toBlocks(list: readonly MatchBlock[], top: readonly string[], loc: Loc, idBase: string, pathsFromList = true): Block[] {
  if (list.length === 0) return [{ name: '', gateways: top, path: loc.path, id: `${idBase}/match/0` }];
  return list.map((b, j) => ({
    match: b.match,
    name: b.name,
    gateways: b.gateways.length > 0 ? b.gateways : top,
    path: pathsFromList ? b.path : loc.path,
    id: `${idBase}/match/${j}`,
  }));
}

function resolveDelegate(vs: VsInfo, raw: Record<string, unknown>, loc: Loc, delegates: DelegateLookup, rep: Reporter): VsInfo | undefined {
  const dLoc = at(loc, 'delegate');
  const others = ['route', 'redirect', 'directResponse'].filter((k) => raw[k] !== undefined && raw[k] !== null);
  if (others.length > 0) {
    rep.report('ISTIO_ROUTE_ACTION_INVALID', 'error', dLoc, `Dropping route: delegate cannot be combined with ${others.join(', ')}`);
    return undefined;
  }
  const d = isObj(raw['delegate']) ? raw['delegate'] : {};
  const name = str(d['name']);
  const namespace = str(d['namespace']) || vs.key.namespace;
  if (!name) {
    rep.report('ISTIO_DELEGATE_NOT_FOUND', 'error', at(dLoc, 'name'), 'Dropping route: delegate.name is required');
    return undefined;
  }
  const target = delegates.find(namespace, name);
  if (!target) {
    rep.report('ISTIO_DELEGATE_NOT_FOUND', 'error', at(dLoc, 'name'), `Dropping route: delegate VirtualService "${namespace}/${name}" not found`);
    return undefined;
  }
  if (target.hosts.length > 0) {
    rep.report('ISTIO_DELEGATE_INVALID', 'error', at(dLoc, 'name'), `Dropping route: VirtualService "${namespace}/${name}" has hosts, so it cannot be a delegate`);
    return undefined;
  }
  if (!isExportedTo(target.exportTo, namespace, vs.key.namespace)) {
    rep.report('ISTIO_DELEGATE_INVALID', 'error', at(dLoc, 'name'),
      `Dropping route: delegate VirtualService "${namespace}/${name}" is not exported to namespace "${vs.key.namespace}"`);
    return undefined;
  }
  delegates.markUsed(target.key);
  return target;
}
