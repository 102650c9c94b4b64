/** Codes of the process lifecycle: workers (`--workers N`), drain and restarts (docs/operations.md). */
export const WORKER_CODES = {
  WORKER_EXITED: 'A worker process exited without being asked to; it is replaced and the other workers keep serving',
  WORKER_CRASH_LOOP: 'A worker keeps crashing soon after starting; each replacement waits longer (0.5 s doubling to 30 s)',
  WORKER_START_FAILED: 'A new worker did not become ready in time during a rolling restart; the restart stops and the old worker keeps serving',
  WORKER_CONFIG_DIVERGED: 'Workers compiled different snapshots from the same configuration generation (a build failed in one of them)',
  WORKER_ADMIN_UNAVAILABLE: 'A worker did not answer the primary\'s admin request in time; merged figures leave it out',
  WORKER_DRAIN_TIMEOUT: 'A drain outlasted its timeout: the connections still open (or a worker that did not exit) were closed forcibly',
} as const;
