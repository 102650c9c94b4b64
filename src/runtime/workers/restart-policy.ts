/**
 * When to replace a crashed worker. The first crash is replaced at once (the other workers
 * keep serving meanwhile); a worker that crashes again soon after starting is in a crash loop
 * (bad config it cannot build, a bug on a request it keeps receiving, out of memory), so each
 * further replacement waits twice as long, up to a cap. A worker that stayed up for
 * `stableMs` resets the count.
 */

/** Back-off settings; defaults in {@link DEFAULT_RESTART_POLICY}. */
export interface RestartPolicy {
  /** Uptime after which a crash counts as a new, first crash. */
  readonly stableMs: number;
  /** Delay before the second consecutive replacement; doubles each time. */
  readonly baseMs: number;
  readonly maxMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = Object.freeze({ stableMs: 10_000, baseMs: 500, maxMs: 30_000 });

/** Consecutive early crashes of one worker slot, after one more crash with this uptime. */
export function nextCrashCount(previous: number, uptimeMs: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): number {
  return uptimeMs >= policy.stableMs ? 1 : previous + 1;
}

/** Delay before replacing a worker after its `crashes`-th consecutive early crash: 0, base, 2×base, … ≤ max. */
export function restartDelayMs(crashes: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): number {
  if (crashes <= 1) return 0;
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(crashes - 2, 30));
}
