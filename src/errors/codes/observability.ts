/** Codes of observability configuration and runtime: MeshConfig, Telemetry API, access logs, metrics. */
export const OBSERVABILITY_CODES = {
  OBS_MESH_CONFIG_READ_FAILED: 'The --mesh-config file does not exist or cannot be read; the gateway does not start',
  OBS_MESH_CONFIG_SYNTAX: 'The --mesh-config file is not valid YAML/JSON, or is not a MeshConfig object; the gateway does not start',
  OBS_MESH_CONFIG_INVALID: 'A MeshConfig value is invalid (duplicate provider name, JSON accessLogFormat that is not an object); the gateway does not start',
  OBS_FORMAT_INVALID: 'An access-log format has an unknown or malformed command operator (the message gives its position in the format string)',
  OBS_PROVIDER_NOT_FOUND: 'A provider named by defaultProviders or a Telemetry resource is not defined in meshConfig.extensionProviders; it is skipped',
  OBS_PROVIDER_UNSUPPORTED: 'An extension provider type Portico does not implement (OpenTelemetry/gRPC access log services, tracing, Stackdriver); it is ignored',
  OBS_CEL_INVALID: 'A Telemetry CEL expression (filter.expression or a tagOverrides value) does not parse or names an unknown attribute; the resource is rejected',
  OBS_TELEMETRY_CONFLICT: 'Two Telemetry resources apply at the same level (both mesh-wide, namespace-wide or selecting this gateway); the older one wins',
  OBS_TELEMETRY_TARGET_UNSUPPORTED: 'A Telemetry targetRef names something other than a Gateway API Gateway; the resource does not apply to this gateway',
  OBS_TELEMETRY_NO_PROVIDER: 'Access logging is enabled by a Telemetry resource but names no provider and meshConfig.defaultProviders.accessLogging is empty, so nothing is logged (as in Istio)',
  OBS_TELEMETRY_FIELD_UNSUPPORTED: 'A Telemetry field Portico does not apply (tracing, customMetric, reportingInterval, SERVER-only match); it is ignored',
  OBS_HEADER_FORMAT_INVALID: 'A header value has an unknown or malformed command operator (write a literal percent sign as %%); the resource is rejected',
  OBS_ACCESS_LOG_OPEN_FAILED: 'An access-log file cannot be opened or written; its lines are dropped and counted',
  OBS_ACCESS_LOG_DROPPED: 'Access-log lines were dropped because the output could not keep up (bounded queue); counted in portico_access_log_dropped_lines_total',
} as const;

/** One of the codes above. */
export type ObservabilityCode = keyof typeof OBSERVABILITY_CODES;
