/**
 * A fast, deliberately strict parser for the YAML subset Kubernetes manifests are written in.
 *
 * The `yaml` library is correct but spends ~0.3 ms per typical resource (about a second of
 * CPU for 1,000 resources on a busy host), and config loads sit on the startup and reload
 * path. This parser handles block mappings and sequences, plain / quoted / literal (`|`)
 * scalars and single-line flow collections, resolving plain scalars with the YAML 1.2 core
 * schema exactly as `yaml` does. On ANYTHING outside that subset — anchors, aliases, tags,
 * folded or multi-line scalars, tabs, duplicate keys, unusual indentation, directives — it
 * gives up (returns undefined) and the caller parses the file with `yaml`, which also
 * produces the syntax errors. Equivalence with `yaml` is checked by a differential test.
 */
import { parseFieldPath, protoJsonName } from '../resources/schema/field-path.js';
import { INDICATORS, doubleQuoted, isFlowBreak, resolvePlain, singleQuoted, trimSpaces } from './yaml-scalars.js';

/** A mapping: keys in order, key offsets, value nodes. */
export interface FastMap {
  readonly k: 'map';
  readonly start: number;
  readonly keys: string[];
  readonly keyAt: number[];
  readonly values: FastNode[];
}

/** A sequence. */
export interface FastSeq {
  readonly k: 'seq';
  readonly start: number;
  readonly items: FastNode[];
}

/** A scalar; `empty` for a value left out (`key:` with nothing after it). */
export interface FastScalar {
  readonly k: 'scalar';
  readonly start: number;
  readonly empty: boolean;
}

export type FastNode = FastMap | FastSeq | FastScalar;

/** One document: its JS value and node tree (null for an empty document). */
export interface FastDoc {
  readonly js: unknown;
  readonly node: FastNode | null;
}

/** The parse of a whole file. */
export interface FastFile {
  readonly docs: FastDoc[];
  /** Offset of the start of every line, for offset → line/col. */
  readonly lineStarts: number[];
}

/** Thrown internally when the input leaves the supported subset. */
const BAIL: unique symbol = Symbol('bail');

function bail(): never {
  throw BAIL;
}

interface Parsed {
  readonly js: unknown;
  readonly node: FastNode;
  /** First line not consumed. */
  readonly next: number;
}

class Parser {
  readonly #t: string;
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];
  #docEnd = 0;
  /** The text does not end with a newline (matters for literal scalar chomping). */
  readonly #noFinalNewline: boolean;
  /** Number of real lines (a final newline does not start another line). */
  readonly #lineCount: number;
  /** Indentation per line, computed on first use (-1: not yet). */
  readonly #indents: Int32Array;

  constructor(text: string) {
    this.#t = text;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      const end = nl < 0 ? text.length : nl;
      const contentEnd = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
      this.#starts.push(start);
      this.#ends.push(contentEnd);
      if (nl < 0) break;
      start = nl + 1;
    }
    this.#noFinalNewline = !text.endsWith('\n');
    // The offset after a final newline stays in lineStarts (like yaml's LineCounter) but is not a line.
    this.#lineCount = this.#noFinalNewline ? this.#starts.length : this.#starts.length - 1;
    this.#indents = new Int32Array(this.#starts.length).fill(-1);
  }

  get lineStarts(): number[] {
    return this.#starts;
  }

  run(): FastDoc[] {
    const t = this.#t;
    // Outside the subset anywhere: tabs, stray CRs, BOM, directives, document end markers.
    if (t.includes('\t') || t.charCodeAt(0) === 0xfeff || /\r(?!\n)/.test(t)) throw BAIL;
    const docs: FastDoc[] = [];
    let docStart = 0;
    const n = this.#lineCount;
    for (let li = 0; li <= n; li++) {
      const isMarker = li < n && this.#isDocStart(li);
      if (li === n || isMarker) {
        if (li > docStart || isMarker) docs.push(this.#doc(docStart, li));
        docStart = li + 1;
      }
    }
    return docs;
  }

  #line(li: number): string {
    return this.#t.slice(this.#starts[li], this.#ends[li]);
  }

  #isDocStart(li: number): boolean {
    const c = this.#t.charCodeAt(this.#starts[li]!);
    if (c !== 45 && c !== 37 && c !== 46) return false; // '-', '%', '.'
    const s = this.#line(li);
    if (s.startsWith('%') || s.startsWith('...')) throw BAIL;
    if (!s.startsWith('---')) return false;
    const rest = s.slice(3);
    if (rest === '' || /^ +(#.*)?$/.test(rest)) return true;
    throw BAIL; // content after `---` on the same line
  }

  #doc(from: number, to: number): FastDoc {
    this.#docEnd = to;
    const first = this.#nextContent(from);
    if (first >= to) return { js: null, node: null };
    if (this.#indent(first) !== 0) throw BAIL;
    const r = this.#block(first, 0);
    if (this.#nextContent(r.next) < to) throw BAIL;
    return { js: r.js, node: r.node };
  }

  #indent(li: number): number {
    let v = this.#indents[li]!;
    if (v < 0) {
      const s = this.#starts[li]!;
      const e = this.#ends[li]!;
      let i = s;
      while (i < e && this.#t.charCodeAt(i) === 32) i++;
      v = this.#indents[li] = i - s;
    }
    return v;
  }

  #isBlank(li: number): boolean {
    return this.#indent(li) === this.#ends[li]! - this.#starts[li]!;
  }

  /** First line at or after `li` that is neither blank nor a comment (docEnd when none). */
  #nextContent(li: number): number {
    for (; li < this.#docEnd; li++) {
      const ind = this.#indent(li);
      const pos = this.#starts[li]! + ind;
      if (pos < this.#ends[li]! && this.#t[pos] !== '#') return li;
    }
    return this.#docEnd;
  }

  /** `-` followed by a space or the end of the line, at absolute offset `pos` of line li. */
  #isSeqEntry(li: number, pos: number): boolean {
    return this.#t[pos] === '-' && (pos + 1 === this.#ends[li] || this.#t[pos + 1] === ' ');
  }

  /** A block collection starting at column `col` of line li. */
  #block(li: number, col: number): Parsed {
    const pos = this.#starts[li]! + col;
    if (this.#isSeqEntry(li, pos)) return this.#seq(li, col);
    if (this.#key(li, pos)) return this.#map(li, col);
    throw BAIL; // scalar documents and multi-line scalars go to the full parser
  }

  /** A mapping key at `pos`: its text and the offset just after the `:`. */
  #key(li: number, pos: number): { key: string; after: number } | undefined {
    const t = this.#t;
    const end = this.#ends[li]!;
    const c = t[pos];
    if (c === '"' || c === "'") {
      const q = (c === '"' ? doubleQuoted(t, pos, end) : singleQuoted(t, pos, end)) ?? bail();
      if (t[q.end] !== ':') return undefined;
      if (q.end + 1 < end && t[q.end + 1] !== ' ') throw BAIL;
      return { key: q.value, after: q.end + 1 };
    }
    if (c === undefined || INDICATORS.has(c)) return undefined;
    let i = pos;
    for (;;) {
      while (i < end && t.charCodeAt(i) !== 58) i++; // ':'
      if (i >= end) return undefined;
      if (i + 1 === end || t[i + 1] === ' ') break;
      i++;
    }
    const key = t.slice(pos, i);
    if (key.includes('#') || key.endsWith(' ') || key.length > 1000) throw BAIL;
    if (typeof resolvePlain(key) !== 'string') throw BAIL; // `80:` or `true:` keys
    return { key, after: i + 1 };
  }

  #map(li: number, indent: number): Parsed {
    const node: FastMap = { k: 'map', start: this.#starts[li]! + indent, keys: [], keyAt: [], values: [] };
    const js: Record<string, unknown> = {};
    let line = li;
    for (;;) {
      const pos = this.#starts[line]! + indent;
      const k = this.#key(line, pos);
      // Duplicate keys: let `yaml` report them. `__proto__` would set the prototype.
      if (!k || Object.hasOwn(js, k.key) || k.key === '__proto__') throw BAIL;
      const v = this.#valueAfterColon(line, k.after, indent);
      js[k.key] = v.js;
      node.keys.push(k.key);
      node.keyAt.push(pos);
      node.values.push(v.node);
      line = this.#nextContent(v.next);
      if (line >= this.#docEnd) return { js, node, next: line };
      const ind = this.#indent(line);
      if (ind < indent) return { js, node, next: line };
      if (ind > indent || this.#isSeqEntry(line, this.#starts[line]! + ind)) throw BAIL;
    }
  }

  #valueAfterColon(li: number, after: number, indent: number): Parsed {
    const t = this.#t;
    const end = this.#ends[li]!;
    let p = after;
    while (p < end && t[p] === ' ') p++;
    if (p === end || t[p] === '#') {
      const nl = this.#nextContent(li + 1);
      if (nl < this.#docEnd) {
        const ind = this.#indent(nl);
        if (ind > indent) return this.#block(nl, ind);
        // A sequence may sit at the same indentation as its key.
        if (ind === indent && this.#isSeqEntry(nl, this.#starts[nl]! + ind)) return this.#seq(nl, ind);
      }
      return { js: null, node: { k: 'scalar', start: after, empty: true }, next: li + 1 };
    }
    return this.#inline(li, p, indent);
  }

  #seq(li: number, indent: number): Parsed {
    const t = this.#t;
    const node: FastSeq = { k: 'seq', start: this.#starts[li]! + indent, items: [] };
    const js: unknown[] = [];
    let line = li;
    for (;;) {
      const end = this.#ends[line]!;
      let p = this.#starts[line]! + indent + 1;
      while (p < end && t[p] === ' ') p++;
      let item: Parsed;
      if (p === end || t[p] === '#') {
        const nl = this.#nextContent(line + 1);
        if (nl >= this.#docEnd || this.#indent(nl) <= indent) throw BAIL; // null item
        item = this.#block(nl, this.#indent(nl));
      } else if (this.#isSeqEntry(line, p)) {
        throw BAIL; // `- - x`
      } else if (this.#key(line, p)) {
        item = this.#map(line, p - this.#starts[line]!);
      } else {
        item = this.#inline(line, p, indent);
      }
      js.push(item.js);
      node.items.push(item.node);
      line = this.#nextContent(item.next);
      if (line >= this.#docEnd) return { js, node, next: line };
      const ind = this.#indent(line);
      if (ind < indent) return { js, node, next: line };
      if (ind > indent) throw BAIL;
      if (!this.#isSeqEntry(line, this.#starts[line]! + ind)) return { js, node, next: line };
    }
  }

  /** A value that starts on this line at `p` (scalar, flow collection or literal block). */
  #inline(li: number, p: number, parentIndent: number): Parsed {
    const t = this.#t;
    const end = this.#ends[li]!;
    const c = t[p]!;
    let js: unknown;
    let node: FastNode;
    let after: number;
    if (c === '|') return this.#literal(li, p, parentIndent);
    if (c === '"' || c === "'") {
      const q = (c === '"' ? doubleQuoted(t, p, end) : singleQuoted(t, p, end)) ?? bail();
      js = q.value;
      node = { k: 'scalar', start: p, empty: false };
      after = q.end;
    } else if (c === '[' || c === '{') {
      const f = this.#flow(p, end);
      js = f.js;
      node = f.node;
      after = f.end;
    } else {
      if (INDICATORS.has(c) && !(c === '-' && t[p + 1] !== ' ' && p + 1 < end)) throw BAIL;
      let stop = p;
      while (stop < end && !(t.charCodeAt(stop) === 35 && t.charCodeAt(stop - 1) === 32)) stop++; // ` #` starts a comment
      const s = trimSpaces(t.slice(p, stop));
      if (s.includes(': ') || s.endsWith(':')) throw BAIL;
      js = resolvePlain(s);
      node = { k: 'scalar', start: p, empty: false };
      after = end;
    }
    // Only spaces, then optionally a comment, may follow on the line.
    let i = after;
    while (i < end && t[i] === ' ') i++;
    if (i < end && (t[i] !== '#' || i === after)) throw BAIL;
    // A more indented line after a scalar would continue it (multi-line plain scalar).
    const nl = this.#nextContent(li + 1);
    if (nl < this.#docEnd && this.#indent(nl) > parentIndent) throw BAIL;
    return { js, node, next: li + 1 };
  }

  /** A single-line flow collection starting at `p`. */
  #flow(p: number, end: number): { js: unknown; node: FastNode; end: number } {
    const t = this.#t;
    const open = t[p]!;
    const close = open === '[' ? ']' : '}';
    let i = this.#skipSpaces(p + 1, end);
    if (open === '[') {
      const node: FastSeq = { k: 'seq', start: p, items: [] };
      const js: unknown[] = [];
      if (t[i] === ']') return { js, node, end: i + 1 };
      for (;;) {
        const item = this.#flowItem(i, end, false);
        js.push(item.js);
        node.items.push(item.node);
        i = this.#skipSpaces(item.end, end);
        if (t[i] === ',') {
          i = this.#skipSpaces(i + 1, end);
          if (t[i] === close || i >= end) throw BAIL; // trailing comma
          continue;
        }
        if (t[i] === close) return { js, node, end: i + 1 };
        throw BAIL;
      }
    }
    const node: FastMap = { k: 'map', start: p, keys: [], keyAt: [], values: [] };
    const js: Record<string, unknown> = {};
    if (t[i] === '}') return { js, node, end: i + 1 };
    for (;;) {
      const keyAt = i;
      const key = this.#flowItem(i, end, true);
      if (typeof key.js !== 'string' || key.node.k !== 'scalar' || Object.hasOwn(js, key.js) || key.js === '__proto__') throw BAIL;
      i = key.end;
      if (t[i] !== ':' || t[i + 1] !== ' ') throw BAIL;
      i = this.#skipSpaces(i + 1, end);
      if (t[i] === ',' || t[i] === '}' || i >= end) throw BAIL; // empty value
      const value = this.#flowItem(i, end, false);
      js[key.js] = value.js;
      node.keys.push(key.js);
      node.keyAt.push(keyAt);
      node.values.push(value.node);
      i = this.#skipSpaces(value.end, end);
      if (t[i] === ',') {
        i = this.#skipSpaces(i + 1, end);
        if (t[i] === close || i >= end) throw BAIL;
        continue;
      }
      if (t[i] === close) return { js, node, end: i + 1 };
      throw BAIL;
    }
  }

  #skipSpaces(i: number, end: number): number {
    while (i < end && this.#t.charCodeAt(i) === 32) i++;
    return i;
  }

  #flowItem(i: number, end: number, isKey: boolean): { js: unknown; node: FastNode; end: number } {
    const t = this.#t;
    const c = t[i];
    if (c === undefined || i >= end) throw BAIL;
    if (c === '[' || c === '{') {
      if (isKey) throw BAIL;
      return this.#flow(i, end);
    }
    if (c === '"' || c === "'") {
      const q = (c === '"' ? doubleQuoted(t, i, end) : singleQuoted(t, i, end)) ?? bail();
      return { js: q.value, node: { k: 'scalar', start: i, empty: false }, end: q.end };
    }
    if (INDICATORS.has(c) && !(c === '-' && t[i + 1] !== ' ' && t[i + 1] !== ',' && i + 1 < end)) throw BAIL;
    let j = i;
    while (j < end) {
      const ch = t.charCodeAt(j);
      if (ch === 44 || ch === 91 || ch === 93 || ch === 123 || ch === 125) break; // , [ ] { }
      // In flow context `:` before a space or a flow indicator ends an implicit key.
      if (ch === 58 && (j + 1 === end || isFlowBreak(t.charCodeAt(j + 1)))) break;
      if (ch === 35 && t.charCodeAt(j - 1) === 32) throw BAIL; // ` #` comment inside a flow collection
      j++;
    }
    if (!isKey && t[j] === ':') throw BAIL; // `[a: b]` single-pair maps
    if (t[j] === '[' || t[j] === '{') throw BAIL;
    const s = trimSpaces(t.slice(i, j));
    if (s === '') throw BAIL;
    const js = resolvePlain(s);
    return { js, node: { k: 'scalar', start: i, empty: false }, end: i + s.length };
  }

  /** A literal block scalar `|`, `|-` or `|+` whose header is at `p`. */
  #literal(li: number, p: number, parentIndent: number): Parsed {
    const t = this.#t;
    const end = this.#ends[li]!;
    let i = p + 1;
    let chomp: 'clip' | 'strip' | 'keep' = 'clip';
    if (t[i] === '-') chomp = 'strip';
    else if (t[i] === '+') chomp = 'keep';
    if (chomp !== 'clip') i++;
    let j = i;
    while (j < end && t[j] === ' ') j++;
    if (j < end && (t[j] !== '#' || j === i)) throw BAIL; // indentation indicators, junk
    // Content indentation comes from the first non-blank line.
    let first = li + 1;
    while (first < this.#docEnd && this.#isBlank(first)) first++;
    if (first >= this.#docEnd) throw BAIL;
    const indent = this.#indent(first);
    if (indent <= parentIndent) throw BAIL; // empty block scalar
    const lines: string[] = [];
    let line = li + 1;
    let lastContent = -1;
    for (; line < this.#docEnd; line++) {
      if (this.#isBlank(line)) {
        if (this.#ends[line]! - this.#starts[line]! > indent) throw BAIL; // spaces beyond the indentation are content
        lines.push('');
        continue;
      }
      if (this.#indent(line) < indent) break;
      lines.push(this.#t.slice(this.#starts[line]! + indent, this.#ends[line]));
      lastContent = lines.length;
    }
    if (lastContent < 0) throw BAIL;
    if (line >= this.#lineCount && this.#noFinalNewline) throw BAIL;
    const body = lines.slice(0, lastContent).join('\n');
    const trailing = lines.length - lastContent;
    const value = chomp === 'strip' ? body : chomp === 'clip' ? `${body}\n` : `${body}\n${'\n'.repeat(trailing)}`;
    return { js: value, node: { k: 'scalar', start: p, empty: false }, next: line };
  }
}

/**
 * Parses a multi-document YAML text in the supported subset; undefined when the text uses
 * anything else (the caller then uses the `yaml` library).
 */
export function fastParseYaml(text: string): FastFile | undefined {
  const p = new Parser(text);
  try {
    return { docs: p.run(), lineStarts: p.lineStarts };
  } catch (err) {
    if (err === BAIL) return undefined;
    throw err;
  }
}

/** 1-based line and column of an offset. */
export function linePosition(lineStarts: readonly number[], offset: number): { line: number; col: number } {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, col: offset - lineStarts[lo]! + 1 };
}

/**
 * Offset for a field path inside a node tree, with the same rules as the `yaml` resolver in
 * parse-file.ts: scalars → value, collections → key, missing → nearest ancestor.
 */
export function fastResolve(root: FastNode, path: string): number {
  let offset = root.start;
  const tokens = path ? parseFieldPath(path) : [];
  let node: FastNode = root;
  for (const t of tokens ?? []) {
    if (typeof t === 'number') {
      if (node.k !== 'seq') break;
      const item: FastNode | undefined = node.items[t];
      if (!item) break;
      offset = item.start;
      node = item;
      continue;
    }
    if (node.k !== 'map') break;
    let i = node.keys.indexOf(t);
    if (i < 0) i = node.keys.findIndex((k) => k.includes('_') && protoJsonName(k) === t);
    if (i < 0) break;
    const value: FastNode = node.values[i]!;
    offset = value.k === 'scalar' && !value.empty ? value.start : node.keyAt[i]!;
    node = value;
  }
  return offset;
}
