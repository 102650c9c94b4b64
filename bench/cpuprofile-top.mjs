#!/usr/bin/env node
// Top functions by self time in a V8 .cpuprofile (from `node --cpu-prof`).
// Usage: node bench/cpuprofile-top.mjs FILE.cpuprofile [N=25]
import fs from 'node:fs';

const [file, nArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/cpuprofile-top.mjs FILE.cpuprofile [N]\n');
  process.exit(2);
}
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const n = Number(nArg) || 25;
// Sample i lasted timeDeltas[i + 1] µs (approximately); attribute it to the sampled node.
const selfUs = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  const dt = prof.timeDeltas[i + 1] ?? 0;
  selfUs.set(prof.samples[i], (selfUs.get(prof.samples[i]) ?? 0) + dt);
}
// Merge nodes of the same function (same name, url, line).
const byFn = new Map();
let total = 0;
for (const node of prof.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  total += us;
  const cf = node.callFrame;
  const where = cf.url ? `${cf.url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '')}:${cf.lineNumber + 1}` : '';
  const key = `${cf.functionName || '(anonymous)'}  ${where}`;
  byFn.set(key, (byFn.get(key) ?? 0) + us);
}
const rows = [...byFn].sort((a, b) => b[1] - a[1]).slice(0, n);
process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s sampled\n\n  self %   self ms  function  location\n`);
for (const [key, us] of rows) {
  process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(8)} ${(us / 1000).toFixed(0).padStart(9)}  ${key}\n`);
}
