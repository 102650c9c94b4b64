import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { GATEWAYAPI_CODES } from '../../../errors/codes/gatewayapi.js';
import { CODES } from '../../../errors/codes.js';

const here = new URL('./', import.meta.url);

test('every GWAPI_* code used by the translator is declared, merged into CODES and documented', () => {
  const used = new Set<string>();
  for (const f of readdirSync(here)) {
    if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
    for (const m of readFileSync(new URL(f, here), 'utf8').matchAll(/'(GWAPI_[A-Z_]+)'/g)) used.add(m[1]!);
  }
  assert.ok(used.size > 10, 'the scan found the codes');
  for (const c of used) assert.ok(c in GATEWAYAPI_CODES, `${c} is used but not declared`);
  for (const c of Object.keys(GATEWAYAPI_CODES)) assert.ok(used.has(c), `${c} is declared but never used`);

  const docs = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
  const section = docs.split(/^## /m).find((s) => s.startsWith('Gateway API translation (GWAPI_*)'));
  assert.ok(section, 'docs/errors.md has the "Gateway API translation (GWAPI_*)" section');
  for (const [code, meaning] of Object.entries(GATEWAYAPI_CODES)) {
    assert.equal(CODES[code], meaning, `${code} is merged into CODES`);
    assert.ok(section.includes(`| \`${code}\` | ${meaning} |`), `${code} is documented with its meaning`);
  }
});
