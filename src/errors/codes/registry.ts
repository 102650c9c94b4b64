/** Codes of the service registry (Services, endpoints, ServiceEntries, DestinationRules). */
export const REGISTRY_CODES = {
  REGISTRY_DR_HOST_NOT_FOUND: 'A DestinationRule host matches no Service or ServiceEntry visible to the gateway; the rule is ignored',
  REGISTRY_DR_DUPLICATE_SUBSET: 'A DestinationRule defines the same subset name twice; the later subset is ignored',
  REGISTRY_SERVICE_PORT_UNNAMED: 'A Service with several ports has a port without a name, so its endpoint port cannot be matched reliably',
  REGISTRY_ENDPOINTSLICE_NO_SERVICE: 'An EndpointSlice has no kubernetes.io/service-name label and is ignored',
  REGISTRY_STATIC_NO_ENDPOINTS: 'A ServiceEntry with resolution STATIC has neither endpoints nor a workloadSelector, so its clusters are empty',
  REGISTRY_RESOLUTION_NONE: 'A ServiceEntry uses resolution NONE (original destination), which a gateway cannot follow; its clusters are empty',
  REGISTRY_DNS_WILDCARD_HOST: 'A ServiceEntry with DNS resolution and no endpoints has a wildcard host, which cannot be resolved; that host has no endpoints',
  REGISTRY_DUPLICATE_HOST: 'Two ServiceEntries visible to the gateway declare the same host; the oldest one is used',
  REGISTRY_INVALID_ENDPOINT: 'An endpoint (ServiceEntry endpoint or WorkloadEntry) has a missing or unusable address and is skipped',
  REGISTRY_INVALID_FIELD: 'A Service, ServiceEntry or DestinationRule field has an invalid or missing value; the field falls back to its default, or the port, host, subset or rule it defines is dropped',
  REGISTRY_UNSUPPORTED_FIELD: 'A DestinationRule or ServiceEntry field is not applied by this release; the default behaviour is used',
} as const;

/** One of the codes above. */
export type RegistryCode = keyof typeof REGISTRY_CODES;
