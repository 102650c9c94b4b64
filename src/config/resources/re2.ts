/**
 * RE2 → JavaScript RegExp translation.
 *
 * Istio and Envoy evaluate regexes with RE2, and there is no RE2 binding on Node 20 we can
 * depend on. This module parses the RE2 syntax (https://github.com/google/re2/wiki/Syntax),
 * rejects what RE2 rejects (backreferences, lookaround, possessive quantifiers, atomic
 * groups, `\Z`, `\C`, …), and rewrites the constructs whose meaning differs in JavaScript so
 * that the JS regex accepts exactly the strings RE2 would:
 *
 * - leading inline flags `(?i)`, `(?s)`, `(?m)` (JS rejects them); `(?U)` is unsupported;
 * - `\A` and `\z` (text start/end), `\Q…\E` literal quoting, `(?P<name>…)` groups,
 *   POSIX classes `[[:alpha:]]`, `\pL` / `\p{Greek}` Unicode classes;
 * - `.`, `\s`, `^` and `$` get RE2's exact meaning (RE2's `\s` is `[\t\n\f\r ]`, and only
 *   `\n` ends a line), so the output never needs the JS `m` flag;
 * - RE2 treats `{` that does not start a valid repetition, and a leading `]` in a class,
 *   as literals; JS with the `u` flag does not.
 *
 * The output always uses the `u` flag (RE2 matches code points, not UTF-16 units).
 * The caller anchors for full matches: see {@link compileFullMatch}.
 */
import { MAX_CP, PERL_CLASSES, POSIX_CLASSES, classChar, classRanges, complement, type Range } from './re2-classes.js';

/** Result of {@link re2ToJs}: JS source and flags, or why the pattern is not valid RE2. */
export type Re2Translation = { readonly source: string; readonly flags: string } | { readonly error: string };

/** RE2's limit on counted repetition (`a{1001}` is rejected). */
const MAX_REPEAT = 1000;

/** JS syntax characters that need a backslash outside a class. */
const JS_SYNTAX = new Set(['^', '$', '\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|']);

class Re2SyntaxError extends Error {}

function literal(cp: number): string {
  const ch = String.fromCodePoint(cp);
  if (JS_SYNTAX.has(ch)) return `\\${ch}`;
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return `\\u{${cp.toString(16)}}`;
  return ch;
}

const isOctal = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '7';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9A-Fa-f]$/.test(c);

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
}

type LastKind = 'none' | 'atom' | 'assert' | 'repeat';

/** One parsed escape: a single character, a set of ranges, raw JS (Unicode classes) or an assertion. */
type Escape =
  | { readonly t: 'char'; readonly cp: number }
  | { readonly t: 'ranges'; readonly ranges: readonly Range[] }
  | { readonly t: 'raw'; readonly js: string }
  | { readonly t: 'assert'; readonly js: string }
  | { readonly t: 'quote' };

class Translator {
  readonly #p: string;
  #i = 0;
  #out = '';
  readonly #flags: Flags = { i: false, m: false, s: false };
  readonly #groups: number[] = [];
  #lastStart = 0;
  #last: LastKind = 'none';

  constructor(pattern: string) {
    this.#p = pattern;
  }

  run(): { source: string; flags: string } {
    this.#leadingFlags();
    while (this.#i < this.#p.length) this.#step();
    if (this.#groups.length > 0) throw new Re2SyntaxError('missing closing )');
    const flags = `${this.#flags.i ? 'i' : ''}${this.#flags.s ? 's' : ''}u`;
    return { source: this.#out, flags };
  }

  #peek(k = 0): string | undefined {
    return this.#p[this.#i + k];
  }

  #startsWith(s: string): boolean {
    return this.#p.startsWith(s, this.#i);
  }

  /** `(?flags)` groups at the very start set flags for the whole pattern. */
  #leadingFlags(): void {
    const re = /^\(\?([A-Za-z-]*)\)/;
    for (;;) {
      const m = re.exec(this.#p.slice(this.#i));
      if (!m) return;
      this.#applyFlags(m[1]!, true);
      this.#i += m[0].length;
    }
  }

  /**
   * Applies a flag string like `is` or `-i`. Only at the start may it change anything; later
   * groups are accepted when they re-state flags already in effect (JavaScript on Node 20 has
   * no scoped modifiers).
   */
  #applyFlags(spec: string, leading: boolean): void {
    if (spec.length === 0 || spec === '-') throw new Re2SyntaxError(`missing flags in "(?${spec}"`);
    let on = true;
    for (const f of spec) {
      if (f === '-') {
        if (!on) throw new Re2SyntaxError(`invalid flag group "(?${spec}"`);
        on = false;
        continue;
      }
      if (f === 'U') throw new Re2SyntaxError('the (?U) flag (ungreedy) is not supported');
      if (f !== 'i' && f !== 'm' && f !== 's') throw new Re2SyntaxError(`unknown flag "${f}" in "(?${spec}"`);
      if (leading) this.#flags[f] = on;
      else if (this.#flags[f] !== on) {
        throw new Re2SyntaxError(`inline flags are only supported at the start of the pattern: "(?${spec}"`);
      }
    }
  }

  #atom(js: string, kind: LastKind = 'atom'): void {
    this.#lastStart = this.#out.length;
    this.#out += js;
    this.#last = kind;
  }

  #step(): void {
    const c = this.#p[this.#i]!;
    switch (c) {
      case '\\': {
        this.#i++;
        const e = this.#escape(false);
        if (e.t === 'char') this.#atom(literal(e.cp));
        else if (e.t === 'ranges') this.#atom(`[${classRanges(e.ranges)}]`);
        else if (e.t === 'raw') this.#atom(e.js);
        else if (e.t === 'assert') this.#atom(e.js, 'assert');
        else this.#quoted();
        return;
      }
      case '[':
        this.#atom(this.#charClass());
        return;
      case '(':
        this.#group();
        return;
      case ')': {
        const start = this.#groups.pop();
        if (start === undefined) throw new Re2SyntaxError('unexpected )');
        this.#i++;
        this.#out += ')';
        this.#lastStart = start;
        this.#last = 'atom';
        return;
      }
      case '|':
        this.#i++;
        this.#out += '|';
        this.#last = 'none';
        return;
      case '*':
      case '+':
      case '?':
        this.#i++;
        this.#repeat(c);
        return;
      case '{': {
        const rep = this.#countedRepeat();
        if (rep === undefined) {
          this.#i++;
          this.#atom('\\{');
        } else {
          this.#repeat(rep);
        }
        return;
      }
      case '^':
        this.#i++;
        // RE2 (?m): ^ is start of text or after \n only (JS m mode also counts \r, U+2028/9).
        this.#atom(this.#flags.m ? '(?<![^\\n])' : '^', 'assert');
        return;
      case '$':
        this.#i++;
        this.#atom(this.#flags.m ? '(?![^\\n])' : '$', 'assert');
        return;
      case '.':
        this.#i++;
        // RE2 `.` excludes only \n (JS also excludes \r, U+2028/9) unless (?s).
        this.#atom(this.#flags.s ? '.' : '[^\\n]');
        return;
      default: {
        const cp = this.#p.codePointAt(this.#i)!;
        this.#i += cp > 0xffff ? 2 : 1;
        this.#atom(literal(cp));
      }
    }
  }

  /** Applies a quantifier (`*`, `+`, `?` or a counted `{n,m}`) to the last atom. */
  #repeat(op: string): void {
    if (this.#last === 'none') throw new Re2SyntaxError(`missing argument to repetition operator: ${op}`);
    if (this.#last === 'repeat') {
      if (op === '+') throw new Re2SyntaxError('possessive quantifiers are not supported by RE2');
      throw new Re2SyntaxError(`bad repetition operator: ${op}`);
    }
    if (this.#last === 'assert') {
      // RE2 accepts a repeated assertion (`^*`); JS with the u flag needs it grouped.
      this.#out = `${this.#out.slice(0, this.#lastStart)}(?:${this.#out.slice(this.#lastStart)})`;
    }
    this.#out += op;
    if (this.#peek() === '?') {
      this.#i++;
      this.#out += '?';
    }
    this.#last = 'repeat';
  }

  /** `{n}`, `{n,}` or `{n,m}` at the cursor (consumed) or undefined (then `{` is a literal). */
  #countedRepeat(): string | undefined {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.#p.slice(this.#i));
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : m[3] === '' ? undefined : Number(m[3]);
    if (lo > MAX_REPEAT || (hi !== undefined && (hi > MAX_REPEAT || hi < lo))) {
      throw new Re2SyntaxError(`bad repetition operator: ${m[0]}`);
    }
    this.#i += m[0].length;
    return m[0];
  }

  #group(): void {
    const rest = this.#p.slice(this.#i);
    if (!rest.startsWith('(?')) {
      this.#i++;
      this.#openGroup('(');
      return;
    }
    if (rest.startsWith('(?:')) {
      this.#i += 3;
      this.#openGroup('(?:');
      return;
    }
    if (rest.startsWith('(?=') || rest.startsWith('(?!')) throw new Re2SyntaxError('lookahead is not supported by RE2');
    if (rest.startsWith('(?<=') || rest.startsWith('(?<!')) throw new Re2SyntaxError('lookbehind is not supported by RE2');
    if (rest.startsWith('(?>')) throw new Re2SyntaxError('atomic groups are not supported by RE2');
    if (rest.startsWith('(?#')) throw new Re2SyntaxError('comments are not supported by RE2');
    if (rest.startsWith('(?P=')) throw new Re2SyntaxError('backreferences are not supported by RE2');
    if (rest.startsWith('(?P>') || /^\(\?(R|\d|[+-]\d|&)/.test(rest)) {
      throw new Re2SyntaxError('recursion is not supported by RE2');
    }
    const named = /^\(\?P?<([^>]*)>/.exec(rest);
    if (named) {
      const name = named[1]!;
      if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Re2SyntaxError(`invalid named capture group "${name}"`);
      if (/^\d/.test(name)) throw new Re2SyntaxError(`group name "${name}" must not start with a digit`);
      this.#i += named[0].length;
      this.#openGroup(`(?<${name}>`);
      return;
    }
    const flags = /^\(\?([A-Za-z-]*)([:)])/.exec(rest);
    if (flags) {
      this.#applyFlags(flags[1]!, false);
      this.#i += flags[0].length;
      if (flags[2] === ':') this.#openGroup('(?:');
      return;
    }
    throw new Re2SyntaxError(`invalid or unsupported group "${rest.slice(0, 4)}"`);
  }

  #openGroup(js: string): void {
    this.#groups.push(this.#out.length);
    this.#out += js;
    this.#last = 'none';
  }

  /** `\Q…\E`: everything up to `\E` (or the end) is literal text. */
  #quoted(): void {
    const end = this.#p.indexOf('\\E', this.#i);
    const text = end < 0 ? this.#p.slice(this.#i) : this.#p.slice(this.#i, end);
    this.#i = end < 0 ? this.#p.length : end + 2;
    for (const ch of text) this.#atom(literal(ch.codePointAt(0)!));
  }

  /** Parses the escape after a backslash (cursor on the character after `\`). */
  #escape(inClass: boolean): Escape {
    const c = this.#peek();
    if (c === undefined) throw new Re2SyntaxError('trailing backslash at end of expression');
    this.#i++;
    switch (c) {
      case '1': case '2': case '3': case '4': case '5': case '6': case '7':
        // RE2: \1 alone is a backreference (unsupported); \12 is octal.
        if (!isOctal(this.#peek())) throw new Re2SyntaxError('backreferences are not supported by RE2');
        return { t: 'char', cp: this.#octal(c) };
      case '0':
        return { t: 'char', cp: this.#octal(c) };
      case '8': case '9':
        throw new Re2SyntaxError('backreferences are not supported by RE2');
      case 'x':
        return { t: 'char', cp: this.#hex() };
      case 'a': return { t: 'char', cp: 0x07 };
      case 'f': return { t: 'char', cp: 0x0c };
      case 't': return { t: 'char', cp: 0x09 };
      case 'n': return { t: 'char', cp: 0x0a };
      case 'r': return { t: 'char', cp: 0x0d };
      case 'v': return { t: 'char', cp: 0x0b };
      case 'd': case 's': case 'w':
        return { t: 'ranges', ranges: PERL_CLASSES[c]! };
      case 'D': case 'S': case 'W':
        return { t: 'ranges', ranges: complement(PERL_CLASSES[c.toLowerCase()]!) };
      case 'p': case 'P':
        return { t: 'raw', js: this.#unicodeClass(c === 'P') };
      case 'b': case 'B':
        if (inClass) throw new Re2SyntaxError(`invalid escape sequence \\${c} in a character class`);
        return { t: 'assert', js: `\\${c}` };
      case 'A':
        if (inClass) throw new Re2SyntaxError('invalid escape sequence \\A in a character class');
        return { t: 'assert', js: '^' };
      case 'z':
        if (inClass) throw new Re2SyntaxError('invalid escape sequence \\z in a character class');
        return { t: 'assert', js: '$' };
      case 'Q':
        if (inClass) throw new Re2SyntaxError('\\Q is not supported in a character class');
        return { t: 'quote' };
      case 'Z':
        throw new Re2SyntaxError('\\Z is not supported by RE2: use \\z');
      case 'C':
        throw new Re2SyntaxError('\\C (any byte) is not supported');
      case 'k': case 'g':
        throw new Re2SyntaxError('backreferences are not supported by RE2');
      default: {
        const cp = c.codePointAt(0)!;
        // RE2 lets any ASCII punctuation be escaped to stand for itself.
        if (cp < 0x80 && !/[A-Za-z0-9_]/.test(c)) return { t: 'char', cp };
        throw new Re2SyntaxError(`invalid escape sequence \\${c}`);
      }
    }
  }

  /** Up to three octal digits, the first already consumed. */
  #octal(first: string): number {
    let digits = first;
    while (digits.length < 3 && isOctal(this.#peek())) digits += this.#p[this.#i++];
    return parseInt(digits, 8);
  }

  #hex(): number {
    if (this.#peek() === '{') {
      const end = this.#p.indexOf('}', this.#i);
      const hex = end < 0 ? '' : this.#p.slice(this.#i + 1, end);
      if (!/^[0-9A-Fa-f]{1,8}$/.test(hex) || parseInt(hex, 16) > MAX_CP) {
        throw new Re2SyntaxError('invalid escape sequence \\x{…}');
      }
      this.#i = end + 1;
      return parseInt(hex, 16);
    }
    if (!isHex(this.#peek()) || !isHex(this.#peek(1))) throw new Re2SyntaxError('invalid escape sequence \\x');
    const cp = parseInt(this.#p.slice(this.#i, this.#i + 2), 16);
    this.#i += 2;
    return cp;
  }

  /** `\pL`, `\p{Greek}`, `\p{^Greek}` → `\p{L}`, `\p{Script=Greek}`, `\P{Script=Greek}`. */
  #unicodeClass(negated: boolean): string {
    let name: string;
    if (this.#peek() === '{') {
      const end = this.#p.indexOf('}', this.#i);
      if (end < 0) throw new Re2SyntaxError('invalid character class range: missing }');
      name = this.#p.slice(this.#i + 1, end);
      this.#i = end + 1;
    } else {
      name = this.#peek() ?? '';
      if (!/^[A-Za-z]$/.test(name)) throw new Re2SyntaxError('invalid character class range \\p');
      this.#i++;
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    if (!/^[A-Za-z_]+$/.test(name)) throw new Re2SyntaxError(`invalid character class range \\p{${name}}`);
    const prop = name === 'Any' || /^[A-Z][a-z]?$/.test(name) ? name : `Script=${name}`;
    return `\\${negated ? 'P' : 'p'}{${prop}}`;
  }

  /** Parses `[...]` (cursor on `[`) and returns the JS class. */
  #charClass(): string {
    this.#i++;
    let negated = false;
    if (this.#peek() === '^') {
      negated = true;
      this.#i++;
    }
    let body = '';
    let first = true;
    for (;;) {
      const c = this.#peek();
      if (c === undefined) throw new Re2SyntaxError('missing closing ]');
      if (c === ']' && !first) {
        this.#i++;
        break;
      }
      first = false;
      if (c === '[' && this.#peek(1) === ':') {
        const end = this.#p.indexOf(':]', this.#i + 2);
        if (end >= 0) {
          let name = this.#p.slice(this.#i + 2, end);
          const neg = name.startsWith('^');
          if (neg) name = name.slice(1);
          const ranges = POSIX_CLASSES[name];
          if (!ranges) throw new Re2SyntaxError(`invalid character class range [:${name}:]`);
          body += classRanges(neg ? complement(ranges) : ranges);
          this.#i = end + 2;
          continue;
        }
      }
      const lo = this.#classAtom();
      if (typeof lo === 'string') {
        body += lo;
        continue;
      }
      // A range needs `-` followed by something other than the closing `]`.
      if (this.#peek() === '-' && this.#peek(1) !== undefined && this.#peek(1) !== ']') {
        this.#i++;
        const hi = this.#classAtom();
        if (typeof hi === 'string') throw new Re2SyntaxError('invalid character class range');
        if (hi < lo) {
          throw new Re2SyntaxError(`invalid character class range ${String.fromCodePoint(lo)}-${String.fromCodePoint(hi)}`);
        }
        body += `${classChar(lo)}-${classChar(hi)}`;
      } else {
        body += classChar(lo);
      }
    }
    return `[${negated ? '^' : ''}${body}]`;
  }

  /** One class member: a code point, or already-rendered JS for a class escape. */
  #classAtom(): number | string {
    const c = this.#peek()!;
    if (c === '\\') {
      this.#i++;
      const e = this.#escape(true);
      if (e.t === 'char') return e.cp;
      if (e.t === 'ranges') return classRanges(e.ranges);
      if (e.t === 'raw') return e.js;
      throw new Re2SyntaxError('invalid escape sequence in a character class');
    }
    const cp = this.#p.codePointAt(this.#i)!;
    this.#i += cp > 0xffff ? 2 : 1;
    return cp;
  }
}

/**
 * Translates an RE2 pattern to an equivalent JavaScript RegExp source and flags, or explains
 * why RE2 (or this translation) does not accept it. The result is not anchored.
 */
export function re2ToJs(pattern: string): Re2Translation {
  if (typeof pattern !== 'string') return { error: 'expected a string' };
  let result: { source: string; flags: string };
  try {
    result = new Translator(pattern).run();
  } catch (err) {
    if (err instanceof Re2SyntaxError) return { error: err.message };
    throw err;
  }
  try {
    new RegExp(result.source, result.flags);
  } catch (err) {
    return { error: (err as Error).message.replace(/^Invalid regular expression: /, '') };
  }
  return result;
}

/** The reason an RE2 pattern is invalid, or undefined when it is valid. */
export function re2Error(pattern: string): string | undefined {
  const t = re2ToJs(pattern);
  return 'error' in t ? t.error : undefined;
}

/**
 * Compiles an RE2 pattern for searching (not anchored), e.g. `uriRegexRewrite` with
 * `extraFlags = 'g'`. Throws TypeError for an invalid pattern (validate config first).
 */
export function compileRe2(pattern: string, extraFlags = ''): RegExp {
  const t = re2ToJs(pattern);
  if ('error' in t) throw new TypeError(`Invalid RE2 pattern ${JSON.stringify(pattern)}: ${t.error}`);
  return new RegExp(t.source, t.flags + extraFlags);
}

/**
 * Compiles an RE2 pattern for a whole-string match, as Istio and Gateway API regex matches
 * use: `/foo|/bar` matches `/foo` and `/bar`, never `/foobar`. Throws TypeError when invalid.
 */
export function compileFullMatch(pattern: string): RegExp {
  const t = re2ToJs(pattern);
  if ('error' in t) throw new TypeError(`Invalid RE2 pattern ${JSON.stringify(pattern)}: ${t.error}`);
  // The translation never relies on the JS m flag, so ^ and $ here are the text boundaries.
  return new RegExp(`^(?:${t.source})$`, t.flags);
}
