import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadPaths } from '../../config/sources/file-loader.js';
import { fromWire, isPrimaryMessage, isWorkerMessage, toWire } from './protocol.js';

const YAML = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: shop
  namespace: demo
  labels: {app.kubernetes.io/name: shop}
spec:
  hosts: ["shop.example.com"]
  gateways: [istio-system/gw]
  http:
  - name: cart
    match:
    - uri: {prefix: /cart}
    retries:
      attempts: 3
      per_try_timeout: 2s
    route:
    - destination: {host: cart.demo.svc.cluster.local, port: {number: 80}}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: demo}
spec:
  ports: [{name: http, port: 80}]
`;

const JSON_DOC = JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'j', namespace: 'demo' }, spec: { ports: [{ port: 8080 }] } }, null, 2);

describe('resource wire format', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-wire-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'a.yaml'), YAML);
  fs.writeFileSync(path.join(dir, 'b.json'), JSON_DOC);

  const probes = [
    '', 'kind', 'metadata.name', 'metadata.labels["app.kubernetes.io/name"]', 'spec.hosts[0]', 'spec.http[0].name',
    'spec.http[0].match[0].uri.prefix', 'spec.http[0].retries.perTryTimeout', 'spec.http[0].retries.per_try_timeout',
    'spec.http[0].route[0].destination.port.number',
    // Missing fields resolve to the nearest existing ancestor.
    'spec.http[0].route[0].destination.subset', 'spec.http[3].name', 'spec.tcp[0]', 'spec.ports[0].targetPort', 'spec.ports[0].port',
  ];

  it('round-trips every position the loader reports, through JSON (IPC)', async () => {
    const loaded = await loadPaths([dir]);
    assert.equal(loaded.resources.length, 3);
    for (const r of loaded.resources) {
      const back = fromWire(JSON.parse(JSON.stringify(toWire(r))));
      assert.deepEqual(back.key, r.key);
      assert.deepEqual(back.object, r.object);
      assert.deepEqual(back.origin, r.origin);
      assert.equal(back.seq, r.seq);
      assert.equal(back.source, r.source);
      for (const p of probes) assert.deepEqual(back.positionOf(p), r.positionOf(p), `${r.key.name} ${p}`);
    }
  });

  it('finds snake_case fields under their camelCase path', async () => {
    const vs = (await loadPaths([dir])).resources.find((r) => r.key.kind === 'VirtualService')!;
    const back = fromWire(toWire(vs));
    assert.equal(back.positionOf('spec.http[0].retries.perTryTimeout')?.line, 16);
  });

  it('narrows messages by type', () => {
    assert.ok(isWorkerMessage({ type: 'hello' }));
    assert.ok(!isWorkerMessage({ type: 'config' }));
    assert.ok(isPrimaryMessage({ type: 'drain', delayMs: 0 }));
    assert.ok(!isPrimaryMessage('drain'));
    assert.ok(!isPrimaryMessage(null));
  });
});
