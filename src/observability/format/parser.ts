/**
 * Envoy substitution format strings (access logs, header values): text with command
 * operators `%NAME%`, `%NAME(ARG)%`, `%NAME(ARG):Z%` (Z = truncate to Z characters) and `%%`
 * for a literal percent sign. Parsing is a single left-to-right scan, done once per config;
 * positions in errors are 0-based character offsets into the format string, as Envoy reports
 * them.
 */

/** One `%…%` command operator as written. */
export interface OperatorToken {
  /** `REQ`, `START_TIME`, … (as written; operator names are upper case). */
  readonly name: string;
  /** Text between the parentheses; undefined when there are none. */
  readonly arg: string | undefined;
  /** `:Z` truncation length; undefined when absent. */
  readonly maxLength: number | undefined;
  /** Offset of the opening `%`. */
  readonly pos: number;
  /** The whole operator text, `%REQ(x):10%`. */
  readonly text: string;
}

/** Literal text and operators in order. Adjacent literals are merged. */
export type FormatToken = string | OperatorToken;

/** A format string problem at a position (0-based offset), naming the operator when known. */
export class FormatError extends Error {
  readonly position: number;
  readonly operator: string | undefined;
  constructor(message: string, position: number, operator?: string) {
    super(message);
    this.name = 'FormatError';
    this.position = position;
    this.operator = operator;
  }
}

const isNameChar = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95; // A-Z 0-9 _
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Scan `:digits%` at `i`; returns the index after `%`, or -1. */
function truncationEnd(s: string, i: number): number {
  if (s.charCodeAt(i) !== 58 /* : */) return -1;
  let j = i + 1;
  while (j < s.length && isDigit(s.charCodeAt(j))) j++;
  return j > i + 1 && s.charCodeAt(j) === 37 /* % */ ? j + 1 : -1;
}

/** Split a format string into literals and operator tokens (throws FormatError). */
export function tokenizeFormat(s: string): FormatToken[] {
  const out: FormatToken[] = [];
  let lit = '';
  let i = 0;
  while (i < s.length) {
    const pct = s.indexOf('%', i);
    if (pct === -1) { lit += s.slice(i); break; }
    lit += s.slice(i, pct);
    if (s.charCodeAt(pct + 1) === 37) { lit += '%'; i = pct + 2; continue; }
    let j = pct + 1;
    while (j < s.length && isNameChar(s.charCodeAt(j))) j++;
    const name = s.slice(pct + 1, j);
    if (name === '') {
      const what = j < s.length ? `"${s[j]}"` : 'the end of the format';
      throw new FormatError(
        `Invalid command operator at position ${pct}: "%" is followed by ${what}; write a literal percent sign as "%%"`, pct);
    }
    let arg: string | undefined;
    let maxLength: number | undefined;
    let end: number;
    if (s.charCodeAt(j) === 40 /* ( */) {
      // The argument may itself hold "%" and ")" (START_TIME formats): it ends at the first ")"
      // followed by "%" or ":digits%".
      let close = s.indexOf(')', j + 1);
      end = -1;
      while (close !== -1) {
        if (s.charCodeAt(close + 1) === 37) { end = close + 2; break; }
        const t = truncationEnd(s, close + 1);
        if (t !== -1) { end = t; maxLength = Number(s.slice(close + 2, t - 1)); break; }
        close = s.indexOf(')', close + 1);
      }
      if (end === -1) throw new FormatError(`Unterminated command operator "%${name}(" at position ${pct}: expected ")%"`, pct, name);
      arg = s.slice(j + 1, close);
    } else if (s.charCodeAt(j) === 37) {
      end = j + 1;
    } else {
      const t = truncationEnd(s, j);
      if (t === -1) {
        throw new FormatError(`Unterminated command operator "%${name}" at position ${pct}: expected "%" after the operator name`, pct, name);
      }
      maxLength = Number(s.slice(j + 1, t - 1));
      end = t;
    }
    if (lit) { out.push(lit); lit = ''; }
    out.push({ name, arg, maxLength, pos: pct, text: s.slice(pct, end) });
    i = end;
  }
  if (lit) out.push(lit);
  return out;
}

/** True when the string holds at least one command operator (or `%%`): literal values skip the compiler. */
export function hasOperators(s: string): boolean {
  return s.includes('%');
}
