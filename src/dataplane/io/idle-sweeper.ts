/**
 * Idle timeouts for many connections with one timer. `socket.setTimeout` re-arms a timer on
 * every read and write of the socket (a timer-list insert each time, 4 per proxied request);
 * here a connection only stores a coarse timestamp when it does something, and one interval
 * checks them all. Resolution is SWEEP_MS: with `idleFor` a timeout fires between idleMs and
 * idleMs + 2 × SWEEP_MS after the last activity, plenty for keep-alive idle timeouts (seconds
 * to hours). Connect timeouts and drain grace periods stay on real timers.
 */

export const SWEEP_MS = 500;

export interface IdleTracked {
  /** Coarse time of the last activity (`coarseNow()`). */
  lastActive: number;
  /** Called on each sweep with the coarse time; closes the connection when it has been idle too long. */
  sweep(now: number): void;
}

const tracked = new Set<IdleTracked>();
let timer: NodeJS.Timeout | undefined;
let now = Date.now();

/** Milliseconds, refreshed every SWEEP_MS (and when tracking starts): free to read per request. */
export function coarseNow(): number { return now; }

function tick(): void {
  now = Date.now();
  for (const t of tracked) t.sweep(now);
  if (tracked.size === 0 && timer !== undefined) { clearInterval(timer); timer = undefined; }
}

export function track(t: IdleTracked): void {
  if (timer === undefined) {
    now = Date.now();
    timer = setInterval(tick, SWEEP_MS);
    timer.unref();
  }
  t.lastActive = now;
  tracked.add(t);
}

/**
 * True when `lastActive` is at least `idleMs` ago for sure (the coarse clock lags up to
 * SWEEP_MS). `idleMs` ≤ 0 means no idle timeout (Envoy's 0s), never true.
 */
export function idleFor(lastActive: number, idleMs: number, at: number): boolean {
  return idleMs > 0 && at - lastActive >= idleMs + SWEEP_MS;
}

export function untrack(t: IdleTracked): void { tracked.delete(t); }
