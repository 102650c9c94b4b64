/** Codes of the Istio translator (Gateway, VirtualService → IR). */
export const ISTIO_CODES = {
  ISTIO_SERVER_INVALID: 'A Gateway server lacks a valid port, protocol or hosts; the server is skipped',
  ISTIO_SERVER_PROTOCOL_UNSUPPORTED: 'A Gateway server uses a protocol this release does not serve (TCP, MONGO); the server is skipped',
  ISTIO_SERVER_BIND_UNSUPPORTED: 'A Gateway server binds to something other than an IP address (unix socket); the server is skipped',
  ISTIO_VIRTUAL_SERVICE_INVALID: 'A VirtualService has no usable spec or hosts; it is rejected',
  ISTIO_FIELD_INVALID: 'A VirtualService field has a wrong type or value; the match block, route or mirror holding it is dropped',
  ISTIO_REGEX_INVALID: 'A regex is not valid RE2; the match block or route holding it is dropped',
  ISTIO_HEADER_MATCH_IGNORED: 'A header match on uri, scheme, method or authority is ignored (Istio ignores these keys)',
  ISTIO_JWT_CLAIM_MATCH_UNSUPPORTED: 'A match on @request.auth.claims needs RequestAuthentication (later release); the match block is dropped',
  ISTIO_ROUTE_ACTION_INVALID: 'An HTTP route has no action, several actions, or a destination without host; the route is dropped',
  ISTIO_REDIRECT_CODE_INVALID: 'A redirectCode other than 301, 302, 303, 307 or 308; the route is dropped',
  ISTIO_ROUTE_UNREACHABLE: 'A route follows a catch-all route of the same VirtualService and can never match; it is dropped',
  ISTIO_DESTINATION_NOT_FOUND: 'A destination host or port is unknown; the backend answers 503 cluster_not_found (flag NC)',
  ISTIO_SUBSET_NOT_FOUND: 'A destination subset is not defined by any DestinationRule; the backend answers 503 no_healthy_upstream (flag UH)',
  ISTIO_MIRROR_NOT_FOUND: 'A mirror destination cannot be resolved; that mirror is dropped',
  ISTIO_HEADER_OP_INVALID: 'A header operation targets a pseudo header or host in a way Istio rejects; the operation is dropped',
  ISTIO_RETRY_ON_UNKNOWN: 'A retryOn token is not a known Envoy retry policy or status code; the token is dropped',
  ISTIO_DELEGATE_NOT_FOUND: 'A delegate VirtualService does not exist; the delegating route is dropped',
  ISTIO_DELEGATE_INVALID: 'A delegate VirtualService has hosts, is not exported to the root, or delegates again; the route is dropped',
  ISTIO_DELEGATE_MATCH_CONFLICT: 'A delegate route matches outside its root route match; the delegate route is dropped',
  ISTIO_FIELD_NOT_YET_SUPPORTED: 'A field Portico will support in a later release (corsPolicy, fault, tcp, tls); it is ignored',
  ISTIO_FIELD_IGNORED: 'A field that has no effect in this position is ignored',
} as const;

/** One Istio translator code. */
export type IstioCode = keyof typeof ISTIO_CODES;
