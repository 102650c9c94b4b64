import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiagnostic } from './diagnostic.js';

test('formatDiagnostic prints file:line:col, resource, path, message and suggestion', () => {
  const line = formatDiagnostic({
    code: 'VALIDATE_ENUM', severity: 'error', path: 'spec.trafficPolicy.loadBalancer.simple',
    resource: { kind: 'DestinationRule', namespace: 'shop', name: 'cart' },
    origin: { file: 'cfg/dr.yaml', line: 9, col: 17 },
    message: 'Unknown value "ROUND_ROBINN"', suggestion: 'did you mean "ROUND_ROBIN"?',
  });
  assert.equal(line, 'cfg/dr.yaml:9:17  DestinationRule/shop/cart  spec.trafficPolicy.loadBalancer.simple  Unknown value "ROUND_ROBINN" (did you mean "ROUND_ROBIN"?)');
});
