/**
 * Schemas of the Kubernetes Gateway API kinds (gateway.networking.k8s.io): GatewayClass,
 * Gateway, HTTPRoute, ReferenceGrant, and light schemas for GRPCRoute, TLSRoute, TCPRoute.
 * Enums are case-sensitive, as in the CRDs.
 */
import { re2Error } from '../re2.js';
import {
  any, arr, bool, enm, gwDur, int, obj, req, str, strList, strMap, withCheck,
  type CheckContext, type ObjectSchema,
} from './dsl.js';
import { shortLabel } from './field-path.js';

const portNumber = () => int({ min: 1, max: 65535 });
const name = () => str({ minLength: 1 });

const labelSelector = obj({
  matchLabels: strMap(),
  matchExpressions: arr(obj({
    key: req(str()),
    operator: req(enm(['In', 'NotIn', 'Exists', 'DoesNotExist'])),
    values: strList(),
  })),
});

const parentRef = obj({
  group: str(),
  kind: str(),
  namespace: str(),
  name: req(name()),
  sectionName: str(),
  port: portNumber(),
});

const secretObjectRef = obj({ group: str(), kind: str(), name: req(name()), namespace: str() });

const backendObjectRef = {
  group: str(),
  kind: str(),
  name: req(name()),
  namespace: str(),
  port: portNumber(),
};

// ---- GatewayClass / Gateway -----------------------------------------------------------

/** GatewayClass spec. */
export const gatewayClassSpec = obj({
  controllerName: req(str({ minLength: 1 })),
  parametersRef: obj({ group: req(str()), kind: req(str()), name: req(name()), namespace: str() }),
  description: str(),
});

const listener = obj({
  name: req(name()),
  hostname: str(),
  port: req(portNumber()),
  protocol: req(enm(['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP'])),
  tls: obj({
    mode: enm(['Terminate', 'Passthrough']),
    certificateRefs: arr(secretObjectRef, { maxItems: 64 }),
    frontendValidation: obj({ caCertificateRefs: arr(secretObjectRef) }, { open: true }),
    options: strMap(),
  }),
  allowedRoutes: obj({
    namespaces: obj({ from: enm(['All', 'Same', 'Selector']), selector: labelSelector }),
    kinds: arr(obj({ group: str(), kind: req(str({ minLength: 1 })) })),
  }),
});

function checkUniqueListenerNames(listeners: readonly any[], path: string, ctx: CheckContext): void {
  const seen = new Set<string>();
  listeners.forEach((l, i) => {
    const n = l?.name;
    if (typeof n !== 'string') return;
    if (seen.has(n)) ctx.error('VALIDATE_INVALID_VALUE', `${path}[${i}].name`, `Duplicate listener name "${n}": listener names must be unique`);
    seen.add(n);
  });
}

/** gateway.networking.k8s.io Gateway spec. */
export const k8sGatewaySpec = obj({
  gatewayClassName: req(name()),
  listeners: req(withCheck(arr(listener, { minItems: 1, maxItems: 64 }), checkUniqueListenerNames)),
  addresses: arr(obj({ type: str(), value: req(str()) })),
  infrastructure: obj({ labels: strMap(), annotations: strMap(), parametersRef: obj({ group: str(), kind: str(), name: str() }) }),
  backendTLS: obj({}, { open: true }),
  allowedListeners: obj({}, { open: true }),
});

// ---- HTTPRoute ------------------------------------------------------------------------

function checkPathValue(m: { type?: string; value?: unknown }, path: string, ctx: CheckContext): void {
  const type = m.type ?? 'PathPrefix';
  if (typeof m.value !== 'string' || (type !== 'Exact' && type !== 'PathPrefix')) return;
  if (!m.value.startsWith('/')) {
    ctx.error('VALIDATE_INVALID_VALUE', `${path}.value`, `Invalid path ${JSON.stringify(m.value)} for ${shortLabel(`${path}.value`)}: must start with "/"`);
  }
}

/** A `{type, value}` pair whose value is an RE2 regex when type is RegularExpression. */
function checkRegexValue(m: { type?: string; value?: unknown }, path: string, ctx: CheckContext): void {
  if (m.type === 'RegularExpression' && typeof m.value === 'string') {
    const err = re2Error(m.value);
    const at = `${path}.value`;
    if (err) ctx.error('VALIDATE_REGEX', at, `Invalid regex ${JSON.stringify(m.value)} for ${shortLabel(at)}: ${err}`);
  }
}

const pathMatch = withCheck(
  obj({ type: enm(['Exact', 'PathPrefix', 'RegularExpression']), value: str() }),
  (m, p, ctx) => {
    checkPathValue(m, p, ctx);
    checkRegexValue(m, p, ctx);
  },
);

const nameValueMatch = withCheck(
  obj({ type: enm(['Exact', 'RegularExpression']), name: req(name()), value: req(str()) }),
  (m, p, ctx) => checkRegexValue(m, p, ctx),
);

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];

const httpRouteMatch = obj({
  path: pathMatch,
  headers: arr(nameValueMatch, { maxItems: 16 }),
  queryParams: arr(nameValueMatch, { maxItems: 16 }),
  method: enm(HTTP_METHODS),
});

const headerModifier = obj({
  set: arr(obj({ name: req(name()), value: req(str()) }), { maxItems: 16 }),
  add: arr(obj({ name: req(name()), value: req(str()) }), { maxItems: 16 }),
  remove: strList({ maxItems: 16 }),
});

const pathModifier = withCheck(
  obj({
    type: req(enm(['ReplaceFullPath', 'ReplacePrefixMatch'])),
    replaceFullPath: str(),
    replacePrefixMatch: str(),
  }),
  (m, p, ctx) => {
    const want = m.type === 'ReplaceFullPath' ? 'replaceFullPath' : m.type === 'ReplacePrefixMatch' ? 'replacePrefixMatch' : undefined;
    if (!want) return;
    const other = want === 'replaceFullPath' ? 'replacePrefixMatch' : 'replaceFullPath';
    if (m[want] === undefined) ctx.error('VALIDATE_REQUIRED', `${p}.${want}`, `Missing required field "${want}" for path type "${m.type}"`);
    if (m[other] !== undefined) ctx.error('VALIDATE_ONE_OF', `${p}.${other}`, `Unexpected field "${other}" for path type "${m.type}": use "${want}"`);
  },
);

/** Filter type → the field that carries its configuration. */
const FILTER_FIELDS: Readonly<Record<string, string>> = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  RequestMirror: 'requestMirror',
  ExtensionRef: 'extensionRef',
  CORS: 'cors',
};

/** `type` names the filter and exactly its own config field must be set. */
function checkFilterUnion(f: Record<string, unknown>, path: string, ctx: CheckContext): void {
  const type = f['type'];
  if (typeof type !== 'string') return;
  const want = FILTER_FIELDS[type];
  if (!want) return; // enum check already reported it
  if (f[want] === undefined || f[want] === null) {
    ctx.error('VALIDATE_REQUIRED', `${path}.${want}`, `Missing required field "${want}" for filter type "${type}"`);
  }
  for (const field of Object.values(FILTER_FIELDS)) {
    if (field !== want && f[field] !== undefined && f[field] !== null) {
      ctx.error('VALIDATE_ONE_OF', `${path}.${field}`, `Unexpected field "${field}" for filter type "${type}": use "${want}"`);
    }
  }
}

function httpFilter(): ObjectSchema {
  return withCheck(
    obj({
      type: req(enm(Object.keys(FILTER_FIELDS))),
      requestHeaderModifier: headerModifier,
      responseHeaderModifier: headerModifier,
      requestRedirect: obj({
        scheme: enm(['http', 'https']),
        hostname: str(),
        path: pathModifier,
        port: portNumber(),
        statusCode: enm([301, 302, 303, 307, 308]),
      }),
      urlRewrite: obj({ hostname: str(), path: pathModifier }),
      requestMirror: obj({
        backendRef: req(obj(backendObjectRef)),
        percent: int({ min: 0, max: 100 }),
        fraction: obj({ numerator: req(int({ min: 0 })), denominator: int({ min: 1 }) }),
      }),
      extensionRef: obj({ group: req(str()), kind: req(str({ minLength: 1 })), name: req(name()) }),
      cors: obj({
        allowOrigins: strList(),
        allowCredentials: bool(),
        allowMethods: strList(),
        allowHeaders: strList(),
        exposeHeaders: strList(),
        maxAge: int({ min: 0 }),
      }),
    }),
    checkFilterUnion,
  );
}

const httpBackendRef = obj({
  ...backendObjectRef,
  weight: int({ min: 0, max: 1000000 }),
  filters: arr(httpFilter(), { maxItems: 16 }),
});

const httpRouteRule = obj({
  name: str(),
  matches: arr(httpRouteMatch, { maxItems: 64 }),
  filters: arr(httpFilter(), { maxItems: 16 }),
  backendRefs: arr(httpBackendRef, { maxItems: 16 }),
  timeouts: obj({ request: gwDur(), backendRequest: gwDur() }),
  retry: obj({ codes: arr(int({ min: 400, max: 599 })), attempts: int({ min: 0 }), backoff: gwDur() }),
  sessionPersistence: obj({}, { open: true }),
});

/** gateway.networking.k8s.io HTTPRoute spec. */
export const httpRouteSpec = obj({
  parentRefs: arr(parentRef, { maxItems: 32 }),
  hostnames: strList({ maxItems: 16 }),
  rules: arr(httpRouteRule, { maxItems: 16 }),
});

// ---- light route schemas (GRPCRoute, TLSRoute, TCPRoute) ------------------------------

const plainBackendRef = obj({ ...backendObjectRef, weight: int({ min: 0, max: 1000000 }), filters: arr(any()) });

/** GRPCRoute spec (light: matches and filters are not checked in depth yet). */
export const grpcRouteSpec = obj({
  parentRefs: arr(parentRef),
  hostnames: strList(),
  rules: arr(obj({ name: str(), matches: arr(any()), filters: arr(any()), backendRefs: arr(plainBackendRef), sessionPersistence: any() })),
});

/** TLSRoute spec (light). */
export const tlsRouteSpec = obj({
  parentRefs: arr(parentRef),
  hostnames: strList(),
  rules: arr(obj({ name: str(), backendRefs: arr(plainBackendRef) })),
});

/** TCPRoute spec (light). */
export const tcpRouteSpec = obj({
  parentRefs: arr(parentRef),
  rules: arr(obj({ name: str(), backendRefs: arr(plainBackendRef) })),
});

// ---- ReferenceGrant -------------------------------------------------------------------

/** ReferenceGrant spec (v1beta1 and v1). */
export const referenceGrantSpec = obj({
  from: req(arr(obj({ group: req(str()), kind: req(str({ minLength: 1 })), namespace: req(name()) }), { minItems: 1, maxItems: 16 })),
  to: req(arr(obj({ group: req(str()), kind: req(str({ minLength: 1 })), name: str() }), { minItems: 1, maxItems: 16 })),
});
