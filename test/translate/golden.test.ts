/**
 * Golden translation cases: test/translate/<case>.in.yaml → <case>.out.yaml (IR + diagnostics).
 * Regenerate with UPDATE_GOLDEN=1 and review the diff.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { loadPaths } from '../../src/config/sources/file-loader.js';
import { translate, DEFAULT_IDENTITY } from '../../src/config/translate/index.js';

const DIR = path.dirname(fileURLToPath(import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';

for (const f of fs.readdirSync(DIR).filter((n) => n.endsWith('.in.yaml')).sort()) {
  const name = f.slice(0, -'.in.yaml'.length);
  test(`golden ${name}`, async () => {
    const input = path.join(DIR, f);
    const loaded = await loadPaths([input]);
    const t = translate(loaded.resources, DEFAULT_IDENTITY);
    const diagnostics = [...loaded.diagnostics, ...t.diagnostics].map((d) => ({
      severity: d.severity, code: d.code,
      resource: d.resource ? `${d.resource.kind}/${d.resource.namespace}/${d.resource.name}` : '-',
      path: d.path, message: d.message,
      ...(d.origin ? { at: `${path.basename(d.origin.file)}:${d.origin.line}:${d.origin.col}` } : {}),
    }));
    const statuses = [...t.statuses.values()].map((s) => ({ resource: `${s.key.kind}/${s.key.namespace}/${s.key.name}`, state: s.state, ...(s.parents ? { parents: s.parents } : {}) }))
      .sort((a, b) => a.resource.localeCompare(b.resource));
    const out = YAML.stringify({ ir: t.ir, diagnostics, statuses }, { lineWidth: 0, aliasDuplicateObjects: false });
    const golden = path.join(DIR, `${name}.out.yaml`);
    if (UPDATE || !fs.existsSync(golden)) {
      if (!UPDATE) assert.fail(`Missing ${path.basename(golden)}: run UPDATE_GOLDEN=1 npm test -- golden`);
      fs.writeFileSync(golden, out);
      return;
    }
    assert.equal(out, fs.readFileSync(golden, 'utf8'), `${name}: translation differs from ${path.basename(golden)} (UPDATE_GOLDEN=1 to accept)`);
    // Byte-identical output for the same input, whatever the order of documents.
    const again = translate([...loaded.resources].reverse(), DEFAULT_IDENTITY);
    assert.equal(JSON.stringify(again.ir.clusters), JSON.stringify(t.ir.clusters));
  });
}
