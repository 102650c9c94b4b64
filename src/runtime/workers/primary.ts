/**
 * The primary process of `portico run --workers N` (docs/operations.md). It serves no traffic:
 *
 * - config: it alone loads and watches the files (FileSource) and sends each change to every
 *   worker as a numbered generation (protocol.ts); workers apply and acknowledge. "Atomic"
 *   means: every worker applies exactly the same resource set for a generation, each worker
 *   swaps its snapshot at once (a request sees the old routes or the new ones, never a mix),
 *   a new worker always starts on the newest generation, and the admin API reports the
 *   generation every serving worker has acknowledged. Between the first and the last ack
 *   (milliseconds) two workers may serve different generations.
 * - listeners: shared through node:cluster with SCHED_NONE: the kernel hands each new
 *   connection to whichever worker accepts first (no primary hop, no per-connection IPC). A
 *   listening socket stays open while any worker holds it, which is what makes restarts lossless.
 *   The spread is uneven for connections opened in a burst (docs/operations.md).
 * - lifecycle: replaces crashed workers (back-off on crash loops), re-forks them one by one on
 *   SIGHUP (new worker ready first, then the old one drains), drains all on SIGTERM/SIGINT.
 * - admin: its own API merges the workers' (primary-admin.ts).
 */
import cluster, { type Worker } from 'node:cluster';
import type http from 'node:http';
import { FileSource } from '../../config/sources/file-source.js';
import type { LoadResult } from '../../config/sources/file-loader.js';
import type { Logger } from '../gateway.js';
import { startPrimaryAdmin } from './primary-admin.js';
import { isWorkerMessage, toWire, type ConfigMessage, type PrimaryMessage, type StateMessage } from './protocol.js';
import { DEFAULT_RESTART_POLICY, nextCrashCount, restartDelayMs, type RestartPolicy } from './restart-policy.js';

/** Options of {@link Primary}. */
export interface PrimaryOptions {
  readonly workers: number;
  readonly paths: readonly string[];
  readonly drain: { readonly delayMs: number; readonly timeoutMs: number };
  readonly admin: { readonly port: number; readonly address: string };
  readonly log: Logger;
  /** How long a new worker may take to become ready during a rolling restart; default 30 s. */
  readonly startTimeoutMs?: number;
  readonly restartPolicy?: RestartPolicy;
}

/** One worker process as the primary sees it. */
export class WorkerRecord {
  readonly worker: Worker;
  readonly slot: number;
  readonly startedAt = Date.now();
  /** Last state message (undefined until the first generation is applied). */
  state: StateMessage | undefined;
  /** Its IPC channel is up (it said hello). */
  hello = false;
  /** Told to drain: no longer counted as serving. */
  retiring = false;
  exited = false;
  readonly exit: Promise<void>;
  #exited!: () => void;
  readonly #waiters = new Set<() => void>();

  constructor(worker: Worker, slot: number) {
    this.worker = worker;
    this.slot = slot;
    this.exit = new Promise((r) => { this.#exited = r; });
  }

  get id(): number { return this.worker.id; }
  get pid(): number { return this.worker.process.pid ?? 0; }

  send(m: PrimaryMessage): void {
    if (this.exited || !this.worker.isConnected()) return;
    try { this.worker.send(m); } catch { /* exiting */ }
  }

  /** Wake everyone waiting for a state change. */
  changed(): void { for (const w of [...this.#waiters]) w(); }

  markExited(): void {
    this.exited = true;
    this.#exited();
    this.changed();
  }

  /** Resolves true once ready, false on exit or after `timeoutMs`. */
  waitReady(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        if (this.state?.ready) { done(true); return true; }
        if (this.exited) { done(false); return true; }
        return false;
      };
      const t = setTimeout(() => done(false), timeoutMs);
      const done = (v: boolean): void => { clearTimeout(t); this.#waiters.delete(onChange); resolve(v); };
      const onChange = (): void => { check(); };
      if (!check()) this.#waiters.add(onChange);
    });
  }
}

/** Supervises the workers; see the file comment. */
export class Primary {
  readonly #opts: PrimaryOptions;
  readonly #log: Logger;
  readonly #policy: RestartPolicy;
  readonly #records = new Map<number, WorkerRecord>();
  readonly #crashes: number[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #source: FileSource | undefined;
  #config: ConfigMessage | undefined;
  #draining = false;
  #stopping: Promise<void> | undefined;
  #restarting: Promise<boolean> | undefined;
  #restartAgain = false;
  #replaced = 0;
  #divergenceReported = 0;

  constructor(opts: PrimaryOptions) {
    if (!cluster.isPrimary) throw new TypeError('Primary must run in the cluster primary process');
    this.#opts = opts;
    this.#log = opts.log;
    this.#policy = opts.restartPolicy ?? DEFAULT_RESTART_POLICY;
  }

  /** Workers wanted (--workers). */
  get desired(): number { return this.#opts.workers; }
  get draining(): boolean { return this.#draining; }
  get restarting(): boolean { return this.#restarting !== undefined; }
  /** Workers replaced after an unexpected exit, since start. */
  get replaced(): number { return this.#replaced; }
  /** Newest configuration generation sent. */
  get latestGeneration(): number { return this.#config?.generation ?? 0; }

  /** Every live worker, oldest first (serving and retiring). */
  workers(): WorkerRecord[] { return [...this.#records.values()]; }

  /** Live workers that are not draining. */
  serving(): WorkerRecord[] { return this.workers().filter((r) => !r.retiring && !r.exited); }

  /** Ready = not draining and at least --workers serving workers report ready. */
  ready(): boolean {
    return !this.#draining && this.serving().filter((r) => r.state?.ready === true).length >= this.#opts.workers;
  }

  /** The generation every started serving worker has acknowledged (a starting one gets the newest). */
  ackedGeneration(): number {
    const s = this.serving().filter((r) => r.state !== undefined);
    if (s.length === 0) return 0;
    return Math.min(...s.map((r) => r.state?.generation ?? 0));
  }

  /** Load the configuration (generation 1) and start watching; forks nothing yet. */
  async load(): Promise<void> {
    this.#source = new FileSource(this.#opts.paths, {
      debounceMs: 100,
      onUpdate: (r) => this.#publish(r),
      onError: (e) => this.#log.error(`Cannot reload configuration: ${(e as Error).message}`),
    });
    this.#publish(await this.#source.start());
  }

  /** Fork the workers. */
  spawn(): void {
    // Kernel-distributed accepts on one shared socket; must be set before the first fork.
    // NODE_CLUSTER_SCHED_POLICY=rr opts into the primary accepting and handing connections out
    // round-robin (even spread of long-lived connections, one more hop per connection).
    if (process.env.NODE_CLUSTER_SCHED_POLICY !== 'rr') cluster.schedulingPolicy = cluster.SCHED_NONE;
    for (let slot = 0; slot < this.#opts.workers; slot++) this.#fork(slot);
  }

  #publish(r: LoadResult): void {
    const generation = this.latestGeneration + 1;
    this.#config = { type: 'config', generation, resources: r.resources.map(toWire), diagnostics: r.diagnostics };
    for (const rec of this.serving()) if (rec.hello) rec.send(this.#config);
    if (generation > 1) this.#log.info('Configuration generation sent to the workers', { generation, resources: r.resources.length });
  }

  #fork(slot: number): WorkerRecord {
    const w = cluster.fork({ PORTICO_WORKER_SLOT: String(slot) });
    const rec = new WorkerRecord(w, slot);
    this.#records.set(w.id, rec);
    w.on('message', (m: unknown) => this.#onMessage(rec, m));
    w.on('exit', (code: number | null, signal: string | null) => this.#onExit(rec, code, signal));
    w.on('error', () => { /* IPC errors of an exiting worker; 'exit' follows */ });
    this.#log.info('Worker started', { worker: w.id, pid: rec.pid, slot });
    return rec;
  }

  #onMessage(rec: WorkerRecord, m: unknown): void {
    if (!isWorkerMessage(m)) return;
    if (m.type === 'hello') {
      rec.hello = true;
      if (this.#config) rec.send(this.#config);
      return;
    }
    const wasReady = rec.state?.ready === true;
    rec.state = m;
    if (m.ready && !wasReady) this.#log.info('Worker ready', { worker: rec.id, pid: rec.pid, generation: m.generation });
    rec.changed();
    this.#checkConvergence();
  }

  /** Same generation, different IR: a worker failed to build (or input was not identical). */
  #checkConvergence(): void {
    const latest = this.latestGeneration;
    if (this.#divergenceReported >= latest) return;
    const s = this.serving();
    if (s.length === 0 || s.some((r) => r.state?.generation !== latest)) return;
    const hashes = new Set(s.map((r) => r.state!.irHash));
    if (hashes.size > 1) {
      this.#divergenceReported = latest;
      this.#log.error(`WORKER_CONFIG_DIVERGED: Workers run different snapshots for configuration generation ${latest}: ${s.map((r) => `worker ${r.id} ${r.state!.irHash.slice(0, 12)}`).join(', ')}`, { code: 'WORKER_CONFIG_DIVERGED', generation: latest });
    }
  }

  #onExit(rec: WorkerRecord, code: number | null, signal: string | null): void {
    rec.markExited();
    this.#records.delete(rec.id);
    if (this.#draining || rec.retiring) {
      this.#log.info('Worker exited', { worker: rec.id, pid: rec.pid, code, signal });
      return;
    }
    const uptime = Date.now() - rec.startedAt;
    this.#log.error(`WORKER_EXITED: Worker ${rec.id} (pid ${rec.pid}) exited unexpectedly (${signal ?? `code ${code}`}) after ${uptime} ms; the other workers keep serving`, { code: 'WORKER_EXITED', worker: rec.id, pid: rec.pid, slot: rec.slot });
    // A rolling restart may already have a newer worker in this slot.
    if (this.serving().some((r) => r.slot === rec.slot)) return;
    const crashes = (this.#crashes[rec.slot] = nextCrashCount(this.#crashes[rec.slot] ?? 0, uptime, this.#policy));
    const delay = restartDelayMs(crashes, this.#policy);
    if (delay > 0) {
      this.#log.error(`WORKER_CRASH_LOOP: Worker slot ${rec.slot} crashed ${crashes} times in a row within ${this.#policy.stableMs} ms of starting; replacing it in ${delay} ms`, { code: 'WORKER_CRASH_LOOP', slot: rec.slot, crashes, delayMs: delay });
    }
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (this.#draining || this.serving().some((r) => r.slot === rec.slot)) return;
      this.#replaced++;
      this.#fork(rec.slot);
    }, delay);
    this.#timers.add(t);
  }

  /** Tell a worker to drain and exit; killed if it is still there well after the drain timeout. */
  #retire(rec: WorkerRecord, delayMs: number): void {
    if (rec.retiring || rec.exited) return;
    rec.retiring = true;
    if (rec.hello) rec.send({ type: 'drain', delayMs });
    else rec.worker.process.kill('SIGTERM'); // no IPC yet: nothing accepted, nothing to drain
    const grace = delayMs + this.#opts.drain.timeoutMs + 5000;
    const t = setTimeout(() => {
      if (rec.exited) return;
      this.#log.warn(`WORKER_DRAIN_TIMEOUT: Worker ${rec.id} (pid ${rec.pid}) is still running ${grace} ms after it was told to drain; killing it`, { code: 'WORKER_DRAIN_TIMEOUT', worker: rec.id });
      rec.worker.process.kill('SIGKILL');
    }, grace);
    t.unref();
    void rec.exit.then(() => clearTimeout(t));
  }

  /**
   * Zero-drop restart: re-read the config, then for each worker start a replacement, wait
   * until it is ready (config applied, listeners shared), then drain the old one. The
   * listening sockets never close because a worker holds them at every moment. New workers
   * run the code on disk now. Resolves false when a replacement failed (the old one stays).
   */
  restart(): Promise<boolean> {
    if (this.#draining) return Promise.resolve(false);
    if (this.#restarting) {
      this.#restartAgain = true;
      return this.#restarting;
    }
    const run = this.#rollingRestart().finally(() => {
      this.#restarting = undefined;
      if (this.#restartAgain && !this.#draining) {
        this.#restartAgain = false;
        void this.restart();
      }
    });
    this.#restarting = run;
    return run;
  }

  async #rollingRestart(): Promise<boolean> {
    const old = this.serving();
    this.#log.info(`Rolling restart: replacing ${old.length} worker(s) one by one`);
    await this.#source?.reload();
    const timeout = this.#opts.startTimeoutMs ?? 30_000;
    for (const rec of old) {
      if (this.#draining) return false;
      if (rec.exited || rec.retiring) continue;
      const fresh = this.#fork(rec.slot);
      if (!(await fresh.waitReady(timeout))) {
        if (this.#draining) return false; // SIGTERM during the restart: stop() drains everyone
        this.#log.error(`WORKER_START_FAILED: Worker ${fresh.id} did not become ready within ${timeout} ms; the rolling restart stops and worker ${rec.id} keeps serving`, { code: 'WORKER_START_FAILED', worker: fresh.id });
        this.#retire(fresh, 0);
        return false;
      }
      // The new worker already accepts on the shared sockets: the old one drains at once.
      this.#retire(rec, 0);
    }
    this.#log.info('Rolling restart done', { workers: this.serving().map((r) => r.pid) });
    return true;
  }

  /** Drain every worker (--drain-delay, --drain-timeout) and wait until all exited. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#draining = true;
      this.#source?.close();
      for (const t of this.#timers) clearTimeout(t);
      this.#timers.clear();
      const all = this.workers();
      for (const rec of all) this.#retire(rec, this.#opts.drain.delayMs);
      await Promise.all(all.map((r) => r.exit));
    })();
    return this.#stopping;
  }
}

/** `portico run --workers N` in the primary process: resolves with the exit code. */
export async function runPrimary(opts: PrimaryOptions): Promise<number> {
  const log = opts.log;
  const primary = new Primary(opts);
  await primary.load();
  let admin: http.Server;
  try {
    admin = await startPrimaryAdmin(primary, opts.admin, log);
  } catch (e) {
    throw new Error(`Cannot start the admin API on ${opts.admin.address}:${opts.admin.port}: ${(e as Error).message}`);
  }
  log.info(`Admin API on http://${opts.admin.address}:${(admin.address() as { port: number }).port}`, { workers: opts.workers });
  primary.spawn();
  const onHup = (): void => {
    log.info('SIGHUP received: re-reading the configuration and restarting the workers one by one');
    void primary.restart();
  };
  process.on('SIGHUP', onHup);
  await new Promise<void>((resolve) => {
    const stop = (sig: string): void => {
      process.stderr.write(`portico: ${sig} received, draining (readiness now 503${opts.drain.delayMs ? `, still accepting for ${opts.drain.delayMs} ms` : ''})\n`);
      void primary.stop().then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  process.removeListener('SIGHUP', onHup);
  // /ready kept answering 503 during the drain; now the admin API goes too.
  await new Promise<void>((r) => admin.close(() => r()));
  admin.closeAllConnections();
  return 0;
}
