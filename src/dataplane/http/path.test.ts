import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizePath, queryIndex, splitTarget, targetAuthority } from './path.js';

describe('normalizePath', () => {
  it('removes dot segments (RFC 3986 §5.2.4)', () => {
    const cases: [string, string][] = [
      ['/a/b/../c', '/a/c'],
      ['/a/b/./c', '/a/b/c'],
      ['/./a', '/a'],
      ['/..', '/'],
      ['/.', '/'],
      ['/../a/b', '/a/b'],
      ['/a/b/../../../../c', '/c'],
      ['/a/b/..', '/a/'],
      ['/a/b/.', '/a/b/'],
      ['/a/b/../', '/a/'],
      ['/a//b/../c', '/a//c'],
      ['/a//..', '/a/'],
      ['/a/./../b/./c/..', '/b/'],
    ];
    for (const [input, want] of cases) assert.equal(normalizePath(input), want, input);
  });

  it('counts %2e / %2E as a dot', () => {
    assert.equal(normalizePath('/a/%2e%2E/c'), '/c');
    assert.equal(normalizePath('/a/b/%2E%2E/c'), '/a/c');
    assert.equal(normalizePath('/a/b/%2e./c'), '/a/c');
    assert.equal(normalizePath('/a/b/.%2E/c'), '/a/c');
    assert.equal(normalizePath('/a/b/%2E/c'), '/a/b/c');
    assert.equal(normalizePath('/a/b/%2e%2e'), '/a/');
    assert.equal(normalizePath('/a%2eb'), '/a.b');
  });

  it('decodes other unreserved escapes (RFC 3986 §6.2.2.2)', () => {
    assert.equal(normalizePath('/%61dmin'), '/admin');
    assert.equal(normalizePath('/%41%5a%7E%2D%5f%30'), '/AZ~-_0');
  });

  it('never decodes %2F or %5C, so they cannot split or climb segments', () => {
    assert.equal(normalizePath('/a/%2F../b'), '/a/%2F../b');
    assert.equal(normalizePath('/public/%2F..%2Fadmin'), '/public/%2F..%2Fadmin');
    assert.equal(normalizePath('/public/..%2Fadmin'), '/public/..%2Fadmin');
    assert.equal(normalizePath('/public/..%5Cadmin'), '/public/..%5Cadmin');
    assert.equal(normalizePath('/a/%2f%2F/c'), '/a/%2f%2F/c');
    assert.equal(normalizePath('/a/%2F/../b'), '/a/b');
  });

  it('keeps reserved and non-ASCII escapes as sent, hex case included', () => {
    assert.equal(normalizePath('/%c0%af'), '/%c0%af');
    assert.equal(normalizePath('/%5c%25'), '/%5c%25');
    assert.equal(normalizePath('/a%20b/%3f'), '/a%20b/%3f');
    assert.equal(normalizePath('/%2525'), '/%2525'); // no double decoding
    assert.equal(normalizePath('/%2e/%25'), '/%25');
  });

  it('does not convert backslashes or merge slashes', () => {
    assert.equal(normalizePath('/a/..\\b'), '/a/..\\b');
    assert.equal(normalizePath('//a///b'), '//a///b');
  });

  it('returns the identical string when there is nothing to do', () => {
    for (const p of ['/', '/a/b/c', '/a.b/..c/c../...', '/a%20b%2F', '/.well-known/x', '//x', '/a/.b/']) {
      const out = normalizePath(p);
      assert.ok(Object.is(out, p), p);
    }
  });

  it('rejects invalid paths', () => {
    for (const p of ['', 'a/b', '*', 'http://x/', '/a%zz', '/a%', '/a%2', '/a%2g', '/%%30', '/a%\u0130']) {
      assert.equal(normalizePath(p), null, JSON.stringify(p));
    }
  });
});

describe('splitTarget', () => {
  it('splits origin-form; the query keeps its ?', () => {
    assert.deepEqual(splitTarget('/a/b?x=1&y'), { path: '/a/b', query: '?x=1&y' });
    assert.deepEqual(splitTarget('/a?'), { path: '/a', query: '?' });
    assert.deepEqual(splitTarget('/a?b?c'), { path: '/a', query: '?b?c' });
    const t = '/no/query';
    assert.ok(Object.is(splitTarget(t).path, t));
    assert.equal(splitTarget(t).query, '');
    assert.equal(queryIndex('/a?b'), 2);
    assert.equal(queryIndex('/a'), -1);
  });

  it('splits absolute-form after the authority', () => {
    assert.deepEqual(splitTarget('http://h.example:8080/p/q?z'), { path: '/p/q', query: '?z' });
    assert.deepEqual(splitTarget('HTTPS://h.example'), { path: '/', query: '' });
    assert.deepEqual(splitTarget('http://h.example?z'), { path: '/', query: '?z' });
    assert.equal(targetAuthority('http://h.example:8080/p'), 'h.example:8080');
    assert.equal(targetAuthority('https://h.example?x'), 'h.example');
    assert.equal(targetAuthority('/p'), '');
  });

  it('leaves asterisk- and authority-form alone', () => {
    assert.deepEqual(splitTarget('*'), { path: '*', query: '' });
    assert.deepEqual(splitTarget('db.example:5432'), { path: 'db.example:5432', query: '' });
    assert.equal(targetAuthority('db.example:5432'), '');
  });
});
