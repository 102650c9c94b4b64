import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkHostname, compareDomains, covers, hostnameSpecificity, intersectHostname, normalizeHostname, pickMoreSpecific,
} from './hostnames.js';

test('covers: a wildcard covers one or more labels, never the bare parent', () => {
  assert.equal(covers('*.example.com', 'foo.example.com'), true);
  assert.equal(covers('*.example.com', 'a.b.example.com'), true);
  assert.equal(covers('*.example.com', '*.foo.example.com'), true);
  assert.equal(covers('*.example.com', '*.example.com'), true);
  assert.equal(covers('*.example.com', 'example.com'), false);
  assert.equal(covers('*.example.com', 'fooexample.com'), false);
  assert.equal(covers('*', 'anything.io'), true);
  assert.equal(covers('foo.example.com', '*.example.com'), false);
  assert.equal(covers('foo.example.com', '*'), false);
});

test('intersectHostname follows the Gateway API table (listener × route)', () => {
  const table: [string, string, string | undefined][] = [
    ['*', 'foo.com', 'foo.com'],
    ['*', '*.foo.com', '*.foo.com'],
    ['very.specific.com', 'very.specific.com', 'very.specific.com'],
    ['very.specific.com', '*.specific.com', 'very.specific.com'],
    ['very.specific.com', 'non.matching.com', undefined],
    ['very.specific.com', '*.nonmatchingwildcard.io', undefined],
    ['*.wildcard.io', 'foo.wildcard.io', 'foo.wildcard.io'],
    ['*.wildcard.io', 'foo.bar.wildcard.io', 'foo.bar.wildcard.io'],
    ['*.wildcard.io', 'wildcard.io', undefined],
    ['*.anotherwildcard.io', '*.anotherwildcard.io', '*.anotherwildcard.io'],
    ['*.foo.example.com', '*.example.com', '*.foo.example.com'],
    ['*.example.com', '*.foo.example.com', '*.foo.example.com'],
    ['abc.foo.example.com', '*.example.com', 'abc.foo.example.com'],
    ['abc.foo.example.com', 'bar.com', undefined],
    ['*.example.com', '*.example.net', undefined],
  ];
  for (const [l, r, want] of table) assert.equal(intersectHostname(l, r), want, `${l} × ${r}`);
});

test('hostnameSpecificity ranks exact over wildcard over none, then by characters', () => {
  assert.deepEqual(hostnameSpecificity('abc.example.com'), [15, 15]);
  assert.deepEqual(hostnameSpecificity('*.example.com'), [0, 13]);
  assert.deepEqual(hostnameSpecificity('*'), [0, 0]);
  assert.equal(pickMoreSpecific('*.com', '*.example.com'), '*.example.com');
  assert.equal(pickMoreSpecific('abc.example.com', '*.example.com'), 'abc.example.com');
  assert.equal(pickMoreSpecific('*.a.com', undefined), '*.a.com');
});

test('compareDomains puts exact names first, longer wildcards next and * last', () => {
  const d = ['*', '*.example.com', 'b.com', '*.foo.example.com', 'a.com'].sort(compareDomains);
  assert.deepEqual(d, ['a.com', 'b.com', '*.foo.example.com', '*.example.com', '*']);
});

test('normalizeHostname and checkHostname', () => {
  assert.equal(normalizeHostname('Foo.Example.COM.'), 'foo.example.com');
  assert.equal(normalizeHostname(undefined), '*');
  assert.equal(checkHostname('*.example.com'), undefined);
  assert.match(checkHostname('10.0.0.1') ?? '', /IP addresses/);
  assert.match(checkHostname('foo.*.com') ?? '', /not a valid hostname/);
});
