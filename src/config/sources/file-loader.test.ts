import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDiagnostic, keyString } from '../../errors/diagnostic.js';
import { LOAD_CODES } from '../../errors/codes/load.js';
import { loadPaths, loadPathsDetailed } from './file-loader.js';

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A temp folder with the given files (paths relative to it). */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'portico-loader-'));
  roots.push(root);
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, content);
  }
  return root;
}

const vs = (name: string, ns?: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ${name}
${ns ? `  namespace: ${ns}\n` : ''}spec:
  hosts: [a.example.com]
`;

test('folders are read recursively in sorted order, skipping hidden, temp and non-config files', async () => {
  const root = tree({
    'b.yaml': vs('b'),
    'a.yml': vs('a'),
    'sub/c.json': JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'c' }, spec: {} }),
    'sub/deeper/d.yaml': vs('d'),
    '.hidden.yaml': vs('hidden'),
    '.git/config.yaml': vs('in-hidden-dir'),
    'e.yaml~': vs('backup'),
    '.#f.yaml': vs('lock'),
    '.g.yaml.swp': vs('swap'),
    'h.yaml.swp': vs('swap2'),
    'README.md': '# not config',
    'notes.txt': 'kind: nope',
  });
  const r = await loadPaths([root]);
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.resources.map((x) => x.key.name), ['a', 'b', 'c', 'd']);
  assert.deepEqual(r.files, ['a.yml', 'b.yaml', 'sub/c.json', 'sub/deeper/d.yaml'].map((f) => join(root, f)));
  assert.deepEqual(r.resources.map((x) => x.seq), [0, 1, 2, 3]);
  assert.equal(r.resources[0]!.source, 'file');
  assert.equal((await loadPaths([root], { source: 'test' })).resources[0]!.source, 'test');
});

test('an explicitly named file is read whatever its extension', async () => {
  const root = tree({ 'routes.conf': vs('x') });
  const r = await loadPaths([join(root, 'routes.conf')]);
  assert.deepEqual(r.resources.map((x) => keyString(x.key)), ['VirtualService/default/x']);
});

test('multi-document YAML gives one resource per document, with keys and namespaces', async () => {
  const root = tree({
    'all.yaml': `${vs('one', 'shop')}---
${vs('two')}
---
# only a comment
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: portico
  namespace: ignored
spec:
  controllerName: portico.dev/gateway
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
`,
  });
  const r = await loadPaths([root]);
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.resources.map((x) => keyString(x.key)), [
    'VirtualService/shop/one',
    'VirtualService/default/two',
    'GatewayClass//portico',
    'Namespace//shop',
  ]);
  assert.deepEqual(r.resources[1]!.origin, { file: join(root, 'all.yaml'), line: 9, col: 1 });
  assert.equal(r.resources[0]!.object.spec.hosts[0], 'a.example.com');
});

test('lists: kind List in YAML and JSON, bare {items}, and typed lists fill kind and apiVersion', async () => {
  const root = tree({
    'list.yaml': `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: s1, namespace: shop}
  spec: {}
- apiVersion: v1
  kind: Secret
  metadata: {name: k1, namespace: shop}
`,
    'list.json': JSON.stringify({ kind: 'List', apiVersion: 'v1', items: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1' } }] }, null, 2),
    'bare.json': JSON.stringify({ items: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p2' } }] }),
    'typed.json': JSON.stringify({ kind: 'ServiceList', apiVersion: 'v1', items: [{ metadata: { name: 's2', namespace: 'x' }, spec: {} }] }),
  });
  const r = await loadPaths([root]);
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.resources.map((x) => keyString(x.key)), ['Pod/default/p2', 'Pod/default/p1', 'Service/shop/s1', 'Secret/shop/k1', 'Service/x/s2']);
  assert.equal(r.resources[4]!.object.apiVersion, 'v1');
  assert.deepEqual(r.resources[3]!.origin, { file: join(root, 'list.yaml'), line: 8, col: 3 });
});

test('positionOf resolves field paths, falls back to the nearest ancestor and accepts snake_case keys', async () => {
  const root = tree({
    'vs.yaml': `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  labels:
    app.kubernetes.io/name: reviews
spec:
  hosts:
  - reviews
  http:
  - match:
    - uri:
        prefix: /v1
    route:
    - destination:
        host: reviews-v1
    - destination:
        host: reviews-v2
      weight: 20
    retries:
      per_try_timeout: 2s
    tls:
`,
  });
  const [r] = (await loadPaths([root])).resources;
  const file = join(root, 'vs.yaml');
  const pos = (p: string) => {
    const o = r!.positionOf(p);
    return o && `${o.line}:${o.col}`;
  };
  assert.equal(r!.positionOf('spec.http[0].route[1].destination.host')?.file, file);
  assert.equal(pos('spec.http[0].route[1].destination.host'), '18:15');
  assert.equal(pos('spec.http[0].route[1].weight'), '19:15');
  assert.equal(pos('spec.http[0].route[1]'), '17:7');
  assert.equal(pos('spec.http[0].match[0].uri.prefix'), '13:17');
  assert.equal(pos('spec.http'), '10:3'); // a collection resolves to its key
  assert.equal(pos('spec.http[0].route[1].destination.port.number'), '17:7'); // nearest ancestor: destination key
  assert.equal(pos('spec.http[0].route[7]'), '14:5');
  assert.equal(pos('spec.http[0].retries.perTryTimeout'), '21:24');
  assert.equal(pos('spec.http[0].tls'), '22:5'); // empty value: the key
  assert.equal(pos('metadata.labels["app.kubernetes.io/name"]'), '6:29');
  assert.equal(pos(''), '1:1');
});

test('JSON files resolve positions on demand', async () => {
  const root = tree({
    'svc.json': '{\n  "apiVersion": "v1",\n  "kind": "Service",\n  "metadata": {"name": "cart"},\n  "spec": {\n    "ports": [\n      {"port": 80}\n    ]\n  }\n}\n',
  });
  const [r] = (await loadPaths([root])).resources;
  assert.deepEqual(r!.origin, { file: join(root, 'svc.json'), line: 1, col: 1 });
  assert.deepEqual(r!.positionOf('spec.ports[0].port'), { file: join(root, 'svc.json'), line: 7, col: 16 });
});

test('a file with a syntax error contributes nothing; other files still load', async () => {
  const root = tree({
    'a.yaml': vs('good'),
    'b.yaml': `${vs('before-the-error')}---
apiVersion: v1
kind: Service
metadata:
  name: broken
spec:
  ports: [
`,
    'c.json': '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"},,}',
  });
  const r = await loadPaths([root]);
  assert.deepEqual(r.resources.map((x) => x.key.name), ['good']);
  const syntax = r.diagnostics.filter((d) => d.code === 'LOAD_YAML_SYNTAX');
  assert.ok(syntax.some((d) => d.origin?.file === join(root, 'b.yaml') && d.origin.line >= 13));
  assert.ok(syntax.some((d) => d.origin?.file === join(root, 'c.json') && d.message.startsWith('Cannot parse JSON: ')));
  for (const d of syntax) {
    assert.equal(d.severity, 'error');
    assert.equal(d.message.includes('\n'), false);
  }
  assert.deepEqual(r.files.length, 3);
});

test('duplicate keys in one YAML map are a syntax error', async () => {
  const root = tree({ 'dup.yaml': 'apiVersion: v1\nkind: Pod\nkind: Pod\nmetadata: {name: p}\n' });
  const r = await loadPaths([root]);
  assert.equal(r.resources.length, 0);
  assert.equal(r.diagnostics[0]?.code, 'LOAD_YAML_SYNTAX');
  assert.equal(r.diagnostics[0]?.origin?.line, 3);
});

test('duplicate resources across files: error naming both places, the first is kept', async () => {
  const root = tree({ 'a.yaml': vs('same', 'shop'), 'b.yaml': `${vs('other')}---\n${vs('same', 'shop')}` });
  const r = await loadPaths([root]);
  assert.deepEqual(r.resources.map((x) => `${x.key.name}:${x.origin?.file}`), [`same:${join(root, 'a.yaml')}`, `other:${join(root, 'b.yaml')}`]);
  const [d] = r.diagnostics;
  assert.equal(d?.code, 'LOAD_DUPLICATE_RESOURCE');
  assert.equal(d?.severity, 'error');
  assert.deepEqual(d?.resource, { kind: 'VirtualService', namespace: 'shop', name: 'same' });
  assert.deepEqual(d?.origin, { file: join(root, 'b.yaml'), line: 8, col: 1 });
  assert.match(d!.message, new RegExp(`first defined at ${join(root, 'a.yaml')}:1:1$`));
});

test('an Istio Gateway and a Gateway API Gateway may share a namespace and name (keyed by group)', async () => {
  const root = tree({
    'a.yaml': 'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: web, namespace: infra}\nspec: {servers: []}\n',
    'b.yaml': 'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: web, namespace: infra}\nspec: {gatewayClassName: x, listeners: []}\n',
  });
  const r = await loadPaths([root]);
  assert.deepEqual(r.resources.map((x) => x.object.apiVersion), ['networking.istio.io/v1', 'gateway.networking.k8s.io/v1']);
  assert.equal(r.diagnostics.length, 0);
  assert.deepEqual(r.resources.map((x) => keyString(x.key)), ['Gateway/infra/web', 'Gateway.gateway.networking.k8s.io/infra/web']);
});

test('objects without apiVersion, kind or metadata.name are errors and are skipped', async () => {
  const root = tree({
    'bad.yaml': `kind: Service
metadata: {name: no-version}
---
apiVersion: v1
metadata:
  namespace: x
---
apiVersion: v1
kind: Pod
metadata:
  namespace: [a]
  name: p
---
- just
- a list
---
plain scalar
---
apiVersion: v1
kind: Pod
metadata: {name: ok}
`,
  });
  const r = await loadPaths([root]);
  assert.deepEqual(r.resources.map((x) => x.key.name), ['ok']);
  const msgs = r.diagnostics.map((d) => `${d.code} ${d.origin?.line} ${d.message}`);
  assert.deepEqual(msgs, [
    'LOAD_INVALID_OBJECT 1 Cannot load object: missing "apiVersion"',
    'LOAD_INVALID_OBJECT 4 Cannot load object: missing "kind", "metadata.name"',
    'LOAD_INVALID_OBJECT 11 Cannot load object: "metadata.namespace" must be a string',
    'LOAD_INVALID_OBJECT 14 Cannot load document: expected an object, got a list',
    'LOAD_INVALID_OBJECT 17 Cannot load document: expected an object, got a scalar',
  ]);
  assert.deepEqual(r.diagnostics[0]!.resource, { kind: 'Service', namespace: 'default', name: 'no-version' });
  assert.equal(r.diagnostics[1]!.resource, undefined);
});

test('missing paths are reported, other paths still load', async () => {
  const root = tree({ 'a.yaml': vs('a') });
  const r = await loadPaths([join(root, 'nope'), root]);
  assert.deepEqual(r.resources.map((x) => x.key.name), ['a']);
  assert.equal(r.diagnostics[0]?.code, 'LOAD_PATH_NOT_FOUND');
  assert.match(formatDiagnostic(r.diagnostics[0]!), /Cannot read ".*nope": no such file or directory/);
});

test('symlinked folders are followed once (no loop)', async () => {
  const root = tree({ 'real/a.yaml': vs('a') });
  symlinkSync(join(root, 'real'), join(root, 'real', 'loop'));
  symlinkSync(join(root, 'real'), join(root, 'alias'));
  const r = await loadPaths([root]);
  assert.deepEqual(r.resources.map((x) => x.key.name), ['a']);
  assert.deepEqual(r.diagnostics, []);
});

test('loadPathsDetailed: digest follows content, unchanged files are not parsed again, last good version is kept on request', async () => {
  const root = tree({ 'a.yaml': vs('a'), 'b.yaml': vs('b') });
  const first = await loadPathsDetailed([root]);
  const again = await loadPathsDetailed([root], { previous: first.parses });
  assert.equal(again.digest, first.digest);
  assert.equal(again.result.resources[0]!.object, first.result.resources[0]!.object); // reused parse
  writeFileSync(join(root, 'b.yaml'), `${vs('b')}  gateways: [x]\n`);
  const changed = await loadPathsDetailed([root], { previous: again.parses });
  assert.notEqual(changed.digest, first.digest);
  assert.deepEqual(changed.result.resources[1]!.object.spec.gateways, ['x']);

  writeFileSync(join(root, 'b.yaml'), 'apiVersion: v1\nkind: [\n');
  const broken = await loadPathsDetailed([root], { previous: changed.parses, keepLastGood: true });
  assert.deepEqual(broken.result.resources.map((x) => x.key.name), ['a', 'b']);
  assert.deepEqual(broken.result.diagnostics.map((d) => d.code), ['LOAD_YAML_SYNTAX', 'LOAD_KEPT_PREVIOUS']);
  const stateless = await loadPaths([root]);
  assert.deepEqual(stateless.resources.map((x) => x.key.name), ['a']);
});

test('every code the loader emits is registered', () => {
  for (const code of ['LOAD_YAML_SYNTAX', 'LOAD_PATH_NOT_FOUND', 'LOAD_READ_FAILED', 'LOAD_INVALID_OBJECT', 'LOAD_DUPLICATE_RESOURCE', 'LOAD_KEPT_PREVIOUS']) {
    assert.ok(code in LOAD_CODES, code);
  }
});

test('loads 1,000 resources quickly', async (t) => {
  const docs: string[] = [];
  for (let i = 0; i < 1000; i++) {
    docs.push(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: vs-${i}
  namespace: ns-${i % 7}
spec:
  hosts: [h${i}.example.com]
  gateways: [shop/gw]
  http:
  - match:
    - uri: {prefix: /api/${i}}
      headers:
        x-user: {exact: a}
    route:
    - destination: {host: svc-${i}, port: {number: 8080}}
      weight: 100
    timeout: 10s
`);
  }
  const files: Record<string, string> = {};
  for (let f = 0; f < 20; f++) files[`part-${String(f).padStart(2, '0')}.yaml`] = docs.slice(f * 50, f * 50 + 50).join('---\n');
  const root = tree(files);
  const t0 = performance.now();
  const r = await loadPaths([root]);
  const ms = performance.now() - t0;
  assert.equal(r.resources.length, 1000);
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.resources[999]!.key.name, 'vs-999');
  t.diagnostic(`loaded 1,000 resources in ${ms.toFixed(0)} ms`);
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
  assert.equal(r.resources[999]!.positionOf('spec.http[0].route[0].destination.host')?.line, 49 * 18 + 15); // 17 lines + `---` per document
});
