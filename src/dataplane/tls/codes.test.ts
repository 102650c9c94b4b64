import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { CODES } from '../../errors/codes.js';
import { TLS_CODES } from '../../errors/codes/tls.js';

const src = fileURLToPath(new URL('../../', import.meta.url));

function sources(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (n.endsWith('.ts') && !n.endsWith('.test.ts') && !p.endsWith(join('errors', 'codes', 'tls.ts'))) out.push(p);
  }
  return out;
}

test('every TLS_* code is used, declared, merged into CODES and documented', () => {
  const used = new Set<string>();
  for (const f of sources(src)) for (const m of readFileSync(f, 'utf8').matchAll(/'(TLS_[A-Z_]+)'/g)) used.add(m[1]!);
  used.delete('TLS_AUTO'); // the Istio enum value, not a code
  for (const c of used) assert.ok(c in TLS_CODES, `${c} is used but not declared`);
  for (const c of Object.keys(TLS_CODES)) assert.ok(used.has(c), `${c} is declared but never used`);
  const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const section = docs.split(/^## /m).find((s) => s.startsWith('TLS (TLS_*)'));
  assert.ok(section, 'docs/errors.md has the "TLS (TLS_*)" section');
  for (const [code, meaning] of Object.entries(TLS_CODES)) {
    assert.equal(CODES[code], meaning, `${code} is merged into CODES`);
    assert.ok(section.includes(`| \`${code}\` | ${meaning} |`), `${code} is documented with its meaning`);
  }
});
