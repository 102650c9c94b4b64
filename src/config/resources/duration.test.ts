import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration, parseGatewayDuration } from './duration.js';

test('parseDuration reads Istio/protobuf and Go-style durations in milliseconds', () => {
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('10ms'), 10);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('250us'), 0.25);
  assert.equal(parseDuration('1µs'), 0.001);
  assert.equal(parseDuration('0s'), 0);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('.5s'), 500);
  assert.equal(parseDuration('2m3.5s'), 123_500);
  for (const bad of ['', '10', '1.5', 's', '-1s', '1 s', '1d', '1.5.s', ' 1s', '1s ', 'abc']) {
    assert.equal(parseDuration(bad), undefined, bad);
  }
  assert.equal(parseDuration(10 as unknown as string), undefined);
});

test('parseGatewayDuration accepts only GEP-2257 durations', () => {
  assert.equal(parseGatewayDuration('10s'), 10_000);
  assert.equal(parseGatewayDuration('1h30m'), 5_400_000);
  assert.equal(parseGatewayDuration('500ms'), 500);
  assert.equal(parseGatewayDuration('0s'), 0);
  for (const bad of ['1.5s', '100000s', '1h1m1s1ms1h', '10', '1us', '']) assert.equal(parseGatewayDuration(bad), undefined, bad);
});

test('formatDuration prints the short form', () => {
  assert.equal(formatDuration(1500), '1.5s');
  assert.equal(formatDuration(250), '250ms');
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(60_000), '60s');
});
