import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../errors/diagnostic.js';
import { findProvider, loadMeshConfig, parseMeshConfig } from './mesh-config.js';

const F = '/etc/portico/mesh.yaml';

function errs(text: string): string[] {
  return parseMeshConfig(F, text).diagnostics.map(formatDiagnostic);
}

describe('MeshConfig: loading', () => {
  it('reads the access-log fields and merges providers with the built-in envoy and prometheus', () => {
    const r = parseMeshConfig(F, `accessLogFile: /dev/stdout
accessLogEncoding: JSON
accessLogFormat: '{"code": "%RESPONSE_CODE%"}'
defaultProviders:
  accessLogging: [file-log]
extensionProviders:
- name: file-log
  envoyFileAccessLog:
    path: /var/log/access.log
    logFormat:
      labels: {code: "%RESPONSE_CODE%", waf: "%REQ(X-WAF)%"}
- name: otel
  envoyOtelAls: {service: otel.istio-system.svc.cluster.local, port: 4317}
enableTracing: true
`);
    assert.ok(r.mesh, r.diagnostics.map(formatDiagnostic).join('\n'));
    assert.equal(r.mesh.accessLogFile, '/dev/stdout');
    assert.equal(r.mesh.accessLogEncoding, 'JSON');
    assert.deepEqual(r.mesh.defaultProviders, { accessLogging: ['file-log'], metrics: ['prometheus'] });
    assert.deepEqual(findProvider(r.mesh, 'FILE-LOG')?.envoyFileAccessLog?.logFormat?.labels, { code: '%RESPONSE_CODE%', waf: '%REQ(X-WAF)%' });
    assert.equal(findProvider(r.mesh, 'envoy')?.envoyFileAccessLog?.path, '/dev/stdout');
    assert.ok(findProvider(r.mesh, 'prometheus')?.prometheus);
    assert.deepEqual(r.diagnostics.map((d) => [d.code, d.severity, d.path]), [['OBS_PROVIDER_UNSUPPORTED', 'warning', 'extensionProviders[1].envoyOtelAls']]);
  });

  it('an empty file is Istio\'s default: no mesh access log, TEXT', () => {
    const r = parseMeshConfig(F, '');
    assert.equal(r.mesh?.accessLogFile, '');
    assert.equal(r.mesh?.accessLogEncoding, 'TEXT');
  });

  it('accepts the istio ConfigMap (data.mesh) and maps positions into the file', () => {
    const r = parseMeshConfig(F, `apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |-
    accessLogFile: /dev/stdout
    accessLogEncoding: XML
`);
    assert.equal(r.mesh, undefined);
    assert.deepEqual(r.diagnostics.map(formatDiagnostic), [
      `${F}:7:24  -  data.mesh: accessLogEncoding  Unknown value "XML" for accessLogEncoding: expected one of TEXT, JSON`,
    ]);
  });

  it('accepts an IstioOperator (spec.meshConfig) with paths prefixed', () => {
    const r = parseMeshConfig(F, `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  meshConfig:
    accessLogFile: /dev/stdout
    accessLogFormat: "%PROTOCOL% %NOPE%"
`);
    assert.equal(r.mesh, undefined);
    assert.equal(r.diagnostics[0]!.path, 'spec.meshConfig.accessLogFormat');
    assert.equal(r.diagnostics[0]!.origin?.line, 6);
  });
});

describe('MeshConfig: precise errors (file:line:col, field path)', () => {
  it('bad enum value', () => {
    assert.deepEqual(errs('accessLogFile: /dev/stdout\naccessLogEncoding: XML\n'), [
      `${F}:2:20  -  accessLogEncoding  Unknown value "XML" for accessLogEncoding: expected one of TEXT, JSON`,
    ]);
  });

  it('unknown command operator: field and position in the format', () => {
    assert.deepEqual(errs('accessLogFormat: "[%START_TIME%] %BOGUS% %PROTOCOL%"\n'), [
      `${F}:1:18  -  accessLogFormat  Invalid access-log format: Unknown command operator "%BOGUS%" at position 15`,
    ]);
  });

  it('a JSON encoding needs a JSON object format', () => {
    const d = parseMeshConfig(F, 'accessLogEncoding: JSON\naccessLogFormat: "[%START_TIME%]"\n').diagnostics;
    assert.equal(d.length, 1);
    assert.equal(d[0]!.code, 'OBS_MESH_CONFIG_INVALID');
    assert.equal(d[0]!.path, 'accessLogFormat');
    assert.equal(d[0]!.origin?.line, 2);
    assert.match(d[0]!.message, /^Invalid JSON accessLogFormat: /);
    const bad = parseMeshConfig(F, 'accessLogEncoding: JSON\naccessLogFormat: \'{"a": "%NOPE%"}\'\n').diagnostics;
    assert.match(bad[0]!.message, /Unknown command operator "%NOPE%" at position 0 \(in JSON key "a"\)/);
  });

  it('provider problems', () => {
    const d = parseMeshConfig(F, `extensionProviders:
- name: a
  envoyFileAccessLog:
    path: /tmp/a.log
    logFormat: {text: "%RESPONSE_CODE%", labels: {}}
- name: a
  prometheus: {}
- name: b
defaultProviders:
  accessLogging: [nope]
`).diagnostics.map((x) => [x.code, x.severity, x.path, x.origin?.line]);
    assert.deepEqual(d, [
      ['OBS_MESH_CONFIG_INVALID', 'error', 'extensionProviders[0].envoyFileAccessLog.logFormat.labels', 5],
      ['OBS_MESH_CONFIG_INVALID', 'error', 'extensionProviders[1].name', 6],
      ['OBS_MESH_CONFIG_INVALID', 'error', 'extensionProviders[2]', 8],
      ['OBS_PROVIDER_NOT_FOUND', 'warning', 'defaultProviders.accessLogging[0]', 10],
    ]);
  });

  it('typos are warnings with a suggestion', () => {
    const d = parseMeshConfig(F, 'accessLogFile: /dev/stdout\naccessLogEncodng: JSON\n');
    assert.ok(d.mesh);
    assert.equal(formatDiagnostic(d.diagnostics[0]!), `${F}:2:19  -  accessLogEncodng  warning: Unknown field "accessLogEncodng" (did you mean "accessLogEncoding"?)`);
  });

  it('syntax errors and missing files', () => {
    const s = parseMeshConfig(F, 'accessLogFile: [\n');
    assert.equal(s.mesh, undefined);
    assert.equal(s.diagnostics[0]!.code, 'OBS_MESH_CONFIG_SYNTAX');
    assert.equal(s.diagnostics[0]!.origin?.file, F);
    const m = loadMeshConfig('/nonexistent/mesh.yaml');
    assert.equal(m.mesh, undefined);
    assert.equal(m.diagnostics[0]!.code, 'OBS_MESH_CONFIG_READ_FAILED');
    assert.match(m.diagnostics[0]!.message, /Cannot read mesh config "\/nonexistent\/mesh.yaml": ENOENT/);
  });
});
