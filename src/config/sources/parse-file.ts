/**
 * Parses the content of one YAML or JSON file into Kubernetes-style objects that know their
 * source positions.
 *
 * YAML goes through the strict fast parser (fast-yaml.ts) and falls back to the `yaml`
 * library for anything outside its subset and for all syntax errors. Positions are resolved
 * on demand: an object keeps its node and the file's line table, and `positionOf(path)`
 * walks the node tree. JSON files are parsed with JSON.parse (much faster on large
 * `kubectl get -o json` dumps); their node tree is only built when a position is asked for.
 */
import { extname } from 'node:path';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseAllDocuments, parseDocument, type Node } from 'yaml';
import { groupOf, type Diagnostic, type Origin, type ResourceKey } from '../../errors/diagnostic.js';
import { parseFieldPath, protoJsonName } from '../resources/schema/field-path.js';
import type { KubeObject, PositionLookup } from '../resources/types.js';
import { fastParseYaml, fastResolve, linePosition, type FastNode } from './fast-yaml.js';

/** Kinds without a namespace; their key gets namespace "". */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set(['GatewayClass', 'IngressClass', 'Namespace']);

const MAX_SYNTAX_ERRORS_PER_FILE = 5;

/** One object parsed from a file, before keys are compared across files. */
export interface ParsedObject {
  readonly object: KubeObject;
  readonly key: ResourceKey;
  /** Position of the object itself (computed on first read for JSON files). */
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

/**
 * Positions inside one document, whichever parser produced it. `item` selects an element of
 * a list document (`items[i]`); undefined is the document value itself.
 */
interface DocPositions {
  /** Offset of the object (document value or list item); undefined when unknown. */
  start(item: number | undefined): number | undefined;
  /** Offset of a field path inside the object (nearest ancestor when absent). */
  resolve(item: number | undefined, path: string): number | undefined;
  at(offset: number): Origin;
}

function once<T>(fn: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) {
      value = fn();
      done = true;
    }
    return value;
  };
}

const isPlainObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses one file. A file with any syntax error contributes NOTHING, not even the documents
 * before the error: a half-written file (an editor or a tool writing in place) must never
 * yield half of its routes. Its diagnostics say where the error is.
 */
export function parseFile(file: string, hash: string, text: string): FileParse {
  if (extname(file).toLowerCase() === '.json') {
    const json = parseJson(file, hash, text);
    if (json) return json;
  } else {
    const fast = parseFast(file, hash, text);
    if (fast) return fast;
  }
  return parseYaml(file, hash, text);
}

/** Positions backed by the `yaml` library's node tree. */
function yamlPositions(root: Node | null, at: (offset: number) => Origin): DocPositions {
  const node = (item: number | undefined): Node | null => {
    if (item === undefined) return root;
    const seq = isMap(root) ? root.get('items', true) : undefined;
    return isSeq(seq) ? ((seq.items[item] as Node | undefined) ?? null) : null;
  };
  return {
    start: (item) => node(item)?.range?.[0],
    resolve: (item, path) => {
      const n = node(item);
      return n ? resolvePosition(n, path) : undefined;
    },
    at,
  };
}

/** Positions backed by the fast parser's node tree. */
function fastPositions(root: FastNode, at: (offset: number) => Origin): DocPositions {
  const node = (item: number | undefined): FastNode | undefined => {
    if (item === undefined) return root;
    if (root.k !== 'map') return undefined;
    const seq = root.values[root.keys.indexOf('items')];
    return seq?.k === 'seq' ? seq.items[item] : undefined;
  };
  return {
    start: (item) => node(item)?.start,
    resolve: (item, path) => {
      const n = node(item);
      return n ? fastResolve(n, path) : undefined;
    },
    at,
  };
}

function parseFast(file: string, hash: string, text: string): FileParse | undefined {
  const parsed = fastParseYaml(text);
  if (!parsed) return undefined;
  const at = (offset: number): Origin => ({ file, ...linePosition(parsed.lineStarts, offset) });
  const objects: ParsedObject[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const doc of parsed.docs) {
    if (doc.node === null || doc.js === null) continue; // empty document
    const positions = fastPositions(doc.node, at);
    extractObjects(doc.js, () => positions, objects, diagnostics);
  }
  return { file, hash, objects, diagnostics, syntaxError: false };
}

function parseYaml(file: string, hash: string, text: string): FileParse {
  const lc = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false });
  const docs = Array.isArray(parsed) ? parsed : [];
  const at = (offset: number): Origin => {
    const { line, col } = lc.linePos(offset);
    return { file, line, col };
  };
  const kind = extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML';
  const syntax: Diagnostic[] = [];
  for (const doc of docs) {
    for (const e of doc.errors) {
      if (syntax.length >= MAX_SYNTAX_ERRORS_PER_FILE) break;
      syntax.push({
        code: 'LOAD_YAML_SYNTAX',
        severity: 'error',
        path: '',
        origin: at(e.pos[0]),
        message: `Cannot parse ${kind}: ${e.message.split('\n')[0]}`,
      });
    }
  }
  // toJS() can still throw (an alias to a later anchor, too many alias expansions).
  const values: unknown[] = [];
  for (const doc of syntax.length > 0 ? [] : docs) {
    try {
      values.push(doc.toJS({ maxAliasCount: 100 }));
    } catch (err) {
      syntax.push({
        code: 'LOAD_YAML_SYNTAX',
        severity: 'error',
        path: '',
        origin: at(doc.contents?.range?.[0] ?? 0),
        message: `Cannot parse ${kind}: ${(err as Error).message.split('\n')[0]}`,
      });
      break;
    }
  }
  if (syntax.length > 0) return { file, hash, objects: [], diagnostics: syntax, syntaxError: true };

  const objects: ParsedObject[] = [];
  const diagnostics: Diagnostic[] = [];
  docs.forEach((doc, i) => {
    const root = doc.contents;
    if (root === null || (isScalar(root) && root.value === null)) return; // empty document
    const positions = yamlPositions(root, at);
    extractObjects(values[i], () => positions, objects, diagnostics);
  });
  return { file, hash, objects, diagnostics, syntaxError: false };
}

/** JSON fast path; undefined when JSON.parse refuses the text (the YAML parser then reports where). */
function parseJson(file: string, hash: string, text: string): FileParse | undefined {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  const positions = once((): DocPositions => {
    const lc = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
    return yamlPositions(doc.contents, (offset) => ({ file, ...lc.linePos(offset) }));
  });
  const objects: ParsedObject[] = [];
  const diagnostics: Diagnostic[] = [];
  extractObjects(value, positions, objects, diagnostics);
  return { file, hash, objects, diagnostics, syntaxError: false };
}

/** The items of a list document (`kind: List`, `kind: ServiceList`, or no kind with `items`). */
function listItems(js: Record<string, any>): unknown[] | undefined {
  if (!Array.isArray(js['items'])) return undefined;
  const kind = js['kind'];
  if (kind === undefined || (typeof kind === 'string' && kind.endsWith('List'))) return js['items'];
  return undefined;
}

function extractObjects(js: unknown, pos: () => DocPositions, objects: ParsedObject[], diagnostics: Diagnostic[]): void {
  const originOf = (item: number | undefined): Origin => {
    const p = pos();
    return p.at(p.start(item) ?? p.start(undefined) ?? 0);
  };
  if (!isPlainObject(js)) {
    const what = Array.isArray(js) ? 'a list' : 'a scalar';
    diagnostics.push({ code: 'LOAD_INVALID_OBJECT', severity: 'error', path: '', origin: originOf(undefined), message: `Cannot load document: expected an object, got ${what}` });
    return;
  }
  const items = listItems(js);
  if (!items) {
    addObject(js, undefined, pos, originOf, objects, diagnostics);
    return;
  }
  // Typed lists from the API server (`kind: ServiceList`) omit kind and apiVersion on items.
  const listKind = js['kind'];
  const typedKind = typeof listKind === 'string' && listKind !== 'List' ? listKind.slice(0, -'List'.length) : undefined;
  items.forEach((item, i) => {
    if (!isPlainObject(item)) {
      diagnostics.push({ code: 'LOAD_INVALID_OBJECT', severity: 'error', path: '', origin: originOf(i), message: `Cannot load list item ${i}: expected an object` });
      return;
    }
    if (typedKind && item['kind'] === undefined) item['kind'] = typedKind;
    if (typedKind && item['apiVersion'] === undefined && typeof js['apiVersion'] === 'string') item['apiVersion'] = js['apiVersion'];
    addObject(item, i, pos, originOf, objects, diagnostics);
  });
}

function addObject(
  js: Record<string, any>,
  item: number | undefined,
  pos: () => DocPositions,
  originOfItem: (item: number | undefined) => Origin,
  objects: ParsedObject[],
  diagnostics: Diagnostic[],
): void {
  const originOf = once(() => originOfItem(item));
  const positionOf: PositionLookup = (path) => {
    const p = pos();
    const offset = p.resolve(item, path);
    return offset === undefined ? originOf() : p.at(offset);
  };
  const meta = js['metadata'];
  const missing: string[] = [];
  if (typeof js['apiVersion'] !== 'string' || js['apiVersion'] === '') missing.push('apiVersion');
  if (typeof js['kind'] !== 'string' || js['kind'] === '') missing.push('kind');
  if (!isPlainObject(meta)) missing.push('metadata');
  else if (typeof meta['name'] !== 'string' || meta['name'] === '') missing.push('metadata.name');
  const kind = typeof js['kind'] === 'string' ? js['kind'] : '';
  const name = isPlainObject(meta) && typeof meta['name'] === 'string' ? meta['name'] : '';
  const ns: unknown = isPlainObject(meta) ? meta['namespace'] : undefined;
  const namespace = CLUSTER_SCOPED_KINDS.has(kind) ? '' : typeof ns === 'string' && ns !== '' ? ns : 'default';
  const resource = kind && name ? { resource: { kind, namespace, name } } : {};
  if (missing.length > 0) {
    diagnostics.push({
      code: 'LOAD_INVALID_OBJECT', severity: 'error', ...resource, path: missing[0]!,
      origin: positionOf(missing[0]!) ?? originOf(),
      message: `Cannot load object: missing ${missing.map((m) => `"${m}"`).join(', ')}`,
    });
    return;
  }
  if (ns !== undefined && ns !== null && typeof ns !== 'string') {
    diagnostics.push({
      code: 'LOAD_INVALID_OBJECT', severity: 'error', ...resource, path: 'metadata.namespace',
      origin: positionOf('metadata.namespace') ?? originOf(),
      message: 'Cannot load object: "metadata.namespace" must be a string',
    });
    return;
  }
  objects.push({
    object: js as KubeObject,
    key: keyOf(kind, namespace, name, String((js as KubeObject).apiVersion ?? '')),
    get origin() {
      return originOf();
    },
    positionOf,
  });
}

/**
 * Offset of a field path inside the `yaml` node of one object. Scalars resolve to the value,
 * collections to their key (the line where the field starts); a missing field resolves to
 * its nearest existing ancestor. Istio snake_case keys match their camelCase path.
 */
export function resolvePosition(root: Node, path: string): number | undefined {
  let offset = root.range?.[0];
  const tokens = path ? parseFieldPath(path) : [];
  let node: unknown = root;
  for (const t of tokens ?? []) {
    if (typeof t === 'number') {
      if (!isSeq(node)) break;
      const item = node.items[t] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
      continue;
    }
    if (!isMap(node)) break;
    const pair =
      node.items.find((p) => isScalar(p.key) && String(p.key.value) === t) ??
      node.items.find((p) => isScalar(p.key) && String(p.key.value).includes('_') && protoJsonName(String(p.key.value)) === t);
    if (!pair) break;
    const key = pair.key as Node;
    const value = pair.value as Node | null;
    // `tls:` with nothing after it is a null scalar with no source: point at the key instead.
    const scalarValue = (isScalar(value) && !(value.value === null && value.source === '')) || isAlias(value);
    offset = (scalarValue ? value?.range?.[0] : undefined) ?? key.range?.[0] ?? offset;
    node = value;
  }
  return offset;
}

/** Resource key; the group is recorded only where a kind name is ambiguous (see keyString). */
function keyOf(kind: string, namespace: string, name: string, apiVersion: string): ResourceKey {
  const group = groupOf(apiVersion);
  return kind === 'Gateway' && group === 'gateway.networking.k8s.io' ? { kind, namespace, name, group } : { kind, namespace, name };
}
