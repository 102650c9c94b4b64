/**
 * Format strings compiled once into literal parts and operator functions, rendered per
 * request with plain string concatenation (no regex, no parsing, no per-request closures).
 *
 *  - TEXT: empty values render `-` (or nothing with omitEmptyValues).
 *  - JSON (`json_format`, as Istio configures Envoy): every value is a string, empty ones `"-"`;
 *    keys keep the order given; nested objects are allowed.
 *  - Header values: empty operators render nothing, and an empty header is not added
 *    (Envoy `keep_empty_value: false`).
 */
import type { StreamInfo } from '../stream-info.js';
import { compileOperator, utf8Bytes, type OpFn } from './operators.js';
import { FormatError, tokenizeFormat } from './parser.js';

/**
 * A parsed and compiled format string: `lits.length === ops.length + 1`. Literals and values are
 * byte strings (see `utf8Bytes`): a rendered line or header value is written as latin1.
 */
export interface CompiledFormat {
  readonly source: string;
  readonly lits: readonly string[];
  readonly ops: readonly OpFn[];
}

/** Compile a format string (throws FormatError with the position of the bad operator). */
export function compileFormat(source: string): CompiledFormat {
  const lits: string[] = [''];
  const ops: OpFn[] = [];
  for (const t of tokenizeFormat(source)) {
    if (typeof t === 'string') lits[lits.length - 1] += t;
    else { ops.push(compileOperator(t)); lits.push(''); }
  }
  return { source, lits: lits.map(utf8Bytes), ops };
}

/** Render with `empty` standing for unset values. */
export function render(c: CompiledFormat, info: StreamInfo, empty: string): string {
  const { lits, ops } = c;
  let s = lits[0]!;
  for (let k = 0; k < ops.length; k++) {
    const v = ops[k]!(info);
    s += (v === '' ? empty : v) + lits[k + 1]!;
  }
  return s;
}

/** Formats one access-log line (newline included). */
export interface LineFormatter {
  /** The line as a byte string (one char per byte). */
  format(info: StreamInfo): string;
  /**
   * The same bytes written straight into `u8` at `off` (no string is built): returns the new
   * offset, or -1 when the line might not fit (nothing written then). Absent when the format
   * has no generated writer.
   */
  readonly write?: (info: StreamInfo, u8: Uint8Array, off: number) => number;
}

export interface FormatOptions {
  /** Envoy omit_empty_values: empty values render '' (TEXT) or drop the key (JSON). */
  readonly omitEmptyValues?: boolean;
}

/** A TEXT format, used as given (append the newline yourself, see istioTextFormat). */
export function createTextFormatter(source: string, opts: FormatOptions = {}): LineFormatter {
  const c = compileFormat(source);
  const empty = opts.omitEmptyValues ? '' : '-';
  const write = byteWriter(c.lits, c.ops, empty, false);
  // format() is the fallback and the reference the tests compare write() with; write() is the hot path.
  return { format: (info) => render(c, info, empty), ...(write ? { write } : {}) };
}

/** Literals up to this many bytes are generated as plain stores, longer ones copied in a loop. */
const INLINE_LITERAL = 16;

/**
 * A generated function writing one line straight into a byte buffer: literal bytes as
 * constant stores, every value (a byte string, see `utf8Bytes`) copied char by char, JSON
 * values escaped as JSON.stringify escapes them. Measured against building the line as a
 * string and encoding it: see docs/observability.md "Cost". Produces exactly the bytes of
 * `format()` written as latin1 (the format tests check it).
 */
function byteWriter(lits: readonly string[], vals: readonly OpFn[], empty: string, json: boolean): ((info: StreamInfo, u8: Uint8Array, off: number) => number) | undefined {
  const n = vals.length;
  if (n > 200) return undefined;
  const consts: Uint8Array[] = [];
  const body: string[] = [];
  const lens: string[] = [];
  for (let k = 0; k < n; k++) {
    body.push(`let v${k} = f${k}(i); if (v${k} === '') v${k} = E;`);
    lens.push(`v${k}.length`);
  }
  let litBytes = 0;
  const put = (lit: string): void => {
    const b = Buffer.from(lit, 'latin1');
    litBytes += b.length;
    if (b.length <= INLINE_LITERAL) {
      for (let j = 0; j < b.length; j++) body.push(`u8[off++] = ${b[j]!};`);
    } else {
      body.push(`for (let j = 0, c = C[${consts.length}]; j < ${b.length}; j++) u8[off++] = c[j];`);
      consts.push(new Uint8Array(b));
    }
  };
  // Bound first, write after: a line that might not fit leaves the buffer untouched.
  body.push(`if (off + L + ${json ? 6 : 1} * (0${lens.map((l) => ` + ${l}`).join('')}) > u8.length) return -1;`);
  put(lits[0]!);
  for (let k = 0; k < n; k++) {
    if (json) body.push(`off = Q(u8, off, v${k});`);
    else body.push(`for (let j = 0, m = v${k}.length; j < m; j++) u8[off++] = v${k}.charCodeAt(j);`);
    put(lits[k + 1]!);
  }
  body.push('return off;');
  try {
    // Generated from the compiled format only: byte values and indexes are interpolated, nothing else.
    const fns = vals.map((_, k) => `const f${k} = f[${k}];`).join('\n');
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const make = new Function('f', 'E', 'C', 'L', 'Q', `${fns}\nreturn function write(i, u8, off) {\n${body.join('\n')}\n};`) as
      (f: readonly OpFn[], e: string, c: readonly Uint8Array[], l: number, q: typeof writeJsonChars) => (info: StreamInfo, u8: Uint8Array, off: number) => number;
    return make(vals, empty, consts, litBytes, writeJsonChars);
  } catch {
    return undefined; // code generation disallowed: format() + latin1 encoding
  }
}

const HEX = '0123456789abcdef';

/** Write a byte string escaped for a JSON string (as JSON.stringify escapes it); returns the new offset. */
function writeJsonChars(u8: Uint8Array, off: number, v: string): number {
  for (let j = 0, m = v.length; j < m; j++) {
    const c = v.charCodeAt(j);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) { u8[off++] = c; continue; }
    u8[off++] = 0x5c;
    switch (c) {
      case 0x22: u8[off++] = 0x22; break;
      case 0x5c: u8[off++] = 0x5c; break;
      case 0x08: u8[off++] = 0x62; break; // \b
      case 0x0c: u8[off++] = 0x66; break; // \f
      case 0x0a: u8[off++] = 0x6e; break; // \n
      case 0x0d: u8[off++] = 0x72; break; // \r
      case 0x09: u8[off++] = 0x74; break; // \t
      default:
        u8[off++] = 0x75; u8[off++] = 0x30; u8[off++] = 0x30; // \u00XX
        u8[off++] = HEX.charCodeAt(c >> 4); u8[off++] = HEX.charCodeAt(c & 15);
    }
  }
  return off;
}

/** A JSON object format: `{key: "format string" | nested object}` → one JSON object per line. */
export type JsonFormatSpec = { readonly [key: string]: string | JsonFormatSpec };

/** Compile a JSON format; `path` prefixes error messages with the offending key. */
export function createJsonFormatter(spec: JsonFormatSpec, opts: FormatOptions = {}): LineFormatter {
  const tree = compileJson(spec, '');
  if (opts.omitEmptyValues) return { format: (info) => `${renderOmitting(tree, info) ?? '{}'}\n` };
  // Flatten: literal JSON syntax between string values. A value that is one operator alone
  // (the usual case) calls it directly; quoting skips JSON.stringify when nothing needs escaping.
  const lits: string[] = [''];
  const vals: CompiledFormat[] = [];
  flatten(tree, lits, vals);
  lits[lits.length - 1] += '\n';
  for (let k = 0; k < lits.length; k++) lits[k] = utf8Bytes(lits[k]!); // keys from the configuration
  const n = vals.length;
  const single: (OpFn | undefined)[] = vals.map((v) => (v.ops.length === 1 && v.lits[0] === '' && v.lits[1] === '' ? v.ops[0] : undefined));
  // The byte writer quotes values itself: the quotes move into the literals around them.
  const write = byteWriter(
    lits.map((l, k) => `${k > 0 ? '"' : ''}${l}${k < n ? '"' : ''}`),
    vals.map((v, k) => single[k] ?? ((info: StreamInfo) => render(v, info, '-'))),
    '-', true);
  return {
    ...(write ? { write } : {}),
    format(info) {
      let s = lits[0]!;
      for (let k = 0; k < n; k++) {
        const op = single[k];
        let v: string;
        if (op !== undefined) { v = op(info); if (v === '') v = '-'; } else v = render(vals[k]!, info, '-');
        s += jsonQuote(v) + lits[k + 1]!;
      }
      return s;
    },
  };
}

/** JSON string literal; JSON.stringify only when a character needs escaping (or is a surrogate). */
export function jsonQuote(v: string): string {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(v);
  }
  return `"${v}"`;
}

/** `qkey`: the key quoted for JSON, as a byte string. */
type JsonNode = { readonly key: string; readonly qkey: string; readonly value: CompiledFormat | JsonNode[] };

function compileJson(spec: JsonFormatSpec, path: string): JsonNode[] {
  const out: JsonNode[] = [];
  for (const [key, v] of Object.entries(spec)) {
    const at = path ? `${path}.${key}` : key;
    if (typeof v === 'string') {
      try {
        out.push({ key, qkey: utf8Bytes(JSON.stringify(key)), value: compileFormat(v) });
      } catch (e) {
        if (e instanceof FormatError) throw new FormatError(`${e.message} (in JSON key "${at}")`, e.position, e.operator);
        throw e;
      }
    } else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      out.push({ key, qkey: utf8Bytes(JSON.stringify(key)), value: compileJson(v, at) });
    } else {
      throw new FormatError(`Invalid value for JSON key "${at}": expected a format string or an object`, 0);
    }
  }
  return out;
}

function flatten(nodes: readonly JsonNode[], lits: string[], vals: CompiledFormat[]): void {
  lits[lits.length - 1] += '{';
  nodes.forEach((n, idx) => {
    lits[lits.length - 1] += `${idx ? ',' : ''}${JSON.stringify(n.key)}:`;
    if (Array.isArray(n.value)) flatten(n.value, lits, vals);
    else { vals.push(n.value as CompiledFormat); lits.push(''); }
  });
  lits[lits.length - 1] += '}';
}

function renderOmitting(nodes: readonly JsonNode[], info: StreamInfo): string | undefined {
  let s = '';
  for (const n of nodes) {
    let v: string | undefined;
    if (Array.isArray(n.value)) v = renderOmitting(n.value, info);
    else {
      const r = render(n.value as CompiledFormat, info, '');
      v = r === '' ? undefined : jsonQuote(r);
    }
    if (v === undefined) continue;
    s += `${s ? ',' : ''}${n.qkey}:${v}`;
  }
  return s === '' ? undefined : `{${s}}`;
}

/** Istio's default TEXT format (EnvoyTextLogFormat, Istio ≥ 1.9, with UPSTREAM_CLUSTER_RAW), newline included. */
export const ISTIO_TEXT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% ' +
  '%DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" ' +
  '"%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% ' +
  '%DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n';

/** Istio's default JSON keys (EnvoyJSONLogFormatIstio), in Istio's order. */
export const ISTIO_JSON_FORMAT: JsonFormatSpec = Object.freeze({
  start_time: '%START_TIME%',
  route_name: '%ROUTE_NAME%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  protocol: '%PROTOCOL%',
  response_code: '%RESPONSE_CODE%',
  response_flags: '%RESPONSE_FLAGS%',
  response_code_details: '%RESPONSE_CODE_DETAILS%',
  connection_termination_details: '%CONNECTION_TERMINATION_DETAILS%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  duration: '%DURATION%',
  upstream_service_time: '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%',
  x_forwarded_for: '%REQ(X-FORWARDED-FOR)%',
  user_agent: '%REQ(USER-AGENT)%',
  request_id: '%REQ(X-REQUEST-ID)%',
  authority: '%REQ(:AUTHORITY)%',
  upstream_host: '%UPSTREAM_HOST%',
  upstream_cluster: '%UPSTREAM_CLUSTER_RAW%',
  upstream_local_address: '%UPSTREAM_LOCAL_ADDRESS%',
  downstream_local_address: '%DOWNSTREAM_LOCAL_ADDRESS%',
  downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
  requested_server_name: '%REQUESTED_SERVER_NAME%',
  upstream_transport_failure_reason: '%UPSTREAM_TRANSPORT_FAILURE_REASON%',
});

/** Istio appends a newline to custom text formats that lack one. */
export function istioTextFormat(custom: string | undefined): string {
  if (custom === undefined || custom === '') return ISTIO_TEXT_FORMAT;
  return custom.endsWith('\n') ? custom : `${custom}\n`;
}

/**
 * A header value: a plain string when it holds no operator (zero per-request cost; `%%` is
 * unescaped), else a function rendering it per request ('' = do not add the header).
 * Throws FormatError for an invalid value.
 */
export function compileHeaderValue(value: string): string | ((info: StreamInfo) => string) {
  if (!value.includes('%')) return utf8Bytes(value);
  const c = compileFormat(value);
  if (c.ops.length === 0) return c.lits[0]!;
  return (info) => render(c, info, '');
}

/** Validate a header value: undefined when fine, else the error. */
export function checkHeaderValue(value: string): FormatError | undefined {
  try {
    compileHeaderValue(value);
    return undefined;
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw e;
  }
}
