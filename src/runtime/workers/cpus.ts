/**
 * Default worker count: the CPUs this process may really use. os.availableParallelism()
 * follows the affinity mask but not a container's CPU quota (Kubernetes `limits.cpu`), which
 * Linux expresses through cgroups; a 2-CPU limit on a 64-core node must give 2 workers, not 64.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Reads a file as text, or undefined (injected in tests). */
export type ReadText = (path: string) => string | undefined;

const readText: ReadText = (p) => {
  try { return readFileSync(p, 'utf8'); } catch { return undefined; }
};

/**
 * CPUs allowed by the cgroup quota, rounded up; undefined when there is no quota.
 * cgroup v2: `/sys/fs/cgroup/cpu.max` = `max 100000` or `200000 100000`.
 * cgroup v1: `cpu.cfs_quota_us` (-1 = none) / `cpu.cfs_period_us`.
 */
export function cgroupCpuLimit(read: ReadText = readText): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max');
  if (v2 !== undefined) {
    const [quota, period] = v2.trim().split(/\s+/);
    if (quota === 'max' || quota === undefined) return undefined;
    return quotaCpus(Number(quota), Number(period ?? 100000));
  }
  const q = read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us') ?? read('/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us');
  const p = read('/sys/fs/cgroup/cpu/cpu.cfs_period_us') ?? read('/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us');
  if (q === undefined || p === undefined) return undefined;
  return quotaCpus(Number(q.trim()), Number(p.trim()));
}

function quotaCpus(quota: number, period: number): number | undefined {
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return undefined;
  return Math.max(1, Math.ceil(quota / period));
}

/** min(available parallelism, cgroup CPU quota), at least 1. */
export function defaultWorkerCount(read: ReadText = readText, cpus: number = os.availableParallelism()): number {
  const limit = cgroupCpuLimit(read);
  return Math.max(1, limit === undefined ? cpus : Math.min(cpus, limit));
}
