/**
 * Schema of the Istio Telemetry API (telemetry.istio.io/v1 and v1alpha1): access logging,
 * metrics and (accepted, not applied) tracing. CEL expressions — `filter.expression` and
 * `tagOverrides.*.value` — are compiled here, so a typo or an unknown attribute rejects the
 * resource with its position inside the expression.
 */
import { checkCel } from '../../../observability/cel/compile.js';
import { any, arr, atMostOne, bool, dur, enm, map, obj, req, str, strMap, withCheck, type CheckContext } from './dsl.js';

/** Telemetry API metric names (MetricSelector.IstioMetric). */
export const TELEMETRY_METRICS = [
  'ALL_METRICS', 'REQUEST_COUNT', 'REQUEST_DURATION', 'REQUEST_SIZE', 'RESPONSE_SIZE', 'TCP_OPENED_CONNECTIONS',
  'TCP_CLOSED_CONNECTIONS', 'TCP_SENT_BYTES', 'TCP_RECEIVED_BYTES', 'GRPC_REQUEST_MESSAGES', 'GRPC_RESPONSE_MESSAGES',
] as const;

const WORKLOAD_MODES = ['CLIENT_AND_SERVER', 'CLIENT', 'SERVER'];

function celCheck(v: unknown, path: string, ctx: CheckContext): void {
  if (typeof v !== 'string') return;
  const e = checkCel(v);
  if (e) ctx.error('OBS_CEL_INVALID', path, `Invalid CEL expression ${JSON.stringify(v)}: ${e.message}`);
}

const providerRef = obj({ name: req(str({ minLength: 1 })) });
const targetRef = obj({ group: str(), kind: req(str({ minLength: 1 })), name: req(str({ minLength: 1 })), namespace: str() });

const accessLogging = obj({
  match: obj({ mode: enm(WORKLOAD_MODES) }),
  providers: arr(providerRef),
  disabled: bool(),
  filter: obj({ expression: withCheck(str(), celCheck) }),
}, { protoNames: true });

const tagOverride = withCheck(
  obj({ operation: enm(['UPSERT', 'REMOVE']), value: withCheck(str(), celCheck) }),
  (v: { operation?: string; value?: string }, path, ctx) => {
    if ((v.operation ?? 'UPSERT') === 'UPSERT' && (v.value === undefined || v.value === '')) {
      ctx.error('VALIDATE_REQUIRED', `${path}.value`, 'Missing required field "value": an UPSERT tag override needs a CEL value');
    }
  },
);

const metricsOverride = obj({
  match: obj({ metric: enm(TELEMETRY_METRICS), customMetric: str({ minLength: 1 }), mode: enm(WORKLOAD_MODES) }, { oneOf: [atMostOne('metric', 'customMetric')] }),
  disabled: bool(),
  tagOverrides: map(tagOverride),
}, { protoNames: true });

const metrics = obj({
  providers: arr(providerRef),
  overrides: arr(metricsOverride),
  reportingInterval: dur(),
}, { protoNames: true });

/** `spec` of a Telemetry resource. */
export const telemetrySpec = obj({
  selector: obj({ matchLabels: strMap() }),
  targetRef: targetRef,
  targetRefs: arr(targetRef),
  accessLogging: arr(accessLogging),
  metrics: arr(metrics),
  tracing: arr(any()),
}, { protoNames: true, oneOf: [atMostOne('selector', 'targetRef', 'targetRefs')] });
