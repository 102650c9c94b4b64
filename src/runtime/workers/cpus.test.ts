import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupCpuLimit, defaultWorkerCount } from './cpus.js';

const files = (m: Record<string, string>) => (p: string): string | undefined => m[p];

describe('default worker count', () => {
  it('follows a cgroup v2 quota, rounded up', () => {
    assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' })), 2);
    assert.equal(defaultWorkerCount(files({ '/sys/fs/cgroup/cpu.max': '200000 100000\n' }), 64), 2);
    assert.equal(defaultWorkerCount(files({ '/sys/fs/cgroup/cpu.max': '50000 100000\n' }), 64), 1);
  });

  it('ignores "max" and missing files', () => {
    assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' })), undefined);
    assert.equal(defaultWorkerCount(files({}), 8), 8);
  });

  it('reads cgroup v1 quota and period; -1 means none', () => {
    assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '400000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' })), 4);
    assert.equal(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' })), undefined);
  });

  it('never exceeds the CPUs available and is at least 1', () => {
    assert.equal(defaultWorkerCount(files({ '/sys/fs/cgroup/cpu.max': '1600000 100000' }), 2), 2);
    assert.equal(defaultWorkerCount(files({}), 0), 1);
  });
});
