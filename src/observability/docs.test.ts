import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DETAIL_DOCS, Detail, FLAG_DOCS, Flag, isKnownDetail } from '../dataplane/http/details.js';
import { regenerate } from './docs.js';

const DOC = new URL('../../docs/observability.md', import.meta.url);

test('docs/observability.md lists every operator, flag, detail and metric (UPDATE_DOCS=1 regenerates)', () => {
  const doc = fs.readFileSync(DOC, 'utf8');
  const fresh = regenerate(doc);
  if (process.env.UPDATE_DOCS === '1') { fs.writeFileSync(DOC, fresh); return; }
  assert.equal(doc, fresh, 'docs/observability.md is out of date: run UPDATE_DOCS=1 node --import tsx --test src/observability/docs.test.ts');
});

test('details.ts documents every flag and detail it defines', () => {
  for (const f of Object.values(Flag)) assert.ok(FLAG_DOCS[f], `flag ${f} has no FLAG_DOCS entry`);
  for (const d of Object.values(Detail)) assert.ok(DETAIL_DOCS[d] || d.startsWith('http1.'), `detail ${d} has no DETAIL_DOCS entry`);
});

test('every detail and flag written anywhere in src/ is defined in details.ts', () => {
  const root = new URL('../', import.meta.url).pathname;
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) files.push(p);
    }
  };
  walk(root);
  const flags = new Set<string>(Object.values(Flag));
  const bad: string[] = [];
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    for (const m of text.matchAll(/\bdetail: '([^']+)'/g)) if (!isKnownDetail(m[1]!)) bad.push(`${f}: detail '${m[1]}'`);
    for (const m of text.matchAll(/\bflag: '([A-Z]+)'/g)) if (!flags.has(m[1]!)) bad.push(`${f}: flag '${m[1]}'`);
    for (const m of text.matchAll(/'(http1\.[a-z_]+)'/g)) if (!isKnownDetail(m[1]!)) bad.push(`${f}: detail '${m[1]}'`);
  }
  assert.deepEqual(bad, []);
});
