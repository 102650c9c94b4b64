import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { CODES } from './codes.js';

test('every code in src/errors/codes.ts is documented in docs/errors.md, and the reverse', () => {
  const doc = fs.readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const documented = new Set([...doc.matchAll(/^\|\s*`?([A-Z][A-Z0-9_]+)`?\s*\|/gm)].map((m) => m[1]!));
  for (const code of Object.keys(CODES)) assert.ok(documented.has(code), `${code} is missing from docs/errors.md`);
  for (const code of documented) {
    if (code === 'CODE') continue;
    assert.ok(code in CODES, `docs/errors.md lists ${code}, which src/errors/codes.ts does not define`);
  }
});

test('codes are unique across areas and name their area', () => {
  for (const [code, meaning] of Object.entries(CODES)) {
    assert.match(code, /^[A-Z]+_[A-Z0-9_]+$/);
    assert.ok(meaning.length > 10, `${code} needs a meaning`);
  }
});
