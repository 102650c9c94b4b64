/**
 * Scalar helpers of the fast YAML parser: YAML 1.2 core-schema resolution of plain scalars
 * (the same tests, in the same order, as the `yaml` library) and single-line quoted scalars.
 */

/** A quoted scalar: its value and the offset after the closing quote. */
export interface QuotedScalar {
  readonly value: string;
  readonly end: number;
}

const CORE_NULL = /^(?:~|[Nn]ull|NULL)?$/;
const CORE_BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const CORE_INT_OCT = /^0o[0-7]+$/;
const CORE_INT = /^[-+]?[0-9]+$/;
const CORE_INT_HEX = /^0x[0-9a-fA-F]+$/;
const CORE_FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const CORE_FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const CORE_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** YAML 1.2 core schema resolution of a plain scalar, in the same order as the `yaml` library. */
export function resolvePlain(s: string): unknown {
  if (CORE_NULL.test(s)) return null;
  if (CORE_BOOL.test(s)) return s[0] === 't' || s[0] === 'T';
  if (CORE_INT_OCT.test(s)) return parseInt(s.substring(2), 8);
  if (CORE_INT.test(s)) return parseInt(s, 10);
  if (CORE_INT_HEX.test(s)) return parseInt(s.substring(2), 16);
  if (CORE_FLOAT_NAN.test(s)) return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? -Infinity : Infinity;
  if (CORE_FLOAT_EXP.test(s) || CORE_FLOAT.test(s)) return parseFloat(s);
  return s;
}

/** Characters that cannot start a plain scalar we accept (YAML indicators). */
export const INDICATORS = new Set(['-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`']);

/** Double-quoted escapes with a fixed replacement (YAML 1.2 §5.7). */
const DQ_ESCAPES: Readonly<Record<string, string>> = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b',
  ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\x85', _: '\xa0', L: '\u2028', P: '\u2029',
};

/** Hex escapes and their digit counts. */
const HEX_LEN: Readonly<Record<string, number>> = { x: 2, u: 4, U: 8 };

/** Space or a flow indicator: what may follow a `:` that ends a flow key. */
export function isFlowBreak(c: number): boolean {
  return c === 32 || c === 44 || c === 91 || c === 93 || c === 123 || c === 125;
}

/** Removes trailing spaces only (String#trimEnd would also eat U+2028 and other content). */
export function trimSpaces(s: string): string {
  let e = s.length;
  while (e > 0 && s.charCodeAt(e - 1) === 32) e--;
  return s.slice(0, e);
}

/** A double-quoted scalar on one line starting at `p`; undefined when it does not close on the line or uses rare escapes. */
export function doubleQuoted(t: string, p: number, end: number): QuotedScalar | undefined {
  let out = '';
  let i = p + 1;
  while (i < end) {
    // Copy the run up to the next quote or backslash in one slice.
    let j = i;
    let ch = 0;
    while (j < end && (ch = t.charCodeAt(j)) !== 34 && ch !== 92) j++;
    if (j > i) out += t.slice(i, j);
    i = j;
    if (i >= end) break;
    if (ch === 34) return { value: out, end: i + 1 };
    const e = t[i + 1];
    if (e === undefined || i + 1 >= end) return undefined;
    const simple = DQ_ESCAPES[e];
    if (simple !== undefined) {
      out += simple;
      i += 2;
      continue;
    }
    const len = HEX_LEN[e];
    if (len === undefined) return undefined;
    const hex = t.slice(i + 2, i + 2 + len);
    if (hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
    const cp = parseInt(hex, 16);
    if (cp > 0x10ffff) return undefined;
    out += String.fromCodePoint(cp);
    i += 2 + len;
  }
  return undefined; // multi-line quoted scalar
}

/** A single-quoted scalar on one line starting at `p`; undefined when it does not close on the line. */
export function singleQuoted(t: string, p: number, end: number): QuotedScalar | undefined {
  let out = '';
  let i = p + 1;
  while (i < end) {
    let j = i;
    while (j < end && t.charCodeAt(j) !== 39) j++;
    if (j >= end) break;
    out += t.slice(i, j);
    if (j + 1 < end && t.charCodeAt(j + 1) === 39) {
      out += "'"; // '' is an escaped quote
      i = j + 2;
      continue;
    }
    return { value: out, end: j + 1 };
  }
  return undefined;
}
