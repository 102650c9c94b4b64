import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDiagnostic, keyString } from '../../../errors/diagnostic.js';
import { parseMeshConfig, DEFAULT_MESH_CONFIG, type MeshConfig } from '../../mesh/mesh-config.js';
import type { LoadedResource } from '../../resources/types.js';
import { parseFile } from '../../sources/parse-file.js';
import { DEFAULT_IDENTITY, translate } from '../index.js';

const FILE = 'cfg/telemetry.yaml';

function load(text: string): LoadedResource[] {
  const parse = parseFile(FILE, 'hash', text);
  assert.deepEqual(parse.diagnostics, [], 'fixture must load cleanly');
  return parse.objects.map((o, seq) => ({ key: o.key, object: o.object, origin: o.origin, positionOf: o.positionOf, source: 'test', seq }));
}

function tel(name: string, ns: string, spec: string, created?: string): string {
  return `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: ${name}, namespace: ${ns}${created ? `, creationTimestamp: "${created}"` : ''}}
spec:
${spec}---
`;
}

const MESH: MeshConfig = parseMeshConfig('mesh.yaml', `extensionProviders:
- name: json-file
  envoyFileAccessLog: {path: /tmp/a.log, logFormat: {labels: {}}}
`).mesh!;

function run(yaml: string, mesh: MeshConfig = MESH) {
  return translate(load(yaml), DEFAULT_IDENTITY, mesh);
}

describe('Telemetry: scope and hierarchy', () => {
  it('no Telemetry and no default provider: the IR has no telemetry (MeshConfig accessLogFile decides)', () => {
    assert.equal(run('').ir.telemetry, undefined);
  });

  it('defaultProviders.accessLogging alone turns on those providers', () => {
    const mesh = parseMeshConfig('m.yaml', 'defaultProviders: {accessLogging: [envoy]}\n').mesh!;
    assert.deepEqual(run('', mesh).ir.telemetry, { accessLogging: [{ provider: 'envoy' }], sources: [] });
  });

  it('root namespace = mesh-wide; the gateway namespace overrides; a matching selector overrides both', () => {
    const t = run([
      tel('mesh', 'istio-system', '  accessLogging: [{providers: [{name: envoy}]}]\n', '2024-01-01T00:00:00Z'),
      tel('gw', 'istio-system', '  selector: {matchLabels: {istio: ingressgateway}}\n  accessLogging: [{providers: [{name: json-file}], filter: {expression: "response.code >= 500"}}]\n'),
      tel('other-ns', 'shop', '  accessLogging: [{disabled: true}]\n'),
      tel('other-labels', 'istio-system', '  selector: {matchLabels: {app: nope}}\n  accessLogging: [{disabled: true}]\n'),
    ].join(''));
    assert.deepEqual(t.ir.telemetry?.accessLogging, [{ provider: 'json-file', filter: 'response.code >= 500' }]);
    assert.deepEqual(t.ir.telemetry?.sources.map(keyString), ['Telemetry/istio-system/mesh', 'Telemetry/istio-system/gw']);
    assert.equal(t.statuses.get('Telemetry/shop/other-ns')?.state, 'ignored');
    assert.equal(t.statuses.get('Telemetry/istio-system/other-labels')?.state, 'ignored');
    assert.equal(t.statuses.get('Telemetry/istio-system/gw')?.state, 'accepted');
  });

  it('disabled: true with no provider turns access logging off (overrides the mesh log)', () => {
    const t = run(tel('mesh', 'istio-system', '  accessLogging: [{disabled: true}]\n'));
    assert.deepEqual(t.ir.telemetry?.accessLogging, []);
  });

  it('a disabled entry inherits the providers of its parent', () => {
    const t = run([
      tel('mesh', 'istio-system', '  accessLogging: [{providers: [{name: envoy}]}]\n'),
      tel('gw', 'istio-system', '  selector: {matchLabels: {istio: ingressgateway}}\n  accessLogging: [{disabled: true}]\n'),
    ].join(''));
    assert.deepEqual(t.ir.telemetry?.accessLogging, []);
  });

  it('two Telemetry at one level: the oldest wins, the other is reported', () => {
    const t = run([
      tel('newer', 'istio-system', '  accessLogging: [{disabled: true}]\n', '2024-06-01T00:00:00Z'),
      tel('older', 'istio-system', '  accessLogging: [{providers: [{name: envoy}]}]\n', '2024-01-01T00:00:00Z'),
    ].join(''));
    assert.deepEqual(t.ir.telemetry?.accessLogging, [{ provider: 'envoy' }]);
    const d = t.diagnostics.find((x) => x.code === 'OBS_TELEMETRY_CONFLICT')!;
    assert.equal(d.resource?.name, 'newer');
    assert.equal(t.statuses.get('Telemetry/istio-system/newer')?.state, 'ignored');
  });

  it('targetRefs to a Gateway API Gateway present in the config select this gateway', () => {
    const gw = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: web}
spec: {gatewayClassName: portico, listeners: [{name: http, port: 8080, protocol: HTTP}]}
---
`;
    const t = run(gw + tel('by-ref', 'web', '  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: edge}]\n  accessLogging: [{providers: [{name: envoy}]}]\n')
      + tel('bad-ref', 'web', '  targetRefs: [{kind: Service, name: edge}]\n  accessLogging: [{disabled: true}]\n'));
    assert.deepEqual(t.ir.telemetry?.accessLogging, [{ provider: 'envoy' }]);
    assert.ok(t.diagnostics.some((d) => d.code === 'OBS_TELEMETRY_TARGET_UNSUPPORTED' && d.resource?.name === 'bad-ref'));
  });
});

describe('Telemetry: metrics', () => {
  it('overrides merge in order per metric; tags by name; ALL_METRICS fans out', () => {
    const t = run([
      tel('mesh', 'istio-system', `  metrics:
  - providers: [{name: prometheus}]
    overrides:
    - tagOverrides: {cluster_tag: {value: "'east'"}}
    - match: {metric: REQUEST_COUNT}
      tagOverrides:
        tenant: {value: "request.headers['x-tenant']"}
        response_flags: {operation: REMOVE}
`),
      tel('gw', 'istio-system', `  selector: {matchLabels: {istio: ingressgateway}}
  metrics:
  - overrides:
    - match: {metric: REQUEST_SIZE, mode: CLIENT}
      disabled: true
    - match: {metric: REQUEST_COUNT, mode: SERVER}
      disabled: true
`),
    ].join(''));
    const m = t.ir.telemetry!.metrics!;
    assert.deepEqual(m.providers, ['prometheus']);
    assert.deepEqual(m.overrides.REQUEST_COUNT, { tags: [
      { name: 'cluster_tag', remove: false, value: "'east'" },
      { name: 'response_flags', remove: true },
      { name: 'tenant', remove: false, value: "request.headers['x-tenant']" },
    ] });
    assert.deepEqual(m.overrides.REQUEST_SIZE, { disabled: true, tags: [{ name: 'cluster_tag', remove: false, value: "'east'" }] });
    assert.ok(t.diagnostics.some((d) => d.code === 'OBS_TELEMETRY_FIELD_UNSUPPORTED' && d.path === 'spec.metrics[0].overrides[1].match.mode'));
  });

  it('ALL_METRICS disabled drops the prometheus provider', () => {
    const t = run(tel('mesh', 'istio-system', '  metrics:\n  - overrides: [{match: {metric: ALL_METRICS}, disabled: true}]\n'));
    assert.deepEqual(t.ir.telemetry?.metrics, { providers: [], overrides: {} });
  });
});

describe('Telemetry: validation with precise errors', () => {
  it('a CEL error rejects the resource with file:line, field path and the position in the expression', () => {
    const t = run(tel('mesh', 'istio-system', `  accessLogging:
  - providers: [{name: envoy}]
    filter:
      expression: "response.code >= 400 && request.bogus == 'x'"
`));
    const d = t.diagnostics.filter((x) => x.severity === 'error').map(formatDiagnostic);
    assert.deepEqual(d, [
      `${FILE}:8:19  Telemetry/istio-system/mesh  spec.accessLogging[0].filter.expression  Invalid CEL expression "response.code >= 400 && request.bogus == 'x'": Unknown attribute "request.bogus" at position 24`,
    ]);
    assert.equal(t.statuses.get('Telemetry/istio-system/mesh')?.state, 'rejected');
    assert.equal(t.ir.telemetry, undefined);
  });

  it('schema errors: enum, UPSERT without value, selector and targetRefs together', () => {
    const t = run(tel('mesh', 'istio-system', `  selector: {matchLabels: {a: b}}
  targetRefs: [{kind: Gateway, name: x}]
  metrics:
  - overrides:
    - match: {metric: REQUEST_COUNTS}
      tagOverrides:
        t: {operation: UPSERT}
        u: {value: "request.headers['x'"}
`));
    const d = t.diagnostics.filter((x) => x.severity === 'error').map((x) => [x.code, x.path, x.origin?.line]);
    assert.deepEqual(d, [
      ['VALIDATE_ENUM', 'spec.metrics[0].overrides[0].match.metric', 9],
      ['VALIDATE_REQUIRED', 'spec.metrics[0].overrides[0].tagOverrides.t.value', 11],
      ['OBS_CEL_INVALID', 'spec.metrics[0].overrides[0].tagOverrides.u.value', 12],
      ['VALIDATE_ONE_OF', 'spec.targetRefs', 6],
    ]);
  });

  it('unknown providers and unsupported fields are warnings', () => {
    const t = run(tel('mesh', 'istio-system', `  tracing: [{randomSamplingPercentage: 10}]
  accessLogging: [{providers: [{name: nope}, {name: prometheus}]}]
`));
    const w = t.diagnostics.filter((x) => x.severity === 'warning').map((x) => [x.code, x.path]);
    assert.deepEqual(w, [
      ['OBS_TELEMETRY_FIELD_UNSUPPORTED', 'spec.tracing'],
      ['OBS_PROVIDER_NOT_FOUND', 'spec.accessLogging[0].providers[0].name'],
      ['OBS_PROVIDER_UNSUPPORTED', 'spec.accessLogging[0].providers[1].name'],
    ]);
    assert.equal(t.statuses.get('Telemetry/istio-system/mesh')?.state, 'partial');
  });

  it('logging on without any provider is reported (nothing would be logged, as in Istio)', () => {
    const t = run(tel('mesh', 'istio-system', '  accessLogging: [{filter: {expression: "response.code >= 400"}}]\n'), DEFAULT_MESH_CONFIG);
    assert.ok(t.diagnostics.some((d) => d.code === 'OBS_TELEMETRY_NO_PROVIDER'));
    assert.deepEqual(t.ir.telemetry?.accessLogging, []);
  });
});
