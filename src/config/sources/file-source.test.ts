import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSource, type FileSourceUpdate } from './file-source.js';

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'portico-watch-'));
  roots.push(d);
  return d;
}

const svc = (name: string, port = 80) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  ports: [{port: ${port}}]
`;

/** A FileSource whose updates are queued; next() waits for one (failing after `ms`). */
function watched(paths: string[]) {
  const updates: FileSourceUpdate[] = [];
  const errors: unknown[] = [];
  let wake: (() => void) | undefined;
  const source = new FileSource(paths, {
    onUpdate: (u) => {
      updates.push(u);
      wake?.();
    },
    onError: (e) => errors.push(e),
  });
  const next = async (ms = 1000): Promise<FileSourceUpdate & { elapsed: number }> => {
    const t0 = performance.now();
    while (updates.length === 0) {
      const timedOut = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(true), ms - (performance.now() - t0));
        wake = () => {
          clearTimeout(t);
          resolve(false);
        };
      });
      wake = undefined;
      if (timedOut && updates.length === 0) throw new Error(`no update within ${ms} ms`);
    }
    return { ...updates.shift()!, elapsed: performance.now() - t0 };
  };
  /** Asserts that nothing is emitted for `ms`. */
  const quiet = async (ms: number): Promise<void> => {
    await new Promise((r) => setTimeout(r, ms));
    assert.deepEqual(updates.map((u) => u.revision), [], 'unexpected update');
  };
  return { source, next, quiet, errors };
}

const names = (u: FileSourceUpdate) => u.resources.map((r) => r.key.name);

test('write, modify, rename-over, delete and a new subfolder each produce an update within 1 s', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.yaml'), svc('a'));
  const w = watched([dir]);
  try {
    const first = await w.source.start();
    assert.equal(first.revision, 1);
    assert.deepEqual(names(first), ['a']);

    writeFileSync(join(dir, 'b.yaml'), svc('b'));
    let u = await w.next();
    assert.equal(u.revision, 2);
    assert.deepEqual(names(u), ['a', 'b']);
    assert.ok(u.elapsed < 1000);

    writeFileSync(join(dir, 'b.yaml'), svc('b', 8080));
    u = await w.next();
    assert.equal(u.revision, 3);
    assert.equal(u.resources[1]!.object.spec.ports[0].port, 8080);

    // Config tools write a temp file and rename it over the old one (new inode).
    writeFileSync(join(dir, '.a.yaml.tmp'), svc('a', 9090));
    renameSync(join(dir, '.a.yaml.tmp'), join(dir, 'a.yaml'));
    u = await w.next();
    assert.equal(u.revision, 4);
    assert.equal(u.resources[0]!.object.spec.ports[0].port, 9090);

    unlinkSync(join(dir, 'b.yaml'));
    u = await w.next();
    assert.equal(u.revision, 5);
    assert.deepEqual(names(u), ['a']);

    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'c.yaml'), svc('c'));
    u = await w.next();
    assert.deepEqual(names(u), ['a', 'c']);

    // The new subfolder is watched from now on.
    writeFileSync(join(dir, 'sub', 'd.yaml'), svc('d'));
    u = await w.next();
    assert.deepEqual(names(u), ['a', 'c', 'd']);
    assert.deepEqual(w.errors, []);
  } finally {
    w.source.close();
  }
});

test('byte-identical content emits nothing', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.yaml'), svc('a'));
  const w = watched([dir]);
  try {
    await w.source.start();
    writeFileSync(join(dir, 'a.yaml'), svc('a'));
    writeFileSync(join(dir, 'notes.txt'), 'not config');
    await w.quiet(500);
    writeFileSync(join(dir, 'a.yaml'), svc('a', 81));
    assert.equal((await w.next()).revision, 2);
  } finally {
    w.source.close();
  }
});

test('a file path is watched through its folder: siblings are ignored, replacement is seen', async () => {
  const dir = tempDir();
  const file = join(dir, 'routes.yaml');
  writeFileSync(file, svc('r'));
  const w = watched([file]);
  try {
    const first = await w.source.start();
    assert.deepEqual(names(first), ['r']);
    writeFileSync(join(dir, 'other.yaml'), svc('other'));
    await w.quiet(400);
    writeFileSync(join(dir, 'routes.yaml.new'), svc('r2'));
    renameSync(join(dir, 'routes.yaml.new'), file);
    const u = await w.next();
    assert.deepEqual(names(u), ['r2']);
  } finally {
    w.source.close();
  }
});

test('a path that does not exist yet is picked up when created', async () => {
  const dir = tempDir();
  const w = watched([join(dir, 'conf.d')]);
  try {
    const first = await w.source.start();
    assert.deepEqual(first.diagnostics.map((d) => d.code), ['LOAD_PATH_NOT_FOUND']);
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(join(dir, 'conf.d', 'a.yaml'), svc('a'));
    let u = await w.next();
    if (u.resources.length === 0) u = await w.next(); // the folder may be seen before its file
    assert.deepEqual(names(u), ['a']);
    assert.deepEqual(u.diagnostics, []);
  } finally {
    w.source.close();
  }
});

test('a half-written file keeps its previous version in effect', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.yaml'), svc('a'));
  writeFileSync(join(dir, 'b.yaml'), svc('b'));
  const w = watched([dir]);
  try {
    await w.source.start();
    writeFileSync(join(dir, 'b.yaml'), 'apiVersion: v1\nkind: Service\nmetadata:\n  name: [b\n');
    let u = await w.next();
    assert.deepEqual(names(u), ['a', 'b']);
    assert.deepEqual(u.diagnostics.map((d) => d.code), ['LOAD_YAML_SYNTAX', 'LOAD_KEPT_PREVIOUS']);
    writeFileSync(join(dir, 'b.yaml'), svc('b2'));
    u = await w.next();
    assert.deepEqual(names(u), ['a', 'b2']);
    assert.deepEqual(u.diagnostics, []);
  } finally {
    w.source.close();
  }
});

test('close() stops updates; start() twice is a misuse', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.yaml'), svc('a'));
  const w = watched([dir]);
  await w.source.start();
  await assert.rejects(w.source.start(), TypeError);
  w.source.close();
  writeFileSync(join(dir, 'a.yaml'), svc('a', 81));
  await w.quiet(400);
  assert.throws(() => new FileSource([], { onUpdate() {}, onError() {} }), TypeError);
});
