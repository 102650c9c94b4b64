/**
 * Reads into one process-wide buffer instead of a fresh 64 KiB ArrayBuffer per read, with a
 * plain callback instead of the Readable stream machinery (push, a process.nextTick for
 * maybeReadMore, 'data' emit). Node's own `onread` socket option does exactly this for client
 * sockets (`net.connect({ onread })`, public API); accepted server sockets get the same through
 * the socket's own `onread` slots, found once by their symbol descriptions. Feature-detected:
 * without them the caller keeps its 'data' listener.
 *
 * The contract that makes one buffer safe: a read callback runs to completion before the next
 * read of any socket, and the bytes it gets are valid only during the call. Whatever must
 * outlive it (a partial head, request or response body bytes handed to another socket's
 * write, which may keep them queued) is copied with `keep()`.
 */
import type net from 'node:net';

/** Called with `this` = the socket: `n` bytes were read into `buf[0..n)`. */
export type SharedReadCallback = (this: net.Socket, n: number, buf: Buffer) => void;

export const SHARED_READ_SIZE = 64 * 1024;
const shared = Buffer.allocUnsafeSlow(SHARED_READ_SIZE);

/** Options for `net.connect` that read into the shared buffer (client sockets). */
export function sharedOnread(cb: SharedReadCallback): net.OnReadOpts {
  return { buffer: shared, callback: cb as unknown as net.OnReadOpts['callback'] };
}

let kBuffer: symbol | undefined;
let kBufferCb: symbol | undefined;
let probed = false;
let enabled = process.env['PORTICO_SHARED_READS'] !== '0';

export function sharedReads(set?: boolean): boolean {
  if (set !== undefined) enabled = set;
  return enabled;
}

type Slots = net.Socket & Record<symbol, unknown> & { _handle: { useUserBuffer?(b: Buffer): void } | null };

/**
 * Switch an accepted plain TCP socket to shared-buffer reads with `cb`. Returns false (and
 * changes nothing) when this Node does not have the slots; the 'data' listener stays in charge.
 * Irreversible for the socket's lifetime; remove the 'data' listener after a true return.
 */
export function readIntoShared(socket: net.Socket, cb: SharedReadCallback): boolean {
  if (!enabled) return false;
  const s = socket as Slots;
  probe(socket);
  const h = s._handle;
  if (kBuffer === undefined || kBufferCb === undefined || h === null || typeof h.useUserBuffer !== 'function' ||
      !(kBuffer in s) || s[kBuffer] !== null && s[kBuffer] !== undefined) return false;
  s[kBuffer] = shared;
  s[kBufferCb] = cb;
  h.useUserBuffer(shared);
  return true;
}

function probe(socket: net.Socket): void {
  if (probed) return;
  probed = true;
  for (const sym of Object.getOwnPropertySymbols(socket)) {
    if (sym.description === 'kBuffer') kBuffer = sym;
    else if (sym.description === 'kBufferCb') kBufferCb = sym;
  }
}

/**
 * Replace the read callback of a socket reading into the shared buffer (accepted with
 * `readIntoShared`, or connected with `sharedOnread`). False when the slot is unknown.
 */
export function setSharedReadCallback(socket: net.Socket, cb: SharedReadCallback): boolean {
  probe(socket);
  if (kBufferCb === undefined) return false;
  (socket as Slots)[kBufferCb] = cb;
  return true;
}

/** A copy of `b` that outlives the read callback (bytes of the shared buffer). */
export function keep(b: Buffer): Buffer {
  const c = Buffer.allocUnsafe(b.length);
  b.copy(c, 0, 0, b.length);
  return c;
}

/** For tunnels: turn shared-buffer reads back into 'data' events carrying copies. */
export function emitCopiesAsData(this: net.Socket, n: number, buf: Buffer): void {
  this.emit('data', keep(buf.subarray(0, n)));
}
