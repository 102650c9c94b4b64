/** Codes of the Gateway API translator (GatewayClass, Gateway, HTTPRoute, ReferenceGrant). */
export const GATEWAYAPI_CODES = {
  GWAPI_GATEWAY_CLASS_NOT_FOUND: 'A Gateway names a GatewayClass that does not exist; the Gateway is not served',
  GWAPI_LISTENER_INVALID: 'A Gateway listener has a missing or invalid name, port or hostname; that listener is skipped',
  GWAPI_LISTENER_DUPLICATE_NAME: 'Two listeners of one Gateway share a name; the later one is skipped',
  GWAPI_LISTENER_PROTOCOL_UNSUPPORTED: 'A listener uses a protocol other than HTTP, HTTPS or TLS (TCP, UDP arrive with a later release); that listener is skipped',
  GWAPI_LISTENER_CONFLICT: 'Two listeners on one port claim the same hostname; the later one is marked Conflicted and skipped',
  GWAPI_LISTENER_ROUTE_KIND_INVALID: 'A listener allows a route kind it cannot serve (only HTTPRoute on HTTP listeners); that kind is ignored',
  GWAPI_PARENT_NOT_FOUND: 'An HTTPRoute parentRef names a Gateway, sectionName or port that does not exist (NoMatchingParent)',
  GWAPI_ROUTE_NOT_ALLOWED: 'No listener of the parent Gateway allows the HTTPRoute (allowedRoutes namespaces or kinds: NotAllowedByListeners)',
  GWAPI_ROUTE_NO_MATCHING_HOSTNAME: 'No hostname of the HTTPRoute intersects the hostname of any allowed listener (NoMatchingListenerHostname)',
  GWAPI_MATCH_INVALID: 'An HTTPRoute match or hostname has an unsupported type or an invalid value; it is dropped and the rest of its rule answers 500',
  GWAPI_FILTER_UNSUPPORTED: 'An HTTPRoute filter is not supported (ExtensionRef, CORS, ExternalAuth or unknown type); the rule answers 500',
  GWAPI_FILTER_INVALID: 'An HTTPRoute filter has an invalid value (redirect status or scheme, ReplacePrefixMatch without a PathPrefix match, missing body); the rule answers 500',
  GWAPI_REDIRECT_WITH_BACKENDS: 'A rule has both a RequestRedirect filter and backendRefs; the redirect wins and the backends are ignored',
  GWAPI_NO_BACKENDS: 'A rule has no backendRef with a weight above 0 (and no redirect); it answers 500',
  GWAPI_BACKEND_INVALID_KIND: 'A backendRef names a kind other than core Service (InvalidKind); its share of traffic answers 500',
  GWAPI_BACKEND_NOT_FOUND: 'A backendRef names a Service or port that does not exist, or has no port (BackendNotFound); its share answers 500',
  GWAPI_BACKEND_REF_NOT_PERMITTED: 'A cross-namespace backendRef has no matching ReferenceGrant in the target namespace (RefNotPermitted); its share answers 500',
  GWAPI_BACKEND_FILTER_UNSUPPORTED: 'A backendRef-level filter other than RequestHeaderModifier or ResponseHeaderModifier; that backend answers 500',
  GWAPI_MIRROR_INVALID: 'A RequestMirror backendRef cannot be resolved; the mirror is dropped',
  GWAPI_DURATION_INVALID: 'A timeout or retry backoff is not a Gateway API duration (GEP-2257); the field is ignored',
} as const;

/** One of the codes above. */
export type GatewayApiCode = keyof typeof GATEWAYAPI_CODES;
