/**
 * A worker process of `portico run --workers N`. It runs the same gateway as a single process,
 * with two differences: its configuration arrives from the primary over IPC (numbered
 * generations, acknowledged with a state message), and its admin API listens on a private
 * 127.0.0.1 port the primary queries and merges. Listeners are shared through node:cluster.
 *
 * It drains and exits 0 when the primary says so, on SIGTERM/SIGINT (a terminal's Ctrl-C
 * reaches the whole process group), and when the IPC channel closes (the primary is gone).
 */
import cluster from 'node:cluster';
import type { Diagnostic } from '../../errors/diagnostic.js';
import type { LoadedResource } from '../../config/resources/types.js';
import type { Gateway, Logger } from '../gateway.js';
import { fromWire, isPrimaryMessage, type ConfigMessage, type StateMessage, type WorkerMessage } from './protocol.js';

interface FeedLike {
  start(): Promise<{ readonly resources: readonly LoadedResource[]; readonly diagnostics: readonly Diagnostic[] }>;
  close(): void;
}

/** What runWorker needs from startGateway (cli/run.ts), kept abstract to avoid a cycle. */
export interface WorkerStartExtras {
  readonly feed: (gateway: Gateway, log: Logger) => FeedLike;
  readonly admin: { readonly port: number; readonly address: string; readonly exclusive: boolean };
  readonly logFields: Readonly<Record<string, unknown>>;
}

interface WorkerHandle {
  readonly gateway: Gateway;
  readonly adminPort: number;
  stop(opts?: { readonly delayMs?: number }): Promise<void>;
}

function send(m: WorkerMessage): void {
  if (process.connected) process.send?.(m);
}

/**
 * Configuration from the primary. Updates are applied one at a time; when several arrive
 * during an apply only the newest is applied (each one is a complete resource set).
 */
export class IpcFeed implements FeedLike {
  readonly #gateway: Gateway;
  readonly #log: Logger;
  #first: ((m: ConfigMessage) => void) | undefined;
  #generation = 0;
  #pending: ConfigMessage | undefined;
  #applying = false;
  #announced = false;
  #closed = false;
  adminPort = 0;

  constructor(gateway: Gateway, log: Logger) {
    this.#gateway = gateway;
    this.#log = log;
  }

  /** Called for every config message (wired by runWorker). */
  onConfig(m: ConfigMessage): void {
    if (this.#closed) return;
    if (this.#first) { const f = this.#first; this.#first = undefined; this.#generation = m.generation; f(m); return; }
    if (m.generation <= this.#generation) return;
    this.#pending = m;
    void this.#drainQueue();
  }

  start(): Promise<{ resources: LoadedResource[]; diagnostics: Diagnostic[] }> {
    return new Promise((resolve) => {
      this.#first = (m) => resolve({ resources: m.resources.map(fromWire), diagnostics: [...m.diagnostics] });
      send({ type: 'hello' });
    });
  }

  /** The first generation is applied and the admin API is up: tell the primary, then take updates. */
  announce(adminPort: number): void {
    this.adminPort = adminPort;
    this.#announced = true;
    this.#sendState(true, 0);
    void this.#drainQueue();
  }

  async #drainQueue(): Promise<void> {
    if (this.#applying || !this.#announced) return;
    this.#applying = true;
    try {
      while (this.#pending !== undefined && !this.#closed) {
        const m = this.#pending;
        this.#pending = undefined;
        try {
          const o = await this.#gateway.apply(m.resources.map(fromWire), m.diagnostics);
          this.#generation = m.generation;
          this.#sendState(o.applied || o.unchanged === true, o.errors);
        } catch (e) {
          this.#log.error(`Cannot apply configuration generation ${m.generation}: ${(e as Error).message}`);
        }
      }
    } finally {
      this.#applying = false;
    }
  }

  #sendState(applied: boolean, errors: number): void {
    const s: StateMessage = {
      type: 'state', generation: this.#generation, ready: this.#gateway.ready(), adminPort: this.adminPort,
      irHash: this.#gateway.snapshot?.irHash ?? '', applied, errors,
    };
    send(s);
  }

  close(): void {
    this.#closed = true;
  }
}

/**
 * Run this process as a worker until told to drain; resolves with the exit code (0). The
 * caller starts the gateway with the given extras (cli/run.ts startGateway).
 */
export async function runWorker(start: (extras: WorkerStartExtras) => Promise<WorkerHandle>, drain: { readonly delayMs: number }): Promise<number> {
  let feed: IpcFeed | undefined;
  const early: ConfigMessage[] = [];
  let drainDelay: number | undefined;
  let wake: (() => void) | undefined;
  let started = false;
  const requestDrain = (delayMs: number): void => {
    // Nothing accepted yet (the primary gave up on this worker, or is gone): just leave.
    if (!started) process.exit(0);
    if (drainDelay !== undefined) return;
    drainDelay = delayMs;
    wake?.();
  };
  process.on('message', (m: unknown) => {
    if (!isPrimaryMessage(m)) return;
    if (m.type === 'drain') { requestDrain(m.delayMs); return; }
    started = true; // listeners bind from here on: a drain must wait for them
    if (feed) feed.onConfig(m); else early.push(m);
  });
  // The primary owns the lifecycle; a signal sent to the whole group drains like the primary would.
  process.on('SIGTERM', () => requestDrain(drain.delayMs));
  process.on('SIGINT', () => requestDrain(drain.delayMs));
  process.on('SIGHUP', () => { /* the primary handles SIGHUP (rolling restart) */ });
  process.on('disconnect', () => requestDrain(0));

  const id = cluster.worker?.id ?? process.pid;
  const handle = await start({
    feed: (gateway, log) => {
      feed = new IpcFeed(gateway, log);
      for (const m of early.splice(0)) feed.onConfig(m);
      return feed;
    },
    admin: { port: 0, address: '127.0.0.1', exclusive: true },
    logFields: { worker: id },
  });
  feed!.announce(handle.adminPort);
  if (drainDelay === undefined) await new Promise<void>((r) => { wake = r; });
  await handle.stop({ delayMs: drainDelay ?? 0 });
  // The IPC channel and inherited handles would keep the process alive: leave explicitly.
  process.exit(0);
}
