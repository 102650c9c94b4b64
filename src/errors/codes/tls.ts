/** Codes of TLS: server settings, certificates, SNI routing, origination and the certificate store. */
export const TLS_CODES = {
  TLS_SETTINGS_INVALID: 'A TLS server or listener has unusable settings (no certificate, file paths mixed with credentialName, minimum version above the maximum); the server is skipped',
  TLS_MODE_UNSUPPORTED: 'A TLS mode Portico does not serve (ISTIO_MUTUAL, AUTO_PASSTHROUGH, or Gateway API frontendValidation); the server or listener is skipped',
  TLS_FIELD_UNSUPPORTED: 'A TLS field that is not applied (caCrl, OCSP, a second credential for another key type); the field is ignored',
  TLS_CREDENTIAL_NOT_FOUND: 'A certificate reference (credentialName, certificateRefs, Ingress secretName) names a Secret that does not exist; the server is skipped',
  TLS_CREDENTIAL_INVALID: 'A referenced Secret lacks the certificate or key entries, or holds data that is not PEM; the server is skipped',
  TLS_CA_MISSING: 'A MUTUAL or OPTIONAL_MUTUAL server has no CA to verify client certificates (caCertificates, ca.crt, or a <name>-cacert Secret); the server is skipped',
  TLS_CERT_REF_NOT_PERMITTED: 'A Gateway certificateRef points to a Secret in another namespace without a ReferenceGrant allowing Gateways; the reference is ignored',
  TLS_LISTENER_PROTOCOL_CONFLICT: 'Plaintext and TLS servers ask for the same address and port; the later ones are not served',
  TLS_SNI_CONFLICT: 'Two TLS servers on one port claim the same SNI host name; the later server does not get it',
  TLS_ROUTE_INVALID: 'A TLS route (VirtualService tls/tcp, TLSRoute) has no SNI host within the VirtualService hosts or no usable destination; the route is dropped',
  TLS_ROUTE_NOT_ATTACHED: 'A VirtualService tls or tcp route matches no TLS server of its gateways; it has no effect',
  TLS_ORIGINATION_INVALID: 'A DestinationRule tls block cannot be applied (MUTUAL without a client certificate, ISTIO_MUTUAL, credentialName Secret missing); the cluster connects without TLS or as SIMPLE as stated',
  TLS_CREDENTIAL_REJECTED: 'New certificate material was rejected (unparsable PEM, key does not match the certificate, every CA expired); the previous certificate keeps serving',
  TLS_CREDENTIAL_UNAVAILABLE: 'A TLS server has no usable certificate yet (file missing or never valid); its handshakes are refused with an alert',
  TLS_CERT_EXPIRING: 'A certificate in use expires within the warning window (default 30 days)',
  TLS_CERT_EXPIRED: 'A certificate in use has expired; clients will refuse it',
  TLS_WATCH_FAILED: 'A certificate directory cannot be watched; changes are still picked up by the 2-second poll',
} as const;

/** One TLS code. */
export type TlsCode = keyof typeof TLS_CODES;
