/**
 * Delegate VirtualServices (one level): a root route `delegate: {name, namespace}` is
 * replaced by the delegate's http routes, each merged with the root route.
 *
 * Semantics follow Istio (pilot/pkg/model/virtualservice.go, mergeHTTPRoute):
 * - Matches: every match block of a delegate route must fit inside at least one root match
 *   block; each compatible (root, delegate) pair becomes one block whose conditions are the
 *   AND of both (delegate fields win, header/query maps are unioned). If some delegate block
 *   fits no root block the whole delegate route is dropped (ISTIO_DELEGATE_MATCH_CONFLICT).
 *   "Fits" is Istio's conservative check: an exact must equal the root exact or start with
 *   the root prefix, a prefix must start with the root prefix, and any regex on one side
 *   next to a condition on the other side conflicts.
 * - Policies: the delegate route inherits rewrite, timeout, retries, fault, mirror(s),
 *   corsPolicy and headers from the root route when it does not set its own.
 * - Names: `<root>-<delegate>` for route and match names (either alone when the other is empty).
 */
import { at, isObj, str, strList, strMap, type Loc } from './diag.js';
import { resolveGatewayRef } from './hosts.js';
import { SourcedBuilder, type Sourced } from './sourced.js';

/** A match block with its name and resolved `gateways` (empty = inherit). */
export interface MatchBlock {
  readonly match: Sourced;
  /** Field path of the block in the resource that wrote it (merged: the delegate's block). */
  readonly path: string;
  readonly name: string;
  readonly gateways: readonly string[];
}

/** Route fields a delegate route takes from its root when unset. */
const INHERITED = ['rewrite', 'timeout', 'retries', 'fault', 'mirror', 'mirrorPercent', 'mirrorPercentage', 'mirrors', 'corsPolicy', 'headers'];
/** Route fields that belong to the delegate route only. */
const OWN = ['route', 'redirect', 'directResponse', 'delegate'];

/** Wraps one raw match block; `gateways` resolved against the namespace that wrote them. */
export function matchBlock(match: Sourced, loc: Loc): MatchBlock {
  const ns = loc.resource.namespace;
  return {
    match,
    path: loc.path,
    name: str(match.value['name']) ?? '',
    gateways: strList(match.value['gateways']).map((g) => resolveGatewayRef(g, ns)),
  };
}

/** The root route's fields merged into a delegate route (no match; see mergeMatches). */
export function mergeRouteFields(root: Sourced, leaf: Sourced, leafLoc: Loc): Sourced {
  const b = new SourcedBuilder();
  for (const f of OWN) b.field(leaf, f);
  for (const f of INHERITED) b.field(leaf.value[f] !== undefined ? leaf : root, f);
  return b.build(leafLoc);
}

/** Route name of a merged route: `root-leaf`, or whichever is set. */
export function joinNames(root: string, leaf: string): string {
  if (leaf === '') return root;
  return root === '' ? leaf : `${root}-${leaf}`;
}

/**
 * Merged match blocks, or undefined on conflict. An empty list on either side means
 * "match all" and yields the other side's blocks.
 */
export function mergeMatches(root: readonly MatchBlock[], leaf: readonly MatchBlock[], leafLoc: Loc): MatchBlock[] | undefined {
  if (root.length === 0) return [...leaf];
  if (leaf.length === 0) return [...root];
  const out: MatchBlock[] = [];
  for (const l of leaf) {
    let found = false;
    for (const r of root) {
      if (hasConflict(r, l)) continue;
      out.push(mergeMatch(r, l, leafLoc));
      found = true;
    }
    if (!found) return undefined;
  }
  return out;
}

function mergeMatch(root: MatchBlock, leaf: MatchBlock, leafLoc: Loc): MatchBlock {
  const b = new SourcedBuilder();
  for (const f of ['uri', 'scheme', 'method', 'authority', 'port', 'sourceNamespace', 'ignoreUriCase', 'statPrefix']) {
    b.field(isSet(leaf.match.value[f]) ? leaf.match : root.match, f);
  }
  for (const f of ['headers', 'withoutHeaders', 'queryParams', 'sourceLabels']) b.mapField(root.match, f).mapField(leaf.match, f);
  const name = joinNames(root.name, leaf.name);
  if (name !== '') b.set('name', name, at(leafLoc, 'name'));
  return { match: b.build(leafLoc), path: leaf.path, name, gateways: leaf.gateways.length > 0 ? leaf.gateways : root.gateways };
}

function isSet(v: unknown): boolean {
  return v !== undefined && v !== null && v !== 0 && v !== '';
}

/** Istio hasConflict: can the delegate block not be a subset of the root block? */
function hasConflict(root: MatchBlock, leaf: MatchBlock): boolean {
  const r = root.match.value;
  const l = leaf.match.value;
  for (const f of ['uri', 'scheme', 'method', 'authority']) {
    if (stringMatchConflict(r[f], l[f])) return true;
  }
  for (const f of ['headers', 'withoutHeaders', 'queryParams']) {
    const rm = isObj(r[f]) ? r[f] : {};
    const lm = isObj(l[f]) ? l[f] : {};
    for (const [k, v] of Object.entries(lm)) if (stringMatchConflict(rm[k], v)) return true;
  }
  if ((r['ignoreUriCase'] === true) !== (l['ignoreUriCase'] === true)) return true;
  const rp = typeof r['port'] === 'number' ? r['port'] : 0;
  const lp = typeof l['port'] === 'number' ? l['port'] : 0;
  if (rp > 0 && lp > 0 && rp !== lp) return true;
  const rns = str(r['sourceNamespace']) ?? '';
  if (rns !== '' && str(l['sourceNamespace']) !== rns) return true;
  const rl = strMap(r['sourceLabels']);
  for (const [k, v] of Object.entries(strMap(l['sourceLabels']))) if (k in rl && rl[k] !== v) return true;
  if (root.gateways.length > 0 && leaf.gateways.length > 0) {
    const allowed = new Set(root.gateways);
    if (leaf.gateways.some((g) => !allowed.has(g))) return true;
  }
  return false;
}

/** The set oneof of a StringMatch, or undefined for none / not a StringMatch. */
function kindOf(v: unknown): { kind: 'exact' | 'prefix' | 'regex'; value: string } | undefined {
  if (!isObj(v)) return undefined;
  for (const kind of ['exact', 'prefix', 'regex'] as const) {
    const s = v[kind];
    if (typeof s === 'string') return { kind, value: s };
  }
  return undefined;
}

function stringMatchConflict(root: unknown, leaf: unknown): boolean {
  const r = kindOf(root);
  const l = kindOf(leaf);
  // An absent (or empty) condition on either side cannot conflict.
  if (!r || !l) return false;
  if (r.kind === 'regex' || l.kind === 'regex') return true;
  if (r.kind === 'exact') return l.kind !== 'exact' || l.value !== r.value;
  return !l.value.startsWith(r.value);
}
