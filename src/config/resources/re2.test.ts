import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFullMatch, compileRe2, re2Error, re2ToJs } from './re2.js';

function full(pattern: string): RegExp {
  return compileFullMatch(pattern);
}

test('compileFullMatch anchors the whole alternation', () => {
  const re = full('/foo|/bar');
  assert.equal(re.test('/foo'), true);
  assert.equal(re.test('/bar'), true);
  assert.equal(re.test('/foobar'), false);
  assert.equal(re.test('x/foo'), false);
  assert.equal(re.test('/ba'), false);
});

test('leading (?i) becomes the i flag and is not left in the source', () => {
  const t = re2ToJs('(?i)/API/.*');
  assert.ok(!('error' in t));
  assert.equal(t.flags.includes('i'), true);
  assert.equal(t.source.includes('(?i)'), false);
  const re = full('(?i)/api/v[0-9]+');
  assert.equal(re.test('/API/V2'), true);
  assert.equal(re.test('/api/vx'), false);
});

test('(?s) lets . match newline; without it . matches \\r but not \\n (RE2 semantics)', () => {
  assert.equal(full('a.b').test('a\nb'), false);
  assert.equal(full('a.b').test('a\rb'), true); // JS's own . would refuse \r
  assert.equal(full('(?s)a.b').test('a\nb'), true);
  assert.equal(full('(?is)A.B').test('a\nb'), true);
});

test('(?m) makes ^ and $ line anchors at \\n only, without the JS m flag', () => {
  const t = re2ToJs('(?m)^b$');
  assert.ok(!('error' in t));
  assert.equal(t.flags.includes('m'), false);
  const re = compileRe2('(?m)^b$');
  assert.equal(re.test('a\nb\nc'), true);
  assert.equal(re.test('a\rb\rc'), false);
  assert.equal(compileRe2('^b$').test('a\nb\nc'), false);
});

test('(?U) and unknown flags are rejected; mid-pattern flags only when they change nothing', () => {
  assert.match(re2Error('(?U)a+') ?? '', /ungreedy/);
  assert.match(re2Error('(?x)a') ?? '', /unknown flag "x"/);
  assert.match(re2Error('a(?i)b') ?? '', /only supported at the start/);
  assert.equal(re2Error('(?i)a(?i:b)'), undefined);
  assert.equal(full('(?i)a(?i:b)').test('AB'), true);
});

test('backreferences, lookaround, atomic groups and possessive quantifiers are rejected', () => {
  assert.match(re2Error('(a)\\1') ?? '', /backreferences/);
  assert.match(re2Error('(?P<x>a)(?P=x)') ?? '', /backreferences/);
  assert.match(re2Error('(?<x>a)\\k<x>') ?? '', /backreferences/);
  assert.match(re2Error('foo(?=bar)') ?? '', /lookahead/);
  assert.match(re2Error('foo(?!bar)') ?? '', /lookahead/);
  assert.match(re2Error('(?<=foo)bar') ?? '', /lookbehind/);
  assert.match(re2Error('(?<!foo)bar') ?? '', /lookbehind/);
  assert.match(re2Error('(?>a+)b') ?? '', /atomic/);
  assert.match(re2Error('a++') ?? '', /possessive/);
  assert.match(re2Error('a*+') ?? '', /possessive/);
  assert.match(re2Error('a**') ?? '', /bad repetition/);
  assert.match(re2Error('*a') ?? '', /missing argument/);
  assert.match(re2Error('a\\Z') ?? '', /\\Z/);
  assert.match(re2Error('a{1001}') ?? '', /bad repetition/);
  assert.match(re2Error('(a') ?? '', /missing closing \)/);
  assert.match(re2Error('a)') ?? '', /unexpected \)/);
  assert.match(re2Error('[a') ?? '', /missing closing \]/);
  assert.match(re2Error('[z-a]') ?? '', /invalid character class range/);
  assert.match(re2Error('a\\') ?? '', /trailing backslash/);
  assert.match(re2Error('\\q') ?? '', /invalid escape/);
});

test('octal escapes: \\12 is a newline, \\0 is NUL, \\8 is an error', () => {
  assert.equal(full('a\\12b').test('a\nb'), true);
  assert.equal(full('\\0').test('\0'), true);
  assert.match(re2Error('\\8') ?? '', /backreferences/);
});

test('\\A and \\z are text anchors, also in (?m) mode', () => {
  const t = re2ToJs('\\Afoo\\z');
  assert.ok(!('error' in t));
  assert.equal(t.source, '^foo$');
  const re = compileRe2('(?m)\\Ab');
  assert.equal(re.test('a\nb'), false);
  assert.equal(re.test('b\na'), true);
});

test('(?P<name>) becomes a JS named group', () => {
  const t = re2ToJs('(?P<ver>v[0-9]+)/x');
  assert.ok(!('error' in t));
  assert.equal(t.source.startsWith('(?<ver>'), true);
  const m = compileRe2('/(?P<ver>v[0-9]+)/').exec('/api/v12/items');
  assert.equal(m?.groups?.['ver'], 'v12');
  assert.match(re2Error('(?P<1x>a)') ?? '', /must not start with a digit/);
});

test('POSIX classes translate to ranges, including negated ones', () => {
  const re = full('[[:alpha:]]+[[:digit:]]');
  assert.equal(re.test('abcZ9'), true);
  assert.equal(re.test('ab_9'), false);
  assert.equal(full('[[:^digit:]]+').test('ab-c'), true);
  assert.equal(full('[[:^digit:]]+').test('ab1'), false);
  assert.equal(full('[[:punct:]]').test('!'), true);
  assert.equal(full('[[:xdigit:]]+').test('09afAF'), true);
  assert.match(re2Error('[[:foo:]]') ?? '', /\[:foo:\]/);
});

test('\\Q...\\E quotes regex metacharacters literally', () => {
  const re = full('\\Q/a.b*c?\\E[0-9]');
  assert.equal(re.test('/a.b*c?1'), true);
  assert.equal(re.test('/axbbc1'), false);
  assert.equal(full('x\\Q(y)').test('x(y)'), true); // \Q without \E runs to the end
});

test('\\s is RE2 ASCII whitespace: no vertical tab or Unicode spaces', () => {
  assert.equal(full('a\\sb').test('a b'), true);
  assert.equal(full('a\\sb').test('a\tb'), true);
  assert.equal(full('a\\sb').test('a\vb'), false);
  assert.equal(full('a\\sb').test('a\u00a0b'), false);
  assert.equal(full('a\\Sb').test('a\vb'), true);
  assert.equal(full('[\\S]').test(' '), false);
  assert.equal(full('[\\D]').test('7'), false);
  assert.equal(full('[\\W]').test('-'), true);
});

test('RE2 literal syntax that JS u-mode rejects is escaped', () => {
  assert.equal(full('a{,3}').test('a{,3}'), true); // not a repetition in RE2: literal
  assert.equal(full('a{2}').test('aa'), true);
  assert.equal(full('a{2,}?').test('aaa'), true);
  assert.equal(full('[]a]+').test(']a]'), true); // leading ] in a class is literal
  assert.equal(full('[^]a]').test('b'), true);
  assert.equal(full('[^]a]').test(']'), false);
  assert.equal(full('x]y}').test('x]y}'), true);
  assert.equal(full('\\-\\#\\ ').test('-# '), true); // escaped punctuation is itself
  assert.equal(full('[a-]').test('-'), true);
  assert.equal(full('^*a').test('a'), true); // repeated assertion is allowed by RE2
});

test('hex, Unicode classes and non-BMP characters', () => {
  assert.equal(full('\\x41\\x{1F600}').test('A😀'), true);
  assert.equal(full('.').test('😀'), true); // one code point, not two UTF-16 units
  assert.equal(full('\\pL+').test('héllo'), true);
  assert.equal(full('\\p{Greek}+').test('αβγ'), true);
  assert.equal(full('\\p{Greek}+').test('abc'), false);
  assert.equal(full('\\P{Greek}+').test('abc'), true);
  assert.equal(full('\\p{^Greek}').test('a'), true);
  assert.match(re2Error('\\p{NoSuchScript}') ?? '', /./);
});

test('compileFullMatch and compileRe2 throw TypeError on invalid patterns', () => {
  assert.throws(() => compileFullMatch('(?=x)'), TypeError);
  assert.throws(() => compileRe2('(a)\\1'), TypeError);
  assert.equal(compileRe2('o', 'g')[Symbol.replace]('foo', '0'), 'f00');
});

test('typical Istio and Gateway API regexes compile and match', () => {
  assert.equal(full('/api/v[12]/.*').test('/api/v2/items'), true);
  assert.equal(full('^/users/[^/]+/orders$').test('/users/42/orders'), true);
  assert.equal(full('.*\\.(png|jpe?g)').test('/img/a.jpeg'), true);
  assert.equal(full('.*\\.(png|jpe?g)').test('/img/a.gif'), false);
  assert.equal(full('Bearer\\s+\\w+').test('Bearer abc_1'), true);
  assert.equal(full('').test(''), true);
});
