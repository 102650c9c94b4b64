/**
 * The file source: loads config files and folders, then watches them and reloads on change.
 *
 * - Watches DIRECTORIES, never file inodes: editors, config tools and Kubernetes ConfigMap
 *   volumes replace files by rename (ConfigMaps swap a `..data` symlink), which an inode
 *   watch would miss. A file path is watched through its parent folder, filtered by name; a
 *   folder path through itself, every non-hidden subfolder (new ones are picked up after each
 *   reload) and its parent (so a deleted and re-created folder is noticed).
 * - Changes are debounced, then everything is reloaded with loadPaths semantics. An update is
 *   emitted only when the bytes of the files differ from the last load.
 * - A file that stops parsing keeps its previous content in effect (LOAD_KEPT_PREVIOUS):
 *   an invalid write never drops that file's routes (pitfalls: "An invalid config write keeps
 *   the previous routing in full").
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { PorticoError } from '../../errors/portico-error.js';
import { isConfigFileName, loadPathsDetailed, type FileParse, type LoadResult } from './file-loader.js';

/** One emitted load: what loadPaths returns plus a revision that grows by one per update. */
export type FileSourceUpdate = LoadResult & { readonly revision: number };

/** Options of {@link FileSource}. */
export interface FileSourceOptions {
  /** Quiet time after the last change before reloading; default 100 ms. */
  readonly debounceMs?: number;
  /** Source name stored on resources; default `file`. */
  readonly source?: string;
  /** Called with every changed load after start() (not for the initial load, which start() returns). */
  onUpdate(result: FileSourceUpdate): void;
  /** Watch and reload failures (PorticoError with LOAD_WATCH_FAILED / LOAD_RELOAD_FAILED). */
  onError(err: unknown): void;
}

interface WatchEntry {
  readonly watcher: FSWatcher;
  /** Names that matter in this folder; null: every change matters. */
  readonly names: ReadonlySet<string> | null;
}

/** Watches config paths and emits reloaded resource sets. Call close() to stop. */
export class FileSource {
  readonly #paths: readonly string[];
  readonly #opts: FileSourceOptions;
  readonly #watches = new Map<string, WatchEntry>();
  #timer: NodeJS.Timeout | undefined;
  #revision = 0;
  #digest = '';
  #parses: ReadonlyMap<string, FileParse> = new Map();
  #started = false;
  #closed = false;
  #loading: Promise<void> | undefined;
  #dirty = false;

  constructor(paths: readonly string[], opts: FileSourceOptions) {
    if (paths.length === 0) throw new TypeError('FileSource needs at least one path');
    this.#paths = [...paths];
    this.#opts = opts;
  }

  /** Revision of the last emitted load (1 after start()). */
  get revision(): number {
    return this.#revision;
  }

  /** Loads every path (revision 1) and starts watching. */
  async start(): Promise<FileSourceUpdate> {
    if (this.#started) throw new TypeError('FileSource.start() called twice');
    this.#started = true;
    const load = await this.#load();
    this.#digest = load.digest;
    this.#revision = 1;
    await this.#syncWatches(load.dirs);
    return { ...load.result, revision: this.#revision };
  }

  /** Reloads now (e.g. on SIGHUP); emits only if something changed. */
  async reload(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#reload();
  }

  /** Stops watching; no update is emitted after close() returns. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const w of this.#watches.values()) w.watcher.close();
    this.#watches.clear();
  }

  async #load() {
    const load = await loadPathsDetailed(this.#paths, {
      ...(this.#opts.source ? { source: this.#opts.source } : {}),
      previous: this.#parses,
      keepLastGood: true,
    });
    this.#parses = load.parses;
    return load;
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#reload();
    }, this.#opts.debounceMs ?? 100);
  }

  /** Serialised: a change during a reload triggers one more reload afterwards. */
  async #reload(): Promise<void> {
    if (this.#closed || !this.#started) return;
    if (this.#loading) {
      this.#dirty = true;
      return this.#loading;
    }
    this.#loading = (async () => {
      try {
        const load = await this.#load();
        if (this.#closed) return;
        // Files created in a new subfolder before its watch existed are caught by one more pass.
        if (await this.#syncWatches(load.dirs)) this.#dirty = true;
        if (load.digest === this.#digest) return;
        this.#digest = load.digest;
        this.#revision++;
        try {
          this.#opts.onUpdate({ ...load.result, revision: this.#revision });
        } catch (err) {
          this.#opts.onError(err);
        }
      } catch (err) {
        this.#opts.onError(new PorticoError('LOAD_RELOAD_FAILED', `Cannot reload configuration: ${(err as Error).message}`, { cause: err }));
      }
    })();
    try {
      await this.#loading;
    } finally {
      this.#loading = undefined;
      if (this.#dirty && !this.#closed) {
        this.#dirty = false;
        this.#schedule();
      }
    }
  }

  /** Makes the set of watched folders match the last load; returns true when a folder was added. */
  async #syncWatches(loadedDirs: readonly string[]): Promise<boolean> {
    const wanted = new Map<string, Set<string> | null>();
    const want = (dir: string, name: string | null): void => {
      const cur = wanted.get(dir);
      if (cur === null) return;
      if (name === null) wanted.set(dir, null);
      else if (cur) cur.add(name);
      else wanted.set(dir, new Set([name]));
    };
    for (const d of loadedDirs) want(resolve(d), null);
    for (const p of this.#paths) {
      // The nearest existing ancestor, filtered by the next path component: notices a file or
      // folder that is created, deleted or replaced.
      let child = resolve(p);
      let parent = dirname(child);
      while (parent !== child && !(await isDir(parent))) {
        child = parent;
        parent = dirname(parent);
      }
      if (parent !== child) want(parent, basename(child));
    }
    let added = false;
    for (const [dir, entry] of this.#watches) {
      const names = wanted.get(dir);
      if (names === undefined || !sameNames(names, entry.names)) {
        entry.watcher.close();
        this.#watches.delete(dir);
      }
    }
    for (const [dir, names] of wanted) {
      if (this.#watches.has(dir) || this.#closed) continue;
      try {
        const watcher = watch(dir, { persistent: false }, (_event, filename) => {
          if (names && filename !== null && !names.has(String(filename))) return;
          // In a watched folder, only config files and (extension-less) subfolders matter: logs
          // or other files written beside the config must not cost a reload each time.
          if (!names && filename !== null && !isConfigFileName(String(filename)) && extname(String(filename)) !== '') return;
          this.#schedule();
        });
        watcher.on('error', (err: NodeJS.ErrnoException) => {
          watcher.close();
          if (this.#watches.get(dir)?.watcher === watcher) this.#watches.delete(dir);
          // A watched folder that disappears is normal (the next reload notices); report the rest.
          if (err.code !== 'ENOENT' && err.code !== 'EPERM') {
            this.#opts.onError(new PorticoError('LOAD_WATCH_FAILED', `Cannot watch ${JSON.stringify(dir)}: ${err.message}`, { cause: err }));
          }
          this.#schedule();
        });
        this.#watches.set(dir, { watcher, names });
        if (names === null) added = true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') {
          this.#opts.onError(new PorticoError('LOAD_WATCH_FAILED', `Cannot watch ${JSON.stringify(dir)}: ${(err as Error).message}`, { cause: err }));
        }
      }
    }
    return added;
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

function sameNames(a: ReadonlySet<string> | null, b: ReadonlySet<string> | null): boolean {
  if (a === null || b === null) return a === b;
  return a.size === b.size && [...a].every((n) => b.has(n));
}
