/**
 * Loads Kubernetes-style YAML/JSON files and folders into LoadedResources with positions.
 *
 * - A path is a file (read whatever its extension) or a folder (recursive; `*.yaml`, `*.yml`,
 *   `*.json`; hidden entries and editor temp files skipped). Entries are read in sorted
 *   order, folder by folder, so the result is deterministic.
 * - A file holds one or more YAML documents (`---`) or JSON; a document may be a single object
 *   or a list (`kind: List`, `kind: ServiceList`, or a bare `{items: [...]}`).
 * - Positions are resolved lazily (see parse-file.ts).
 */
import { createHash } from 'node:crypto';
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { keyString, type Diagnostic } from '../../errors/diagnostic.js';
import type { LoadedResource } from '../resources/types.js';
import { parseFile, type FileParse, type ParsedObject } from './parse-file.js';

export { CLUSTER_SCOPED_KINDS, type FileParse } from './parse-file.js';

/** What one load of a set of paths produced. */
export interface LoadResult {
  /** Accepted objects in order of appearance (duplicates and malformed objects left out). */
  readonly resources: LoadedResource[];
  readonly diagnostics: Diagnostic[];
  /** Every file that was read, in load order. */
  readonly files: string[];
}

/** Options of {@link loadPaths}. */
export interface LoadOptions {
  /** Source name stored on each resource; default `file`. */
  readonly source?: string;
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
const READ_CONCURRENCY = 32;

/** Result of {@link loadPathsDetailed}: the load plus what a watcher needs for the next round. */
export interface DetailedLoad {
  readonly result: LoadResult;
  /** Hash over every file's path and bytes; equal digests mean identical input. */
  readonly digest: string;
  /** Every folder visited (for watchers). */
  readonly dirs: string[];
  /** Per-file parse to pass back as `previous` next time (the last good parse for broken files). */
  readonly parses: ReadonlyMap<string, FileParse>;
}

/** Options of {@link loadPathsDetailed}. */
export interface DetailedLoadOptions extends LoadOptions {
  /** Parses from the previous load; unchanged files are not parsed again. */
  readonly previous?: ReadonlyMap<string, FileParse>;
  /**
   * When a file that parsed before now has a syntax error, keep serving its previous objects
   * (with a LOAD_KEPT_PREVIOUS warning) instead of dropping them. Used by the file watcher.
   */
  readonly keepLastGood?: boolean;
}

/** Reads files and folders and returns every object found, with diagnostics. */
export async function loadPaths(paths: string[], opts: LoadOptions = {}): Promise<LoadResult> {
  return (await loadPathsDetailed(paths, opts)).result;
}

/** {@link loadPaths} plus a content digest, the folders visited and per-file parses. */
export async function loadPathsDetailed(paths: readonly string[], opts: DetailedLoadOptions = {}): Promise<DetailedLoad> {
  const diagnostics: Diagnostic[] = [];
  const { files, dirs } = await collectFiles(paths, diagnostics);
  const contents = await readAll(files, diagnostics);

  const digest = createHash('sha256');
  const parses = new Map<string, FileParse>();
  const used: FileParse[] = [];
  for (const file of files) {
    const bytes = contents.get(file);
    if (bytes === undefined) continue;
    const hash = createHash('sha256').update(bytes).digest('hex');
    digest.update(`${file}\0${hash}\0`);
    const prev = opts.previous?.get(file);
    let parse = prev && prev.hash === hash ? prev : parseFile(file, hash, bytes.toString('utf8'));
    parses.set(file, parse);
    if (parse.syntaxError && opts.keepLastGood && prev && !prev.syntaxError) {
      // The previous version stays in effect: a broken write must not drop this file's routes.
      parses.set(file, prev);
      const kept: Diagnostic = {
        code: 'LOAD_KEPT_PREVIOUS',
        severity: 'warning',
        path: '',
        origin: { file, line: 1, col: 1 },
        message: `Keeping the previous version of ${JSON.stringify(file)}: the new content has a syntax error`,
      };
      parse = { ...prev, diagnostics: [...parse.diagnostics, kept] };
    }
    used.push(parse);
  }
  return { result: assemble(used, files, diagnostics, opts.source ?? 'file'), digest: digest.digest('hex'), dirs, parses };
}

// ---- collecting files -----------------------------------------------------------------

/** Hidden entries (also `.#lock` and `.x.swp`) and editor leftovers are never configuration. */
function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name.endsWith('~') || (name.startsWith('#') && name.endsWith('#')) || /\.(swp|swo|swx|tmp|bak)$/.test(name);
}

async function collectFiles(paths: readonly string[], diagnostics: Diagnostic[]): Promise<{ files: string[]; dirs: string[] }> {
  const files: string[] = [];
  const dirs: string[] = [];
  const seenFiles = new Set<string>();
  const seenDirs = new Set<string>();

  const walkDir = async (dir: string): Promise<void> => {
    let real: string;
    try {
      real = await realpath(dir);
    } catch {
      return;
    }
    if (seenDirs.has(real)) return; // symlink loop or the same folder given twice
    seenDirs.add(real);
    dirs.push(dir);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      diagnostics.push(readError(dir, err));
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (isIgnoredName(e.name)) continue;
      const p = join(dir, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        // ConfigMap volumes are symlinks into a hidden `..data` folder: follow them.
        try {
          const s = await stat(p);
          isDir = s.isDirectory();
          isFile = s.isFile();
        } catch {
          continue; // dangling link
        }
      }
      if (isDir) await walkDir(p);
      else if (isFile && EXTENSIONS.has(extname(e.name).toLowerCase()) && !seenFiles.has(p)) {
        seenFiles.add(p);
        files.push(p);
      }
    }
  };

  for (const p of paths) {
    let s;
    try {
      s = await stat(p);
    } catch (err) {
      diagnostics.push(readError(p, err));
      continue;
    }
    if (s.isDirectory()) await walkDir(p);
    else if (!seenFiles.has(p)) {
      seenFiles.add(p);
      files.push(p);
    }
  }
  return { files, dirs };
}

function readError(p: string, err: unknown): Diagnostic {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    return { code: 'LOAD_PATH_NOT_FOUND', severity: 'error', path: '', message: `Cannot read ${JSON.stringify(p)}: no such file or directory` };
  }
  const reason = code === 'EACCES' ? 'permission denied' : (err as Error).message;
  return { code: 'LOAD_READ_FAILED', severity: 'error', path: '', message: `Cannot read ${JSON.stringify(p)}: ${reason}` };
}

async function readAll(files: readonly string[], diagnostics: Diagnostic[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const errors = new Map<string, Diagnostic>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next++]!;
      try {
        out.set(file, await readFile(file));
      } catch (err) {
        errors.set(file, readError(file, err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, files.length) }, worker));
  for (const f of files) {
    const d = errors.get(f);
    if (d) diagnostics.push(d); // in file order, not completion order
  }
  return out;
}

// ---- assembling -----------------------------------------------------------------------

function assemble(parses: readonly FileParse[], files: string[], diagnostics: Diagnostic[], source: string): LoadResult {
  const resources: LoadedResource[] = [];
  const first = new Map<string, ParsedObject>(); // origins are read only for duplicates (lazy for JSON)
  for (const parse of parses) {
    diagnostics.push(...parse.diagnostics);
    for (const o of parse.objects) {
      const k = keyString(o.key);
      const prevObject = first.get(k);
      if (prevObject) {
        const prev = prevObject.origin;
        // Resource keys carry no API group: an Istio Gateway and a Gateway API Gateway collide.
        const groups = [prevObject, o].map((x) => String(x.object.apiVersion).split('/').slice(0, -1).join('/') || 'core');
        const hint = groups[0] !== groups[1] ? ` (${groups[0]} and ${groups[1]} objects of one kind cannot share a namespace and name)` : '';
        diagnostics.push({
          code: 'LOAD_DUPLICATE_RESOURCE',
          severity: 'error',
          resource: o.key,
          path: '',
          origin: o.origin,
          message: `Ignoring duplicate resource ${k}: first defined at ${prev.file}:${prev.line}:${prev.col}${hint}`,
        });
        continue;
      }
      first.set(k, o);
      resources.push({
        key: o.key,
        object: o.object,
        get origin() {
          return o.origin; // lazy for JSON files
        },
        positionOf: o.positionOf,
        source,
        seq: resources.length,
      });
    }
  }
  return { resources, diagnostics, files };
}

/** Whether a folder entry name would be loaded (used by the watcher to filter events). */
export function isConfigFileName(name: string): boolean {
  return !isIgnoredName(basename(name)) && EXTENSIONS.has(extname(name).toLowerCase());
}
