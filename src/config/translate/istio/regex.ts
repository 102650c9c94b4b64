/**
 * Translation-time RE2 syntax check. The IR keeps regexes as RE2 text; the runtime compiles
 * them (src/config/resources/re2.ts `compileFullMatch`). Until that module is available to
 * translators this check catches what users actually get wrong: unbalanced groups and
 * classes, dangling quantifiers, and the Perl features RE2 refuses (backreferences,
 * lookaround). RE2-only syntax that JavaScript lacks (`(?i)`, `(?P<n>`, `\A`, `\z`,
 * `[[:alpha:]]`, `\Q…\E`) is rewritten before the JavaScript parser sees the pattern, so
 * valid RE2 is never refused.
 */

/** undefined when the pattern looks like valid RE2, else why not. */
export function checkRe2(pattern: string): string | undefined {
  let js = '';
  let i = 0;
  const n = pattern.length;
  while (i < n) {
    const c = pattern[i]!;
    if (c === '\\') {
      const d = pattern[i + 1];
      if (d === undefined) return 'trailing backslash';
      if (d >= '1' && d <= '9') return `backreference \\${d} is not supported by RE2`;
      if (d === 'A') js += '^';
      else if (d === 'z') js += '$';
      else if (d === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        const lit = pattern.slice(i + 2, end < 0 ? n : end);
        js += lit.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
        i = end < 0 ? n : end + 2;
        continue;
      } else js += c + d;
      i += 2;
      continue;
    }
    if (c === '[') {
      const cls = readClass(pattern, i);
      if (cls === undefined) return 'missing closing ]';
      js += cls.js;
      i = cls.end;
      continue;
    }
    if (c === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2);
      if (/^(=|!|<=|<!)/.test(rest)) return 'lookaround is not supported by RE2';
      const named = /^P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
      if (named) {
        js += `(?<${named[1]}>`;
        i += 2 + named[0].length;
        continue;
      }
      const flags = /^([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
      if (flags && (flags[1] || flags[2] !== undefined || flags[3] === ':')) {
        // Flags change matching, not syntax: drop them for the syntax check.
        js += flags[3] === ':' ? '(?:' : '';
        i += 2 + flags[0].length;
        continue;
      }
    }
    js += c;
    i++;
  }
  try {
    new RegExp(js);
    return undefined;
  } catch (e) {
    return (e as Error).message.replace(/^Invalid regular expression: /, '');
  }
}

/** Copies one bracket class, rewriting POSIX classes (`[:alpha:]`) to ASCII ranges. */
function readClass(p: string, start: number): { js: string; end: number } | undefined {
  let i = start + 1;
  let js = '[';
  if (p[i] === '^') {
    js += '^';
    i++;
  }
  if (p[i] === ']') {
    js += '\\]';
    i++;
  }
  while (i < p.length) {
    const c = p[i]!;
    if (c === ']') return { js: js + ']', end: i + 1 };
    if (c === '\\') {
      if (i + 1 >= p.length) return undefined;
      js += c + p[i + 1];
      i += 2;
      continue;
    }
    const posix = /^\[:\^?([a-z]+):\]/.exec(p.slice(i));
    if (posix) {
      js += POSIX[posix[1]!] ?? 'a-z';
      i += posix[0].length;
      continue;
    }
    js += c === '[' ? '\\[' : c;
    i++;
  }
  return undefined;
}

const POSIX: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7F', blank: '\\t ', cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9', graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-/:-@\\[-`{-~', space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z', word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};
