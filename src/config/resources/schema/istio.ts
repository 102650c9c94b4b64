/**
 * Schemas of the Istio networking kinds (networking.istio.io v1, v1beta1 and v1alpha3 share
 * one schema): Gateway, VirtualService, DestinationRule, ServiceEntry, WorkloadEntry.
 * Field lists follow /work/shared/reference/istio-networking.md (istio/api protos).
 */
import {
  arr, atMostOne, bool, deprecated, dur, enm, exactlyOne, int, map, num, obj, regex, req, str, strList, strMap,
  withCheck,
  type CheckContext, type ObjectSchema, type Schema,
} from './dsl.js';
import { closest } from './suggest.js';
import { checkHeaderValue } from '../../../observability/format/compile.js';

const u32 = (o: { min?: number; max?: number } = {}) => int({ min: 0, max: 4294967295, ...o });
const i32 = (o: { min?: number; max?: number } = {}) => int({ min: -2147483648, max: 2147483647, ...o });
const portNumber = () => int({ min: 0, max: 65535 });
/** Durations Istio documents as "MUST be >= 1ms". */
const dur1ms = () => dur({ minMs: 1 });

/** Istio's validation rejects upper-case header names in matches (Envoy lower-cases them). */
function lowercaseHeaderName(key: string, path: string, ctx: CheckContext): void {
  if (key !== key.toLowerCase()) {
    ctx.error('VALIDATE_INVALID_VALUE', path, `Invalid header name "${key}": header names in matches must be lowercase`, `did you mean "${key.toLowerCase()}"?`);
  }
}

// ---- shared types ---------------------------------------------------------------------

/** StringMatch: at most one of exact/prefix/regex; `{}` means "present". */
function stringMatch(presenceRegex = false): ObjectSchema {
  return obj(
    { exact: str(), prefix: str(), regex: regex(presenceRegex ? { allow: ['*'] } : {}) },
    { oneOf: [atMostOne('exact', 'prefix', 'regex')] },
  );
}

const percent = obj({ value: num({ min: 0, max: 100 }) });

const portSelector = obj({ number: portNumber() });

const destination = obj({ host: req(str({ minLength: 1 })), subset: str(), port: portSelector });

/** Header values may hold Envoy command operators (`%DOWNSTREAM_REMOTE_ADDRESS%`); a bad one rejects the resource. */
function headerFormat(v: unknown, path: string, ctx: CheckContext): void {
  const e = typeof v === 'string' ? checkHeaderValue(v) : undefined;
  if (e) ctx.error('OBS_HEADER_FORMAT_INVALID', path, `Invalid header value ${JSON.stringify(v)}: ${e.message}`);
}
const headerValues = map(withCheck(str(), headerFormat));
const headerOperations = obj({ set: headerValues, add: headerValues, remove: strList() });

const headers = obj({ request: headerOperations, response: headerOperations });

const workloadSelectorLabels = obj({ labels: strMap() });

// ---- Gateway --------------------------------------------------------------------------

export const ISTIO_PORT_PROTOCOLS = ['HTTP', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'MONGO', 'TCP', 'TLS'] as const;

const TLS_VERSIONS = ['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'];

const CIPHER_SUITES = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-SHA', 'ECDHE-RSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA', 'ECDHE-RSA-AES256-SHA',
  'AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-SHA', 'AES256-SHA', 'DES-CBC3-SHA',
];

const serverTls = obj({
  httpsRedirect: bool(),
  mode: enm(['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL']),
  serverCertificate: str(),
  privateKey: str(),
  caCertificates: str(),
  caCrl: str(),
  credentialName: str(),
  credentialNames: strList({ maxItems: 2 }),
  tlsCertificates: arr(obj({ serverCertificate: str(), privateKey: str() }), { maxItems: 2 }),
  caCertCredentialName: str(),
  subjectAltNames: strList(),
  verifyCertificateSpki: strList(),
  verifyCertificateHash: strList(),
  minProtocolVersion: enm(TLS_VERSIONS),
  maxProtocolVersion: enm(TLS_VERSIONS),
  // Istio drops unknown cipher names silently; we warn instead of rejecting.
  cipherSuites: arr(enm(CIPHER_SUITES, { severity: 'warning', note: 'unknown names are ignored' })),
  insecureSkipVerify: bool(),
});

const gatewayPort = obj({
  number: req(portNumber()),
  protocol: req(enm(ISTIO_PORT_PROTOCOLS, { caseInsensitive: true })),
  name: req(str()),
  targetPort: deprecated(portNumber(), 'it is ignored'),
});

const server = obj({
  port: req(gatewayPort),
  hosts: req(strList({ minItems: 1 })),
  tls: serverTls,
  bind: str(),
  name: str(),
  defaultEndpoint: str(),
});

/** networking.istio.io Gateway spec. */
export const istioGatewaySpec = obj({ selector: strMap(), servers: req(arr(server)) }, { protoNames: true });

// ---- VirtualService -------------------------------------------------------------------

const headerMatchMap = map(stringMatch(true), { keyCheck: lowercaseHeaderName });

const httpMatchRequest = obj({
  name: str(),
  uri: stringMatch(),
  scheme: stringMatch(),
  method: stringMatch(),
  authority: stringMatch(),
  headers: headerMatchMap,
  withoutHeaders: headerMatchMap,
  queryParams: map(stringMatch(true)),
  port: portNumber(),
  ignoreUriCase: bool(),
  sourceLabels: strMap(),
  sourceNamespace: str(),
  gateways: strList(),
  statPrefix: str(),
});

const httpRouteDestination = obj({ destination: req(destination), weight: i32({ min: 0 }), headers });

/** Redirect codes Envoy supports; Istio leaves a route with any other code without an action. */
export const REDIRECT_CODES = [301, 302, 303, 307, 308] as const;

const httpRedirect = obj(
  {
    uri: str(),
    authority: str(),
    port: portNumber(),
    derivePort: enm(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT']),
    scheme: str(),
    redirectCode: enm(REDIRECT_CODES, { note: 'Istio would leave the route without an action' }),
    prefixRewrite: str(),
  },
  { oneOf: [atMostOne('port', 'derivePort')] },
);

const httpDirectResponse = obj({
  status: req(int({ min: 200, max: 599 })),
  body: obj({ string: str(), bytes: str() }, { oneOf: [atMostOne('string', 'bytes')] }),
});

const httpRewrite = obj(
  {
    uri: str(),
    authority: str(),
    uriRegexRewrite: obj({ match: req(regex()), rewrite: req(str()) }),
  },
  { oneOf: [atMostOne('uri', 'uriRegexRewrite')] },
);

/** Tokens Envoy accepts in x-envoy-retry-on / x-envoy-retry-grpc-on. */
export const RETRY_ON_TOKENS = [
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'envoy-ratelimited',
  'retriable-4xx', 'refused-stream', 'retriable-status-codes', 'retriable-headers', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
];

function checkRetryOn(value: string, path: string, ctx: CheckContext): void {
  for (const raw of value.split(',')) {
    const token = raw.trim();
    if (token === '' || RETRY_ON_TOKENS.includes(token)) continue;
    if (/^\d+$/.test(token)) {
      const code = Number(token);
      if (code < 100 || code > 599) ctx.error('VALIDATE_INVALID_VALUE', path, `Invalid status code "${token}" in retries.retryOn: expected 100 to 599`);
      continue;
    }
    const near = closest(token, RETRY_ON_TOKENS);
    ctx.error('VALIDATE_ENUM', path, `Unknown value "${token}" for retries.retryOn: expected a comma-separated list of ${RETRY_ON_TOKENS.join(', ')} or HTTP status codes`, near ? `did you mean "${near}"?` : undefined);
  }
}

const httpRetry = obj({
  attempts: i32({ min: 0 }),
  perTryTimeout: dur1ms(),
  retryOn: withCheck(str(), checkRetryOn),
  retryRemoteLocalities: bool(),
  retryIgnorePreviousHosts: bool(),
  backoff: dur1ms(),
});

const httpFault = obj({
  delay: obj(
    {
      fixedDelay: dur1ms(),
      exponentialDelay: dur1ms(),
      percentage: percent,
      percent: deprecated(int({ min: 0, max: 100 }), 'use "percentage" instead'),
    },
    { oneOf: [atMostOne('fixedDelay', 'exponentialDelay')] },
  ),
  abort: obj(
    { httpStatus: int({ min: 200, max: 599 }), grpcStatus: str(), http2Error: str(), percentage: percent },
    { oneOf: [atMostOne('httpStatus', 'grpcStatus', 'http2Error')] },
  ),
});

const corsPolicy = obj({
  allowOrigins: arr(stringMatch()),
  allowOrigin: deprecated(strList(), 'use "allowOrigins" instead'),
  allowMethods: strList(),
  allowHeaders: strList(),
  exposeHeaders: strList(),
  maxAge: dur(),
  allowCredentials: bool(),
  unmatchedPreflights: enm(['UNSPECIFIED', 'FORWARD', 'IGNORE']),
});

const httpRoute = obj(
  {
    name: str(),
    match: arr(httpMatchRequest),
    route: arr(httpRouteDestination),
    redirect: httpRedirect,
    directResponse: httpDirectResponse,
    delegate: obj({ name: str(), namespace: str() }),
    rewrite: httpRewrite,
    timeout: dur({ minMs: 0 }), // 0s = disabled, as Istio writes it
    retries: httpRetry,
    fault: httpFault,
    mirror: destination,
    mirrorPercent: deprecated(u32({ max: 100 }), 'use "mirrorPercentage" instead'),
    mirrorPercentage: percent,
    mirrors: arr(obj({ destination: req(destination), percentage: percent })),
    corsPolicy,
    headers,
  },
  {
    oneOf: [
      exactlyOne('route', 'redirect', 'directResponse', 'delegate'),
      atMostOne('redirect', 'rewrite'),
      atMostOne('mirror', 'mirrors'),
    ],
  },
);

const routeDestination = obj({ destination: req(destination), weight: i32({ min: 0 }) });

const tlsRoute = obj({
  match: req(arr(
    obj({
      sniHosts: req(strList({ minItems: 1 })),
      destinationSubnets: strList(),
      port: portNumber(),
      sourceLabels: strMap(),
      gateways: strList(),
      sourceNamespace: str(),
    }),
    { minItems: 1 },
  )),
  route: arr(routeDestination),
});

const tcpRoute = obj({
  match: arr(obj({
    destinationSubnets: strList(),
    port: portNumber(),
    sourceLabels: strMap(),
    gateways: strList(),
    sourceNamespace: str(),
    sourceSubnet: str(),
  })),
  route: arr(routeDestination),
});

/** networking.istio.io VirtualService spec. */
export const virtualServiceSpec = obj(
  {
    hosts: strList(),
    gateways: strList(),
    http: arr(httpRoute),
    tls: arr(tlsRoute),
    tcp: arr(tcpRoute),
    exportTo: strList(),
  },
  { protoNames: true },
);

// ---- DestinationRule ------------------------------------------------------------------

/** loadBalancer.simple values, in the order messages list them. */
export const LB_SIMPLE = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'PASSTHROUGH', 'LEAST_CONN', 'UNSPECIFIED'] as const;

const loadBalancer = obj(
  {
    simple: enm(LB_SIMPLE),
    consistentHash: obj(
      {
        httpHeaderName: str(),
        httpCookie: obj({
          name: req(str()),
          path: str(),
          ttl: dur(),
          attributes: arr(obj({ name: req(str()), value: str() })),
        }),
        useSourceIp: bool(),
        httpQueryParameterName: str(),
        ringHash: obj({ minimumRingSize: u32() }),
        maglev: obj({ tableSize: int({ min: 1, max: 5000011 }) }),
        minimumRingSize: deprecated(u32(), 'use "ringHash.minimumRingSize" instead'),
      },
      {
        oneOf: [
          atMostOne('httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'),
          atMostOne('ringHash', 'maglev', 'minimumRingSize'),
        ],
      },
    ),
    localityLbSetting: obj(
      {
        enabled: bool(),
        distribute: arr(obj({ from: str(), to: map(u32()) })),
        failover: arr(obj({ from: str(), to: str() })),
        failoverPriority: strList(),
      },
      { oneOf: [atMostOne('distribute', 'failover')] },
    ),
    zoneAwareLbSetting: obj({}, { open: true }),
    warmupDurationSecs: dur(),
    warmup: obj({ duration: dur(), minimumPercent: num({ min: 0, max: 100 }), aggression: num({ min: 1 }) }),
  },
  { oneOf: [atMostOne('simple', 'consistentHash'), atMostOne('warmupDurationSecs', 'warmup')] },
);

const connectionPool = obj({
  tcp: obj({
    maxConnections: i32({ min: 0 }),
    connectTimeout: dur1ms(),
    tcpKeepalive: obj({ probes: u32(), time: dur1ms(), interval: dur1ms() }),
    maxConnectionDuration: dur1ms(),
    idleTimeout: dur(),
  }),
  http: obj({
    http1MaxPendingRequests: i32({ min: 0 }),
    http2MaxRequests: i32({ min: 0 }),
    maxRequestsPerConnection: i32({ min: 0 }),
    maxRetries: i32({ min: 0 }),
    idleTimeout: dur(),
    h2UpgradePolicy: enm(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE']),
    useClientProtocol: bool(),
    maxConcurrentStreams: i32({ min: 0 }),
    http2KeepAlive: obj({ interval: dur1ms(), timeout: dur1ms() }),
  }),
});

const outlierDetection = obj({
  consecutive5xxErrors: u32(),
  consecutiveGatewayErrors: u32(),
  splitExternalLocalOriginErrors: bool(),
  consecutiveLocalOriginFailures: u32(),
  interval: dur1ms(),
  baseEjectionTime: dur1ms(),
  maxEjectionPercent: int({ min: 0, max: 100 }),
  minHealthPercent: int({ min: 0, max: 100 }),
  outlierDetectionHttpErrorCodes: arr(int({ min: 100, max: 599 })),
  consecutiveErrors: deprecated(i32({ min: 0 }), 'use "consecutiveGatewayErrors" or "consecutive5xxErrors" instead'),
});

const clientTls = obj({
  mode: enm(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']),
  clientCertificate: str(),
  privateKey: str(),
  caCertificates: str(),
  caCrl: str(),
  credentialName: str(),
  subjectAltNames: strList(),
  sni: str(),
  insecureSkipVerify: bool(),
});

const portTrafficPolicy = obj({
  port: portSelector,
  loadBalancer,
  connectionPool,
  outlierDetection,
  tls: clientTls,
});

const trafficPolicy = obj({
  loadBalancer,
  connectionPool,
  outlierDetection,
  tls: clientTls,
  portLevelSettings: arr(portTrafficPolicy, { maxItems: 4096 }),
  tunnel: obj({ protocol: enm(['CONNECT', 'POST']), targetHost: req(str()), targetPort: req(portNumber()) }),
  proxyProtocol: obj({ version: enm(['V1', 'V2']) }),
  retryBudget: obj({ percent: num({ min: 0, max: 100 }), minRetryConcurrency: u32(), budgetInterval: dur() }),
});

/** networking.istio.io DestinationRule spec. */
export const destinationRuleSpec = obj(
  {
    host: req(str({ minLength: 1 })),
    trafficPolicy,
    subsets: arr(obj({ name: req(str({ minLength: 1 })), labels: strMap(), trafficPolicy })),
    exportTo: strList(),
    workloadSelector: obj({ matchLabels: strMap() }),
  },
  { protoNames: true },
);

// ---- ServiceEntry / WorkloadEntry -----------------------------------------------------

const workloadEntryFields: Record<string, Schema> = {
  address: str(),
  ports: map(int({ min: 1, max: 65535 })),
  labels: strMap(),
  network: str(),
  locality: str(),
  weight: u32(),
  serviceAccount: str(),
};

const SE_PROTOCOLS = [...ISTIO_PORT_PROTOCOLS, 'UDP'];

function checkServiceEntryHosts(hosts: readonly unknown[], path: string, ctx: CheckContext): void {
  hosts.forEach((h, i) => {
    if (h === '*') ctx.error('VALIDATE_INVALID_VALUE', `${path}[${i}]`, 'Invalid host "*" in ServiceEntry hosts: a ServiceEntry cannot cover every host');
  });
}

function checkUniquePorts(ports: readonly any[], path: string, ctx: CheckContext): void {
  const seen = new Set<number>();
  ports.forEach((p, i) => {
    const n = p?.number;
    if (typeof n !== 'number') return;
    if (seen.has(n)) ctx.error('VALIDATE_INVALID_VALUE', `${path}[${i}].number`, `Duplicate port ${n} in ServiceEntry ports: port numbers must be unique`);
    seen.add(n);
  });
}

/** networking.istio.io ServiceEntry spec. */
export const serviceEntrySpec = obj(
  {
    hosts: req(withCheck(strList({ minItems: 1, maxItems: 256 }), checkServiceEntryHosts)),
    addresses: strList(),
    ports: withCheck(
      arr(obj({
        number: req(int({ min: 1, max: 65535 })),
        protocol: enm(SE_PROTOCOLS, { caseInsensitive: true }),
        name: req(str()),
        targetPort: int({ min: 1, max: 65535 }),
      })),
      checkUniquePorts,
    ),
    location: enm(['MESH_EXTERNAL', 'MESH_INTERNAL']),
    resolution: enm(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS']),
    endpoints: arr(obj(workloadEntryFields)),
    workloadSelector: workloadSelectorLabels,
    exportTo: strList(),
    subjectAltNames: strList(),
  },
  { protoNames: true, oneOf: [atMostOne('endpoints', 'workloadSelector')] },
);

/** networking.istio.io WorkloadEntry spec. */
export const workloadEntrySpec = obj(workloadEntryFields, { protoNames: true });
