/**
 * Loads Kubernetes-style YAML/JSON files and folders into LoadedResources with positions.
 *
 * - A path is a file (read whatever its extension) or a folder (recursive; `*.yaml`, `*.yml`,
 *   `*.json`; hidden entries and editor temp files skipped). Entries are read in sorted
 *   order, folder by folder, so the result is deterministic.
 * - A file holds one or more YAML documents (`---`) or JSON; a document may be a single object
 *   or a list (`kind: List`, `kind: ServiceList`, or a bare `{items: [...]}`).
 * - Positions are resolved lazily: every resource keeps its YAML node and the file's
 *   LineCounter, and `positionOf(path)` walks the node tree on demand.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseAllDocuments, type Node, type YAMLMap } from 'yaml';
import { keyString, type Diagnostic, type Origin, type ResourceKey } from '../../errors/diagnostic.js';
import { parseFieldPath, protoJsonName } from '../resources/schema/field-path.js';
import type { KubeObject, LoadedResource, PositionLookup } from '../resources/types.js';

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

/** Kinds without a namespace; their key gets namespace "". */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set(['GatewayClass', 'IngressClass', 'Namespace']);

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
const MAX_SYNTAX_ERRORS_PER_FILE = 5;
const READ_CONCURRENCY = 32;

/** One object parsed from a file, before keys are checked across files. */
interface ParsedObject {
  readonly object: KubeObject;
  readonly key: ResourceKey;
  readonly origin: Origin;
  readonly positionOf: PositionLookup;
}

/** The parse of one file's content; reused while the content hash is unchanged. */
export interface FileParse {
  readonly file: string;
  /** sha256 of the file's bytes. */
  readonly hash: string;
  readonly objects: readonly ParsedObject[];
  readonly diagnostics: readonly Diagnostic[];
  /** The file had a YAML/JSON syntax error, so `objects` is empty. */
  readonly syntaxError: boolean;
}

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

// ---- parsing one file -----------------------------------------------------------------

const isPlainObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses one file. A file with any syntax error contributes NOTHING, not even the documents
 * before the error: a half-written file (an editor or `kubectl` writing in place) must never
 * yield half of its routes. The diagnostics say where the error is.
 */
export function parseFile(file: string, hash: string, text: string): FileParse {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false });
  const at = (offset: number): Origin => {
    const { line, col } = lc.linePos(offset);
    return { file, line, col };
  };
  const list = Array.isArray(docs) ? docs : [];
  const syntax: Diagnostic[] = [];
  for (const doc of list) {
    for (const e of doc.errors) {
      if (syntax.length >= MAX_SYNTAX_ERRORS_PER_FILE) break;
      syntax.push({
        code: 'LOAD_YAML_SYNTAX',
        severity: 'error',
        path: '',
        origin: at(e.pos[0]),
        message: `Cannot parse ${extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${e.message.split('\n')[0]}`,
      });
    }
  }
  if (syntax.length > 0) return { file, hash, objects: [], diagnostics: syntax, syntaxError: true };

  const objects: ParsedObject[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const doc of list) {
    const root = doc.contents;
    if (root === null || (isScalar(root) && root.value === null)) continue; // empty document
    const js: unknown = doc.toJS();
    if (!isMap(root) || !isPlainObject(js)) {
      const origin = at(root.range?.[0] ?? 0);
      diagnostics.push({ code: 'LOAD_INVALID_OBJECT', severity: 'error', path: '', origin, message: `Cannot load document: expected an object, got ${isSeq(root) ? 'a list' : 'a scalar'}` });
      continue;
    }
    const items = listItems(js);
    if (!items) {
      addObject(js, root, at, objects, diagnostics);
      continue;
    }
    const seq = root.get('items', true);
    const typedKind = typeof js['kind'] === 'string' && js['kind'] !== 'List' ? js['kind'].slice(0, -'List'.length) : undefined;
    items.forEach((item, i) => {
      const node = isSeq(seq) ? (seq.items[i] as Node | undefined) : undefined;
      if (!isPlainObject(item) || !isMap(node)) {
        const origin = at(node?.range?.[0] ?? root.range?.[0] ?? 0);
        diagnostics.push({ code: 'LOAD_INVALID_OBJECT', severity: 'error', path: '', origin, message: `Cannot load list item ${i}: expected an object` });
        return;
      }
      // Typed lists from the API server (`kind: ServiceList`) omit kind/apiVersion on items.
      if (typedKind && item['kind'] === undefined) item['kind'] = typedKind;
      if (typedKind && item['apiVersion'] === undefined && typeof js['apiVersion'] === 'string') item['apiVersion'] = js['apiVersion'];
      addObject(item, node, at, objects, diagnostics);
    });
  }
  return { file, hash, objects, diagnostics, syntaxError: false };
}

/** The items of a list document (`kind: List`, `kind: XList`, or no kind with `items`). */
function listItems(js: Record<string, any>): unknown[] | undefined {
  if (!Array.isArray(js['items'])) return undefined;
  const kind = js['kind'];
  if (kind === undefined || (typeof kind === 'string' && kind.endsWith('List'))) return js['items'];
  return undefined;
}

function addObject(js: Record<string, any>, node: YAMLMap, at: (offset: number) => Origin, objects: ParsedObject[], diagnostics: Diagnostic[]): void {
  const origin = at(node.range?.[0] ?? 0);
  const positionOf = makePositionOf(node, at, origin);
  const meta = js['metadata'];
  const missing: string[] = [];
  if (typeof js['apiVersion'] !== 'string' || js['apiVersion'] === '') missing.push('apiVersion');
  if (typeof js['kind'] !== 'string' || js['kind'] === '') missing.push('kind');
  if (!isPlainObject(meta)) missing.push('metadata');
  else if (typeof meta['name'] !== 'string' || meta['name'] === '') missing.push('metadata.name');
  const kind = typeof js['kind'] === 'string' ? js['kind'] : '';
  const name = isPlainObject(meta) && typeof meta['name'] === 'string' ? meta['name'] : '';
  const ns = isPlainObject(meta) ? meta['namespace'] : undefined;
  const namespace = CLUSTER_SCOPED_KINDS.has(kind) ? '' : typeof ns === 'string' && ns !== '' ? ns : 'default';
  const partialKey = kind && name ? { resource: { kind, namespace, name } } : {};
  if (missing.length > 0) {
    const what = missing.map((m) => `"${m}"`).join(', ');
    diagnostics.push({
      code: 'LOAD_INVALID_OBJECT', severity: 'error', ...partialKey, path: missing[0]!,
      origin: positionOf(missing[0]!) ?? origin,
      message: `Cannot load object: missing ${what}`,
    });
    return;
  }
  if (ns !== undefined && ns !== null && typeof ns !== 'string') {
    diagnostics.push({
      code: 'LOAD_INVALID_OBJECT', severity: 'error', ...partialKey, path: 'metadata.namespace',
      origin: positionOf('metadata.namespace') ?? origin,
      message: 'Cannot load object: "metadata.namespace" must be a string',
    });
    return;
  }
  objects.push({ object: js as KubeObject, key: { kind, namespace, name }, origin, positionOf });
}

/**
 * Resolves field paths against the YAML node of one object. Scalars resolve to the value,
 * collections to their key (the line where the field starts); a missing field resolves to
 * its nearest existing ancestor. Istio snake_case keys match their camelCase path.
 */
function makePositionOf(root: YAMLMap, at: (offset: number) => Origin, origin: Origin): PositionLookup {
  return (path: string): Origin | undefined => {
    if (!path) return origin;
    const tokens = parseFieldPath(path);
    if (!tokens) return origin;
    let node: unknown = root;
    let offset = root.range?.[0];
    for (const t of tokens) {
      if (typeof t === 'number') {
        if (!isSeq(node)) break;
        const item = node.items[t] as Node | undefined;
        if (!item) break;
        offset = item.range?.[0] ?? offset;
        node = item;
        continue;
      }
      if (!isMap(node)) break;
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === t)
        ?? node.items.find((p) => isScalar(p.key) && String(p.key.value).includes('_') && protoJsonName(String(p.key.value)) === t);
      if (!pair) break;
      const key = pair.key as Node;
      const value = pair.value as Node | null;
      const scalarValue = (isScalar(value) && value.source !== '') || isAlias(value);
      offset = (scalarValue ? value?.range?.[0] : undefined) ?? key.range?.[0] ?? offset;
      node = value;
    }
    return offset === undefined ? origin : at(offset);
  };
}

// ---- assembling -----------------------------------------------------------------------

function assemble(parses: readonly FileParse[], files: string[], diagnostics: Diagnostic[], source: string): LoadResult {
  const resources: LoadedResource[] = [];
  const first = new Map<string, Origin>();
  for (const parse of parses) {
    diagnostics.push(...parse.diagnostics);
    for (const o of parse.objects) {
      const k = keyString(o.key);
      const prev = first.get(k);
      if (prev) {
        diagnostics.push({
          code: 'LOAD_DUPLICATE_RESOURCE',
          severity: 'error',
          resource: o.key,
          path: '',
          origin: o.origin,
          message: `Ignoring duplicate resource ${k}: first defined at ${prev.file}:${prev.line}:${prev.col}`,
        });
        continue;
      }
      first.set(k, o.origin);
      resources.push({ key: o.key, object: o.object, origin: o.origin, positionOf: o.positionOf, source, seq: resources.length });
    }
  }
  return { resources, diagnostics, files };
}

/** Whether a folder entry name would be loaded (used by the watcher to filter events). */
export function isConfigFileName(name: string): boolean {
  return !isIgnoredName(basename(name)) && EXTENSIONS.has(extname(name).toLowerCase());
}
