/**
 * Watches config files and folders and re-loads them on change. Watches DIRECTORIES, not
 * inodes: config tools (and Kubernetes ConfigMap mounts) replace files by rename. Changes
 * are debounced; an update whose file contents are byte-identical to the last load is dropped.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { loadPaths, type LoadResult } from './file-loader.js';

export interface FileSourceOptions {
  readonly debounceMs?: number;
  onUpdate(result: LoadResult & { readonly revision: number }): void;
  onError(err: unknown): void;
}

export class FileSource {
  readonly #paths: readonly string[];
  readonly #opts: FileSourceOptions;
  readonly #watchers = new Map<string, fs.FSWatcher>();
  #timer: NodeJS.Timeout | undefined;
  #revision = 0;
  #lastHash = '';
  #closed = false;
  #loading = false;
  #again = false;

  constructor(paths: readonly string[], opts: FileSourceOptions) {
    this.#paths = paths.map((p) => path.resolve(p));
    this.#opts = opts;
  }

  /** Initial load, then watch. */
  async start(): Promise<LoadResult & { revision: number }> {
    const r = await loadPaths([...this.#paths]);
    this.#lastHash = await hashFiles(r.files);
    this.#revision = 1;
    await this.#watchAll();
    return { ...r, revision: this.#revision };
  }

  async #watchAll(): Promise<void> {
    const dirs = new Set<string>();
    for (const p of this.#paths) {
      let st: fs.Stats | undefined;
      try { st = await stat(p); } catch { st = undefined; }
      if (st?.isDirectory()) await collectDirs(p, dirs);
      else dirs.add(path.dirname(p));
    }
    for (const d of dirs) {
      if (this.#watchers.has(d)) continue;
      try {
        const w = fs.watch(d, { persistent: false }, () => this.#schedule());
        w.on('error', () => { w.close(); this.#watchers.delete(d); });
        this.#watchers.set(d, w);
      } catch { /* folder vanished; picked up again on the next change */ }
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => { void this.#reload(); }, this.#opts.debounceMs ?? 100);
  }

  async #reload(): Promise<void> {
    if (this.#loading) { this.#again = true; return; }
    this.#loading = true;
    try {
      await this.#watchAll(); // new subfolders
      const r = await loadPaths([...this.#paths]);
      const h = await hashFiles(r.files);
      if (h !== this.#lastHash && !this.#closed) {
        this.#lastHash = h;
        this.#revision++;
        this.#opts.onUpdate({ ...r, revision: this.#revision });
      }
    } catch (e) {
      this.#opts.onError(e);
    } finally {
      this.#loading = false;
      if (this.#again) { this.#again = false; this.#schedule(); }
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
  }
}

async function collectDirs(dir: string, out: Set<string>): Promise<void> {
  out.add(dir);
  let entries: fs.Dirent[];
  try { entries = await fs.promises.readdir(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    if (e.isDirectory() && !e.name.startsWith('.')) await collectDirs(path.join(dir, e.name), out);
  }
}

async function hashFiles(files: readonly string[]): Promise<string> {
  const h = createHash('sha256');
  for (const f of [...files].sort()) {
    h.update(f);
    try { h.update(await readFile(f)); } catch { h.update('<missing>'); }
  }
  return h.digest('hex');
}
