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
  downstreamDisconnect: 'downstream_remote_disconnect',
  pathNormalizationFailed: 'path_normalization_failed',
  missingHost: 'missing_host_header',
  payloadTooLarge: 'request_payload_too_large',
  headersTooLarge: 'http1.headers_too_large',
  httpsRedirect: 'https_redirect',
  streamIdleTimeout: 'stream_idle_timeout',
  drainClosed: 'drain_closing',
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
