import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeAdminJson } from './primary-admin.js';

describe('mergeAdminJson', () => {
  it('merges /clusters by cluster name and endpoint address, summing live counters only', () => {
    const w1 = [{ name: 'c1', lb: 'LEAST_REQUEST', requestsActive: 1, requestsTotal: 10,
      endpoints: [{ address: '10.0.0.1:80', weight: 3, requestsTotal: 10, connections: { open: 2, idle: 1, opened: 4 } }] }];
    const w2 = [
      { name: 'c1', lb: 'LEAST_REQUEST', requestsActive: 0, requestsTotal: 5,
        endpoints: [{ address: '10.0.0.1:80', weight: 3, requestsTotal: 5, connections: { open: 1, idle: 1, opened: 1 } },
          { address: '10.0.0.2:80', weight: 1, requestsTotal: 0, connections: { open: 0, idle: 0, opened: 0 } }] },
      { name: 'c2', lb: 'RANDOM', requestsActive: 0, requestsTotal: 1, endpoints: [] },
    ];
    assert.deepEqual(mergeAdminJson([w1, w2]), [
      { name: 'c1', lb: 'LEAST_REQUEST', requestsActive: 1, requestsTotal: 15,
        endpoints: [
          { address: '10.0.0.1:80', weight: 3, requestsTotal: 15, connections: { open: 3, idle: 2, opened: 5 } },
          { address: '10.0.0.2:80', weight: 1, requestsTotal: 0, connections: { open: 0, idle: 0, opened: 0 } },
        ] },
      { name: 'c2', lb: 'RANDOM', requestsActive: 0, requestsTotal: 1, endpoints: [] },
    ]);
  });

  it('merges /listeners: connections summed, bound only when bound everywhere', () => {
    const a = [{ name: '0.0.0.0:80', port: 80, bound: true, connections: 3 }];
    const b = [{ name: '0.0.0.0:80', port: 80, bound: false, connections: 4, error: 'EADDRINUSE' }];
    assert.deepEqual(mergeAdminJson([a, b]), [{ name: '0.0.0.0:80', port: 80, bound: false, connections: 7, error: 'EADDRINUSE' }]);
  });

  it('takes lists without identities and scalars from the first worker', () => {
    assert.deepEqual(mergeAdminJson([[1, 2], [3]]), [1, 2]);
    assert.equal(mergeAdminJson(['a', 'b']), 'a');
    assert.deepEqual(mergeAdminJson([]), undefined);
  });
});
