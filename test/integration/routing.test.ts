/**
 * Routing end to end over real sockets: Istio match kinds and first-match order, weights,
 * DestinationRule subsets over ServiceEntry STATIC endpoints, prefix rewrite; Gateway API
 * listener isolation and route precedence; Ingress Prefix/Exact and defaultBackend.
 * Which route served a request is read from the access log (route_name) or the echo's name.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { EchoServer } from '../../src/cli/echo.js';
import {
  freePort, istioGatewayYaml, request, serviceYaml, startEchos, startTestGateway, virtualServiceYaml, waitFor,
  type TestGateway,
} from '../helpers/gateway.js';

interface Echo { name: string; path: string; query: string; host: string; headers: Record<string, string> }

const A = '[{destination: {host: echo-a.demo.svc.cluster.local, port: {number: 80}}}]';

describe('routing end to end', () => {
  let gw: TestGateway;
  let echos: EchoServer[];
  let istioPort: number;
  let gapiPort: number;
  let ingressPort: number;
  let seq = 0;

  /** Send one request and return the route_name the access log recorded ('-' when none) and the status. */
  async function routeOf(path: string, opts: { method?: string; headers?: Record<string, string>; host?: string } = {}): Promise<string> {
    const id = `rt-${++seq}`;
    const r = await request(istioPort, { path, method: opts.method ?? 'GET', host: opts.host ?? 'match.test', headers: { ...(opts.headers ?? {}), 'x-request-id': id } });
    const l = await waitFor(() => gw.logs.find((x) => x.request_id === id), 3000);
    if (r.status === 404) return '404';
    return l.route_name!;
  }

  /** Echo name that served `path` on `port` with `host`, or the status when it is not 200. */
  async function served(port: number, host: string, path: string, headers: Record<string, string> = {}): Promise<string> {
    const r = await request(port, { path, host, headers });
    if (r.status !== 200) return String(r.status);
    return (JSON.parse(r.body) as Echo).name;
  }

  before(async () => {
    echos = await startEchos('echo-a', 'echo-b', 'echo-c', 'echo-v1', 'echo-v2');
    const [a, b, c, v1, v2] = echos as [EchoServer, EchoServer, EchoServer, EchoServer, EchoServer];
    istioPort = await freePort();
    gapiPort = await freePort();
    ingressPort = await freePort();
    gw = await startTestGateway({
      'gw.yaml': istioGatewayYaml(istioPort),
      'svc.yaml': [serviceYaml('echo-a', [a.port]), serviceYaml('echo-b', [b.port]), serviceYaml('echo-c', [c.port])].join('---\n'),
      'vs.yaml': virtualServiceYaml('matches', `  - name: exact
    match: [{uri: {exact: /exact}}]
    route: ${A}
  - name: regex
    match: [{uri: {regex: "/foo|/bar"}}]
    route: ${A}
  - name: hdr-exact
    match: [{uri: {prefix: /h}, headers: {x-user: {exact: alice}}}]
    route: ${A}
  - name: hdr-present
    match: [{uri: {prefix: /h}, headers: {x-present: {}}}]
    route: ${A}
  - name: without
    match: [{uri: {prefix: /w}, withoutHeaders: {x-block: {exact: "yes"}}}]
    route: ${A}
  - name: query
    match: [{uri: {prefix: /q}, queryParams: {v: {exact: "1"}}}]
    route: ${A}
  - name: method
    match: [{uri: {prefix: /m}, method: {exact: POST}}]
    route: ${A}
  - name: icase
    match: [{uri: {exact: /CaseLess}, ignoreUriCase: true}]
    route: ${A}
  - name: order-first
    match: [{uri: {prefix: /order}}]
    route: ${A}
  - name: order-second
    match: [{uri: {prefix: /order/specific}}]
    route: ${A}
  - name: plainprefix
    match: [{uri: {prefix: /pre}}]
    route: ${A}
  - name: ci-regex
    match: [{uri: {regex: "(?i)/ci/[a-z]+"}}]
    route: ${A}
  - name: hdr-star
    match: [{uri: {prefix: /star}, headers: {x-star: {regex: "*"}}}]
    route: ${A}
  - name: without-empty
    match: [{uri: {prefix: /empty-hdr}, withoutHeaders: {x-e: {exact: ""}}}]
    route: ${A}
  - name: authority-port
    match: [{uri: {prefix: /auth}, authority: {exact: "match.test:1234"}}]
    route: ${A}
  - name: fallback
    route: ${A}
`, { hosts: ['match.test'] }),
      'vs-traffic.yaml': virtualServiceYaml('traffic', `  - name: rewrite
    match: [{uri: {prefix: /old}}]
    rewrite: {uri: /new}
    route: ${A}
  - name: split
    match: [{uri: {prefix: /split}}]
    route:
    - destination: {host: echo-a.demo.svc.cluster.local, port: {number: 80}}
      weight: 80
    - destination: {host: echo-b.demo.svc.cluster.local, port: {number: 80}}
      weight: 20
  - name: subset-v1
    match: [{uri: {prefix: /subset/v1}}]
    route: [{destination: {host: se.test, port: {number: 80}, subset: v1}}]
  - name: subset-v2
    match: [{uri: {prefix: /subset/v2}}]
    route: [{destination: {host: se.test, port: {number: 80}, subset: v2}}]
  - name: subset-undefined
    match: [{uri: {prefix: /subset/v3}}]
    route: [{destination: {host: se.test, port: {number: 80}, subset: v3}}]
  - name: subset-any
    match: [{uri: {prefix: /subset}}]
    route: [{destination: {host: se.test, port: {number: 80}}}]
`, { hosts: ['traffic.test'] }),
      'vs-merge.yaml': `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b-old, namespace: demo, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  hosts: [merge.test]
  gateways: ["istio-system/gw"]
  http:
  - name: old-all
    route: ${A}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a-new, namespace: demo, creationTimestamp: "2025-01-01T00:00:00Z"}
spec:
  hosts: [merge.test]
  gateways: ["istio-system/gw"]
  http:
  - name: new-specific
    match: [{uri: {prefix: /specific}}]
    route: ${A}
`,
      'mesh.yaml': `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: se, namespace: demo}
spec:
  hosts: [se.test]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints:
  - {address: 127.0.0.1, ports: {http: ${v1.port}}, labels: {version: v1}}
  - {address: 127.0.0.1, ports: {http: ${v2.port}}, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: se, namespace: demo}
spec:
  host: se.test
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`,
      'gapi.yaml': `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: portico}
spec: {controllerName: portico.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gapi, namespace: demo}
spec:
  gatewayClassName: portico
  listeners:
  - {name: specific, port: ${gapiPort}, protocol: HTTP, hostname: a.example.com}
  - {name: wild, port: ${gapiPort}, protocol: HTTP, hostname: "*.example.com"}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: specific, namespace: demo}
spec:
  parentRefs: [{name: gapi, sectionName: specific}]
  rules:
  - backendRefs: [{name: echo-a, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: wild, namespace: demo}
spec:
  parentRefs: [{name: gapi, sectionName: wild}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /only-wild}}]
    backendRefs: [{name: echo-b, port: 80}]
  - backendRefs: [{name: echo-c, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: prec-1, namespace: demo}
spec:
  parentRefs: [{name: gapi, sectionName: wild}]
  hostnames: [prec.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: echo-a, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: prec-2, namespace: demo}
spec:
  parentRefs: [{name: gapi, sectionName: wild}]
  hostnames: [prec.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api/long}}]
    backendRefs: [{name: echo-c, port: 80}]
  - matches: [{path: {type: Exact, value: /api/exact}}]
    backendRefs: [{name: echo-b, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /api}, headers: [{name: x-h, value: "1"}]}]
    backendRefs: [{name: echo-b, port: 80}]
`,
      'gapi-extra.yaml': `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: extra, namespace: demo}
spec:
  parentRefs: [{name: gapi, sectionName: wild}]
  hostnames: [extra.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /m}, method: GET}]
    backendRefs: [{name: echo-a, port: 80}]
  - matches: [{headers: [{name: x-only, value: h}]}]
    backendRefs: [{name: echo-c, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /rw}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}]
    backendRefs: [{name: echo-a, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /to-https}}]
    filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}]
  - matches: [{path: {type: PathPrefix, value: /to-host}}]
    filters: [{type: RequestRedirect, requestRedirect: {hostname: moved.example.com, statusCode: 301}}]
  - backendRefs: [{name: echo-b, port: 80}]
`,
      'ingress.yaml': `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ing, namespace: demo}
spec:
  ingressClassName: portico
  defaultBackend: {service: {name: echo-c, port: {number: 80}}}
  rules:
  - host: ing.test
    http:
      paths:
      - {path: /app, pathType: Prefix, backend: {service: {name: echo-a, port: {number: 80}}}}
      - {path: /exact, pathType: Exact, backend: {service: {name: echo-b, port: {number: 80}}}}
`,
    }, { 'ingress-port': String(ingressPort) });
  });

  after(async () => {
    await gw?.close();
    await Promise.all((echos ?? []).map((e) => e.close()));
  });

  describe('Istio matches', () => {
    it('uri exact', async () => {
      assert.equal(await routeOf('/exact'), 'exact');
      assert.equal(await routeOf('/exact/'), 'fallback');
      assert.equal(await routeOf('/exactly'), 'fallback');
      assert.equal(await routeOf('/exact?x=1'), 'exact');
    });

    it('uri regex is a full match (/foo|/bar does not match /foobar)', async () => {
      assert.equal(await routeOf('/foo'), 'regex');
      assert.equal(await routeOf('/bar'), 'regex');
      assert.equal(await routeOf('/foobar'), 'fallback');
      assert.equal(await routeOf('/xfoo'), 'fallback');
    });

    it('uri prefix is a plain string prefix', async () => {
      assert.equal(await routeOf('/pre'), 'plainprefix');
      assert.equal(await routeOf('/prefix'), 'plainprefix');
      assert.equal(await routeOf('/pr'), 'fallback');
    });

    it('headers exact and presence', async () => {
      assert.equal(await routeOf('/h', { headers: { 'x-user': 'alice' } }), 'hdr-exact');
      assert.equal(await routeOf('/h', { headers: { 'X-User': 'alice' } }), 'hdr-exact');
      assert.equal(await routeOf('/h', { headers: { 'x-user': 'bob' } }), 'fallback');
      assert.equal(await routeOf('/h', { headers: { 'x-user': 'bob', 'x-present': 'anything' } }), 'hdr-present');
      assert.equal(await routeOf('/h'), 'fallback');
    });

    it('withoutHeaders', async () => {
      assert.equal(await routeOf('/w'), 'without');
      assert.equal(await routeOf('/w', { headers: { 'x-block': 'no' } }), 'without');
      assert.equal(await routeOf('/w', { headers: { 'x-block': 'yes' } }), 'fallback');
    });

    it('queryParams', async () => {
      assert.equal(await routeOf('/q?v=1'), 'query');
      assert.equal(await routeOf('/q?x=0&v=1'), 'query');
      assert.equal(await routeOf('/q?v=2'), 'fallback');
      assert.equal(await routeOf('/q'), 'fallback');
    });

    it('method', async () => {
      assert.equal(await routeOf('/m', { method: 'POST' }), 'method');
      assert.equal(await routeOf('/m'), 'fallback');
    });

    it('ignoreUriCase', async () => {
      assert.equal(await routeOf('/caseless'), 'icase');
      assert.equal(await routeOf('/CASELESS'), 'icase');
      assert.equal(await routeOf('/CaseLess'), 'icase');
      assert.equal(await routeOf('/caseless/x'), 'fallback');
    });

    it('first match wins inside one VirtualService (no specificity sort)', async () => {
      assert.equal(await routeOf('/order/specific'), 'order-first');
      assert.equal(await routeOf('/order'), 'order-first');
    });

    it('uri regex honours (?i)', async () => {
      assert.equal(await routeOf('/ci/abc'), 'ci-regex');
      assert.equal(await routeOf('/CI/ABC'), 'ci-regex');
      assert.equal(await routeOf('/ci/abc1'), 'fallback');
    });

    it('header regex "*" means present', async () => {
      assert.equal(await routeOf('/star', { headers: { 'x-star': 'anything' } }), 'hdr-star');
      assert.equal(await routeOf('/star'), 'fallback');
    });

    it('withoutHeaders treats a missing header as the empty string', async () => {
      assert.equal(await routeOf('/empty-hdr', { headers: { 'x-e': 'v' } }), 'without-empty');
      assert.equal(await routeOf('/empty-hdr'), 'fallback');
    });

    it('virtual-host selection ignores the Host port, authority match sees it', async () => {
      assert.equal(await routeOf('/exact', { host: `match.test:${istioPort}` }), 'exact');
      assert.equal(await routeOf('/auth', { host: 'match.test:1234' }), 'authority-port');
      assert.equal(await routeOf('/auth', { host: 'match.test' }), 'fallback');
    });

    it('VirtualServices for one host merge; the older catch-all goes last', async () => {
      assert.equal(await routeOf('/specific/x', { host: 'merge.test' }), 'new-specific');
      assert.equal(await routeOf('/other', { host: 'merge.test' }), 'old-all');
    });

    it('host not in the VirtualService gets 404', async () => {
      assert.equal(await routeOf('/exact', { host: 'nomatch.test' }), '404');
    });
  });

  describe('Istio traffic', () => {
    it('weights 80/20 over 500 requests', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
      try {
        const names = await Promise.all(Array.from({ length: 500 }, () => new Promise<string>((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port: istioPort, path: '/split', agent, headers: { host: 'traffic.test' } }, (res) => {
            let b = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => { b += d; });
            res.on('end', () => resolve(res.statusCode === 200 ? (JSON.parse(b) as Echo).name : String(res.statusCode)));
          });
          req.on('error', reject);
          req.end();
        })));
        const a = names.filter((n) => n === 'echo-a').length;
        const b = names.filter((n) => n === 'echo-b').length;
        assert.equal(a + b, 500, `unexpected: ${[...new Set(names)].join(',')}`);
        const share = a / 500;
        assert.ok(share >= 0.7 && share <= 0.9, `echo-a share ${share}`);
      } finally {
        agent.destroy();
      }
    });

    it('DestinationRule subsets pick ServiceEntry endpoints by label', async () => {
      for (let i = 0; i < 6; i++) {
        assert.equal(await served(istioPort, 'traffic.test', '/subset/v1'), 'echo-v1');
        assert.equal(await served(istioPort, 'traffic.test', '/subset/v2'), 'echo-v2');
      }
      const seen = new Set<string>();
      for (let i = 0; i < 20; i++) seen.add(await served(istioPort, 'traffic.test', '/subset/any'));
      assert.deepEqual([...seen].sort(), ['echo-v1', 'echo-v2']);
    });

    it('an undefined subset answers 503 and never falls back to all endpoints', async () => {
      for (let i = 0; i < 4; i++) assert.equal(await served(istioPort, 'traffic.test', '/subset/v3'), '503');
    });

    it('rewrite uri prefix: the echo sees the new path, the query survives, the log keeps the original', async () => {
      const r = await request(istioPort, { path: '/old/thing?keep=1', host: 'traffic.test', headers: { 'x-request-id': 'rw-1' } });
      assert.equal(r.status, 200);
      const e = JSON.parse(r.body) as Echo;
      assert.equal(e.path, '/new/thing');
      assert.equal(e.query, 'keep=1');
      const l = await waitFor(() => gw.logs.find((x) => x.request_id === 'rw-1'), 3000);
      assert.equal(l.path, '/old/thing?keep=1');
      // Istio: rewrite without a trailing slash concatenates (/oldies → /newies).
      assert.equal((JSON.parse((await request(istioPort, { path: '/oldies', host: 'traffic.test' })).body) as Echo).path, '/newies');
    });
  });

  describe('Gateway API', () => {
    it('listener isolation: the most specific listener alone serves its host', async () => {
      assert.equal(await served(gapiPort, 'a.example.com', '/only-wild'), 'echo-a');
      assert.equal(await served(gapiPort, 'a.example.com', '/'), 'echo-a');
      assert.equal(await served(gapiPort, 'b.example.com', '/only-wild'), 'echo-b');
      assert.equal(await served(gapiPort, 'b.example.com', '/other'), 'echo-c');
      assert.equal(await served(gapiPort, `b.example.com:${gapiPort}`, '/only-wild'), 'echo-b');
    });

    it('a wildcard listener does not cover the bare parent domain; unknown hosts get 404', async () => {
      assert.equal(await served(gapiPort, 'example.com', '/'), '404');
      assert.equal(await served(gapiPort, 'other.test', '/'), '404');
    });

    it('precedence across routes: exact > longest prefix > header matches; prefixes are by segment', async () => {
      assert.equal(await served(gapiPort, 'prec.example.com', '/api/exact'), 'echo-b');
      assert.equal(await served(gapiPort, 'prec.example.com', '/api/long/x'), 'echo-c');
      assert.equal(await served(gapiPort, 'prec.example.com', '/api/long'), 'echo-c');
      assert.equal(await served(gapiPort, 'prec.example.com', '/api/longer'), 'echo-a');
      assert.equal(await served(gapiPort, 'prec.example.com', '/api/other'), 'echo-a');
      assert.equal(await served(gapiPort, 'prec.example.com', '/api/other', { 'x-h': '1' }), 'echo-b');
      assert.equal(await served(gapiPort, 'prec.example.com', '/api'), 'echo-a');
      // PathPrefix /api is by segment: /apix is not under it.
      assert.notEqual(await served(gapiPort, 'prec.example.com', '/apix'), 'echo-a');
    });
  });

  describe('Gateway API matches, filters and redirects', () => {
    it('HEAD does not match a method: GET rule', async () => {
      assert.equal(await served(gapiPort, 'extra.example.com', '/m'), 'echo-a');
      const h = await request(gapiPort, { method: 'HEAD', path: '/m', host: 'extra.example.com' });
      assert.equal(h.status, 200);
      assert.equal(h.headers['x-echo-name'], 'echo-b');
    });

    it('a header-only match (implicit / prefix) beats a bare / rule', async () => {
      assert.equal(await served(gapiPort, 'extra.example.com', '/anything', { 'x-only': 'h' }), 'echo-c');
      assert.equal(await served(gapiPort, 'extra.example.com', '/anything'), 'echo-b');
    });

    it('URLRewrite ReplacePrefixMatch replaces whole segments, never yields //, keeps the query', async () => {
      for (const [from, path, query] of [['/rw/a/b?q=1', '/a/b', 'q=1'], ['/rw', '/', ''], ['/rw/', '/', ''], ['/rw/x', '/x', '']] as const) {
        const r = await request(gapiPort, { path: from, host: 'extra.example.com' });
        assert.equal(r.status, 200, from);
        const e = JSON.parse(r.body) as Echo;
        assert.equal(e.name, 'echo-a', from);
        assert.equal(e.path, path, from);
        assert.equal(e.query, query, from);
      }
      // /rwx is not under the /rw prefix (segment match): it falls to the bare rule, unrewritten.
      assert.equal(await served(gapiPort, 'extra.example.com', '/rwx'), 'echo-b');
    });

    it('RequestRedirect: default 302, scheme https drops the port, hostname keeps the listener port', async () => {
      const s1 = await request(gapiPort, { path: '/to-https/x?y=1', host: `extra.example.com:${gapiPort}` });
      assert.equal(s1.status, 302);
      assert.equal(s1.headers.location, 'https://extra.example.com/to-https/x?y=1');
      const s2 = await request(gapiPort, { path: '/to-host/x', host: `extra.example.com:${gapiPort}` });
      assert.equal(s2.status, 301);
      assert.equal(s2.headers.location, `http://moved.example.com:${gapiPort}/to-host/x`);
    });
  });

  describe('Ingress', () => {
    it('Prefix is by segment, Exact is exact, and defaultBackend takes everything else', async () => {
      assert.equal(await served(ingressPort, 'ing.test', '/app'), 'echo-a');
      assert.equal(await served(ingressPort, 'ing.test', '/app/x'), 'echo-a');
      assert.equal(await served(ingressPort, 'ing.test', '/app/'), 'echo-a');
      assert.equal(await served(ingressPort, 'ing.test', '/apple'), 'echo-c');
      assert.equal(await served(ingressPort, 'ing.test', '/exact'), 'echo-b');
      assert.equal(await served(ingressPort, 'ing.test', '/exact/x'), 'echo-c');
      assert.equal(await served(ingressPort, 'ing.test', '/'), 'echo-c');
      assert.equal(await served(ingressPort, 'other.test', '/app'), 'echo-c');
    });
  });
});
