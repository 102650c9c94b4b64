/**
 * Compiled route actions: everything derivable from the IR (header op tables, rewrite
 * functions, cumulative weights, redirect builders, local reply bodies) is computed once
 * per snapshot here, never per request.
 */
import type { HeaderOpsIR, PathRewriteIR, RetryIR, RouteActionIR, RouteIR } from '../config/ir/types.js';
import { re2ToJs } from '../config/resources/re2.js';
import type { ClusterHandle } from '../dataplane/upstream/cluster.js';

/** Header operations with lower-case names. */
export interface HeaderOps {
  readonly set: readonly (readonly [string, string])[];
  readonly add: readonly (readonly [string, string])[];
  /** Names removed, plus every `set` name (set replaces all values). */
  readonly drop: ReadonlySet<string>;
}

export function compileHeaderOps(ir: HeaderOpsIR | undefined): HeaderOps | undefined {
  if (!ir) return undefined;
  const set = (ir.set ?? []).map((h) => [h.name.toLowerCase(), unescapePercent(h.value)] as const);
  const add = (ir.add ?? []).map((h) => [h.name.toLowerCase(), unescapePercent(h.value)] as const);
  const drop = new Set<string>([...(ir.remove ?? []).map((n) => n.toLowerCase()), ...set.map(([n]) => n)]);
  if (!set.length && !add.length && !drop.size) return undefined;
  return { set, add, drop };
}

/** Envoy header values write a literal `%` as `%%`. (Operators are substituted by a later release.) */
function unescapePercent(v: string): string {
  return v.includes('%%') ? v.replace(/%%/g, '%') : v;
}

/**
 * Apply ops to parallel name/value arrays (names lower-case), returning new arrays. Order:
 * remove (and clear set names), then set, then add — Envoy's order within one level.
 */
export function applyHeaderOps(ops: HeaderOps, lnames: readonly string[], values: readonly string[]): { lnames: string[]; values: string[] } {
  const n: string[] = [];
  const v: string[] = [];
  for (let i = 0; i < lnames.length; i++) {
    if (ops.drop.has(lnames[i]!)) continue;
    n.push(lnames[i]!);
    v.push(values[i]!);
  }
  for (const [name, value] of ops.set) { n.push(name); v.push(value); }
  for (const [name, value] of ops.add) { n.push(name); v.push(value); }
  return { lnames: n, values: v };
}

export type PathRewrite = (path: string) => string;

export function compilePathRewrite(ir: PathRewriteIR | undefined): PathRewrite | undefined {
  if (!ir) return undefined;
  switch (ir.type) {
    case 'ReplaceFull': {
      const v = ir.value;
      return () => v;
    }
    case 'ReplacePrefix': {
      if (!ir.segmentAware) {
        const { prefix, replacement } = ir;
        // Envoy prefix_rewrite: plain string replacement of the matched prefix.
        return (p) => (p.startsWith(prefix) ? replacement + p.slice(prefix.length) : p);
      }
      // Gateway API ReplacePrefixMatch: replace the matched segments, never produce `//`.
      let prefix = ir.prefix;
      while (prefix.length > 1 && prefix.endsWith('/')) prefix = prefix.slice(0, -1);
      if (prefix === '/') prefix = '';
      let repl = ir.replacement;
      while (repl.endsWith('/')) repl = repl.slice(0, -1);
      return (p) => {
        if (!p.toLowerCase().startsWith(prefix.toLowerCase())) return p;
        let rest = p.slice(prefix.length);
        if (rest !== '' && rest.charCodeAt(0) !== 47) rest = `/${rest}`;
        const out = repl + rest;
        return out === '' ? '/' : out;
      };
    }
    case 'Regex': {
      const js = re2ToJs(ir.pattern);
      if ('error' in js) throw new TypeError(`Cannot compile regex rewrite ${JSON.stringify(ir.pattern)}: ${js.error}`);
      const re = new RegExp(js.source, `g${js.flags}`);
      // RE2/Envoy substitution uses \1; JavaScript uses $1. A literal $ must become $$.
      const sub = ir.substitution.replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1');
      return (p) => p.replace(re, sub);
    }
  }
}

export interface CompiledBackend {
  readonly weight: number;
  readonly cluster: ClusterHandle | undefined;
  readonly invalid: { readonly status: number; readonly detail: string; readonly flag: string } | undefined;
  readonly requestOps: HeaderOps | undefined;
  readonly responseOps: HeaderOps | undefined;
  readonly authority: string | undefined;
}

export interface CompiledRetry {
  readonly attempts: number;
  readonly perTryTimeoutMs: number;
  readonly backoffBaseMs: number;
  readonly onConnectFailure: boolean;
  readonly onReset: boolean;
  readonly on5xx: boolean;
  readonly onGatewayError: boolean;
  readonly onRefusedStream: boolean;
  readonly statusCodes: ReadonlySet<number>;
}

export function compileRetry(ir: RetryIR | undefined): CompiledRetry | undefined {
  if (!ir || ir.attempts <= 0) return undefined;
  const on = new Set(ir.retryOn);
  return {
    attempts: ir.attempts,
    perTryTimeoutMs: ir.perTryTimeoutMs ?? 0,
    backoffBaseMs: ir.backoffBaseMs || 25,
    onConnectFailure: on.has('connect-failure') || on.has('5xx') || on.has('gateway-error') || on.has('reset'),
    onReset: on.has('reset') || on.has('5xx') || on.has('gateway-error'),
    on5xx: on.has('5xx'),
    onGatewayError: on.has('gateway-error'),
    onRefusedStream: on.has('refused-stream') || on.has('reset'),
    statusCodes: on.has('retriable-status-codes') ? new Set(ir.retriableStatusCodes) : new Set(),
  };
}

/** Should an upstream response with this status be retried? */
export function retriableStatus(r: CompiledRetry, status: number): boolean {
  if (r.on5xx && status >= 500) return true;
  if (r.onGatewayError && (status === 502 || status === 503 || status === 504)) return true;
  return r.statusCodes.has(status);
}

export interface CompiledMirror {
  readonly cluster: ClusterHandle;
  readonly fraction: number;
}

export type CompiledAction =
  | {
      readonly type: 'forward';
      readonly backends: readonly CompiledBackend[];
      readonly totalWeight: number;
      readonly pathRewrite: PathRewrite | undefined;
      readonly authority: string | undefined;
      readonly requestOps: HeaderOps | undefined;
      readonly responseOps: HeaderOps | undefined;
      readonly timeoutMs: number;
      readonly retry: CompiledRetry | undefined;
      readonly mirrors: readonly CompiledMirror[];
      readonly routeName: string;
      readonly routeId: string;
    }
  | {
      readonly type: 'redirect';
      readonly ir: Extract<RouteActionIR, { type: 'redirect' }>;
      readonly pathRewrite: PathRewrite | undefined;
      readonly responseOps: HeaderOps | undefined;
      readonly routeName: string;
      readonly routeId: string;
    }
  | {
      readonly type: 'direct';
      readonly status: number;
      readonly body: Buffer;
      readonly detail: string;
      readonly responseOps: HeaderOps | undefined;
      readonly routeName: string;
      readonly routeId: string;
    };

/** Pick a backend by weight (Envoy weighted clusters use a random draw). */
export function pickBackend(a: Extract<CompiledAction, { type: 'forward' }>): CompiledBackend | undefined {
  const b = a.backends;
  if (b.length === 1) return b[0];
  if (b.length === 0) return undefined;
  let r = Math.random() * a.totalWeight;
  for (let i = 0; i < b.length; i++) {
    r -= b[i]!.weight;
    if (r < 0) return b[i];
  }
  return b[b.length - 1];
}

/** Compile one route's action against the snapshot's clusters. */
export function compileAction(r: RouteIR, clusters: ReadonlyMap<string, ClusterHandle>): CompiledAction {
  const a = r.action;
  const responseOps = compileHeaderOps(r.responseHeaders);
  if (a.type === 'direct') {
    const body = a.bodyBase64 !== undefined ? Buffer.from(a.bodyBase64, 'base64') : Buffer.from(a.body ?? '', 'utf8');
    return { type: 'direct', status: a.status, body, detail: a.detail ?? 'direct_response', responseOps, routeName: r.name, routeId: r.id };
  }
  if (a.type === 'redirect') {
    return { type: 'redirect', ir: a, pathRewrite: compilePathRewrite(a.path), responseOps, routeName: r.name, routeId: r.id };
  }
  const backends: CompiledBackend[] = a.backends.map((b) => {
    const cluster = b.cluster !== undefined ? clusters.get(b.cluster) : undefined;
    const invalid = b.invalid ?? (cluster === undefined
      ? { status: 503, detail: 'cluster_not_found', flag: 'NC' }
      : undefined);
    return {
      weight: b.weight,
      cluster,
      invalid,
      requestOps: compileHeaderOps(b.requestHeaders),
      responseOps: compileHeaderOps(b.responseHeaders),
      authority: b.authority,
    };
  });
  const mirrors: CompiledMirror[] = [];
  for (const m of r.mirrors ?? []) {
    const c = clusters.get(m.cluster);
    if (c && m.percent > 0) mirrors.push({ cluster: c, fraction: Math.min(1, m.percent / 100) });
  }
  return {
    type: 'forward',
    backends,
    totalWeight: backends.reduce((s, b) => s + b.weight, 0),
    pathRewrite: compilePathRewrite(r.rewrite?.path),
    authority: r.rewrite?.authority,
    requestOps: compileHeaderOps(r.requestHeaders),
    responseOps,
    timeoutMs: r.timeoutMs ?? 0,
    retry: compileRetry(r.retry),
    mirrors,
    routeName: r.name,
    routeId: r.id,
  };
}
