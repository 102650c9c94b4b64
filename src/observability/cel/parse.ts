/**
 * A CEL (Common Expression Language) subset for Telemetry API expressions: access-log
 * `filter.expression` and metric `tagOverrides[].value`. Lexer and recursive-descent parser
 * producing a small AST; positions are 0-based offsets into the expression.
 *
 * Grammar (precedence low → high): `c ? a : b`, `||`, `&&`, `== != < <= > >= in`, `+ -`,
 * `* / %`, unary `! -`, member `.f`, `.f(args)`, `[i]`, then literals (int, uint `1u`,
 * double, 'string' / "string" / r'raw', true, false, null, `[list]`), identifiers, calls
 * `f(args)` and parentheses.
 */

export type Node =
  | { readonly t: 'lit'; readonly v: string | number | boolean | null; readonly pos: number }
  | { readonly t: 'ident'; readonly name: string; readonly pos: number }
  | { readonly t: 'select'; readonly obj: Node; readonly field: string; readonly pos: number }
  | { readonly t: 'index'; readonly obj: Node; readonly index: Node; readonly pos: number }
  | { readonly t: 'call'; readonly fn: string; readonly target: Node | undefined; readonly args: readonly Node[]; readonly pos: number }
  | { readonly t: 'unary'; readonly op: '!' | '-'; readonly arg: Node; readonly pos: number }
  | { readonly t: 'binary'; readonly op: string; readonly l: Node; readonly r: Node; readonly pos: number }
  | { readonly t: 'cond'; readonly c: Node; readonly a: Node; readonly b: Node; readonly pos: number }
  | { readonly t: 'list'; readonly items: readonly Node[]; readonly pos: number };

/** A syntax or reference problem at a 0-based position of the expression. */
export class CelError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(message);
    this.name = 'CelError';
    this.position = position;
  }
}

type Tok =
  | { k: 'num'; v: number; pos: number }
  | { k: 'str'; v: string; pos: number }
  | { k: 'id'; v: string; pos: number }
  | { k: 'op'; v: string; pos: number }
  | { k: 'eof'; pos: number };

const OPS3: readonly string[] = [];
const OPS2 = ['==', '!=', '<=', '>=', '&&', '||'];
const OPS1 = '<>!+-*/%?:.,()[]{}';

function isIdStart(c: string): boolean { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_'; }
function isIdChar(c: string): boolean { return isIdStart(c) || (c >= '0' && c <= '9'); }
function isDigit(c: string | undefined): boolean { return c !== undefined && c >= '0' && c <= '9'; }

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    const pos = i;
    if (isDigit(c) || (c === '.' && isDigit(src[i + 1]))) {
      let j = i;
      if (c === '0' && (src[i + 1] === 'x' || src[i + 1] === 'X')) {
        j += 2;
        while (j < src.length && /[0-9a-fA-F]/.test(src[j]!)) j++;
      } else {
        while (isDigit(src[j])) j++;
        if (src[j] === '.' && isDigit(src[j + 1])) { j++; while (isDigit(src[j])) j++; }
        if (src[j] === 'e' || src[j] === 'E') {
          j++;
          if (src[j] === '+' || src[j] === '-') j++;
          while (isDigit(src[j])) j++;
        }
      }
      const v = Number(src.slice(i, j));
      if (src[j] === 'u' || src[j] === 'U') j++;
      out.push({ k: 'num', v, pos });
      i = j;
      continue;
    }
    if (c === "'" || c === '"' || ((c === 'r' || c === 'R') && (src[i + 1] === "'" || src[i + 1] === '"'))) {
      const raw = c === 'r' || c === 'R';
      const q = raw ? src[i + 1]! : c;
      let j = raw ? i + 2 : i + 1;
      let v = '';
      for (;;) {
        if (j >= src.length) throw new CelError(`Unterminated string literal at position ${pos}`, pos);
        const d = src[j]!;
        if (d === q) { j++; break; }
        if (d === '\n') throw new CelError(`Unterminated string literal at position ${pos}`, pos);
        if (d === '\\' && !raw) {
          const e = src[j + 1];
          const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '`': '`', '?': '?', a: '\x07', b: '\b', f: '\f', v: '\v' };
          if (e !== undefined && map[e] !== undefined) { v += map[e]; j += 2; continue; }
          throw new CelError(`Invalid escape "\\${e ?? ''}" in string literal at position ${j}`, j);
        }
        v += d;
        j++;
      }
      out.push({ k: 'str', v, pos });
      i = j;
      continue;
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < src.length && isIdChar(src[j]!)) j++;
      out.push({ k: 'id', v: src.slice(i, j), pos });
      i = j;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (OPS3.includes(src.slice(i, i + 3))) { out.push({ k: 'op', v: src.slice(i, i + 3), pos }); i += 3; continue; }
    if (OPS2.includes(two)) { out.push({ k: 'op', v: two, pos }); i += 2; continue; }
    if (OPS1.includes(c)) { out.push({ k: 'op', v: c, pos }); i++; continue; }
    throw new CelError(`Unexpected character "${c}" at position ${pos}`, pos);
  }
  out.push({ k: 'eof', pos: src.length });
  return out;
}

const RESERVED = new Set(['as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

class Parser {
  readonly #toks: Tok[];
  #i = 0;
  constructor(toks: Tok[]) { this.#toks = toks; }

  get #t(): Tok { return this.#toks[this.#i]!; }
  #isOp(v: string): boolean { const t = this.#t; return t.k === 'op' && t.v === v; }
  #isId(v: string): boolean { const t = this.#t; return t.k === 'id' && t.v === v; }
  #expect(v: string): void {
    if (!this.#isOp(v)) throw new CelError(`Expected "${v}" at position ${this.#t.pos}, found ${describe(this.#t)}`, this.#t.pos);
    this.#i++;
  }

  parse(): Node {
    const n = this.#expr();
    if (this.#t.k !== 'eof') throw new CelError(`Unexpected ${describe(this.#t)} at position ${this.#t.pos}`, this.#t.pos);
    return n;
  }

  #expr(): Node {
    const c = this.#or();
    if (!this.#isOp('?')) return c;
    const pos = this.#t.pos;
    this.#i++;
    const a = this.#or();
    this.#expect(':');
    const b = this.#expr();
    return { t: 'cond', c, a, b, pos };
  }

  #or(): Node {
    let l = this.#and();
    while (this.#isOp('||')) { const pos = this.#t.pos; this.#i++; l = { t: 'binary', op: '||', l, r: this.#and(), pos }; }
    return l;
  }

  #and(): Node {
    let l = this.#rel();
    while (this.#isOp('&&')) { const pos = this.#t.pos; this.#i++; l = { t: 'binary', op: '&&', l, r: this.#rel(), pos }; }
    return l;
  }

  #rel(): Node {
    let l = this.#add();
    for (;;) {
      const t = this.#t;
      const op = t.k === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.v) ? t.v : t.k === 'id' && t.v === 'in' ? 'in' : undefined;
      if (op === undefined) return l;
      this.#i++;
      l = { t: 'binary', op, l, r: this.#add(), pos: t.pos };
    }
  }

  #add(): Node {
    let l = this.#mul();
    while (this.#isOp('+') || this.#isOp('-')) {
      const t = this.#t as { v: string; pos: number };
      this.#i++;
      l = { t: 'binary', op: t.v, l, r: this.#mul(), pos: t.pos };
    }
    return l;
  }

  #mul(): Node {
    let l = this.#unary();
    while (this.#isOp('*') || this.#isOp('/') || this.#isOp('%')) {
      const t = this.#t as { v: string; pos: number };
      this.#i++;
      l = { t: 'binary', op: t.v, l, r: this.#unary(), pos: t.pos };
    }
    return l;
  }

  #unary(): Node {
    if (this.#isOp('!') || this.#isOp('-')) {
      const t = this.#t as { v: '!' | '-'; pos: number };
      this.#i++;
      return { t: 'unary', op: t.v, arg: this.#unary(), pos: t.pos };
    }
    return this.#member();
  }

  #member(): Node {
    let n = this.#primary();
    for (;;) {
      if (this.#isOp('.')) {
        this.#i++;
        const f = this.#t;
        if (f.k !== 'id') throw new CelError(`Expected a field name after "." at position ${f.pos}, found ${describe(f)}`, f.pos);
        this.#i++;
        if (this.#isOp('(')) n = { t: 'call', fn: f.v, target: n, args: this.#args(), pos: f.pos };
        else n = { t: 'select', obj: n, field: f.v, pos: f.pos };
      } else if (this.#isOp('[')) {
        const pos = this.#t.pos;
        this.#i++;
        const index = this.#expr();
        this.#expect(']');
        n = { t: 'index', obj: n, index, pos };
      } else {
        return n;
      }
    }
  }

  #args(): Node[] {
    this.#expect('(');
    const args: Node[] = [];
    if (!this.#isOp(')')) {
      args.push(this.#expr());
      while (this.#isOp(',')) { this.#i++; args.push(this.#expr()); }
    }
    this.#expect(')');
    return args;
  }

  #primary(): Node {
    const t = this.#t;
    switch (t.k) {
      case 'num': this.#i++; return { t: 'lit', v: t.v, pos: t.pos };
      case 'str': this.#i++; return { t: 'lit', v: t.v, pos: t.pos };
      case 'id': {
        this.#i++;
        if (t.v === 'true' || t.v === 'false') return { t: 'lit', v: t.v === 'true', pos: t.pos };
        if (t.v === 'null') return { t: 'lit', v: null, pos: t.pos };
        if (RESERVED.has(t.v) || t.v === 'in') throw new CelError(`Reserved word "${t.v}" at position ${t.pos}`, t.pos);
        if (this.#isOp('(')) return { t: 'call', fn: t.v, target: undefined, args: this.#args(), pos: t.pos };
        return { t: 'ident', name: t.v, pos: t.pos };
      }
      case 'op': {
        if (t.v === '(') {
          this.#i++;
          const n = this.#expr();
          this.#expect(')');
          return n;
        }
        if (t.v === '[') {
          this.#i++;
          const items: Node[] = [];
          if (!this.#isOp(']')) {
            items.push(this.#expr());
            while (this.#isOp(',')) { this.#i++; items.push(this.#expr()); }
          }
          this.#expect(']');
          return { t: 'list', items, pos: t.pos };
        }
        throw new CelError(`Unexpected ${describe(t)} at position ${t.pos}`, t.pos);
      }
      case 'eof':
        throw new CelError(`Unexpected end of expression at position ${t.pos}`, t.pos);
    }
  }
}

function describe(t: Tok): string {
  switch (t.k) {
    case 'eof': return 'end of expression';
    case 'num': return `number ${t.v}`;
    case 'str': return `string ${JSON.stringify(t.v)}`;
    default: return `"${t.v}"`;
  }
}

/** Parse an expression (throws CelError). */
export function parseCel(src: string): Node {
  if (src.trim() === '') throw new CelError('Empty expression', 0);
  return new Parser(lex(src)).parse();
}
