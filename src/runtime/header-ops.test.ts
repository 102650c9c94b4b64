import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamInfo } from '../observability/stream-info.js';
import { applyHeaderOps, compileHeaderOps, mergeHeaderOps } from './actions.js';

function info(): StreamInfo {
  const i = new StreamInfo();
  i.downstreamRemoteAddress = '10.1.2.3:4567';
  i.upstreamCluster = 'outbound|80||a.demo.svc.cluster.local';
  i.reqNames = ['user-agent'];
  i.reqValues = ['curl/8'];
  return i;
}

describe('header ops with command operators', () => {
  it('literal values stay plain (no evaluators) and %% is a literal %', () => {
    const ops = compileHeaderOps({ set: [{ name: 'X-A', value: 'plain' }, { name: 'x-b', value: '100%%' }] })!;
    assert.equal(ops.setFn, undefined);
    assert.equal(ops.addFn, undefined);
    assert.deepEqual(ops.set, [['x-a', 'plain'], ['x-b', '100%']]);
  });

  it('operator values render per request', () => {
    const ops = compileHeaderOps({
      set: [{ name: 'x-client', value: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%' }],
      add: [{ name: 'x-via', value: 'portico %UPSTREAM_CLUSTER%' }, { name: 'x-ua', value: '%REQ(user-agent)%' }],
    })!;
    const r = applyHeaderOps(ops, ['x-client', 'keep'], ['spoofed', '1'], info());
    assert.deepEqual(r, {
      lnames: ['keep', 'x-client', 'x-via', 'x-ua'],
      values: ['1', '10.1.2.3', 'portico outbound|80||a.demo.svc.cluster.local', 'curl/8'],
    });
  });

  it('an empty rendered value adds nothing and a dynamic set keeps the existing header', () => {
    const ops = compileHeaderOps({ set: [{ name: 'x-t', value: '%REQ(x-none)%' }], add: [{ name: 'x-u', value: '%REQ(x-none)%' }] })!;
    assert.deepEqual(applyHeaderOps(ops, ['x-t'], ['old'], info()), { lnames: ['x-t'], values: ['old'] });
  });

  it('an invalid operator is kept literally (validation rejects it for Istio resources)', () => {
    const ops = compileHeaderOps({ set: [{ name: 'x-p', value: '50% off' }] })!;
    assert.deepEqual(ops.set, [['x-p', '50% off']]);
  });

  it('merging keeps evaluators aligned', () => {
    const a = compileHeaderOps({ set: [{ name: 'x-a', value: 'lit' }] })!;
    const b = compileHeaderOps({ set: [{ name: 'x-b', value: '%DOWNSTREAM_REMOTE_ADDRESS%' }] })!;
    const m = mergeHeaderOps(a, b);
    assert.deepEqual(applyHeaderOps(m, [], [], info()), { lnames: ['x-a', 'x-b'], values: ['lit', '10.1.2.3:4567'] });
  });
});

describe('VirtualService header values are validated', () => {
  it('an unknown operator rejects the resource with file:line and its position', async () => {
    const { parseFile } = await import('../config/sources/parse-file.js');
    const { validateResource } = await import('../config/resources/validate.js');
    const p = parseFile('vs.yaml', 'h', `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: v, namespace: demo}
spec:
  hosts: ["*"]
  http:
  - headers:
      request:
        set: {x-ip: "%DOWNSTREAM_REMOTE_ADRESS%", x-ok: "%DOWNSTREAM_REMOTE_ADDRESS%", x-pct: "100%%"}
    route: [{destination: {host: a}}]
`);
    const o = p.objects[0]!;
    const d = validateResource({ key: o.key, object: o.object, origin: o.origin, positionOf: o.positionOf, source: 't', seq: 0 });
    assert.deepEqual(d.map((x) => [x.code, x.severity, x.path, x.origin?.line]), [['OBS_HEADER_FORMAT_INVALID', 'error', 'spec.http[0].headers.request.set.x-ip', 9]]);
    assert.match(d[0]!.message, /Unknown command operator "%DOWNSTREAM_REMOTE_ADRESS%" at position 0 \(did you mean %DOWNSTREAM_REMOTE_ADDRESS%\?\)/);
  });
});
