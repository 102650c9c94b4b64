/**
 * Character class tables for the RE2 translation: RE2's Perl classes (`\d`, `\s`, `\w`, ASCII
 * only, unlike JavaScript's `\s`) and POSIX classes (`[[:alpha:]]`) as code point ranges, and
 * how to print ranges inside a JavaScript class with the `u` flag.
 */

/** An inclusive code point range. */
export type Range = readonly [number, number];

/** The largest Unicode code point. */
export const MAX_CP = 0x10ffff;

const DIGIT: readonly Range[] = [[0x30, 0x39]];
// RE2 syntax: \s ≡ [\t\n\f\r ] (no \v, no Unicode spaces, unlike JavaScript).
const SPACE: readonly Range[] = [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]];
const WORD: readonly Range[] = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];

/** `\d`, `\s`, `\w` as RE2 defines them. */
export const PERL_CLASSES: Readonly<Record<string, readonly Range[]>> = { d: DIGIT, s: SPACE, w: WORD };

/** POSIX bracket classes (`[:alpha:]`), ASCII as in RE2. */
export const POSIX_CLASSES: Readonly<Record<string, readonly Range[]>> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: DIGIT,
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: WORD,
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};

/** The complement of a set of ranges within [0, MAX_CP]. */
export function complement(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX_CP) out.push([next, MAX_CP]);
  return out;
}

/** One code point inside a JS class: ASCII alphanumerics as is, everything else as `\u{…}`. */
export function classChar(cp: number): string {
  const isAlnum = (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
  return isAlnum ? String.fromCodePoint(cp) : `\\u{${cp.toString(16)}}`;
}

/** Ranges as the body of a JS class (`a-z0-9`). */
export function classRanges(ranges: readonly Range[]): string {
  return ranges.map(([lo, hi]) => (lo === hi ? classChar(lo) : `${classChar(lo)}-${classChar(hi)}`)).join('');
}
