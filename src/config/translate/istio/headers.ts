/**
 * Istio `headers` blocks ({request, response} × {set, add, remove}) → HeaderOpsIR.
 *
 * Values are kept verbatim: they may hold Envoy substitution operators
 * (`%DOWNSTREAM_REMOTE_ADDRESS%`, `%REQ(x)%`, a literal `%` written `%%`) which the runtime
 * expands per request, so translation must not touch them.
 *
 * Request `set`/`add` of `host` or `:authority` is an authority rewrite in Istio (a value in
 * `set` wins over one in `add`); other pseudo headers cannot be written, and `host` and
 * pseudo headers cannot be removed.
 */
import type { HeaderOpsIR } from '../../ir/types.js';
import { at, atIndex, isObj, type Loc, type Reporter } from './diag.js';

/** Header ops of one direction, plus the authority rewrite found in request set/add. */
export interface TranslatedHeaderOps {
  readonly ops?: HeaderOpsIR;
  readonly authority?: string;
}

/** Request and response header ops of a route or destination. */
export interface TranslatedHeaders {
  readonly request: TranslatedHeaderOps;
  readonly response: TranslatedHeaderOps;
}

/** Translates a `headers` block located at `loc` (absent = no ops). */
export function translateHeaders(v: unknown, loc: Loc, rep: Reporter): TranslatedHeaders {
  if (!isObj(v)) return { request: {}, response: {} };
  return {
    request: translateOps(v['request'], at(loc, 'request'), rep, true),
    response: translateOps(v['response'], at(loc, 'response'), rep, false),
  };
}

function isAuthority(name: string): boolean {
  return name === 'host' || name === ':authority';
}

function translateOps(v: unknown, loc: Loc, rep: Reporter, request: boolean): TranslatedHeaderOps {
  if (!isObj(v)) return {};
  const authority: { set?: string; add?: string } = {};
  const lists: Record<'set' | 'add', { name: string; value: string }[]> = { set: [], add: [] };
  for (const op of ['set', 'add'] as const) {
    const map = v[op];
    if (!isObj(map)) continue;
    for (const [raw, value] of Object.entries(map)) {
      const name = raw.toLowerCase();
      const l = at(at(loc, op), raw);
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        rep.report('ISTIO_HEADER_OP_INVALID', 'warning', l, `Ignoring header ${op} "${raw}": the value must be a string`);
        continue;
      }
      const text = String(value);
      if (request && isAuthority(name)) {
        authority[op] ??= text;
        continue;
      }
      if (name.startsWith(':') || (!request && name === 'host')) {
        rep.report('ISTIO_HEADER_OP_INVALID', 'warning', l, `Ignoring header ${op} "${raw}": pseudo headers cannot be written`);
        continue;
      }
      lists[op].push({ name, value: text });
    }
  }
  const remove: string[] = [];
  const rm = v['remove'];
  if (Array.isArray(rm)) {
    rm.forEach((raw: unknown, i: number) => {
      if (typeof raw !== 'string') return;
      const name = raw.toLowerCase();
      if (name.startsWith(':') || name === 'host') {
        rep.report('ISTIO_HEADER_OP_INVALID', 'warning', atIndex(at(loc, 'remove'), i), `Ignoring header remove "${raw}": host and pseudo headers cannot be removed`);
        return;
      }
      remove.push(name);
    });
  }
  const ops: { set?: typeof lists.set; add?: typeof lists.add; remove?: string[] } = {};
  if (lists.set.length > 0) ops.set = lists.set;
  if (lists.add.length > 0) ops.add = lists.add;
  if (remove.length > 0) ops.remove = remove;
  const out: { ops?: HeaderOpsIR; authority?: string } = {};
  if (Object.keys(ops).length > 0) out.ops = ops;
  const auth = authority.set ?? authority.add;
  if (auth !== undefined) out.authority = auth;
  return out;
}
