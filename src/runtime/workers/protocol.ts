/**
 * What the primary and its workers say to each other over the cluster IPC channel, and how a
 * loaded resource set travels.
 *
 * Design: the primary alone reads and watches the config files (one FileSource, one place
 * where "last good version of a broken file" is decided). Each change becomes a numbered
 * generation sent to every worker as plain data: the objects, their provenance and a table of
 * field positions, so diagnostics in a worker name the same file:line:col as in a single
 * process. Workers translate, build and swap on their own (translation is pure, so the same
 * input gives the same snapshot: the ack carries the IR hash and the primary checks it).
 */
import type { Diagnostic, Origin, ResourceKey } from '../../errors/diagnostic.js';
import type { KubeObject, LoadedResource, PositionLookup } from '../../config/resources/types.js';
import { childPath, indexPath, parseFieldPath, protoJsonName, type PathToken } from '../../config/resources/schema/field-path.js';

/** One resource on the wire. `positions` maps a normalised field path to `[line, col]` in `origin.file`. */
export interface WireResource {
  readonly key: ResourceKey;
  readonly object: KubeObject;
  readonly origin?: Origin;
  readonly source: string;
  readonly seq: number;
  readonly positions: Readonly<Record<string, readonly [number, number]>>;
}

/** Primary → worker: apply this configuration generation. */
export interface ConfigMessage {
  readonly type: 'config';
  readonly generation: number;
  readonly resources: readonly WireResource[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Primary → worker: drain (keep accepting for `delayMs`, then stop) and exit 0. */
export interface DrainMessage {
  readonly type: 'drain';
  readonly delayMs: number;
}

export type PrimaryMessage = ConfigMessage | DrainMessage;

/** Worker → primary: the IPC channel is listening (send the config now). */
export interface HelloMessage {
  readonly type: 'hello';
}

/** Worker → primary: where its private admin API is, and which generation it runs. */
export interface StateMessage {
  readonly type: 'state';
  /** Last configuration generation applied (or found unchanged). */
  readonly generation: number;
  /** Gateway.ready(): a snapshot is in place and every listener is bound. */
  readonly ready: boolean;
  /** Port of the worker's admin API on 127.0.0.1 (exclusive to this worker). */
  readonly adminPort: number;
  /** Hash of the running IR (same input must give the same hash in every worker). */
  readonly irHash: string;
  readonly applied: boolean;
  readonly errors: number;
}

export type WorkerMessage = HelloMessage | StateMessage;

/** Narrow an IPC message from a worker (anything else is ignored). */
export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === 'object' && m !== null && ((m as { type?: unknown }).type === 'hello' || (m as { type?: unknown }).type === 'state');
}

/** Narrow an IPC message from the primary. */
export function isPrimaryMessage(m: unknown): m is PrimaryMessage {
  return typeof m === 'object' && m !== null && ((m as { type?: unknown }).type === 'config' || (m as { type?: unknown }).type === 'drain');
}

const MAX_DEPTH = 64;

/** Istio snake_case keys resolve like their camelCase path (as positionOf does for YAML). */
function norm(t: PathToken): PathToken {
  return typeof t === 'string' && t.includes('_') ? protoJsonName(t) : t;
}

function pathOf(tokens: readonly PathToken[]): string {
  let p = '';
  for (const t of tokens) p = typeof t === 'number' ? indexPath(p, t) : childPath(p, t);
  return p;
}

/**
 * A resource as plain data. Every field of the object gets its position, resolved through
 * the loader's own positionOf; a position equal to its parent's is left out (lookups fall
 * back to the nearest ancestor, as positionOf does for missing fields).
 */
export function toWire(r: LoadedResource): WireResource {
  const origin = r.origin;
  const positions: Record<string, [number, number]> = {};
  if (origin) {
    positions[''] = [origin.line, origin.col];
    const seen = new Set<unknown>();
    const walk = (v: unknown, tokens: PathToken[], parent: string): void => {
      if (typeof v !== 'object' || v === null || seen.has(v) || tokens.length >= MAX_DEPTH) return;
      seen.add(v);
      const entries: [PathToken, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
      for (const [k, child] of entries) {
        const t = [...tokens, k];
        const p = pathOf(t);
        const pos = r.positionOf(p);
        const np = pathOf(t.map(norm));
        let here = parent;
        if (pos && pos.file === origin.file) {
          const prev = positions[parent];
          if (!prev || prev[0] !== pos.line || prev[1] !== pos.col) {
            if (!(np in positions)) positions[np] = [pos.line, pos.col];
            here = np;
          }
        }
        walk(child, t, here);
      }
    };
    walk(r.object, [], '');
  }
  return { key: r.key, object: r.object, ...(origin ? { origin } : {}), source: r.source, seq: r.seq, positions };
}

/** The worker side of {@link toWire}: a LoadedResource whose positionOf reads the table. */
export function fromWire(w: WireResource): LoadedResource {
  const origin = w.origin;
  const positionOf: PositionLookup = (path) => {
    if (!origin) return undefined;
    const tokens = (path ? parseFieldPath(path) : []) ?? [];
    for (let n = tokens.length; n >= 0; n--) {
      const p = pathOf(tokens.slice(0, n).map(norm));
      const hit = w.positions[p];
      if (hit) return { file: origin.file, line: hit[0], col: hit[1] };
    }
    return origin;
  };
  return { key: w.key, object: w.object, ...(origin ? { origin } : {}), positionOf, source: w.source, seq: w.seq };
}
