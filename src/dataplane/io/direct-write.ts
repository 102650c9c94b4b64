/**
 * Direct socket writes for the hot path: hand a latin1 string straight to the socket's
 * libuv stream, skipping net.Socket's Writable layer (per write it allocates state, schedules
 * a process.nextTick for the callback and refreshes the socket timer). Measured: see
 * docs/performance.md ("direct writes").
 *
 * Node exposes no public API for this, so it uses the StreamBase `WriteWrap` that
 * `net.Socket` itself uses (`process.binding('stream_wrap')`, not runtime-deprecated in
 * Node 20). Everything is feature-detected once; when anything is missing, or the socket is
 * not a plain TCP socket with an empty Writable queue, `writeLatin1` falls back to
 * `socket.write`. Ordering stays intact: a direct write only happens when nothing is queued
 * in the Writable, and libuv keeps its own queue in call order.
 */
import type net from 'node:net';

/** Gets told when a direct write that could not finish at once has left the process. */
export interface DirectWriteOwner {
  /** `status` < 0 is a libuv error (the socket is destroyed before this is called). */
  onDirectWriteDone(status: number): void;
}

interface StreamHandle {
  writeLatin1String(req: object, s: string): number;
}
type WriteWrapCtor = new () => WriteReq;
interface WriteReq {
  /** The only property the native side reads (on completion of an asynchronous write). */
  oncomplete: (this: WriteReq, status: number) => void;
  owner: DirectWriteOwner | null; socket: net.Socket | null;
}
type RawSocket = net.Socket & { _handle: StreamHandle | null; encrypted?: boolean };
// socket.bytesWritten reads the handle's own counter, so direct writes are counted there too.

let WriteWrap: WriteWrapCtor | undefined;
let state: Int32Array | undefined;
let kAsync = -1;
try {
  const proc = process as unknown as { binding(name: string): Record<string, unknown> };
  const b = proc.binding('stream_wrap');
  if (typeof b['WriteWrap'] === 'function' && b['streamBaseState'] instanceof Int32Array &&
      typeof b['kLastWriteWasAsync'] === 'number') {
    WriteWrap = b['WriteWrap'] as WriteWrapCtor;
    state = b['streamBaseState'] as Int32Array;
    kAsync = b['kLastWriteWasAsync'] as number;
  }
} catch { /* no binding: always the Writable path */ }

let enabled = WriteWrap !== undefined && process.env['PORTICO_DIRECT_WRITES'] !== '0';

/** Whether direct writes are in use (admin/debug); `set` turns them off or on (tests). */
export function directWrites(set?: boolean): boolean {
  if (set !== undefined) enabled = set && WriteWrap !== undefined;
  return enabled;
}

function onComplete(this: WriteReq, status: number): void {
  const owner = this.owner;
  const socket = this.socket;
  this.owner = null;
  this.socket = null;
  if (status < 0 && socket !== null) socket.destroy();
  owner?.onDirectWriteDone(status);
}

/**
 * Write `s` (latin1) to `socket`. Returns true only when a direct write is still queued in
 * libuv: `owner.onDirectWriteDone` runs once it left. False when the bytes went to the kernel
 * at once, the socket is gone, or the Writable path took them (its own backpressure applies:
 * `writableNeedDrain` and 'drain'; the owner is not called).
 */
export function writeLatin1(socket: net.Socket, s: string, owner: DirectWriteOwner): boolean {
  const rs = socket as RawSocket;
  const h = rs._handle;
  if (!enabled || h === null || rs.writableLength !== 0 || rs.encrypted === true || rs.connecting ||
      typeof h.writeLatin1String !== 'function') {
    socket.write(s, 'latin1');
    return false;
  }
  // A write the kernel takes at once never touches the request object (StreamBase::WriteString
  // returns before wrapping it), so one spare serves every such write; it only becomes the
  // pending request's own when the write goes asynchronous.
  const req = spare ??= newReq();
  const err = h.writeLatin1String(req, s);
  if (err !== 0) {
    socket.destroy();
    return false;
  }
  if (state![kAsync] === 0) return false;
  spare = undefined;
  req.owner = owner;
  req.socket = socket;
  return true;
}

let spare: WriteReq | undefined;

function newReq(): WriteReq {
  const req = new WriteWrap!();
  req.oncomplete = onComplete;
  req.owner = null;
  req.socket = null;
  return req;
}
