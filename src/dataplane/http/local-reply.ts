/**
 * Local replies (no upstream): Envoy-shaped text/plain bodies with the flag and detail
 * already recorded on the StreamInfo by the caller.
 */
import type { StreamInfo } from '../../observability/stream-info.js';
import type { Downstream } from './downstream.js';

const TEXT_NAMES: readonly string[] = Object.freeze(['content-type']);
const TEXT_VALUES: readonly string[] = Object.freeze(['text/plain']);
const cache = new Map<string, Buffer>();

/** Headers and body for a text/plain local reply (bodies are cached: they come from a fixed set). */
export function textReply(body: string): { lnames: readonly string[]; values: readonly string[]; body: Buffer } {
  let b = cache.get(body);
  if (b === undefined) {
    b = Buffer.from(body, 'utf8');
    if (cache.size < 256) cache.set(body, b);
  }
  return { lnames: body === '' ? [] : TEXT_NAMES, values: body === '' ? [] : TEXT_VALUES, body: b };
}

/** Send a complete local reply and record it. */
export function localReply(ds: Downstream, status: number, lnames: readonly string[], values: readonly string[],
  body: Buffer, info: StreamInfo): void {
  info.responseCode = status;
  info.bytesSent = body.length;
  info.resNames = lnames;
  info.resValues = values;
  ds.sendLocal(status, lnames, values, body, info);
}

let dateCache = '';
let dateSecond = 0;

/** RFC 9110 IMF-fixdate, recomputed at most once per second. */
export function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateCache = new Date(now).toUTCString();
  }
  return dateCache;
}
