import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CODES } from '../errors/codes.js';
import { OBSERVABILITY_CODES } from '../errors/codes/observability.js';

test('every OBS_* code is used in src/, merged into CODES and documented with its meaning', () => {
  const root = new URL('../', import.meta.url).pathname;
  const used = new Set<string>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !p.includes('/errors/codes')) {
        for (const m of fs.readFileSync(p, 'utf8').matchAll(/\b(OBS_[A-Z_]+)\b/g)) used.add(m[1]!);
      }
    }
  };
  walk(root);
  for (const c of used) assert.ok(c in OBSERVABILITY_CODES, `${c} is used but not declared`);
  for (const c of Object.keys(OBSERVABILITY_CODES)) assert.ok(used.has(c), `${c} is declared but never used`);
  const docs = fs.readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const section = docs.split(/^## /m).find((s) => s.startsWith('Observability (OBS_*)'));
  assert.ok(section, 'docs/errors.md has the "Observability (OBS_*)" section');
  for (const [code, meaning] of Object.entries(OBSERVABILITY_CODES)) {
    assert.equal(CODES[code], meaning);
    assert.ok(section.includes(`| \`${code}\` | ${meaning} |`), `${code} is documented with its meaning`);
  }
});
