import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newRequestId } from './request-id.js';

describe('request ids', () => {
  it('are UUID v4 (version and variant bits), unique, across batch boundaries', () => {
    const seen = new Set<string>();
    const counts = new Map<string, number>();
    for (let k = 0; k < 5_000; k++) {
      const id = newRequestId();
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.ok(!seen.has(id), 'unique');
      seen.add(id);
      for (const c of id.slice(24)) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    // Random hex: every digit shows up in the last group (60,000 digits, ~3,750 each).
    assert.equal(counts.size, 16);
    for (const n of counts.values()) assert.ok(n > 3_000 && n < 4_500, `digit count ${n}`);
  });
});
