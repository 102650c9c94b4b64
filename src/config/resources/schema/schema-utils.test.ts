import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childPath, indexPath, parseFieldPath, protoJsonName, shortLabel } from './field-path.js';
import { closest, didYouMean, editDistance } from './suggest.js';

test('field paths: building, parsing and short labels', () => {
  const p = childPath(indexPath(childPath(childPath('', 'spec'), 'http'), 0), 'route');
  assert.equal(p, 'spec.http[0].route');
  assert.equal(childPath('metadata.labels', 'app.kubernetes.io/name'), 'metadata.labels["app.kubernetes.io/name"]');
  assert.equal(childPath('h', 'x-user'), 'h.x-user');
  assert.deepEqual(parseFieldPath('spec.http[0].route[12].destination.host'), ['spec', 'http', 0, 'route', 12, 'destination', 'host']);
  assert.deepEqual(parseFieldPath('metadata.labels["app.kubernetes.io/name"].x'), ['metadata', 'labels', 'app.kubernetes.io/name', 'x']);
  assert.deepEqual(parseFieldPath('a["q\\"uote"]'), ['a', 'q"uote']);
  assert.deepEqual(parseFieldPath(''), []);
  assert.equal(parseFieldPath('a[x]'), undefined);
  assert.equal(parseFieldPath('a.'), undefined);
  assert.equal(parseFieldPath('a["x"'), undefined);
  assert.equal(shortLabel('spec.trafficPolicy.loadBalancer.simple'), 'loadBalancer.simple');
  assert.equal(shortLabel('spec.http[0].timeout'), 'http[0].timeout');
  assert.equal(shortLabel('spec'), 'spec');
  assert.equal(shortLabel('data["tls.key"]'), 'data["tls.key"]');
});

test('protoJsonName follows the protobuf rule', () => {
  assert.equal(protoJsonName('per_try_timeout'), 'perTryTimeout');
  assert.equal(protoJsonName('consecutive_5xx_errors'), 'consecutive5xxErrors');
  assert.equal(protoJsonName('http2_max_requests'), 'http2MaxRequests');
  assert.equal(protoJsonName('host'), 'host');
});

test('edit distance and suggestions', () => {
  assert.equal(editDistance('destinaton', 'destination'), 1);
  assert.equal(editDistance('potr', 'port'), 1); // transposition
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(closest('ROUND_ROBINN', ['ROUND_ROBIN', 'RANDOM']), 'ROUND_ROBIN');
  assert.equal(closest('round_robin', ['RANDOM', 'ROUND_ROBIN']), 'ROUND_ROBIN');
  assert.equal(closest('colour', ['destination', 'weight', 'headers']), undefined);
  assert.equal(closest('a', ['b']), undefined); // too short to guess
  assert.equal(closest('Prefix', ['Exact', 'PathPrefix', 'RegularExpression']), 'PathPrefix');
  assert.equal(didYouMean('wieght', ['weight']), 'did you mean "weight"?');
});
