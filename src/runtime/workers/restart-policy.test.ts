import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RESTART_POLICY, nextCrashCount, restartDelayMs } from './restart-policy.js';

describe('worker restart back-off', () => {
  it('replaces a first crash at once, then doubles the delay up to the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9, 100].map((n) => restartDelayMs(n));
    assert.deepEqual(delays, [0, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('counts crashes only while they come soon after a start', () => {
    let n = 0;
    n = nextCrashCount(n, 200);
    n = nextCrashCount(n, 300);
    n = nextCrashCount(n, 100);
    assert.equal(n, 3);
    assert.equal(nextCrashCount(n, DEFAULT_RESTART_POLICY.stableMs), 1, 'a worker that ran long enough starts over');
  });

  it('takes a custom policy', () => {
    const p = { stableMs: 1000, baseMs: 10, maxMs: 25 };
    assert.deepEqual([2, 3, 4].map((n) => restartDelayMs(n, p)), [10, 20, 25]);
    assert.equal(nextCrashCount(5, 999, p), 6);
  });
});
