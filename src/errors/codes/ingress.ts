/** Codes of the Kubernetes Ingress translator (networking.k8s.io/v1 Ingress, IngressClass). */
export const INGRESS_CODES = {
  INGRESS_TLS_UNSUPPORTED: 'An Ingress spec.tls entry has no secretName (a controller default certificate is not supported); its hosts are served on the plaintext port only',
  INGRESS_HOST_INVALID: 'An Ingress rule host is not a valid hostname or single-label wildcard (*.foo.com); the rule is skipped',
  INGRESS_PATH_INVALID: 'An Ingress path does not start with "/" or has an unknown pathType; the path is skipped',
  INGRESS_BACKEND_INVALID: 'An Ingress backend is a resource backend or has neither port.number nor port.name; it answers 503',
  INGRESS_BACKEND_NOT_FOUND: 'An Ingress backend names a Service or Service port that does not exist; it answers 503 (cluster_not_found)',
  INGRESS_DEFAULT_BACKEND_CONFLICT: 'Several served Ingresses set defaultBackend; the oldest one wins and the others are ignored',
} as const;

/** One of the codes above. */
export type IngressCode = keyof typeof INGRESS_CODES;
