import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiagnostic, type Diagnostic } from '../../errors/diagnostic.js';
import { LOAD_CODES } from '../../errors/codes/load.js';
import { parseFile } from '../sources/parse-file.js';
import type { LoadedResource } from './types.js';
import { isSupportedKind, skippedKindWarning, validateAll, validateResource } from './validate.js';

const seen: Diagnostic[] = [];

/** Parses YAML text (with positions) into LoadedResources, as the file loader does. */
function load(text: string, file = 'cfg/test.yaml'): LoadedResource[] {
  const parse = parseFile(file, 'hash', text);
  assert.deepEqual(parse.diagnostics, [], 'fixture must load cleanly');
  return parse.objects.map((o, seq) => ({ key: o.key, object: o.object, origin: o.origin, positionOf: o.positionOf, source: 'test', seq }));
}

function diags(text: string): Diagnostic[] {
  const out = load(text).flatMap(validateResource);
  seen.push(...out);
  return out;
}

const summary = (ds: readonly Diagnostic[]): string[] => ds.map((d) => `${d.severity} ${d.code} ${d.path}`);

const dr = (policy: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: cart
  namespace: shop
spec:
  host: cart.shop.svc.cluster.local
  trafficPolicy:
${policy}`;

test('a misspelt enum is an error with a suggestion, the exact message and the field position', () => {
  const ds = diags(dr('    loadBalancer:\n      simple: ROUND_ROBINN\n'));
  assert.equal(ds.length, 1);
  const [d] = ds;
  assert.equal(d!.code, 'VALIDATE_ENUM');
  assert.equal(d!.severity, 'error');
  assert.equal(d!.message, 'Unknown value "ROUND_ROBINN" for loadBalancer.simple: expected one of ROUND_ROBIN, LEAST_REQUEST, RANDOM, PASSTHROUGH, LEAST_CONN, UNSPECIFIED');
  assert.equal(d!.suggestion, 'did you mean "ROUND_ROBIN"?');
  assert.equal(
    formatDiagnostic(d!),
    'cfg/test.yaml:10:15  DestinationRule/shop/cart  spec.trafficPolicy.loadBalancer.simple  Unknown value "ROUND_ROBINN" for loadBalancer.simple: expected one of ROUND_ROBIN, LEAST_REQUEST, RANDOM, PASSTHROUGH, LEAST_CONN, UNSPECIFIED (did you mean "ROUND_ROBIN"?)',
  );
});

test('an unknown field is a warning with "did you mean" when a known field is close', () => {
  const ds = diags(`apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - destinaton:
        host: reviews
      wieght: 10
      colour: blue
`);
  assert.deepEqual(summary(ds), [
    'warning VALIDATE_UNKNOWN_FIELD spec.http[0].route[0].destinaton',
    'warning VALIDATE_UNKNOWN_FIELD spec.http[0].route[0].wieght',
    'warning VALIDATE_UNKNOWN_FIELD spec.http[0].route[0].colour',
    'error VALIDATE_REQUIRED spec.http[0].route[0].destination',
  ]);
  assert.equal(ds[0]!.message, 'Unknown field "destinaton" in http[0].route[0]');
  assert.equal(ds[0]!.suggestion, 'did you mean "destination"?');
  assert.equal(ds[1]!.suggestion, 'did you mean "weight"?');
  assert.equal(ds[2]!.suggestion, undefined);
  assert.deepEqual(ds[0]!.origin, { file: 'cfg/test.yaml', line: 8, col: 7 });
  assert.equal(ds[3]!.message, 'Missing required field "destination" in http[0].route[0]');
});

test('wrong types are errors that name the expected and the actual type', () => {
  const ds = diags(`apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: "80", name: http, protocol: HTTP}
    hosts: "*.example.com"
    tls: {httpsRedirect: "yes"}
`);
  assert.deepEqual(ds.map((d) => `${d.path}: ${d.message}`), [
    'spec.servers[0].port.number: Invalid type for port.number: expected an integer, got a string',
    'spec.servers[0].hosts: Invalid type for servers[0].hosts: expected a list, got a string',
    'spec.servers[0].tls.httpsRedirect: Invalid type for tls.httpsRedirect: expected a boolean, got a string',
  ]);
  const [t] = diags(`apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  ports: [{port: 80, name: 7}]
`);
  assert.equal(t!.message, 'Invalid type for ports[0].name: expected a string, got a number');
});

test('missing required fields are errors positioned at the nearest existing ancestor', () => {
  const ds = diags(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: x}
spec:
  subsets:
  - labels: {version: v1}
`);
  // Nested problems come first: the walker reports a parent's missing fields after its children.
  assert.deepEqual(summary(ds), ['error VALIDATE_REQUIRED spec.subsets[0].name', 'error VALIDATE_REQUIRED spec.host']);
  assert.equal(ds[1]!.message, 'Missing required field "host" in spec');
  assert.equal(ds[1]!.origin?.line, 4); // `spec:` line
  assert.equal(ds[0]!.origin?.line, 6); // the subset item
  const [noSpec] = diags('apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g}\n');
  assert.equal(noSpec!.message, 'Missing required field "spec"');
});

test('snake_case field names are accepted silently and renamed by validateAll', () => {
  const text = `apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: vs}
spec:
  hosts: [a]
  http:
  - route:
    - destination: {host: a}
    retries:
      attempts: 2
      per_try_timeout: 2s
      retry_on: 5xx
  - route:
    - destination: {host: b}
    cors_policy: {allow_origins: [{exact: "https://x"}], max_age: 24h}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dr}
spec:
  host: a
  traffic_policy:
    outlier_detection: {consecutive_5xx_errors: 3, base_ejection_time: 30s}
    connection_pool: {http: {h2_upgrade_policy: UPGRADE, http2_max_requests: 10}}
`;
  const resources = load(text);
  assert.deepEqual(resources.flatMap(validateResource), []);
  const { valid } = validateAll(resources);
  assert.deepEqual(valid[0]!.object.spec.http[0].retries, { attempts: 2, perTryTimeout: '2s', retryOn: '5xx' });
  assert.deepEqual(valid[0]!.object.spec.http[1].corsPolicy, { allowOrigins: [{ exact: 'https://x' }], maxAge: '24h' });
  assert.deepEqual(valid[1]!.object.spec.trafficPolicy.outlierDetection, { consecutive5xxErrors: 3, baseEjectionTime: '30s' });
  assert.equal(valid[1]!.object.spec.trafficPolicy.connectionPool.http.h2UpgradePolicy, 'UPGRADE');
  assert.equal(resources[0]!.object.spec.http[0].retries.per_try_timeout, '2s', 'input is not mutated');
  // Positions still resolve through the camelCase path to the snake_case key.
  assert.equal(valid[0]!.positionOf('spec.http[0].retries.perTryTimeout')?.line, 11);
  // Both spellings: the snake_case one is ignored with a warning.
  const [dup] = diags(dr('    tls: {mode: SIMPLE}\n    connectionPool: {tcp: {connect_timeout: 1s, connectTimeout: 2s}}\n'));
  assert.equal(dup!.code, 'VALIDATE_DUPLICATE_FIELD');
  assert.equal(dup!.severity, 'warning');
});

test('redirectCode accepts 301, 302, 303, 307, 308 and rejects anything else', () => {
  const vs = (code: number) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r}
spec:
  hosts: [a]
  http:
  - redirect: {uri: /new, redirectCode: ${code}, derivePort: FROM_REQUEST_PORT}
`;
  for (const ok of [301, 302, 303, 307, 308]) assert.deepEqual(diags(vs(ok)), [], String(ok));
  const [d] = diags(vs(305));
  assert.equal(d!.code, 'VALIDATE_ENUM');
  assert.equal(d!.severity, 'error');
  assert.match(d!.message, /^Unknown value 305 for redirect\.redirectCode: expected one of 301, 302, 303, 307, 308/);
});

test('StringMatch: {} means presence, one of exact/prefix/regex, regexes must be RE2', () => {
  const vs = (match: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: m}
spec:
  hosts: [a]
  http:
  - match:
    - ${match}
    route:
    - destination: {host: a}
`;
  assert.deepEqual(diags(vs('headers: {x-a: {}, x-b: {regex: "*"}, x-c: {regex: "(?i)^ab+$"}}')), []);
  assert.deepEqual(diags(vs('uri: {regex: "/foo|/bar"}')), []);
  assert.deepEqual(summary(diags(vs('uri: {exact: /a, prefix: /b}'))), ['error VALIDATE_ONE_OF spec.http[0].match[0].uri.prefix']);
  const [look] = diags(vs('uri: {regex: "/a(?=b)"}'));
  assert.equal(look!.message, 'Invalid regex "/a(?=b)" for uri.regex: lookahead is not supported by RE2');
  const [back] = diags(vs('authority: {regex: "(a)\\\\1"}'));
  assert.equal(back!.code, 'VALIDATE_REGEX');
  const [upper] = diags(vs('headers: {X-User: {exact: a}}'));
  assert.equal(upper!.code, 'VALIDATE_INVALID_VALUE');
  assert.equal(upper!.suggestion, 'did you mean "x-user"?');
});

test('a route needs exactly one action; redirect excludes rewrite', () => {
  const vs = (body: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a}
spec:
  hosts: [a]
  http:
  - ${body}
`;
  const [none] = diags(vs('timeout: 1s'));
  assert.equal(none!.message, 'Missing one of "route", "redirect", "directResponse" or "delegate" in spec.http[0]: set exactly one');
  const both = diags(vs('redirect: {uri: /x}\n    rewrite: {uri: /y}\n    directResponse: {status: 503}'));
  assert.deepEqual(summary(both), ['error VALIDATE_ONE_OF spec.http[0].directResponse', 'error VALIDATE_ONE_OF spec.http[0].rewrite']);
  assert.equal(both[0]!.message, 'Conflicting fields "redirect" and "directResponse" of spec.http[0]: set only one');
});

test('durations must parse; timeouts documented as >= 1ms are checked', () => {
  const vs = (extra: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: d}
spec:
  hosts: [a]
  http:
  - route:
    - destination: {host: a}
    ${extra}
`;
  assert.deepEqual(diags(vs('timeout: 1h30m')), []);
  assert.deepEqual(diags(vs('timeout: 1.5s')), []);
  const [noUnit] = diags(vs('timeout: "10"'));
  assert.equal(noUnit!.message, 'Invalid duration "10" for http[0].timeout: expected a number with a unit, like "1.5s", "10ms" or "1h"');
  const [num] = diags(vs('timeout: 10'));
  assert.equal(num!.code, 'VALIDATE_TYPE');
  assert.equal(num!.suggestion, 'did you mean "10s"?');
  const [short] = diags(vs('retries: {attempts: 1, perTryTimeout: 0.5ms}'));
  assert.equal(short!.message, 'Duration "0.5ms" for retries.perTryTimeout is too short: must be at least 1ms');
  assert.deepEqual(summary(diags(dr('    connectionPool: {tcp: {connectTimeout: 0s, idleTimeout: 0s}}\n'))), ['error VALIDATE_DURATION spec.trafficPolicy.connectionPool.tcp.connectTimeout']);
});

test('server port protocol is case-insensitive; other enums are not', () => {
  const gw = (protocol: string, mode = 'SIMPLE') => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: g}
spec:
  servers:
  - port: {number: 443, name: https, protocol: ${protocol}}
    hosts: ["*"]
    tls: {mode: ${mode}, credentialName: cert, minProtocolVersion: TLSV1_2, cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256]}
`;
  assert.deepEqual(diags(gw('https')), []);
  assert.deepEqual(diags(gw('Https')), []);
  const [bad] = diags(gw('htps'));
  assert.equal(bad!.suggestion, 'did you mean "HTTPS"?');
  const [mode] = diags(gw('HTTPS', 'simple'));
  assert.equal(mode!.code, 'VALIDATE_ENUM');
  assert.equal(mode!.suggestion, 'did you mean "SIMPLE"?');
});

test('unknown cipher suites are warnings (Istio drops them), unknown retryOn tokens are errors', () => {
  const [cipher] = diags(`apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: g}
spec:
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: SIMPLE, credentialName: c, cipherSuites: [RC4-MD5]}
`);
  assert.equal(cipher!.severity, 'warning');
  const [retry] = diags(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a}
spec:
  hosts: [a]
  http:
  - route: [{destination: {host: a}}]
    retries: {attempts: 2, retryOn: "5xx,conect-failure,503"}
`);
  assert.equal(retry!.code, 'VALIDATE_ENUM');
  assert.equal(retry!.suggestion, 'did you mean "connect-failure"?');
});

test('a full set of Istio fields validates without warnings', () => {
  const ds = diags(`apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - name: https
    bind: 0.0.0.0
    port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["shop/*.example.com", "./a.example.com"]
    tls:
      mode: MUTUAL
      credentialName: shop-cert
      caCertCredentialName: shop-ca
      subjectAltNames: [spiffe://x]
      verifyCertificateSpki: [abc]
      verifyCertificateHash: ["AB:CD"]
      minProtocolVersion: TLSV1_2
      maxProtocolVersion: TLSV1_3
      insecureSkipVerify: false
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
    tls: {httpsRedirect: true}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: shop}
spec:
  hosts: [shop.example.com]
  gateways: [istio-system/gw, mesh]
  exportTo: ["."]
  http:
  - name: api
    match:
    - name: v1
      uri: {prefix: /api}
      scheme: {exact: https}
      method: {exact: GET}
      authority: {prefix: shop}
      headers: {x-user: {exact: a}}
      withoutHeaders: {x-debug: {}}
      queryParams: {q: {regex: "[0-9]+"}}
      ignoreUriCase: true
      port: 443
      sourceLabels: {app: x}
      sourceNamespace: shop
      gateways: [istio-system/gw]
      statPrefix: api
    rewrite: {uri: /v1, authority: api.internal}
    route:
    - destination: {host: api, subset: v1, port: {number: 8080}}
      weight: 90
      headers: {request: {set: {x-a: b}, add: {x-b: c}, remove: [x-c]}}
    - destination: {host: api, subset: v2}
      weight: 10
    timeout: 10s
    retries: {attempts: 3, perTryTimeout: 2s, retryOn: "gateway-error,connect-failure,refused-stream", retryRemoteLocalities: true, retryIgnorePreviousHosts: true, backoff: 25ms}
    fault:
      delay: {fixedDelay: 5s, percentage: {value: 0.1}}
      abort: {httpStatus: 503, percentage: {value: 1}}
    mirror: {host: shadow}
    mirrorPercentage: {value: 10}
    corsPolicy: {allowOrigins: [{exact: "https://a"}], allowMethods: [GET], allowHeaders: [x], exposeHeaders: [y], maxAge: 24h, allowCredentials: true, unmatchedPreflights: IGNORE}
    headers: {response: {set: {x-frame-options: DENY}}}
  - match: [{uri: {exact: /old}}]
    redirect: {uri: /new, authority: b.example.com, scheme: https, redirectCode: 308, port: 8443}
  - match: [{uri: {exact: /gone}}]
    directResponse: {status: 410, body: {string: gone}}
  - match: [{uri: {prefix: /re}}]
    rewrite: {uriRegexRewrite: {match: "^/re/(.*)$", rewrite: "/\\\\1"}}
    route: [{destination: {host: re}}]
    mirrors: [{destination: {host: m1}, percentage: {value: 5}}]
  - delegate: {name: child, namespace: shop}
  tls:
  - match: [{sniHosts: [shop.example.com], port: 443, destinationSubnets: [10.0.0.0/8]}]
    route: [{destination: {host: shop-tls, port: {number: 443}}, weight: 100}]
  tcp:
  - match: [{port: 5432}]
    route: [{destination: {host: db, port: {number: 5432}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: api, namespace: shop}
spec:
  host: api.shop.svc.cluster.local
  exportTo: ["*"]
  workloadSelector: {matchLabels: {app: gw}}
  trafficPolicy:
    loadBalancer:
      consistentHash: {httpCookie: {name: s, path: /, ttl: 0s}, ringHash: {minimumRingSize: 1024}}
      localityLbSetting: {enabled: true, failover: [{from: us-east, to: us-west}], failoverPriority: [topology.kubernetes.io/zone]}
      warmup: {duration: 30s, minimumPercent: 10, aggression: 1.5}
    connectionPool:
      tcp: {maxConnections: 100, connectTimeout: 1s, tcpKeepalive: {probes: 3, time: 7200s, interval: 75s}, maxConnectionDuration: 1h, idleTimeout: 0s}
      http: {http1MaxPendingRequests: 10, http2MaxRequests: 100, maxRequestsPerConnection: 1, maxRetries: 3, idleTimeout: 1h, h2UpgradePolicy: DO_NOT_UPGRADE, useClientProtocol: false, maxConcurrentStreams: 100}
    outlierDetection: {consecutive5xxErrors: 5, consecutiveGatewayErrors: 3, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 10, minHealthPercent: 50}
    tls: {mode: SIMPLE, sni: api.internal, credentialName: c, subjectAltNames: [api], insecureSkipVerify: false}
    portLevelSettings:
    - port: {number: 8080}
      loadBalancer: {simple: LEAST_REQUEST}
    tunnel: {protocol: CONNECT, targetHost: proxy, targetPort: 8080}
    proxyProtocol: {version: V2}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
  - name: v2
    labels: {version: v2}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext}
spec:
  hosts: [api.external.com]
  addresses: [240.0.0.1]
  ports: [{number: 443, name: tls, protocol: tls, targetPort: 8443}]
  location: MESH_EXTERNAL
  resolution: DNS
  endpoints: [{address: api.external.com, ports: {tls: 443}, labels: {a: b}, network: n1, locality: us/east/1a, weight: 1, serviceAccount: sa}]
  exportTo: ["*"]
  subjectAltNames: [api.external.com]
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: vm}
spec: {address: 10.0.0.5, ports: {http: 8080}, labels: {app: vm}, serviceAccount: vm}
`);
  assert.deepEqual(ds.map(formatDiagnostic), []);
});

test('ServiceEntry: hosts may not be "*", port numbers are unique', () => {
  const ds = diags(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: se}
spec:
  hosts: ["*"]
  ports: [{number: 80, name: a, protocol: HTTP}, {number: 80, name: b, protocol: HTTP}]
  resolution: DSN
`);
  assert.deepEqual(summary(ds), [
    'error VALIDATE_INVALID_VALUE spec.hosts[0]',
    'error VALIDATE_INVALID_VALUE spec.ports[1].number',
    'error VALIDATE_ENUM spec.resolution',
  ]);
  assert.equal(ds[2]!.suggestion, 'did you mean "DNS"?');
});

test('Gateway API: valid resources pass; filters, paths, regexes, durations and refs are checked', () => {
  const valid = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: portico}
spec: {controllerName: portico.dev/gateway}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: infra}
spec:
  gatewayClassName: portico
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    hostname: "*.example.com"
    allowedRoutes:
      namespaces: {from: Selector, selector: {matchLabels: {shared: "true"}}}
      kinds: [{kind: HTTPRoute}]
  - name: https
    port: 443
    protocol: HTTPS
    tls: {mode: Terminate, certificateRefs: [{name: cert}]}
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: HTTPRoute
metadata: {name: shop, namespace: shop}
spec:
  parentRefs: [{name: web, namespace: infra, sectionName: http}]
  hostnames: [shop.example.com]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /api}
      headers: [{name: x-env, value: "^(dev|qa)$", type: RegularExpression}]
      queryParams: [{name: q, value: "1"}]
      method: GET
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-a, value: b}], remove: [x-c]}
    - type: URLRewrite
      urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}
    backendRefs:
    - {name: api, port: 8080, weight: 90}
    - name: api-v2
      port: 8080
      weight: 10
      filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {add: [{name: x-v, value: "2"}]}}]
    timeouts: {request: 10s, backendRequest: 1h30m}
  - matches: [{path: {type: Exact, value: /old}}]
    filters: [{type: RequestRedirect, requestRedirect: {scheme: https, hostname: b.example.com, statusCode: 301, path: {type: ReplaceFullPath, replaceFullPath: /new}}}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: allow, namespace: backends}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}]
  to: [{group: "", kind: Service}]
`;
  assert.deepEqual(diags(valid).map(formatDiagnostic), []);

  const bad = diags(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bad}
spec:
  parentRefs: [{namespace: infra}]
  rules:
  - matches:
    - path: {type: Prefix, value: api}
    - path: {type: RegularExpression, value: "(?<=x)y"}
    filters:
    - type: RequestRedirect
      requestHeaderModifier: {set: [{name: a, value: b}]}
    backendRefs: [{name: api, port: 70000, weight: -1}]
    timeouts: {request: 1.5s}
`);
  assert.deepEqual(summary(bad), [
    'error VALIDATE_REQUIRED spec.parentRefs[0].name',
    'error VALIDATE_ENUM spec.rules[0].matches[0].path.type',
    'error VALIDATE_REGEX spec.rules[0].matches[1].path.value',
    'error VALIDATE_REQUIRED spec.rules[0].filters[0].requestRedirect',
    'error VALIDATE_ONE_OF spec.rules[0].filters[0].requestHeaderModifier',
    'error VALIDATE_RANGE spec.rules[0].backendRefs[0].port',
    'error VALIDATE_RANGE spec.rules[0].backendRefs[0].weight',
    'error VALIDATE_DURATION spec.rules[0].timeouts.request',
  ]);
  assert.equal(bad[1]!.suggestion, 'did you mean "PathPrefix"?');
  const [slash] = diags(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: s}
spec:
  rules: [{matches: [{path: {type: Exact, value: api}}]}]
`);
  assert.equal(slash!.message, 'Invalid path "api" for path.value: must start with "/"');
});

test('Ingress, Service, EndpointSlice, Pod and Namespace schemas', () => {
  assert.deepEqual(diags(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  ingressClassName: portico
  defaultBackend: {service: {name: web, port: {number: 80}}}
  tls: [{hosts: [a.example.com], secretName: a-cert}]
  rules:
  - host: a.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}
      - {path: /x, pathType: ImplementationSpecific, backend: {resource: {apiGroup: k8s.example.com, kind: Bucket, name: b}}}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: portico}
spec: {controller: portico.dev/ingress}
---
apiVersion: v1
kind: Service
metadata: {name: web, labels: {app: web}}
spec:
  type: ClusterIP
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http, protocol: TCP, appProtocol: kubernetes.io/h2c}
  - {name: admin, port: 9000, targetPort: 9001}
---
apiVersion: v1
kind: Endpoints
metadata: {name: web}
subsets: [{addresses: [{ip: 10.0.0.1}], notReadyAddresses: [{ip: 10.0.0.2}], ports: [{name: http, port: 8080}]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-abc, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints:
- addresses: [10.0.0.1]
  conditions: {ready: true, serving: true, terminating: false}
  targetRef: {kind: Pod, name: web-1, namespace: default}
ports: [{name: http, port: 8080, protocol: TCP}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
spec: {containers: [{name: c, image: nginx, anything: goes}]}
status: {podIP: 10.0.0.1, podIPs: [{ip: 10.0.0.1}], phase: Running, conditions: []}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {shared: "true"}}
`).map(formatDiagnostic), []);

  const bad = diags(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: bad}
spec:
  rules:
  - http:
      paths:
      - {path: api, pathType: Prefix, backend: {service: {name: web, port: {number: 80, name: http}}}}
      - {path: /b, pathType: prefix, backend: {service: {name: web}}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: e}
endpoints: [{addresses: []}]
`);
  assert.deepEqual(summary(bad), [
    'error VALIDATE_ONE_OF spec.rules[0].http.paths[0].backend.service.port.name',
    'error VALIDATE_INVALID_VALUE spec.rules[0].http.paths[0].path',
    'error VALIDATE_ENUM spec.rules[0].http.paths[1].pathType',
    'error VALIDATE_RANGE endpoints[0].addresses',
    'error VALIDATE_REQUIRED addressType',
  ]);
});

test('Secret values never appear in messages', () => {
  const secretValue = 'c3VwZXJzZWNyZXQ$$$';
  const ds = diags(`apiVersion: v1
kind: Secret
metadata: {name: cert}
type: kubernetes.io/tls
data:
  tls.key: "${secretValue}"
  tls.crt: 12345
stringData:
  password: {nested: hunter2}
dta: {x: "${secretValue}"}
`);
  assert.deepEqual(summary(ds), [
    'error VALIDATE_TYPE data["tls.crt"]',
    'error VALIDATE_INVALID_VALUE data["tls.key"]',
    'error VALIDATE_TYPE stringData.password',
    'warning VALIDATE_UNKNOWN_FIELD dta',
  ]);
  for (const d of ds) {
    const text = formatDiagnostic(d);
    assert.equal(text.includes(secretValue) || text.includes('hunter2') || text.includes('12345'), false, text);
  }
  assert.equal(ds[1]!.message, 'Invalid Secret data "tls.key": value is not valid base64');
});

test('isSupportedKind and skippedKindWarning', () => {
  for (const [v, k] of [
    ['networking.istio.io/v1', 'VirtualService'], ['networking.istio.io/v1beta1', 'Gateway'], ['networking.istio.io/v1alpha3', 'WorkloadEntry'],
    ['gateway.networking.k8s.io/v1', 'HTTPRoute'], ['gateway.networking.k8s.io/v1beta1', 'ReferenceGrant'], ['gateway.networking.k8s.io/v1', 'ReferenceGrant'],
    ['gateway.networking.k8s.io/v1alpha2', 'TCPRoute'], ['gateway.networking.k8s.io/v1', 'GRPCRoute'], ['networking.k8s.io/v1', 'Ingress'],
    ['v1', 'Service'], ['v1', 'Secret'], ['discovery.k8s.io/v1', 'EndpointSlice'],
    ['telemetry.istio.io/v1', 'Telemetry'], ['telemetry.istio.io/v1alpha1', 'Telemetry'],
  ] as const) assert.equal(isSupportedKind(v, k), true, `${v} ${k}`);
  for (const [v, k] of [
    ['apps/v1', 'Deployment'], ['v1', 'ConfigMap'], ['extensions.istio.io/v1alpha1', 'WasmPlugin'], ['networking.istio.io/v2', 'Gateway'],
    ['gateway.networking.k8s.io/v1alpha1', 'HTTPRoute'], ['networking.k8s.io/v1beta1', 'Ingress'], ['v1', 'VirtualService'],
  ] as const) assert.equal(isSupportedKind(v, k), false, `${v} ${k}`);

  const [deploy, oldIngress] = load(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
---
apiVersion: networking.k8s.io/v1beta1
kind: Ingress
metadata: {name: old}
`);
  const w1 = skippedKindWarning(deploy!);
  assert.equal(w1.code, 'LOAD_KIND_SKIPPED');
  assert.equal(w1.severity, 'warning');
  assert.equal(w1.message, 'Skipped unsupported kind "Deployment" (apiVersion "apps/v1")');
  const w2 = skippedKindWarning(oldIngress!);
  assert.equal(w2.message, 'Skipped Ingress with unsupported apiVersion "networking.k8s.io/v1beta1": expected one of networking.k8s.io/v1');
  assert.equal(w2.origin?.line, 5);
  assert.deepEqual(validateResource(deploy!), []);
  seen.push(w1, w2);
});

test('validateAll quarantines resources with errors alone; warnings keep a resource', () => {
  const resources = load(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: bad}
spec: {host: a, trafficPolicy: {loadBalancer: {simple: FASTEST}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: warned}
spec: {host: b, trafficPolicy: {loadBalancr: {simple: RANDOM}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: good}
spec: {host: c}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {a: b}
`);
  const r = validateAll(resources);
  assert.deepEqual(r.valid.map((x) => x.key.name), ['warned', 'good']);
  assert.equal(r.valid[1], resources[2], 'unchanged resources are passed through as is');
  assert.deepEqual([...r.rejected.keys()], ['DestinationRule/default/bad']);
  assert.deepEqual(r.rejected.get('DestinationRule/default/bad')!.map((d) => d.code), ['VALIDATE_ENUM']);
  assert.deepEqual(r.diagnostics.map((d) => `${d.severity} ${d.code}`), ['error VALIDATE_ENUM', 'warning VALIDATE_UNKNOWN_FIELD', 'warning LOAD_KIND_SKIPPED']);
  seen.push(...r.diagnostics);
});

test('every emitted code is registered and every message follows STYLE.md §10', () => {
  assert.ok(seen.length > 40);
  for (const d of seen) {
    assert.ok(d.code in LOAD_CODES, `unregistered code ${d.code}`);
    assert.match(d.message, /^[A-Z]/, d.message);
    assert.doesNotMatch(d.message, /\.$/, d.message);
    assert.ok(d.resource, `${d.code} has a resource key`);
  }
});
