/**
 * Compiled route actions: everything derivable from the IR (header op tables, rewrite
 * functions, cumulative weights, redirect builders, local reply bodies) is computed once
 * per snapshot here, never per request.
 */
import type { HeaderOpsIR, PathRewriteIR, RetryIR, RouteActionIR, RouteIR } from '../config/ir/types.js';
import { re2ToJs } from '../config/resources/re2.js';
import type { ClusterHandle } from '../dataplane/upstream/cluster.js';
import { compileHeaderValue } from '../observability/format/compile.js';
import { utf8Bytes } from '../observability/format/operators.js';
import { StreamInfo } from '../observability/stream-info.js';

/** A header value with command operators, rendered per request ('' = do not add). */
export type HeaderValueFn = (info: StreamInfo) => string;

/** Header operations with lower-case names. */
export interface HeaderOps {
  readonly set: readonly (readonly [string, string])[];
  readonly add: readonly (readonly [string, string])[];
  /** Names removed, plus every literal `set` name (set replaces all values). */
  readonly drop: ReadonlySet<string>;
  /**
   * Values holding command operators (`%DOWNSTREAM_REMOTE_ADDRESS%`, `%REQ(x)%`…), index-aligned
   * with `set` / `add`; absent when every value is literal, so literal ops cost nothing more.
   */
  readonly setFn?: readonly (HeaderValueFn | undefined)[];
  readonly addFn?: readonly (HeaderValueFn | undefined)[];
}

/**
 * Compile header ops once per snapshot. Values with Envoy command operators become functions
 * (same compiler as the access log); `%%` is a literal `%`. A value whose operators do not
 * compile (rejected earlier by validation for Istio resources) is used literally.
 */
export function compileHeaderOps(ir: HeaderOpsIR | undefined): HeaderOps | undefined {
  if (!ir) return undefined;
  const setFn: (HeaderValueFn | undefined)[] = [];
  const addFn: (HeaderValueFn | undefined)[] = [];
  const compile = (v: string, fns: (HeaderValueFn | undefined)[]): string => {
    const c = compileValue(v);
    fns.push(typeof c === 'function' ? c : undefined);
    return typeof c === 'function' ? '' : c;
  };
  const set = (ir.set ?? []).map((h) => [h.name.toLowerCase(), compile(h.value, setFn)] as const);
  const add = (ir.add ?? []).map((h) => [h.name.toLowerCase(), compile(h.value, addFn)] as const);
  const dynSet = setFn.some((f) => f !== undefined);
  const dynAdd = addFn.some((f) => f !== undefined);
  // A dynamic `set` that renders empty leaves the header as it was (Envoy keep_empty_value: false),
  // so only literal set names are dropped up front.
  const drop = new Set<string>([...(ir.remove ?? []).map((n) => n.toLowerCase()), ...set.filter((_, k) => setFn[k] === undefined).map(([n]) => n)]);
  if (!set.length && !add.length && !drop.size) return undefined;
  return { set, add, drop, ...(dynSet ? { setFn } : {}), ...(dynAdd ? { addFn } : {}) };
}

/** A configured header value: written as latin1 like every header, so its text becomes UTF-8 bytes here. */
function compileValue(v: string): string | HeaderValueFn {
  try {
    return compileHeaderValue(v);
  } catch {
    return utf8Bytes(v.includes('%%') ? v.replace(/%%/g, '%') : v);
  }
}

const NO_INFO = new StreamInfo();

/**
 * Apply ops to parallel name/value arrays (names lower-case), returning new arrays. Order:
 * remove (and clear set names), then set, then add — Envoy's order within one level.
 * `info` feeds values with command operators.
 */
export function applyHeaderOps(ops: HeaderOps, lnames: readonly string[], values: readonly string[], info?: StreamInfo): { lnames: string[]; values: string[] } {
  const n: string[] = [];
  const v: string[] = [];
  for (let i = 0; i < lnames.length; i++) {
    if (ops.drop.has(lnames[i]!)) continue;
    n.push(lnames[i]!);
    v.push(values[i]!);
  }
  const setFn = ops.setFn;
  for (let k = 0; k < ops.set.length; k++) {
    const [name, value] = ops.set[k]!;
    const f = setFn?.[k];
    if (f === undefined) { n.push(name); v.push(value); continue; }
    const dyn = f(info ?? NO_INFO);
    if (dyn === '') continue;
    for (let i = n.length - 1; i >= 0; i--) if (n[i] === name) { n.splice(i, 1); v.splice(i, 1); }
    n.push(name);
    v.push(dyn);
  }
  const addFn = ops.addFn;
  for (let k = 0; k < ops.add.length; k++) {
    const [name, value] = ops.add[k]!;
    const f = addFn?.[k];
    const val = f === undefined ? value : f(info ?? NO_INFO);
    if (f !== undefined && val === '') continue;
    n.push(name);
    v.push(val);
  }
  return { lnames: n, values: v };
}

/** `first` then `second` (destination-level ops before route-level ones). */
export function mergeHeaderOps(first: HeaderOps, second: HeaderOps): HeaderOps {
  const setFn = first.setFn || second.setFn ? [...padded(first.setFn, first.set.length), ...padded(second.setFn, second.set.length)] : undefined;
  const addFn = first.addFn || second.addFn ? [...padded(first.addFn, first.add.length), ...padded(second.addFn, second.add.length)] : undefined;
  return {
    set: [...first.set, ...second.set],
    add: [...first.add, ...second.add],
    drop: new Set([...first.drop, ...second.drop]),
    ...(setFn ? { setFn } : {}),
    ...(addFn ? { addFn } : {}),
  };
}

function padded(fns: readonly (HeaderValueFn | undefined)[] | undefined, n: number): (HeaderValueFn | undefined)[] {
  return fns ? [...fns] : new Array<HeaderValueFn | undefined>(n).fill(undefined);
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
