import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isScalar, parseAllDocuments, stringify, type Node, type ToStringOptions } from 'yaml';
import { childPath, indexPath } from '../resources/schema/field-path.js';
import { fastParseYaml, fastResolve, linePosition, type FastNode } from './fast-yaml.js';
import { resolvePosition } from './parse-file.js';

/** Exploratory runs: FASTYAML_SEED=n FASTYAML_SCALE=10 widen the fuzzing below. */
const SEED = Number(process.env['FASTYAML_SEED'] ?? 0);
const SCALE = Number(process.env['FASTYAML_SCALE'] ?? 1);

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Reference {
  readonly errors: boolean;
  readonly values: unknown[];
  readonly nodes: Node[];
}

/** What the `yaml` library makes of a text (non-empty documents only). */
function reference(text: string): Reference {
  const docs = parseAllDocuments(text, { prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  const kept = list.filter((d) => !(d.contents === null || (isScalar(d.contents) && d.contents.value === null)));
  let errors = list.some((d) => d.errors.length > 0);
  let values: unknown[] = [];
  try {
    if (!errors) values = kept.map((d) => d.toJS());
  } catch {
    errors = true; // unresolved alias and the like
  }
  return { errors, values, nodes: kept.map((d) => d.contents as Node) };
}

/** Every path to every node of a JS value. */
function paths(v: unknown, base = ''): string[] {
  const out = base ? [base] : [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, indexPath(base, i))));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, childPath(base, k)));
  return out;
}

/**
 * The fast parser either gives up, or agrees with `yaml` on values and on the position of
 * every path. It must give up whenever `yaml` reports an error. Returns whether it parsed.
 */
function check(text: string, label: string): boolean {
  const fast = fastParseYaml(text);
  const ref = reference(text);
  if (!fast) return false;
  assert.equal(ref.errors, false, `${label}: fast parser accepted text that yaml rejects:\n${text}`);
  const docs = fast.docs.filter((d) => d.node !== null && d.js !== null);
  if (process.env["FASTYAML_DUMP"]) { try { assert.deepEqual(docs.map((d) => d.js), ref.values); } catch (e) { writeFileSync(process.env["FASTYAML_DUMP"], text); throw e; } }
  assert.deepEqual(docs.map((d) => d.js), ref.values, `${label}: values differ for:\n${text}`);
  docs.forEach((d, i) => {
    for (const p of [...paths(d.js), 'no.such.field', `${paths(d.js)[0] ?? 'x'}.missing[3]`]) {
      const got = fastResolve(d.node as FastNode, p);
      const want = resolvePosition(ref.nodes[i]!, p);
      assert.equal(got, want, `${label}: position of "${p}" differs for:\n${text}`);
    }
  });
  return true;
}

const KEYS = [
  'a', 'name', 'x-user', 'app.kubernetes.io/name', 'per_try_timeout', 'on', 'yes', 'null', '1', 'true',
  'key with space', 'a:b', '#x', '-x', '"q"', "it's", 'é', '', 'a #b', '?', '__proto__', 'k]', '[k',
];
const STRINGS = [
  '', ' ', 'a b', 'a: b', 'a #b', 'a#b', '#', '- x', '-x', '*', '&a', '!t', '|', '>', '%', '@x', '`', 'true', 'True',
  'null', '~', '1', '0x1F', '0o7', '1e3', '.5', '.inf', '-.Inf', '.nan', '+1', '-0', '007', '1_000', 'multi\nline',
  'trailing\n', 'trail\n\n', '\nlead', ' lead', 'trail ', 'tab\there', 'quote"d', "single'q", 'back\\slash',
  'uni é ✓', 'emoji 😀', '[a]', '{a: b}', 'a,b', 'http://x:80/y', 'C:\\path', '\u0001ctl', '\u2028', '---', '...',
  '/api/v1', 'ROUND_ROBIN', '10s', 'x'.repeat(120), 'line1\n  indented\nline3\n',
];

function randomValue(r: () => number, depth: number): unknown {
  const roll = r();
  if (depth < 4 && roll < 0.3) {
    const o: Record<string, unknown> = {};
    const n = Math.floor(r() * 5);
    for (let i = 0; i < n; i++) o[KEYS[Math.floor(r() * KEYS.length)]!] = randomValue(r, depth + 1);
    return o;
  }
  if (depth < 4 && roll < 0.5) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  if (roll < 0.75) return STRINGS[Math.floor(r() * STRINGS.length)];
  if (roll < 0.85) return [0, 1, -1, 42, 8080, 1.5, -0.25, 1e21, 2 ** 53][Math.floor(r() * 9)];
  if (roll < 0.95) return r() < 0.5;
  return null;
}

const STYLES: ToStringOptions[] = [
  { lineWidth: 0 },
  { lineWidth: 0, indentSeq: false },
  { lineWidth: 0, indent: 4 },
  { lineWidth: 0, defaultStringType: 'QUOTE_DOUBLE' },
  { lineWidth: 0, defaultStringType: 'QUOTE_SINGLE', defaultKeyType: 'PLAIN' },
  { lineWidth: 0, collectionStyle: 'flow' },
  { lineWidth: 0, blockQuote: 'literal' },
  { lineWidth: 0, blockQuote: 'folded' },
  {},
];

test('fast parser agrees with yaml on generated documents, or gives up', () => {
  const r = rng(20261126 + SEED);
  let parsed = 0;
  const total = 1500 * SCALE;
  for (let i = 0; i < total; i++) {
    const docs = Array.from({ length: 1 + Math.floor(r() * 3) }, () => {
      const root: Record<string, unknown> = {};
      for (let k = 0; k < 1 + Math.floor(r() * 4); k++) root[KEYS[Math.floor(r() * KEYS.length)]!] = randomValue(r, 1);
      return root;
    });
    const style = STYLES[i % STYLES.length]!;
    const text = docs.map((d) => stringify(d, style)).join(r() < 0.5 ? '---\n' : '--- # next\n');
    if (check(text, `case ${i}`)) parsed++;
  }
  // The subset covers what yaml.stringify writes for most values; make sure it is exercised.
  assert.ok(parsed > total * 0.4, `only ${parsed}/${total} handled by the fast path`);
});

test('fast parser never accepts what yaml rejects or reads differently (mutation fuzz)', () => {
  const r = rng(7 + SEED);
  const seeds = [
    'a: 1\nb:\n  - x\n  - y: 2\n    z: [1, 2]\nc: "q"\n',
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: s # c\nspec:\n  ports:\n  - port: 80\n    name: http\n',
    'x: |\n  line\n  more\n\ny: {a: b, c: [d]}\n---\nz: \'s\'\n',
    'k:\n- a\n- b\nm: -1\n',
    '- a: 1\n  b: 2\n- c\n',
    '"k\\"q": "v\\u00e9\\n"\n\'s\'\'q\': \'x\'\nl: |-\n    a\n\n    b\nm: |+\n  c\n\n# end\n',
    'spec:\n  http:\n  - match:\n    - uri: {prefix: /a}\n      headers:\n        x: {}\n    route:\n    - destination:\n        host: h # c\n      weight: 1\n',
    'a: 1\r\nb:\r\n- 2\r\n',
  ];
  const inserts = [' ', '  ', '-', ':', ': ', '#', ' #', '"', "'", '\t', '\n', '[', ']', '{', '}', ',', '|', '>', '&a', '*a', '!', '---\n', 'a: b\n', '\r'];
  let parsed = 0;
  for (let i = 0; i < 4000 * SCALE; i++) {
    let text = seeds[i % seeds.length]!;
    const edits = 1 + Math.floor(r() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(r() * (text.length + 1));
      const op = r();
      if (op < 0.4) text = text.slice(0, at) + inserts[Math.floor(r() * inserts.length)] + text.slice(at);
      else if (op < 0.8) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(r() * 3));
      else {
        const lines = text.split('\n');
        const li = Math.floor(r() * lines.length);
        lines.splice(li, 0, lines[Math.floor(r() * lines.length)]!);
        text = lines.join('\n');
      }
    }
    if (check(text, `mutation ${i}`)) parsed++;
  }
  assert.ok(parsed > 400 * SCALE, `only ${parsed} mutations parsed by the fast path`);
});

test('fast parser handles typical manifests without falling back', () => {
  const texts = [
    `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews   # trailing comment
  namespace: "shop"
  labels: {app: reviews, 'version': v1}
spec:
  hosts:
  - reviews.shop.svc.cluster.local
  http:
  - match:
    - uri:
        prefix: /api
      headers:
        x-user: {}
        x-env: {regex: "^(dev|qa)$"}
    route:
    - destination: {host: reviews, port: {number: 9080}}
      weight: 80
    - destination:
        host: reviews
        subset: v2
      weight: 20
    timeout: 1.5s
    retries: {attempts: 3, perTryTimeout: 2s, retryOn: "5xx,connect-failure"}
`,
    `---
apiVersion: v1
kind: Secret
metadata:
  name: cert
type: kubernetes.io/tls
stringData:
  tls.crt: |
    -----BEGIN CERTIFICATE-----
    MIIB
    -----END CERTIFICATE-----
  note: |-
    keep

    blank lines
  keep: |+
    kept

---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - {name: http, port: 80, targetPort: 8080}
  selector:
    app: web
`,
  ];
  for (const t of texts) assert.equal(check(t, 'manifest'), true, `fell back on:\n${t}`);
  const crlf = texts[1]!.replace(/\n/g, '\r\n');
  assert.equal(check(crlf, 'crlf'), true);
});

test('fast parser gives up on anchors, tags, folded and multi-line scalars, tabs and duplicates', () => {
  for (const t of [
    'a: &x 1\nb: *x\n',
    'a: !!str 1\n',
    'a: >\n  folded\n',
    'a: "multi\n  line"\n',
    'a: plain\n  continued\n',
    'a:\n\tb: 1\n',
    'a: 1\na: 2\n',
    '%YAML 1.2\n---\na: 1\n',
    '? complex\n: key\n',
    'a: [1,\n  2]\n',
  ]) {
    assert.equal(fastParseYaml(t), undefined, t);
  }
});

test('linePosition maps offsets to 1-based line and column', () => {
  const starts = fastParseYaml('a: 1\nbb: 2\n\nc: 3\n')!.lineStarts;
  assert.deepEqual(linePosition(starts, 0), { line: 1, col: 1 });
  assert.deepEqual(linePosition(starts, 9), { line: 2, col: 5 });
  assert.deepEqual(linePosition(starts, 12), { line: 4, col: 1 });
});

test('fast parser agrees with yaml on the repository\'s YAML fixtures', () => {
  const files: string[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(n)) files.push(p);
    }
  };
  walk('test');
  walk('config');
  for (const f of files) check(readFileSync(f, 'utf8'), f);
});
