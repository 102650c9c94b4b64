/**
 * The Envoy command operators Portico implements, each compiled once into a function over
 * StreamInfo. Functions return '' for "not set"; the renderer turns that into `-` (access
 * logs) or drops the header (header values). Names follow Envoy's
 * configuration/observability/access_log/usage.rst; `REQUEST_HEADER` / `RESPONSE_HEADER` /
 * `RESPONSE_TRAILER` are Envoy's newer spellings of REQ / RESP / TRAILER.
 */
import os from 'node:os';
import { FLAG_LONG_NAMES } from '../../dataplane/http/details.js';
import type { StreamInfo } from '../stream-info.js';
import { FormatError, type OperatorToken } from './parser.js';
import { compileTimeFormat, TimeFormatError } from './strftime.js';

/**
 * One compiled operator. Returns '' when the value is not set. Values are byte strings (one
 * char per byte, as the data plane holds header values): wire values pass through raw, text
 * from the configuration or from error messages is UTF-8 encoded first (see `utf8Bytes`).
 */
export type OpFn = (info: StreamInfo) => string;

/**
 * A string as the byte string of its UTF-8 encoding: itself when it is ASCII (the usual case,
 * no copy), else one char per UTF-8 byte. Lines and header values are written as latin1, so
 * text from the configuration goes out as UTF-8, as Envoy sends it, and header bytes go out
 * exactly as they came in.
 */
export function utf8Bytes(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) >= 0x80) return Buffer.from(s, 'utf8').toString('latin1');
  }
  return s;
}

/** Wrap an operator whose value is Unicode text: converted to bytes, the last result reused. */
function textOp(fn: OpFn): OpFn {
  let lastIn = '';
  let lastOut = '';
  return (i) => {
    const v = fn(i);
    if (v === lastIn) return lastOut;
    lastIn = v;
    lastOut = utf8Bytes(v);
    return lastOut;
  };
}

type ArgMode = 'none' | 'required' | 'optional';

interface OperatorSpec {
  readonly arg: ArgMode;
  /** The value is Unicode text (configuration names, error messages), not wire bytes. */
  readonly text?: boolean;
  /** Short description for docs/observability.md (the test keeps the doc in sync). */
  readonly doc: string;
  readonly compile: (arg: string | undefined, t: OperatorToken) => OpFn;
}

// ------------------------------------------------------------------ value helpers

/** All values of a header joined with ',' (names are lower-case); '' when absent. */
export function headerValue(names: readonly string[], values: readonly string[], lname: string): string {
  let out = '';
  let found = false;
  for (let i = 0; i < names.length; i++) {
    if (names[i] === lname) {
      out = found ? `${out},${values[i]!}` : values[i]!;
      found = true;
    }
  }
  return out;
}

/** `10.0.0.1:80` → `10.0.0.1`, `[::1]:80` → `::1`. */
export function addressWithoutPort(a: string): string {
  if (a === '') return '';
  if (a.charCodeAt(0) === 91 /* [ */) {
    const close = a.indexOf(']');
    return close === -1 ? a : a.slice(1, close);
  }
  const c = a.lastIndexOf(':');
  return c === -1 ? a : a.slice(0, c);
}

/** Port of `ip:port` / `[ip]:port`; '' when absent. */
export function addressPort(a: string): string {
  const close = a.lastIndexOf(']');
  const c = a.lastIndexOf(':');
  return c === -1 || c < close ? '' : a.slice(c + 1);
}

const ms = (a: number, b: number): string => (a < 0 || b < 0 ? '' : String(Math.max(0, Math.round(b - a))));

/** Request header accessor: pseudo headers and the headers Envoy rewrites before logging. */
function requestHeader(lname: string): OpFn {
  switch (lname) {
    case ':method': return (i) => i.method;
    case ':path': return (i) => i.upstreamPath || i.originalPath;
    case ':authority': case 'host': return (i) => i.authority;
    case ':scheme': case 'x-forwarded-proto': return (i) => i.scheme;
    // Envoy sets x-envoy-original-path only when a rewrite changed the path.
    case 'x-envoy-original-path': return (i) => (i.upstreamPath !== '' ? i.originalPath : headerValue(i.reqNames, i.reqValues, lname));
    // Logged after the connection manager mutated them (XFF appended, request id generated).
    case 'x-forwarded-for': return (i) => i.xForwardedFor || headerValue(i.reqNames, i.reqValues, lname);
    case 'x-request-id': return (i) => i.requestId || headerValue(i.reqNames, i.reqValues, lname);
    default: return (i) => headerValue(i.reqNames, i.reqValues, lname);
  }
}

function responseHeader(lname: string): OpFn {
  if (lname === ':status') return (i) => (i.responseCode > 0 ? String(i.responseCode) : '');
  return (i) => headerValue(i.resNames, i.resValues, lname);
}

function trailer(lname: string): OpFn {
  return (i) => headerValue(i.trailerNames, i.trailerValues, lname);
}

/** `X?Y` → accessor of X, else Y. */
function headerPair(arg: string | undefined, t: OperatorToken, one: (lname: string) => OpFn): OpFn {
  const a = arg ?? '';
  const parts = a.split('?');
  if (parts.length > 2 || parts.some((p) => p.trim() === '')) {
    throw new FormatError(`Invalid argument "${a}" for "%${t.name}%" at position ${t.pos}: expected a header name, or two names as X?Y`, t.pos, t.name);
  }
  const first = one(parts[0]!.trim().toLowerCase());
  if (parts.length === 1) return first;
  const second = one(parts[1]!.trim().toLowerCase());
  return (i) => first(i) || second(i);
}

function withoutQuery(f: OpFn): OpFn {
  return (i) => {
    const v = f(i);
    const q = v.indexOf('?');
    return q === -1 ? v : v.slice(0, q);
  };
}

const GRPC_NAMES = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists',
  'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal',
  'Unavailable', 'DataLoss', 'Unauthenticated'];
const GRPC_SNAKE = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL',
  'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];

/** gRPC status from the trailers, or the headers of a trailers-only response; '' for non-gRPC. */
export function grpcStatus(i: StreamInfo): string {
  return headerValue(i.trailerNames, i.trailerValues, 'grpc-status') || headerValue(i.resNames, i.resValues, 'grpc-status');
}

const longFlagsCache = new Map<string, string>();

/** `UF,URX` → `UpstreamConnectionFailure,UpstreamRetryLimitExceeded`. */
export function longFlags(flags: string): string {
  if (flags === '') return '';
  let v = longFlagsCache.get(flags);
  if (v === undefined) {
    v = flags.split(',').map((f) => FLAG_LONG_NAMES[f] ?? f).join(',');
    if (longFlagsCache.size < 1024) longFlagsCache.set(flags, v);
  }
  return v;
}

function startTime(local: boolean): OperatorSpec['compile'] {
  return (arg, t) => {
    let tf;
    try {
      tf = compileTimeFormat(arg, local);
    } catch (e) {
      const off = e instanceof TimeFormatError ? e.offset : 0;
      // +name +"(": position of the bad specifier in the whole format string.
      const pos = t.pos + 1 + t.name.length + 1 + off;
      throw new FormatError(`${(e as Error).message} in "%${t.name}%" at position ${pos}`, pos, t.name);
    }
    // Sub-millisecond digits come from the monotonic clock's fraction.
    const fn: OpFn = (i) => tf.format(i.startMs, Math.floor((i.startHr % 1) * 1e6));
    return utf8Bytes(arg ?? '') === (arg ?? '') ? fn : textOp(fn);
  };
}

const none = (doc: string, fn: OpFn): OperatorSpec => ({ arg: 'none', doc, compile: () => fn });
const noneText = (doc: string, fn: OpFn): OperatorSpec => ({ arg: 'none', doc, text: true, compile: () => fn });

/** Every supported operator by name. */
export const OPERATORS: ReadonlyMap<string, OperatorSpec> = new Map<string, OperatorSpec>([
  ['START_TIME', { arg: 'optional', doc: 'Request start, UTC, `2016-04-15T20:17:00.310Z`; `%START_TIME(FMT)%` takes strftime specifiers plus `%s` (epoch seconds) and `%f`/`%3f`/`%6f`/`%9f` (fraction digits)', compile: startTime(false) }],
  ['START_TIME_LOCAL', { arg: 'optional', doc: 'Like START_TIME in the local time zone', compile: startTime(true) }],
  ['REQ', { arg: 'required', doc: '`%REQ(X?Y):Z%` request header X, else Y, truncated to Z characters; pseudo headers `:method`, `:path` (after rewrite), `:authority`, `:scheme`; `X-ENVOY-ORIGINAL-PATH?:PATH` is the path before any rewrite', compile: (a, t) => headerPair(a, t, requestHeader) }],
  ['REQUEST_HEADER', { arg: 'required', doc: 'Same as REQ', compile: (a, t) => headerPair(a, t, requestHeader) }],
  ['REQ_WITHOUT_QUERY', { arg: 'required', doc: 'Same as REQ with the query string removed (Istio extension)', compile: (a, t) => withoutQuery(headerPair(a, t, requestHeader)) }],
  ['RESP', { arg: 'required', doc: '`%RESP(X?Y):Z%` response header sent to the client (`:status` = response code)', compile: (a, t) => headerPair(a, t, responseHeader) }],
  ['RESPONSE_HEADER', { arg: 'required', doc: 'Same as RESP', compile: (a, t) => headerPair(a, t, responseHeader) }],
  ['TRAILER', { arg: 'required', doc: '`%TRAILER(X?Y):Z%` response trailer', compile: (a, t) => headerPair(a, t, trailer) }],
  ['RESPONSE_TRAILER', { arg: 'required', doc: 'Same as TRAILER', compile: (a, t) => headerPair(a, t, trailer) }],
  ['PROTOCOL', none('Downstream protocol: `HTTP/1.0`, `HTTP/1.1`, `HTTP/2`', (i) => i.protocol)],
  ['UPSTREAM_PROTOCOL', none('Upstream protocol: `HTTP/1.1` or `HTTP/2`', (i) => i.upstreamProtocol)],
  ['RESPONSE_CODE', none('Response status; `0` when no response was started (client went away)', (i) => String(i.responseCode))],
  ['RESPONSE_FLAGS', none('Short response flags, comma-separated (`UF,URX`); `-` when none', (i) => i.flags)],
  ['RESPONSE_FLAGS_LONG', none('Long response flag names (`UpstreamConnectionFailure`)', (i) => longFlags(i.flags))],
  ['RESPONSE_CODE_DETAILS', noneText('Who set the response code and why (`via_upstream`, `route_not_found`, …)', (i) => i.detail)],
  ['CONNECTION_TERMINATION_DETAILS', noneText('Why the connection was closed for L4 reasons', (i) => i.connectionTerminationDetails)],
  ['UPSTREAM_TRANSPORT_FAILURE_REASON', noneText('Why the upstream connection failed (e.g. `ECONNREFUSED`, `connect timeout`)', (i) => i.upstreamTransportFailureReason)],
  ['BYTES_RECEIVED', none('Request body bytes', (i) => String(i.bytesReceived))],
  ['BYTES_SENT', none('Response body bytes', (i) => String(i.bytesSent))],
  ['DOWNSTREAM_WIRE_BYTES_RECEIVED', none('Request bytes on the wire (head and body)', (i) => String(i.requestWireBytes + i.bytesReceived))],
  ['DOWNSTREAM_WIRE_BYTES_SENT', none('Response bytes on the wire (head and body)', (i) => String(i.responseWireBytes))],
  ['DURATION', none('Milliseconds from the request start to the last response byte', (i) => String(i.durationMs()))],
  ['REQUEST_DURATION', none('Milliseconds from the start to the last request byte received', (i) => ms(i.startHr, i.requestEndHr))],
  ['REQUEST_TX_DURATION', none('Milliseconds from the start to the last request byte sent upstream', (i) => (i.upstreamSentHr < 0 ? '' : ms(i.startHr, Math.max(i.upstreamSentHr, i.requestEndHr))))],
  ['RESPONSE_DURATION', none('Milliseconds from the start to the first upstream response byte', (i) => ms(i.startHr, i.upstreamFirstByteHr))],
  ['RESPONSE_TX_DURATION', none('Milliseconds from the first upstream response byte to the last byte sent downstream', (i) => ms(i.upstreamFirstByteHr, i.upstreamFirstByteHr < 0 ? -1 : i.endHr))],
  ['UPSTREAM_SERVICE_TIME', none('Portico extension, same as `%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%`: ms from sending upstream to its first response byte', (i) => { const t = i.upstreamServiceTimeMs(); return t < 0 ? '' : String(t); })],
  ['UPSTREAM_REQUEST_ATTEMPT_COUNT', none('Upstream attempts (0 = never sent upstream)', (i) => String(i.upstreamSentHr < 0 ? 0 : i.retries + 1))],
  ['UPSTREAM_HOST', none('Selected endpoint `ip:port`', (i) => i.upstreamHost)],
  ['UPSTREAM_REMOTE_ADDRESS', none('Same as UPSTREAM_HOST', (i) => i.upstreamHost)],
  ['UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT', none('Endpoint IP', (i) => addressWithoutPort(i.upstreamHost))],
  ['UPSTREAM_REMOTE_PORT', none('Endpoint port', (i) => addressPort(i.upstreamHost))],
  ['UPSTREAM_CLUSTER', noneText('Cluster name (`outbound|8000||httpbin.foo.svc.cluster.local`)', (i) => i.upstreamCluster)],
  ['UPSTREAM_CLUSTER_RAW', noneText('Cluster name, never the alt stat name (same as UPSTREAM_CLUSTER in Portico)', (i) => i.upstreamCluster)],
  ['UPSTREAM_LOCAL_ADDRESS', none('Local `ip:port` of the upstream connection', (i) => i.upstreamLocalAddress)],
  ['UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT', none('Local IP of the upstream connection', (i) => addressWithoutPort(i.upstreamLocalAddress))],
  ['UPSTREAM_LOCAL_PORT', none('Local port of the upstream connection', (i) => addressPort(i.upstreamLocalAddress))],
  ['DOWNSTREAM_LOCAL_ADDRESS', none('Listener-side `ip:port` of the client connection', (i) => i.downstreamLocalAddress)],
  ['DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT', none('Listener-side IP', (i) => addressWithoutPort(i.downstreamLocalAddress))],
  ['DOWNSTREAM_LOCAL_PORT', none('Listener-side port', (i) => addressPort(i.downstreamLocalAddress))],
  ['DOWNSTREAM_REMOTE_ADDRESS', none('Client `ip:port` (the trusted client address)', (i) => i.downstreamRemoteAddress)],
  ['DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT', none('Client IP', (i) => addressWithoutPort(i.downstreamRemoteAddress))],
  ['DOWNSTREAM_REMOTE_PORT', none('Client port', (i) => addressPort(i.downstreamRemoteAddress))],
  ['DOWNSTREAM_DIRECT_REMOTE_ADDRESS', none('TCP peer `ip:port`, never derived from headers', (i) => i.downstreamDirectRemoteAddress || i.downstreamRemoteAddress)],
  ['DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT', none('TCP peer IP', (i) => addressWithoutPort(i.downstreamDirectRemoteAddress || i.downstreamRemoteAddress))],
  ['DOWNSTREAM_DIRECT_REMOTE_PORT', none('TCP peer port', (i) => addressPort(i.downstreamDirectRemoteAddress || i.downstreamRemoteAddress))],
  ['REQUESTED_SERVER_NAME', none('TLS SNI of the client connection', (i) => i.requestedServerName)],
  ['ROUTE_NAME', noneText('Name of the matched route (Istio `<route>.<match>` names)', (i) => i.routeName)],
  ['STREAM_ID', none('Stream identifier (the request id)', (i) => i.requestId)],
  ['GRPC_STATUS', { arg: 'optional', doc: '`%GRPC_STATUS(CAMEL_STRING|SNAKE_STRING|NUMBER)%` gRPC status (default CAMEL_STRING)', compile: (a, t) => {
    const mode = (a ?? 'CAMEL_STRING').toUpperCase();
    if (mode !== 'CAMEL_STRING' && mode !== 'SNAKE_STRING' && mode !== 'NUMBER') {
      throw new FormatError(`Invalid argument "${a}" for "%GRPC_STATUS%" at position ${t.pos}: expected CAMEL_STRING, SNAKE_STRING or NUMBER`, t.pos, t.name);
    }
    const names = mode === 'SNAKE_STRING' ? GRPC_SNAKE : GRPC_NAMES;
    return (i) => {
      const s = grpcStatus(i);
      if (s === '' || mode === 'NUMBER') return s;
      return names[Number(s)] ?? s;
    };
  } }],
  ['GRPC_STATUS_NUMBER', none('gRPC status number', grpcStatus)],
  ['HOSTNAME', { arg: 'none', doc: 'System host name', compile: () => { const h = utf8Bytes(os.hostname()); return () => h; } }],
  ['ENVIRONMENT', { arg: 'required', doc: '`%ENVIRONMENT(X):Z%` environment variable X (read once, when the format is compiled)', compile: (a) => { const v = utf8Bytes(process.env[a ?? ''] ?? ''); return () => v; } }],
]);

/** Operator names for error hints: closest known name to a misspelt one. */
export function suggestOperator(name: string): string | undefined {
  if (name === 'REQUEST_ID') return '%REQ(X-REQUEST-ID)%';
  let best: string | undefined;
  let bestD = 3;
  for (const k of OPERATORS.keys()) {
    const d = editDistance(name, k);
    if (d < bestD) { bestD = d; best = `%${k}%`; }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[n]!;
}

/** Compile one operator token (throws FormatError naming the operator and its position). */
export function compileOperator(t: OperatorToken): OpFn {
  const spec = OPERATORS.get(t.name);
  if (spec === undefined) {
    const hint = suggestOperator(t.name);
    throw new FormatError(`Unknown command operator "%${t.name}%" at position ${t.pos}${hint ? ` (did you mean ${hint}?)` : ''}`, t.pos, t.name);
  }
  if (spec.arg === 'required' && (t.arg === undefined || t.arg === '')) {
    throw new FormatError(`Missing argument for "%${t.name}%" at position ${t.pos}: write it as %${t.name}(…)%`, t.pos, t.name);
  }
  if (spec.arg === 'none' && t.arg !== undefined) {
    throw new FormatError(`Command operator "%${t.name}%" at position ${t.pos} takes no argument`, t.pos, t.name);
  }
  const compiled = spec.compile(t.arg, t);
  const fn = spec.text === true ? textOp(compiled) : compiled;
  // Truncation counts bytes, as Envoy's does.
  const max = t.maxLength;
  if (max === undefined) return fn;
  return (i) => {
    const v = fn(i);
    return v.length > max ? v.slice(0, max) : v;
  };
}
