/**
 * The one place that defines Envoy response flags, response code details and the local reply
 * each failure produces. Access logs, metrics and the data plane all read from here.
 * Flags: envoy source/common/stream_info/utility.h; details: Envoy response_code_details.rst.
 */

/** Envoy short response flags used by Portico. */
export const Flag = {
  NoHealthyUpstream: 'UH',
  UpstreamConnectionFailure: 'UF',
  UpstreamOverflow: 'UO',
  NoRouteFound: 'NR',
  UpstreamRetryLimitExceeded: 'URX',
  NoClusterFound: 'NC',
  DownstreamConnectionTermination: 'DC',
  UpstreamRequestTimeout: 'UT',
  LocalReset: 'LR',
  UpstreamRemoteReset: 'UR',
  UpstreamConnectionTermination: 'UC',
  RateLimited: 'RL',
  UnauthorizedExternalService: 'UAEX',
  DownstreamProtocolError: 'DPE',
  UpstreamProtocolError: 'UPE',
  StreamIdleTimeout: 'SI',
  DurationTimeout: 'DT',
  DnsResolutionFailed: 'DF',
} as const;

/** Response code details (`%RESPONSE_CODE_DETAILS%`). */
export const Detail = {
  viaUpstream: 'via_upstream',
  routeNotFound: 'route_not_found',
  clusterNotFound: 'cluster_not_found',
  directResponse: 'direct_response',
  noHealthyUpstream: 'no_healthy_upstream',
  upstreamResponseTimeout: 'upstream_response_timeout',
  upstreamPerTryTimeout: 'upstream_per_try_timeout',
  connectionFailure: 'upstream_reset_before_response_started{connection_failure}',
  connectionTermination: 'upstream_reset_before_response_started{connection_termination}',
  remoteReset: 'upstream_reset_before_response_started{remote_reset}',
  overflow: 'upstream_reset_before_response_started{overflow}',
  protocolError: 'upstream_reset_before_response_started{protocol_error}',
  resetAfterStarted: 'upstream_reset_after_response_started{connection_termination}',
  resetAfterStartedRemote: 'upstream_reset_after_response_started{remote_reset}',
  downstreamDisconnect: 'downstream_remote_disconnect',
  pathNormalizationFailed: 'path_normalization_failed',
  missingHost: 'missing_host_header',
  payloadTooLarge: 'request_payload_too_large',
  headersTooLarge: 'http1.headers_too_large',
  httpsRedirect: 'https_redirect',
  streamIdleTimeout: 'stream_idle_timeout',
  drainClosed: 'drain_closing',
  /** Gateway API backendRef problems (the rule or its share answers 500). */
  backendNotFound: 'backend_not_found',
  invalidBackendKind: 'invalid_backend_kind',
  refNotPermitted: 'ref_not_permitted',
  invalidRouteRule: 'invalid_route_rule',
  noBackend: 'no_backend',
} as const;

/** Bodies Envoy uses for its own local replies (text/plain). */
export const LocalBody = {
  noHealthyUpstream: 'no healthy upstream',
  timeout: 'upstream request timeout',
  connectFailure: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
  connectionTermination: 'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
  remoteReset: 'upstream connect error or disconnect/reset before headers. reset reason: remote reset',
  overflow: 'upstream connect error or disconnect/reset before headers. reset reason: overflow',
  protocolError: 'upstream connect error or disconnect/reset before headers. reset reason: protocol error',
  badRequest: 'Bad Request',
} as const;

/** How an upstream attempt failed before a response began. */
export type UpstreamFailure = 'connect' | 'termination' | 'reset' | 'timeout' | 'per_try_timeout' | 'overflow' | 'protocol';

export interface FailureReply {
  readonly status: number;
  readonly flag: string;
  readonly detail: string;
  readonly body: string;
}

const FAILURES: Readonly<Record<UpstreamFailure, FailureReply>> = {
  connect: { status: 503, flag: Flag.UpstreamConnectionFailure, detail: Detail.connectionFailure, body: LocalBody.connectFailure },
  termination: { status: 503, flag: Flag.UpstreamConnectionTermination, detail: Detail.connectionTermination, body: LocalBody.connectionTermination },
  reset: { status: 503, flag: Flag.UpstreamRemoteReset, detail: Detail.remoteReset, body: LocalBody.remoteReset },
  timeout: { status: 504, flag: Flag.UpstreamRequestTimeout, detail: Detail.upstreamResponseTimeout, body: LocalBody.timeout },
  per_try_timeout: { status: 504, flag: Flag.UpstreamRequestTimeout, detail: Detail.upstreamPerTryTimeout, body: LocalBody.timeout },
  overflow: { status: 503, flag: Flag.UpstreamOverflow, detail: Detail.overflow, body: LocalBody.overflow },
  protocol: { status: 502, flag: Flag.UpstreamProtocolError, detail: Detail.protocolError, body: LocalBody.protocolError },
};

/** The local reply for an upstream failure that happened before any response byte. */
export function failureReply(kind: UpstreamFailure): FailureReply {
  return FAILURES[kind];
}

/** Every flag with its Envoy long name, for docs and tests. */
export const FLAG_LONG_NAMES: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.entries(Flag).map(([long, short]) => [short, long])),
);

/** What each flag means in Portico (docs/observability.md is checked against this). */
export const FLAG_DOCS: Readonly<Record<string, string>> = Object.freeze({
  UH: 'No healthy endpoint in the cluster (or an undefined subset); 503 `no healthy upstream`',
  UF: 'Upstream connection failed (refused, unreachable, connect timeout); 503',
  UO: 'Circuit breaker open (connection, pending or request limit); 503',
  NR: 'No route matched the request; 404',
  URX: 'Retries exhausted (with the flag of the last failure)',
  NC: 'The route\'s cluster or backend does not exist; 503 (Istio, Ingress) or 500 (Gateway API)',
  DC: 'The client went away before the response finished; response code 0 if none was started',
  UT: 'Route or per-try timeout; 504 `upstream request timeout` (or a reset once the response started)',
  LR: 'Local reset of the stream',
  UR: 'The upstream reset the stream or connection before responding; 503',
  UC: 'The upstream closed the connection; 503 before the response, a reset after',
  RL: 'Rate limited (local or global rate limit); 429',
  UAEX: 'Denied by the external authorization service',
  DPE: 'Malformed client request (HTTP/1.1 framing, path normalization); 400 or 431',
  UPE: 'Malformed upstream response; 502',
  SI: 'Stream idle timeout; 408',
  DT: 'Maximum connection or stream duration reached',
  DF: 'DNS resolution of the upstream failed',
});

/** What each detail means, with the status it comes with. */
export const DETAIL_DOCS: Readonly<Record<string, { readonly status: string; readonly meaning: string }>> = Object.freeze({
  via_upstream: { status: 'upstream\'s', meaning: 'The response code came from the upstream' },
  route_not_found: { status: '404', meaning: 'No route matched (flag NR)' },
  cluster_not_found: { status: '503', meaning: 'The destination host or port is unknown (flag NC)' },
  direct_response: { status: 'configured', meaning: 'A direct response or redirect route answered' },
  no_healthy_upstream: { status: '503', meaning: 'No endpoint to send to (flag UH)' },
  upstream_response_timeout: { status: '504', meaning: 'The route timeout expired (flag UT)' },
  upstream_per_try_timeout: { status: '504', meaning: 'The per-try timeout of the last attempt expired (flag UT)' },
  'upstream_reset_before_response_started{connection_failure}': { status: '503', meaning: 'Connecting to the endpoint failed (flag UF)' },
  'upstream_reset_before_response_started{connection_termination}': { status: '503', meaning: 'The upstream closed the connection before responding (flag UC)' },
  'upstream_reset_before_response_started{remote_reset}': { status: '503', meaning: 'The upstream reset the connection or stream before responding (flag UR)' },
  'upstream_reset_before_response_started{overflow}': { status: '503', meaning: 'A circuit breaker refused the request (flag UO)' },
  'upstream_reset_before_response_started{protocol_error}': { status: '502', meaning: 'The upstream response was malformed (flag UPE)' },
  'upstream_reset_after_response_started{connection_termination}': { status: 'as started', meaning: 'The upstream closed mid-response; the client connection is reset (flag UC)' },
  'upstream_reset_after_response_started{remote_reset}': { status: 'as started', meaning: 'The upstream reset mid-response; the client connection is reset (flag UR)' },
  downstream_remote_disconnect: { status: '0', meaning: 'The client disconnected before a response started (flag DC)' },
  path_normalization_failed: { status: '400', meaning: 'The path cannot be normalized (`..` above the root, bad escapes)' },
  missing_host_header: { status: '400', meaning: 'The request has no Host' },
  request_payload_too_large: { status: '413', meaning: 'The request body exceeds the buffer limit' },
  'http1.headers_too_large': { status: '431', meaning: 'The request head is too large (flag DPE); other `http1.*` details: docs/errors.md' },
  https_redirect: { status: '301', meaning: 'An httpsRedirect server answered' },
  stream_idle_timeout: { status: '408', meaning: 'The stream idle timeout expired (flag SI)' },
  drain_closing: { status: 'any', meaning: 'The connection closed because the gateway is draining' },
  backend_not_found: { status: '500', meaning: 'A Gateway API backendRef names a missing Service or port (flag NC)' },
  invalid_backend_kind: { status: '500', meaning: 'A Gateway API backendRef names an unsupported kind (flag NC)' },
  ref_not_permitted: { status: '500', meaning: 'A cross-namespace backendRef has no ReferenceGrant (flag NC)' },
  invalid_route_rule: { status: '500', meaning: 'A Gateway API rule has an unsupported or invalid filter or match (flag NC)' },
  no_backend: { status: '500', meaning: 'A route has no backend to pick (flag NC)' },
});

/** Every detail Portico emits: the table above plus the codec's `http1.*` details (parser.ts, docs/errors.md). */
export function isKnownDetail(d: string): boolean {
  return d in DETAIL_DOCS || d.startsWith('http1.') || d.startsWith('http2.');
}
