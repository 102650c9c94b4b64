import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { byKindOf, res } from '../../../../test/helpers/resources.js';
import type { Diagnostic } from '../../../errors/diagnostic.js';
import { REGISTRY_CODES } from '../../../errors/codes/registry.js';
import type { ClusterIR } from '../../ir/types.js';
import type { LoadedResource, WorkloadIdentity } from '../../resources/types.js';
import type { ClusterResult, TranslateContext } from '../context.js';
import { type RegistryInput, createServiceRegistry } from './index.js';

// Compile time: TranslateContext.report can be passed as RegistryInput.report as is.
type ReportFits = TranslateContext['report'] extends NonNullable<RegistryInput['report']> ? true : never;
const reportFits: ReportFits = true;
void reportFits;

const ID: WorkloadIdentity = {
  namespace: 'istio-system',
  labels: { istio: 'ingressgateway' },
  ingressPort: 80,
  bindAddress: '0.0.0.0',
  clusterDomain: 'cluster.local',
};

function registry(list: readonly LoadedResource[], identity: WorkloadIdentity = ID) {
  return createServiceRegistry({ identity, byKind: byKindOf(list) });
}

function ok(r: ClusterResult): ClusterIR {
  if (!r.ok) assert.fail(`expected a cluster, got ${r.reason}: ${r.message}`);
  return r.cluster;
}

/** address:port pairs, the shape most assertions care about. */
function addrs(c: ClusterIR | readonly { address: string; port: number }[]): string[] {
  const list = 'endpoints' in c ? c.endpoints : c;
  return list.map((e) => `${e.address}:${e.port}`);
}

const svc = (name: string, ns: string, spec: object, meta: object = {}) =>
  res({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns, ...meta }, spec });
const endpointsOf = (name: string, ns: string, subsets: object[]) =>
  res({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns }, subsets });
const slice = (name: string, ns: string, service: string | undefined, ports: object[], endpoints: object[], addressType = 'IPv4') =>
  res({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name, namespace: ns, labels: service ? { 'kubernetes.io/service-name': service } : {} },
    addressType, ports, endpoints,
  });
const pod = (name: string, ns: string, labels: Record<string, string>, podIP?: string, ports: object[] = [], status: object = {}) =>
  res({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels },
    spec: { containers: [{ name: 'main', ports }] },
    status: { phase: 'Running', ...(podIP ? { podIP } : {}), ...status },
  });
const dr = (name: string, ns: string, spec: object, meta: object = {}) =>
  res({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name, namespace: ns, ...meta }, spec });
const se = (name: string, ns: string, spec: object, meta: object = {}) =>
  res({ apiVersion: 'networking.istio.io/v1beta1', kind: 'ServiceEntry', metadata: { name, namespace: ns, ...meta }, spec });
const we = (name: string, ns: string, spec: object, status?: object) =>
  res({ apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: { name, namespace: ns }, spec, ...(status ? { status } : {}) });

const CART = 'cart.shop.svc.cluster.local';

describe('Kubernetes Services', () => {
  test('Endpoints: the endpoint port is found by the Service port name; not-ready addresses are left out', () => {
    const reg = registry([
      svc('cart', 'shop', { selector: { app: 'cart' }, ports: [
        { name: 'http', port: 80, targetPort: 8080 },
        { name: 'metrics', port: 9090, targetPort: 9091 },
      ] }),
      endpointsOf('cart', 'shop', [{
        addresses: [{ ip: '10.0.0.2' }, { ip: '10.0.0.1' }],
        notReadyAddresses: [{ ip: '10.0.0.3' }],
        ports: [{ name: 'metrics', port: 9191 }, { name: 'http', port: 8081 }],
      }]),
      // Pods exist too, but Endpoints take precedence over the selector fallback.
      pod('cart-x', 'shop', { app: 'cart' }, '10.0.0.99'),
    ]);
    assert.deepEqual(addrs(ok(reg.cluster({ host: CART, port: 80, fromNamespace: 'shop' }))), ['10.0.0.1:8081', '10.0.0.2:8081']);
    assert.deepEqual(addrs(ok(reg.cluster({ host: CART, port: 9090, fromNamespace: 'shop' }))), ['10.0.0.1:9191', '10.0.0.2:9191']);
    assert.deepEqual(addrs(reg.endpoints(CART, 80)), ['10.0.0.1:8081', '10.0.0.2:8081']);
    assert.deepEqual(reg.endpoints(CART, 81), []);
    assert.deepEqual(reg.endpoints('nope.shop.svc.cluster.local', 80), []);
  });

  test('Endpoints: an unnamed single Service port takes the only endpoint port', () => {
    const reg = registry([
      svc('one', 'shop', { ports: [{ port: 80, targetPort: 8080 }] }),
      endpointsOf('one', 'shop', [{ addresses: [{ ip: '10.0.1.1' }], ports: [{ name: 'whatever', port: 8088 }] }]),
    ]);
    assert.deepEqual(addrs(reg.endpoints('one.shop.svc.cluster.local', 80)), ['10.0.1.1:8088']);
  });

  test('EndpointSlice: ready filtering, preferred over Endpoints, duplicates merged', () => {
    const ports = [{ name: 'http', port: 8080, protocol: 'TCP' }];
    const reg = registry([
      svc('api', 'shop', { ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
      endpointsOf('api', 'shop', [{ addresses: [{ ip: '10.9.9.9' }], ports: [{ name: 'http', port: 8080 }] }]),
      slice('api-a', 'shop', 'api', ports, [
        { addresses: ['10.1.0.1'], conditions: { ready: true } },
        { addresses: ['10.1.0.2'], conditions: { ready: false } },
        { addresses: ['10.1.0.3'] }, // unset ready condition reads as ready
      ]),
      slice('api-b', 'shop', 'api', ports, [
        { addresses: ['10.1.0.1'], conditions: { ready: true } },
        { addresses: ['10.1.0.4'], conditions: { ready: true, serving: true } },
      ]),
      slice('other-a', 'shop', 'other', ports, [{ addresses: ['10.1.0.5'] }]),
      slice('api-v6', 'shop', 'api', ports, [{ addresses: ['fd00::1'] }], 'IPv6'),
    ]);
    const c = ok(reg.cluster({ host: 'api.shop.svc.cluster.local', fromNamespace: 'shop' }));
    assert.deepEqual(addrs(c), ['10.1.0.1:8080', '10.1.0.3:8080', '10.1.0.4:8080', 'fd00::1:8080']);
  });

  test('Pods fallback: selector match and a named targetPort resolved against container ports', () => {
    const reg = registry([
      svc('web', 'shop', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'web-port' }] }),
      pod('web-1', 'shop', { app: 'web', version: 'v1' }, '10.2.0.1', [{ name: 'web-port', containerPort: 8081 }]),
      pod('web-2', 'shop', { app: 'web' }, '10.2.0.2', [{ name: 'other', containerPort: 8082 }]), // no such port name
      pod('api-1', 'shop', { app: 'api' }, '10.2.0.3', [{ name: 'web-port', containerPort: 8081 }]), // selector mismatch
      pod('web-3', 'shop', { app: 'web' }, undefined, [{ name: 'web-port', containerPort: 8081 }]), // no IP yet
      pod('web-4', 'shop', { app: 'web' }, '10.2.0.4', [{ name: 'web-port', containerPort: 8081 }],
        { conditions: [{ type: 'Ready', status: 'False' }] }),
      pod('web-5', 'other', { app: 'web' }, '10.2.0.5', [{ name: 'web-port', containerPort: 8081 }]), // other namespace
    ]);
    const c = ok(reg.cluster({ host: 'web.shop.svc.cluster.local', port: 80, fromNamespace: 'shop' }));
    assert.deepEqual(c.endpoints, [{ address: '10.2.0.1', port: 8081, weight: 1, labels: { app: 'web', version: 'v1' } }]);
  });

  test('ExternalName Service resolves its external name by DNS', () => {
    const reg = registry([svc('ext', 'shop', { type: 'ExternalName', externalName: 'db.example.net', ports: [{ name: 'http', port: 80 }] })]);
    assert.deepEqual(reg.endpoints('ext.shop.svc.cluster.local', 80), [{ address: 'db.example.net', port: 80, weight: 1, dns: true }]);
  });

  test('h2c from appProtocol and from the port name; appProtocol wins over the name', () => {
    const reg = registry([
      svc('multi', 'shop', { ports: [
        { name: 'web', port: 1, appProtocol: 'kubernetes.io/h2c' },
        { name: 'rpc', port: 2, appProtocol: 'grpc' },
        { name: 'http2', port: 3 },
        { name: 'grpc-api', port: 4 },
        { name: 'h2c', port: 5 },
        { name: 'grpc', port: 6, appProtocol: 'http' },
        { name: 'http', port: 7 },
        { name: 'grpcx', port: 8 },
      ] }),
    ]);
    const host = 'multi.shop.svc.cluster.local';
    const protocols = reg.service(host)!.ports.map((p) => `${p.port}:${p.protocol}`);
    assert.deepEqual(protocols, ['1:h2c', '2:h2c', '3:h2c', '4:h2c', '5:h2c', '6:http1', '7:http1', '8:http1']);
    assert.equal(ok(reg.cluster({ host, port: 1, fromNamespace: 'shop' })).protocol, 'h2c');
    assert.equal(ok(reg.cluster({ host, port: 4, fromNamespace: 'shop' })).protocol, 'h2c');
    assert.equal(ok(reg.cluster({ host, port: 7, fromNamespace: 'shop' })).protocol, 'http1');
  });

  test('service() returns ServiceInfo with the FQDN, ports and source', () => {
    const reg = registry([svc('cart', 'shop', { ports: [{ name: 'http', port: 80, targetPort: 8080, appProtocol: 'http' }] })]);
    assert.deepEqual(reg.service(CART), {
      host: CART, namespace: 'shop', name: 'cart', kind: 'Service',
      ports: [{ name: 'http', port: 80, protocol: 'http1', appProtocol: 'http' }],
      source: { kind: 'Service', namespace: 'shop', name: 'cart' },
    });
    assert.equal(reg.service('cart.other.svc.cluster.local'), undefined);
  });
});

describe('cluster() results', () => {
  const base = () => [
    svc('cart', 'shop', { ports: [{ name: 'http', port: 80 }, { name: 'admin', port: 8080 }] }),
    svc('single', 'shop', { ports: [{ name: 'http', port: 80 }] }),
    dr('cart', 'shop', { host: 'cart', subsets: [{ name: 'v1', labels: { version: 'v1' } }] }),
  ];

  test('multi-port without port → port_required; single port is the default; unknown port/host', () => {
    const reg = registry(base());
    const r = reg.cluster({ host: CART, fromNamespace: 'shop' });
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'port_required');
    assert.match(!r.ok ? r.message : '', /80, 8080/);
    const single = ok(reg.cluster({ host: 'single.shop.svc.cluster.local', fromNamespace: 'shop' }));
    assert.equal(single.servicePort, 80);
    const p = reg.cluster({ host: CART, port: 9999, fromNamespace: 'shop' });
    assert.equal(!p.ok && p.reason, 'port_not_found');
    const h = reg.cluster({ host: 'ghost.shop.svc.cluster.local', port: 80, fromNamespace: 'shop' });
    assert.equal(!h.ok && h.reason, 'service_not_found');
  });

  test('unknown subset → subset_not_found, never all endpoints; nothing is added to clusters()', () => {
    const reg = registry(base());
    const r = reg.cluster({ host: CART, port: 80, subset: 'v9', fromNamespace: 'shop' });
    assert.equal(!r.ok && r.reason, 'subset_not_found');
    assert.match(!r.ok ? r.message : '', /"v9".*"v1"/);
    const noRule = reg.cluster({ host: 'single.shop.svc.cluster.local', subset: 'v1', fromNamespace: 'shop' });
    assert.equal(!noRule.ok && noRule.reason, 'subset_not_found');
    assert.deepEqual(reg.clusters(), []);
  });

  test('naming is outbound|port|subset|host; results are memoized and clusters() sorted by name', () => {
    const reg = registry(base());
    const a = reg.cluster({ host: CART, port: 8080, fromNamespace: 'shop' });
    const b = reg.cluster({ host: CART.toUpperCase(), port: 80, subset: 'v1', fromNamespace: 'other' });
    const c = reg.cluster({ host: CART, port: 80, fromNamespace: 'shop' });
    assert.equal(a.ok && a.name, `outbound|8080||${CART}`);
    assert.equal(b.ok && b.name, `outbound|80|v1|${CART}`);
    assert.equal(ok(b).subset, 'v1');
    assert.equal('subset' in ok(c), false);
    assert.equal(ok(reg.cluster({ host: CART, port: 80, subset: 'v1', fromNamespace: 'shop' })), ok(b));
    // Plain code-point order of the names ('0' sorts before '|').
    assert.deepEqual(reg.clusters().map((x) => x.name), [`outbound|8080||${CART}`, `outbound|80|v1|${CART}`, `outbound|80||${CART}`]);
    assert.ok(Object.isFrozen(ok(a)) && Object.isFrozen(ok(a).endpoints));
  });

  test('a cluster without a DestinationRule carries the defaults and its source', () => {
    const reg = registry([
      svc('single', 'shop', { ports: [{ name: 'http', port: 80 }] }),
      endpointsOf('single', 'shop', [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'http', port: 8080 }] }]),
    ]);
    assert.deepEqual(ok(reg.cluster({ host: 'single.shop.svc.cluster.local', fromNamespace: 'shop' })), {
      name: 'outbound|80||single.shop.svc.cluster.local',
      serviceHost: 'single.shop.svc.cluster.local',
      serviceNamespace: 'shop',
      servicePort: 80,
      protocol: 'http1',
      lb: 'LEAST_REQUEST',
      endpoints: [{ address: '10.0.0.1', port: 8080, weight: 1 }],
      connectTimeoutMs: 10_000,
      idleTimeoutMs: 3_600_000,
      source: { kind: 'Service', namespace: 'shop', name: 'single' },
    });
  });
});

describe('DestinationRule subsets and policies', () => {
  const reviews = () => [
    svc('reviews', 'shop', { ports: [{ name: 'http', port: 9080 }, { name: 'http-admin', port: 8080 }] }),
    endpointsOf('reviews', 'shop', [{
      addresses: [
        { ip: '10.3.0.1', targetRef: { kind: 'Pod', name: 'reviews-v1', namespace: 'shop' } },
        { ip: '10.3.0.2' }, // labels found through the pod IP
        { ip: '10.3.0.9' }, // unknown pod: no labels
      ],
      ports: [{ name: 'http', port: 9080 }, { name: 'http-admin', port: 8080 }],
    }]),
    pod('reviews-v1', 'shop', { app: 'reviews', version: 'v1' }, '10.3.0.1'),
    pod('reviews-v2', 'shop', { app: 'reviews', version: 'v2' }, '10.3.0.2'),
  ];
  const RV = 'reviews.shop.svc.cluster.local';
  const get = (reg: ReturnType<typeof registry>, port: number, subset?: string) =>
    ok(reg.cluster({ host: RV, port, ...(subset ? { subset } : {}), fromNamespace: 'istio-system' }));

  test('subset selects endpoints by the labels of their pods (targetRef and IP)', () => {
    const reg = registry([...reviews(), dr('reviews', 'shop', { host: 'reviews', subsets: [
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2' } },
      { name: 'v3', labels: { version: 'v3' } },
      { name: 'all' },
    ] })]);
    assert.deepEqual(get(reg, 9080, 'v1').endpoints, [{ address: '10.3.0.1', port: 9080, weight: 1, labels: { app: 'reviews', version: 'v1' } }]);
    assert.deepEqual(addrs(get(reg, 9080, 'v2')), ['10.3.0.2:9080']);
    assert.deepEqual(addrs(get(reg, 9080, 'v3')), []); // defined but empty: no fallback
    assert.deepEqual(addrs(get(reg, 9080, 'all')), ['10.3.0.1:9080', '10.3.0.2:9080', '10.3.0.9:9080']);
    assert.deepEqual(addrs(get(reg, 9080)), ['10.3.0.1:9080', '10.3.0.2:9080', '10.3.0.9:9080']);
  });

  test('subset policy inherits the rule policy field by field', () => {
    const reg = registry([...reviews(), dr('reviews', 'shop', {
      host: 'reviews.shop.svc.cluster.local',
      trafficPolicy: {
        loadBalancer: { simple: 'RANDOM' },
        connectionPool: { tcp: { maxConnections: 100, connectTimeout: '2s' } },
      },
      subsets: [
        { name: 'pool', labels: { version: 'v1' }, trafficPolicy: { connectionPool: { http: { http2MaxRequests: 7 } } } },
        { name: 'lb', labels: { version: 'v1' }, trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } },
        { name: 'plain', labels: { version: 'v1' } },
      ],
    })]);
    const pool = get(reg, 9080, 'pool');
    assert.equal(pool.lb, 'RANDOM'); // inherited
    assert.equal(pool.maxRequests, 7);
    assert.equal(pool.maxConnections, undefined); // connectionPool replaced as a whole
    assert.equal(pool.connectTimeoutMs, 10_000);
    const lb = get(reg, 9080, 'lb');
    assert.equal(lb.lb, 'ROUND_ROBIN');
    assert.equal(lb.maxConnections, 100);
    assert.equal(lb.connectTimeoutMs, 2_000);
    const plain = get(reg, 9080, 'plain');
    assert.equal(plain.lb, 'RANDOM');
    assert.equal(plain.maxConnections, 100);
  });

  test('portLevelSettings replace the policy wholesale: omitted fields take defaults, not top-level values', () => {
    const reg = registry([...reviews(), dr('reviews', 'shop', {
      host: 'reviews',
      trafficPolicy: {
        loadBalancer: { simple: 'RANDOM' },
        connectionPool: { tcp: { maxConnections: 50 } },
        portLevelSettings: [{ port: { number: 8080 }, connectionPool: { http: { maxRequestsPerConnection: 1 } } }],
      },
      subsets: [
        { name: 'a', labels: { version: 'v1' }, trafficPolicy: { connectionPool: { tcp: { maxConnections: 5 } } } },
        { name: 'b', labels: { version: 'v1' }, trafficPolicy: {
          loadBalancer: { simple: 'ROUND_ROBIN' },
          portLevelSettings: [{ port: { number: 9080 }, loadBalancer: { simple: 'RANDOM' } }],
        } },
      ],
    })]);
    const admin = get(reg, 8080);
    assert.equal(admin.lb, 'LEAST_REQUEST'); // not RANDOM from the top level
    assert.equal(admin.maxConnections, undefined);
    assert.equal(admin.maxRequestsPerConnection, 1);
    const main = get(reg, 9080);
    assert.equal(main.lb, 'RANDOM');
    assert.equal(main.maxConnections, 50);
    assert.equal(main.maxRequestsPerConnection, undefined);
    // Subset on 8080 inherits from the rule's port-level block, then overrides connectionPool.
    const a = get(reg, 8080, 'a');
    assert.equal(a.lb, 'LEAST_REQUEST');
    assert.equal(a.maxConnections, 5);
    assert.equal(a.maxRequestsPerConnection, undefined);
    // The subset's own port-level block replaces everything for its port.
    const b9080 = get(reg, 9080, 'b');
    assert.equal(b9080.lb, 'RANDOM');
    assert.equal(b9080.maxConnections, undefined);
    const b8080 = get(reg, 8080, 'b');
    assert.equal(b8080.lb, 'ROUND_ROBIN');
    assert.equal(b8080.maxRequestsPerConnection, 1);
  });

  test('connection pool fields, durations and h2UpgradePolicy map onto the cluster', () => {
    const reg = registry([...reviews(), dr('reviews', 'shop', { host: 'reviews', trafficPolicy: {
      loadBalancer: { simple: 'LEAST_CONN' },
      connectionPool: {
        tcp: { maxConnections: 10, connectTimeout: '1.5s' },
        http: { http1MaxPendingRequests: 20, http2MaxRequests: 30, maxRequestsPerConnection: 4, idleTimeout: '90s', h2UpgradePolicy: 'UPGRADE', useClientProtocol: true },
      },
    } })]);
    const c = get(reg, 9080);
    assert.deepEqual(
      { protocol: c.protocol, lb: c.lb, ct: c.connectTimeoutMs, mc: c.maxConnections, mp: c.maxPendingRequests, mr: c.maxRequests, mrpc: c.maxRequestsPerConnection, idle: c.idleTimeoutMs },
      { protocol: 'h2c', lb: 'LEAST_REQUEST', ct: 1_500, mc: 10, mp: 20, mr: 30, mrpc: 4, idle: 90_000 },
    );
    assert.deepEqual(reg.diagnostics(), []); // useClientProtocol is ignored silently
  });

  test('the most specific rule wins: exact over wildcard, then the oldest', () => {
    const list = [
      se('ext', 'egress', { hosts: ['api.example.com', 'www.example.com'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'DNS' }),
      dr('wild', 'egress', { host: '*.example.com', trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } }, { creationTimestamp: '2020-01-01T00:00:00Z' }),
      dr('all', 'egress', { host: '*', trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } } }, { creationTimestamp: '2019-01-01T00:00:00Z' }),
      dr('exact-new', 'egress', { host: 'api.example.com', trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } } }, { creationTimestamp: '2023-01-01T00:00:00Z' }),
      dr('exact-old', 'egress', { host: 'api.example.com', trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } }, { creationTimestamp: '2022-01-01T00:00:00Z' }),
    ];
    const reg = registry(list);
    assert.equal(ok(reg.cluster({ host: 'api.example.com', fromNamespace: 'egress' })).lb, 'RANDOM');
    assert.equal(ok(reg.cluster({ host: 'www.example.com', fromNamespace: 'egress' })).lb, 'ROUND_ROBIN');
    // Same timestamps: input order (seq) decides.
    const tie = registry([
      svc('cart', 'shop', { ports: [{ name: 'http', port: 80 }] }),
      dr('second', 'shop', { host: 'cart', trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } }),
      dr('first', 'shop', { host: CART, trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } }),
    ].map((r, i) => (r.key.name === 'first' ? { ...r, seq: -1 } : { ...r, seq: i })));
    assert.equal(ok(tie.cluster({ host: CART, fromNamespace: 'shop' })).lb, 'RANDOM');
  });

  test('short hosts expand with the namespace of the rule, not of the service', () => {
    const reg = registry([
      svc('cart', 'shop', { ports: [{ name: 'http', port: 80 }] }),
      dr('cart-elsewhere', 'other', { host: 'cart', trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } }),
    ]);
    assert.equal(ok(reg.cluster({ host: CART, fromNamespace: 'other' })).lb, 'LEAST_REQUEST');
    assert.deepEqual(reg.diagnostics().map((d) => [d.code, d.resource?.name]), [['REGISTRY_DR_HOST_NOT_FOUND', 'cart-elsewhere']]);
    assert.match(reg.diagnostics()[0]!.message, /"cart\.other\.svc\.cluster\.local"/);
  });

  test('outlierDetection and consistentHash warn but never fail the cluster; tls originates', () => {
    const rule = dr('reviews', 'shop', { host: 'reviews', trafficPolicy: {
      loadBalancer: { consistentHash: { httpHeaderName: 'x-user' } },
      outlierDetection: { consecutive5xxErrors: 3 },
      tls: { mode: 'SIMPLE' },
    } });
    const reg = registry([...reviews(), rule]);
    const c = get(reg, 9080);
    assert.equal(c.lb, 'LEAST_REQUEST');
    assert.deepEqual(c.tls, { mode: 'SIMPLE' });
    const ds = reg.diagnostics();
    assert.deepEqual(ds.map((d) => [d.code, d.severity, d.path]), [
      ['REGISTRY_UNSUPPORTED_FIELD', 'warning', 'spec.trafficPolicy.loadBalancer.consistentHash'],
      ['REGISTRY_UNSUPPORTED_FIELD', 'warning', 'spec.trafficPolicy.outlierDetection'],
    ]);
    assert.match(ds[0]!.message, /not yet supported, using LEAST_REQUEST/);
    assert.match(ds[1]!.message, /applied by a later release/);
  });
});

describe('ServiceEntry and WorkloadEntry', () => {
  test('STATIC: endpoint ports map overrides targetPort; weights and labels kept; HTTP2/GRPC → h2c', () => {
    const reg = registry([se('db', 'data', {
      hosts: ['db.internal.example'],
      ports: [
        { number: 80, name: 'http', protocol: 'HTTP', targetPort: 8080 },
        { number: 9000, name: 'grpc', protocol: 'GRPC' },
      ],
      resolution: 'STATIC',
      endpoints: [
        { address: '192.168.0.2', ports: { http: 9080 }, labels: { zone: 'a' }, weight: 3 },
        { address: '192.168.0.1' },
        { address: 'not-an-ip.example' },
      ],
    })]);
    const host = 'db.internal.example';
    const http = ok(reg.cluster({ host, port: 80, fromNamespace: 'data' }));
    assert.deepEqual(http.endpoints, [
      { address: '192.168.0.1', port: 8080, weight: 1 },
      { address: '192.168.0.2', port: 9080, weight: 3, labels: { zone: 'a' } },
    ]);
    assert.equal(http.protocol, 'http1');
    const grpc = ok(reg.cluster({ host, port: 9000, fromNamespace: 'data' }));
    assert.deepEqual(addrs(grpc), ['192.168.0.1:9000', '192.168.0.2:9000']);
    assert.equal(grpc.protocol, 'h2c');
    assert.deepEqual(reg.service(host)?.ports, [{ name: 'http', port: 80, protocol: 'http1' }, { name: 'grpc', port: 9000, protocol: 'h2c' }]);
    assert.equal(reg.service(host)?.kind, 'ServiceEntry');
    assert.deepEqual(reg.diagnostics().map((d) => [d.code, d.path]), [['REGISTRY_INVALID_ENDPOINT', 'spec.endpoints[2].address']]);
  });

  test('DNS: the host itself becomes a dns endpoint; explicit hostnames are dns, IP literals are not', () => {
    const reg = registry([
      se('api', 'egress', { hosts: ['api.example.com', '*.wild.example.com'], ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }], resolution: 'DNS' }),
      se('backends', 'egress', {
        hosts: ['backend.example.com'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'DNS_ROUND_ROBIN',
        endpoints: [{ address: 'eu.backend.example' }, { address: '203.0.113.7' }],
      }),
    ]);
    assert.deepEqual(ok(reg.cluster({ host: 'api.example.com', fromNamespace: 'egress' })).endpoints,
      [{ address: 'api.example.com', port: 443, weight: 1, dns: true }]);
    assert.equal(reg.service('api.example.com')?.ports[0]?.protocol, 'tls');
    assert.deepEqual(ok(reg.cluster({ host: '*.wild.example.com', fromNamespace: 'egress' })).endpoints, []);
    assert.deepEqual(ok(reg.cluster({ host: 'backend.example.com', fromNamespace: 'egress' })).endpoints, [
      { address: '203.0.113.7', port: 80, weight: 1 },
      { address: 'eu.backend.example', port: 80, weight: 1, dns: true },
    ]);
    assert.deepEqual(reg.diagnostics().map((d) => [d.code, d.path]), [['REGISTRY_DNS_WILDCARD_HOST', 'spec.hosts[1]']]);
  });

  test('workloadSelector selects WorkloadEntries of the same namespace by labels', () => {
    const reg = registry([
      se('legacy', 'vm', {
        hosts: ['legacy.example.internal'], ports: [{ number: 8080, name: 'http', protocol: 'HTTP' }],
        resolution: 'STATIC', workloadSelector: { labels: { app: 'legacy' } },
      }),
      we('we-1', 'vm', { address: '10.5.0.1', labels: { app: 'legacy', version: 'v1' }, ports: { http: 18080 }, weight: 2 }),
      we('we-2', 'vm', { address: '10.5.0.2', labels: { app: 'legacy' } }),
      we('we-3', 'elsewhere', { address: '10.5.0.3', labels: { app: 'legacy' } }),
      we('we-4', 'vm', { address: '10.5.0.4', labels: { app: 'other' } }),
      we('we-5', 'vm', { address: '10.5.0.5', labels: { app: 'legacy' } }, { conditions: [{ type: 'Healthy', status: 'False' }] }),
      dr('legacy', 'vm', { host: 'legacy.example.internal', subsets: [{ name: 'v1', labels: { version: 'v1' } }] }),
    ]);
    const host = 'legacy.example.internal';
    assert.deepEqual(ok(reg.cluster({ host, fromNamespace: 'vm' })).endpoints, [
      { address: '10.5.0.1', port: 18080, weight: 2, labels: { app: 'legacy', version: 'v1' } },
      { address: '10.5.0.2', port: 8080, weight: 1, labels: { app: 'legacy' } },
    ]);
    assert.deepEqual(addrs(ok(reg.cluster({ host, subset: 'v1', fromNamespace: 'vm' }))), ['10.5.0.1:18080']);
  });

  test('workloadSelector also selects ready Pods of the namespace (port: targetPort, else number)', () => {
    const reg = registry([
      se('mesh', 'vm', {
        hosts: ['mesh.example.internal'], ports: [{ number: 80, name: 'http', protocol: 'HTTP', targetPort: 8080 }],
        resolution: 'STATIC', location: 'MESH_INTERNAL', workloadSelector: { labels: { app: 'mesh' } },
      }),
      pod('mesh-1', 'vm', { app: 'mesh' }, '10.6.0.1'),
      pod('mesh-2', 'vm', { app: 'mesh' }, '10.6.0.2', [], { conditions: [{ type: 'Ready', status: 'False' }] }),
    ]);
    assert.deepEqual(reg.endpoints('mesh.example.internal', 80), [{ address: '10.6.0.1', port: 8080, weight: 1, labels: { app: 'mesh' } }]);
  });

  test('resolution NONE and STATIC without endpoints give empty clusters with warnings', () => {
    const reg = registry([
      se('none', 'egress', { hosts: ['none.example.com'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }] }),
      se('static', 'egress', { hosts: ['static.example.com'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'STATIC' }),
    ]);
    assert.deepEqual(ok(reg.cluster({ host: 'none.example.com', fromNamespace: 'egress' })).endpoints, []);
    assert.deepEqual(ok(reg.cluster({ host: 'static.example.com', fromNamespace: 'egress' })).endpoints, []);
    assert.deepEqual(reg.diagnostics().map((d) => [d.code, d.severity, d.resource?.name, d.path]), [
      ['REGISTRY_RESOLUTION_NONE', 'warning', 'none', 'spec.resolution'],
      ['REGISTRY_STATIC_NO_ENDPOINTS', 'warning', 'static', 'spec.endpoints'],
    ]);
  });

  test('a Kubernetes Service wins over a ServiceEntry with the same host; between entries the oldest', () => {
    const reg = registry([
      se('shadow', 'shop', { hosts: [CART], ports: [{ number: 80, name: 'http' }], resolution: 'DNS' }),
      svc('cart', 'shop', { ports: [{ name: 'http', port: 80 }] }),
      se('new', 'egress', { hosts: ['dup.example.com'], ports: [{ number: 80, name: 'http' }], resolution: 'DNS' }, { creationTimestamp: '2024-01-01T00:00:00Z' }),
      se('old', 'egress', { hosts: ['dup.example.com'], ports: [{ number: 81, name: 'http' }], resolution: 'DNS' }, { creationTimestamp: '2023-01-01T00:00:00Z' }),
    ]);
    assert.equal(reg.service(CART)?.kind, 'Service');
    assert.equal(reg.service('dup.example.com')?.ports[0]?.port, 81);
    assert.deepEqual(reg.diagnostics().map((d) => [d.code, d.resource?.name]), [['REGISTRY_DUPLICATE_HOST', 'new']]);
  });
});

describe('exportTo visibility (relative to the gateway namespace)', () => {
  const list = () => [
    svc('private', 'shop', { ports: [{ name: 'http', port: 80 }] }, { annotations: { 'networking.istio.io/exportTo': '.' } }),
    svc('cart', 'shop', { ports: [{ name: 'http', port: 80 }] }),
    dr('cart-local', 'shop', { host: 'cart', exportTo: ['.'], trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } }),
    se('hidden', 'egress', { hosts: ['hidden.example.com'], ports: [{ number: 80, name: 'http' }], resolution: 'NONE', exportTo: ['other'] }),
    se('shown', 'egress', { hosts: ['shown.example.com'], ports: [{ number: 80, name: 'http' }], resolution: 'DNS', exportTo: ['istio-system'] }),
  ];

  test('"." in another namespace hides a Service and a DestinationRule', () => {
    const reg = registry(list());
    assert.equal(reg.service('private.shop.svc.cluster.local'), undefined);
    const r = reg.cluster({ host: 'private.shop.svc.cluster.local', fromNamespace: 'shop' });
    assert.equal(!r.ok && r.reason, 'service_not_found');
    assert.equal(ok(reg.cluster({ host: CART, fromNamespace: 'shop' })).lb, 'LEAST_REQUEST');
    assert.equal(reg.service('hidden.example.com'), undefined);
    assert.equal(reg.service('shown.example.com')?.exportTo?.[0], 'istio-system');
    // Hidden objects report nothing (the hidden entry's resolution NONE would warn).
    assert.deepEqual(reg.diagnostics(), []);
  });

  test('the same objects are visible to a gateway running in their namespace', () => {
    const reg = registry(list(), { ...ID, namespace: 'shop' });
    assert.equal(reg.service('private.shop.svc.cluster.local')?.exportTo?.[0], '.');
    assert.equal(ok(reg.cluster({ host: CART, fromNamespace: 'shop' })).lb, 'RANDOM');
    assert.equal(reg.service('shown.example.com'), undefined);
  });
});

describe('diagnostics', () => {
  test('DR host not found, duplicate subsets, unnamed ports, EndpointSlice without service label', () => {
    const reported: Diagnostic[] = [];
    const list = [
      svc('cart', 'shop', { ports: [{ name: 'http', port: 80 }, { port: 81 }] }),
      dr('ghost', 'shop', { host: 'ghost' }),
      dr('cart', 'shop', { host: 'cart', subsets: [
        { name: 'v1', labels: { version: 'v1' } },
        { name: 'v1', labels: { version: 'v2' } },
      ] }),
      slice('orphan', 'shop', undefined, [{ name: 'http', port: 80 }], [{ addresses: ['10.0.0.1'] }]),
    ];
    const reg = createServiceRegistry({ identity: ID, byKind: byKindOf(list), report: (d) => reported.push(d) });
    const ds = reg.diagnostics();
    assert.deepEqual(ds.map((d) => [d.code, d.severity, `${d.resource?.kind}/${d.resource?.name}`, d.path]), [
      ['REGISTRY_DR_DUPLICATE_SUBSET', 'error', 'DestinationRule/cart', 'spec.subsets[1].name'],
      ['REGISTRY_DR_HOST_NOT_FOUND', 'warning', 'DestinationRule/ghost', 'spec.host'],
      ['REGISTRY_ENDPOINTSLICE_NO_SERVICE', 'warning', 'EndpointSlice/orphan', 'metadata.labels'],
      ['REGISTRY_SERVICE_PORT_UNNAMED', 'warning', 'Service/cart', 'spec.ports[1].name'],
    ]);
    assert.deepEqual(reported, ds);
    assert.match(ds[1]!.message, /"ghost\.shop\.svc\.cluster\.local"/);
    // The first subset of a duplicated name is the one kept.
    const c = ok(reg.cluster({ host: CART, port: 80, subset: 'v1', fromNamespace: 'shop' }));
    assert.equal(c.subset, 'v1');
    for (const d of ds) assert.ok(d.code in REGISTRY_CODES, d.code);
  });

  test('origin is filled from the resource positions', () => {
    const base = dr('ghost', 'shop', { host: 'ghost' });
    const withPos: LoadedResource = {
      ...base,
      positionOf: (path) => (path === 'spec.host' ? { file: 'dr.yaml', line: 7, col: 9 } : undefined),
    };
    const [d] = registry([withPos]).diagnostics();
    assert.deepEqual(d?.origin, { file: 'dr.yaml', line: 7, col: 9 });
  });

  test('invalid values are ignored with a warning and defaults apply', () => {
    const reg = registry([
      svc('cart', 'shop', { ports: [{ name: 'http', port: 80 }] }),
      dr('cart', 'shop', { host: 'cart', trafficPolicy: {
        loadBalancer: { simple: 'ROUND_ROBINN' },
        connectionPool: { tcp: { connectTimeout: 'soon', maxConnections: -1 } },
      } }),
    ]);
    const c = ok(reg.cluster({ host: CART, fromNamespace: 'shop' }));
    assert.equal(c.lb, 'LEAST_REQUEST');
    assert.equal(c.connectTimeoutMs, 10_000);
    assert.equal(c.maxConnections, undefined);
    assert.deepEqual(reg.diagnostics().map((d) => [d.code, d.path]), [
      ['REGISTRY_INVALID_FIELD', 'spec.trafficPolicy.connectionPool.tcp.connectTimeout'],
      ['REGISTRY_INVALID_FIELD', 'spec.trafficPolicy.connectionPool.tcp.maxConnections'],
      ['REGISTRY_INVALID_FIELD', 'spec.trafficPolicy.loadBalancer.simple'],
    ]);
  });
});

describe('determinism', () => {
  /** A fixed pseudo-random permutation (no Math.random: the test must be repeatable). */
  function shuffle<T>(list: readonly T[], seed: number): T[] {
    const out = [...list];
    let s = seed;
    for (let i = out.length - 1; i > 0; i--) {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      const j = s % (i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  test('shuffled input and request order give identical clusters and diagnostics', () => {
    const input = [
      svc('reviews', 'shop', { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080, targetPort: 'web' }, { port: 9081 }] }),
      pod('r-1', 'shop', { app: 'reviews', version: 'v1' }, '10.0.0.3', [{ name: 'web', containerPort: 8000 }]),
      pod('r-2', 'shop', { app: 'reviews', version: 'v2' }, '10.0.0.1', [{ name: 'web', containerPort: 8000 }]),
      pod('r-3', 'shop', { app: 'reviews', version: 'v1' }, '10.0.0.2', [{ name: 'web', containerPort: 8000 }]),
      svc('cart', 'shop', { ports: [{ name: 'http', port: 80 }] }),
      slice('cart-b', 'shop', 'cart', [{ name: 'http', port: 8080 }], [{ addresses: ['10.1.0.9', '10.1.0.2'] }]),
      slice('cart-a', 'shop', 'cart', [{ name: 'http', port: 8080 }], [{ addresses: ['10.1.0.5'] }, { addresses: ['10.1.0.2'] }]),
      se('ext', 'egress', { hosts: ['b.example.com', 'a.example.com'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], resolution: 'STATIC',
        endpoints: [{ address: '192.0.2.2', weight: 2 }, { address: '192.0.2.1' }, { address: 'bad' }] }),
      dr('reviews', 'shop', { host: 'reviews', trafficPolicy: { loadBalancer: { simple: 'RANDOM' } }, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v1' }] }),
      dr('ghost', 'shop', { host: 'ghost' }),
      dr('wild', 'egress', { host: '*.example.com', trafficPolicy: { outlierDetection: {} } }),
    ];
    const requests = [
      { host: 'reviews.shop.svc.cluster.local', port: 9080, subset: 'v1' },
      { host: 'reviews.shop.svc.cluster.local', port: 9081 },
      { host: CART },
      { host: 'a.example.com' },
      { host: 'b.example.com' },
    ];
    const run = (seed: number) => {
      const reg = registry(shuffle(input, seed));
      for (const r of shuffle(requests, seed + 1)) ok(reg.cluster({ ...r, fromNamespace: 'shop' }));
      return JSON.stringify({ clusters: reg.clusters(), diagnostics: reg.diagnostics() });
    };
    const first = run(1);
    for (const seed of [2, 3, 42, 1234]) assert.equal(run(seed), first);
    const parsed = JSON.parse(first) as { clusters: ClusterIR[] };
    assert.deepEqual(parsed.clusters.map((c) => c.name), [
      'outbound|443||a.example.com',
      'outbound|443||b.example.com',
      `outbound|80||${CART}`,
      'outbound|9080|v1|reviews.shop.svc.cluster.local',
      'outbound|9081||reviews.shop.svc.cluster.local',
    ]);
    assert.deepEqual(addrs(parsed.clusters[2]!), ['10.1.0.2:8080', '10.1.0.5:8080', '10.1.0.9:8080']);
    assert.deepEqual(addrs(parsed.clusters[3]!), ['10.0.0.2:8000', '10.0.0.3:8000']);
  });
});
