#!/usr/bin/env node
// Runs the whole suite: type-check + build to dist/ (integration tests spawn the CLI from it),
// then node's test runner over every *.test.ts under src/ and test/ (Node 20 has no globs).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir, out = []) {
  let names;
  try { names = readdirSync(dir); } catch { return out; }
  for (const n of names) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) { if (n !== 'node_modules' && n !== 'fixtures') find(p, out); }
    else if (n.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = [...find('src'), ...find('test')].sort();
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
if (!files.length) { console.error('no test files found'); process.exit(1); }

const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const args = ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=120000', ...files];
const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, PORTICO_TEST: '1' } });
process.exit(r.status ?? 1);
