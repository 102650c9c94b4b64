/**
 * Compiles a parsed CEL expression into a function over StreamInfo, checking every attribute
 * name up front (unknown names are errors with their position). Evaluation follows CEL where
 * it matters for filters: a runtime error (missing map key, type mismatch) makes the whole
 * expression an error, except that `||` / `&&` absorb it when the other side decides the
 * result; a filter that errors does not log (Envoy's expression filter) and a tag value that
 * errors is `unknown` (Istio stats).
 *
 * Attributes (Envoy attribute names): request.{path, url_path, host, scheme, method, headers,
 * referer, useragent, id, protocol, query, size, total_size}, response.{code, code_details,
 * flags, grpc_status, headers, trailers, size, total_size}, source.{address, port},
 * destination.{address, port}, upstream.{address, port, local_address,
 * transport_failure_reason}, connection.{mtls, requested_server_name, termination_details},
 * xds.{route_name, cluster_name}.
 */
import { re2ToJs } from '../../config/resources/re2.js';
import { addressPort, addressWithoutPort, grpcStatus, headerValue } from '../format/operators.js';
import type { StreamInfo } from '../stream-info.js';
import { CelError, parseCel, type Node } from './parse.js';

/** A runtime error value (propagates like CEL errors). */
export const ERR: unique symbol = Symbol('cel-error');
/** A header map view (request/response headers, trailers). */
export interface HeaderMapVal { readonly names: readonly string[]; readonly values: readonly string[] }
export type Val = string | number | boolean | null | readonly Val[] | HeaderMapVal | typeof ERR;
export type Evaluator = (info: StreamInfo) => Val;

const isMap = (v: Val): v is HeaderMapVal => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Envoy's ResponseFlag bit positions (response.flags is this bitmask). */
const FLAG_BITS: Readonly<Record<string, number>> = {
  LH: 0x1, UH: 0x2, UT: 0x4, LR: 0x8, UR: 0x10, UF: 0x20, UC: 0x40, UO: 0x80, NR: 0x100, DI: 0x200, FI: 0x400,
  RL: 0x800, UAEX: 0x1000, RLSE: 0x2000, DC: 0x4000, URX: 0x8000, SI: 0x10000, IH: 0x20000, DPE: 0x40000,
  UMSDR: 0x80000, RFCF: 0x100000, NFCF: 0x200000, DT: 0x400000, UPE: 0x800000, NC: 0x1000000, OM: 0x2000000,
  DF: 0x4000000, DO: 0x8000000, DR: 0x10000000,
};

function flagBits(flags: string): number {
  if (flags === '') return 0;
  let n = 0;
  for (const f of flags.split(',')) n += FLAG_BITS[f] ?? 0;
  return n;
}

/**
 * Wire values (header values, path, authority) are byte strings; CEL strings are text, and
 * configured literals are compared as text. Bytes are read as UTF-8, as Envoy's CEL reads its
 * byte strings: `request.headers['x-name'] == 'café'` matches the UTF-8 bytes of "café".
 */
function text(v: string): string {
  for (let k = 0; k < v.length; k++) {
    if (v.charCodeAt(k) >= 0x80) return Buffer.from(v, 'latin1').toString('utf8');
  }
  return v;
}

const reqPath = (i: StreamInfo): string => text(i.upstreamPath || i.originalPath);
const noQuery = (p: string): string => { const q = p.indexOf('?'); return q === -1 ? p : p.slice(0, q); };

/** Every attribute by dotted name. */
export const ATTRIBUTES: ReadonlyMap<string, Evaluator> = new Map<string, Evaluator>([
  ['request.path', reqPath],
  ['request.url_path', (i) => noQuery(reqPath(i))],
  ['request.host', (i) => text(i.authority)],
  ['request.scheme', (i) => i.scheme],
  ['request.method', (i) => i.method],
  ['request.headers', (i) => ({ names: i.reqNames, values: i.reqValues })],
  ['request.referer', (i) => text(headerValue(i.reqNames, i.reqValues, 'referer'))],
  ['request.useragent', (i) => text(headerValue(i.reqNames, i.reqValues, 'user-agent'))],
  ['request.id', (i) => text(i.requestId || headerValue(i.reqNames, i.reqValues, 'x-request-id'))],
  ['request.protocol', (i) => i.protocol],
  ['request.query', (i) => { const p = reqPath(i); const q = p.indexOf('?'); return q === -1 ? '' : p.slice(q + 1); }],
  ['request.size', (i) => i.bytesReceived],
  ['request.total_size', (i) => i.requestWireBytes + i.bytesReceived],
  ['response.code', (i) => i.responseCode],
  ['response.code_details', (i) => i.detail],
  ['response.flags', (i) => flagBits(i.flags)],
  ['response.grpc_status', (i) => { const s = grpcStatus(i); return s === '' ? ERR : Number(s); }],
  ['response.headers', (i) => ({ names: i.resNames, values: i.resValues })],
  ['response.trailers', (i) => ({ names: i.trailerNames, values: i.trailerValues })],
  ['response.size', (i) => i.bytesSent],
  ['response.total_size', (i) => i.responseWireBytes],
  ['source.address', (i) => addressWithoutPort(i.downstreamRemoteAddress)],
  ['source.port', (i) => Number(addressPort(i.downstreamRemoteAddress)) || 0],
  ['destination.address', (i) => addressWithoutPort(i.downstreamLocalAddress)],
  ['destination.port', (i) => Number(addressPort(i.downstreamLocalAddress)) || i.listenerPort],
  ['upstream.address', (i) => addressWithoutPort(i.upstreamHost)],
  ['upstream.port', (i) => Number(addressPort(i.upstreamHost)) || 0],
  ['upstream.local_address', (i) => i.upstreamLocalAddress],
  ['upstream.transport_failure_reason', (i) => i.upstreamTransportFailureReason],
  ['connection.mtls', () => false],
  ['connection.requested_server_name', (i) => i.requestedServerName],
  ['connection.termination_details', (i) => i.connectionTerminationDetails],
  ['xds.route_name', (i) => i.routeName],
  ['xds.cluster_name', (i) => i.upstreamCluster],
]);

const ROOTS = new Set([...ATTRIBUTES.keys()].map((k) => k.slice(0, k.indexOf('.'))));

/** `request.headers` → ['request', 'headers'] when the node is a plain dotted path. */
function dotted(n: Node): string[] | undefined {
  if (n.t === 'ident') return [n.name];
  if (n.t === 'select') {
    const p = dotted(n.obj);
    return p ? [...p, n.field] : undefined;
  }
  return undefined;
}

function mapGet(m: HeaderMapVal, key: string): Val {
  let found = false;
  let out = '';
  for (let i = 0; i < m.names.length; i++) {
    if (m.names[i] === key) { out = found ? `${out},${m.values[i]!}` : m.values[i]!; found = true; }
  }
  return found ? text(out) : ERR;
}

function eq(a: Val, b: Val): Val {
  if (a === ERR || b === ERR) return ERR;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, k) => eq(x, b[k]!) === true);
  return a === b;
}

function compare(op: string, a: Val, b: Val): Val {
  if (a === ERR || b === ERR) return ERR;
  if (!((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string'))) return ERR;
  switch (op) {
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    default: return a >= b;
  }
}

function toStr(v: Val): Val {
  if (v === ERR) return ERR;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  return ERR;
}

/** Compile an expression (throws CelError on syntax errors and unknown attributes or functions). */
export function compileCel(src: string): Evaluator {
  return build(parseCel(src));
}

function build(n: Node): Evaluator {
  switch (n.t) {
    case 'lit': { const v = n.v; return () => v; }
    case 'list': {
      const items = n.items.map(build);
      return (i) => {
        const out: Val[] = [];
        for (const f of items) { const v = f(i); if (v === ERR) return ERR; out.push(v); }
        return out;
      };
    }
    case 'ident':
    case 'select': {
      const path = dotted(n);
      if (path) {
        const name = path.join('.');
        const attr = ATTRIBUTES.get(name);
        if (attr) return attr;
        if (path.length === 1 || !ROOTS.has(path[0]!)) {
          throw new CelError(`Unknown attribute "${name}" at position ${startOf(n)}`, startOf(n));
        }
        // request.headers.x-style selection on a map attribute.
        const parent = ATTRIBUTES.get(path.slice(0, -1).join('.'));
        if (parent && n.t === 'select') {
          const key = n.field.toLowerCase();
          return (i) => { const m = parent(i); return isMap(m) ? mapGet(m, key) : ERR; };
        }
        throw new CelError(`Unknown attribute "${name}" at position ${startOf(n)}`, startOf(n));
      }
      throw new CelError(`Unsupported field selection ".${(n as { field: string }).field}" at position ${n.pos}`, n.pos);
    }
    case 'index': {
      const obj = build(n.obj);
      const idx = n.index;
      // Literal header names are looked up directly (lower-cased: header maps are lower-case).
      if (idx.t === 'lit' && typeof idx.v === 'string') {
        const key = idx.v.toLowerCase();
        return (i) => { const m = obj(i); return isMap(m) ? mapGet(m, key) : ERR; };
      }
      const ix = build(idx);
      return (i) => {
        const m = obj(i);
        const k = ix(i);
        if (m === ERR || k === ERR) return ERR;
        if (isMap(m) && typeof k === 'string') return mapGet(m, k.toLowerCase());
        if (Array.isArray(m) && typeof k === 'number') return (m as readonly Val[])[k] ?? ERR;
        return ERR;
      };
    }
    case 'unary': {
      const a = build(n.arg);
      if (n.op === '!') return (i) => { const v = a(i); return typeof v === 'boolean' ? !v : ERR; };
      return (i) => { const v = a(i); return typeof v === 'number' ? -v : ERR; };
    }
    case 'cond': {
      const c = build(n.c); const a = build(n.a); const b = build(n.b);
      return (i) => { const v = c(i); return v === true ? a(i) : v === false ? b(i) : ERR; };
    }
    case 'binary': return binary(n.op, build(n.l), build(n.r), n.pos);
    case 'call': return call(n);
  }
}

function startOf(n: Node): number {
  return n.t === 'select' ? startOf(n.obj) : n.pos;
}

function binary(op: string, l: Evaluator, r: Evaluator, pos: number): Evaluator {
  switch (op) {
    case '||': return (i) => {
      const a = l(i);
      if (a === true) return true;
      const b = r(i);
      if (b === true) return true;
      return a === false && b === false ? false : ERR;
    };
    case '&&': return (i) => {
      const a = l(i);
      if (a === false) return false;
      const b = r(i);
      if (b === false) return false;
      return a === true && b === true ? true : ERR;
    };
    case '==': return (i) => eq(l(i), r(i));
    case '!=': return (i) => { const v = eq(l(i), r(i)); return v === ERR ? ERR : !v; };
    case '<': case '<=': case '>': case '>=': return (i) => compare(op, l(i), r(i));
    case 'in': return (i) => {
      const a = l(i); const b = r(i);
      if (a === ERR || b === ERR) return ERR;
      if (Array.isArray(b)) return b.some((x) => eq(a, x) === true);
      if (isMap(b) && typeof a === 'string') return mapGet(b, a.toLowerCase()) !== ERR;
      return ERR;
    };
    case '+': return (i) => {
      const a = l(i); const b = r(i);
      if (typeof a === 'number' && typeof b === 'number') return a + b;
      if (typeof a === 'string' && typeof b === 'string') return a + b;
      if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
      return ERR;
    };
    case '-': case '*': case '/': case '%': return (i) => {
      const a = l(i); const b = r(i);
      if (typeof a !== 'number' || typeof b !== 'number') return ERR;
      if (op === '-') return a - b;
      if (op === '*') return a * b;
      if (b === 0) return ERR;
      return op === '/' ? Math.trunc(a / b) : a % b;
    };
    default: throw new CelError(`Unsupported operator "${op}" at position ${pos}`, pos);
  }
}

const STRING_METHODS = new Set(['contains', 'startsWith', 'endsWith', 'matches', 'size', 'lowerAscii', 'upperAscii']);

function call(n: Extract<Node, { t: 'call' }>): Evaluator {
  const argc = (k: number): void => {
    if (n.args.length !== k) throw new CelError(`Function "${n.fn}" at position ${n.pos} takes ${k} argument${k === 1 ? '' : 's'}, got ${n.args.length}`, n.pos);
  };
  if (n.target === undefined) {
    switch (n.fn) {
      case 'size': { argc(1); const a = build(n.args[0]!); return (i) => size(a(i)); }
      case 'string': { argc(1); const a = build(n.args[0]!); return (i) => toStr(a(i)); }
      case 'int': case 'uint': {
        argc(1);
        const a = build(n.args[0]!);
        return (i) => {
          const v = a(i);
          if (typeof v === 'number') return Math.trunc(v);
          if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
          return ERR;
        };
      }
      case 'double': {
        argc(1);
        const a = build(n.args[0]!);
        return (i) => { const v = a(i); if (typeof v === 'number') return v; const x = typeof v === 'string' ? Number(v) : NaN; return Number.isNaN(x) ? ERR : x; };
      }
      case 'has': {
        argc(1);
        const arg = n.args[0]!;
        if (arg.t !== 'select') throw new CelError(`Invalid argument to has() at position ${arg.pos}: expected a field selection like request.headers.x`, arg.pos);
        const path = dotted(arg);
        const attr = path ? ATTRIBUTES.get(path.join('.')) : undefined;
        if (attr) return (i) => { const v = attr(i); return v !== ERR && v !== '' && v !== 0; };
        const parent = build(arg.obj);
        const key = arg.field.toLowerCase();
        return (i) => { const m = parent(i); return isMap(m) ? mapGet(m, key) !== ERR : ERR; };
      }
      default:
        throw new CelError(`Unknown function "${n.fn}" at position ${n.pos}`, n.pos);
    }
  }
  if (!STRING_METHODS.has(n.fn)) throw new CelError(`Unknown function "${n.fn}" at position ${n.pos}`, n.pos);
  const target = build(n.target);
  if (n.fn === 'size') { argc(0); return (i) => size(target(i)); }
  if (n.fn === 'lowerAscii' || n.fn === 'upperAscii') {
    argc(0);
    const up = n.fn === 'upperAscii';
    return (i) => { const v = target(i); return typeof v === 'string' ? (up ? v.toUpperCase() : v.toLowerCase()) : ERR; };
  }
  argc(1);
  const argNode = n.args[0]!;
  if (n.fn === 'matches') {
    // RE2 pattern compiled once when literal (the usual case).
    if (argNode.t === 'lit' && typeof argNode.v === 'string') {
      const js = re2ToJs(argNode.v);
      if ('error' in js) throw new CelError(`Invalid regex in matches() at position ${argNode.pos}: ${js.error}`, argNode.pos);
      const re = new RegExp(js.source, js.flags);
      return (i) => { const v = target(i); return typeof v === 'string' ? re.test(v) : ERR; };
    }
    throw new CelError(`matches() at position ${n.pos} needs a string literal pattern`, n.pos);
  }
  const arg = build(argNode);
  const fn = n.fn;
  return (i) => {
    const v = target(i); const a = arg(i);
    if (typeof v !== 'string' || typeof a !== 'string') return ERR;
    return fn === 'contains' ? v.includes(a) : fn === 'startsWith' ? v.startsWith(a) : v.endsWith(a);
  };
}

function size(v: Val): Val {
  if (typeof v === 'string') return [...v].length;
  if (Array.isArray(v)) return v.length;
  if (isMap(v)) return new Set(v.names).size;
  return ERR;
}

/** A boolean filter: errors and non-boolean results are false. */
export function compileFilter(src: string): (info: StreamInfo) => boolean {
  const e = compileCel(src);
  return (i) => e(i) === true;
}

/** A string-valued expression (metric tag values): errors give `unknown`. */
export function compileStringExpr(src: string): (info: StreamInfo) => string {
  const e = compileCel(src);
  return (i) => {
    const v = toStr(e(i));
    return typeof v === 'string' ? v : 'unknown';
  };
}

/** Syntax/reference check: undefined when the expression compiles, else the error. */
export function checkCel(src: string): CelError | undefined {
  try {
    compileCel(src);
    return undefined;
  } catch (e) {
    if (e instanceof CelError) return e;
    throw e;
  }
}

export { CelError };
