import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { INGRESS_CODES } from '../../../errors/codes/ingress.js';
import { CODES } from '../../../errors/codes.js';

const here = new URL('./', import.meta.url);

test('every INGRESS_* code used by the translator is declared, merged into CODES and documented', () => {
  const used = new Set<string>();
  for (const f of readdirSync(here)) {
    if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
    for (const m of readFileSync(new URL(f, here), 'utf8').matchAll(/'(INGRESS_[A-Z_]+)'/g)) used.add(m[1]!);
  }
  assert.ok(used.size > 4, 'the scan found the codes');
  for (const c of used) assert.ok(c in INGRESS_CODES, `${c} is used but not declared`);
  for (const c of Object.keys(INGRESS_CODES)) assert.ok(used.has(c), `${c} is declared but never used`);

  const docs = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
  const section = docs.split(/^## /m).find((s) => s.startsWith('Ingress translation (INGRESS_*)'));
  assert.ok(section, 'docs/errors.md has the "Ingress translation (INGRESS_*)" section');
  for (const [code, meaning] of Object.entries(INGRESS_CODES)) {
    assert.equal(CODES[code], meaning, `${code} is merged into CODES`);
    assert.ok(section.includes(`| \`${code}\` | ${meaning} |`), `${code} is documented with its meaning`);
  }
});
