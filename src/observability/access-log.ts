/**
 * Access logs: compiled formats (TEXT or JSON, Envoy command operators) written by
 * per-destination line writers.
 *
 * Never blocks the request path: a line is formatted in `onStream` and appended to an
 * in-memory batch; batches are written every FLUSH_INTERVAL_MS with fs.write on the libuv
 * thread pool, one write in flight per destination. If the output pushes back (full pipe,
 * slow disk) bytes wait in a bounded queue (16 MiB per destination); beyond it lines are
 * dropped and counted, never buffered without bound. A clean shutdown flushes everything
 * queued (`flush()` / `close()`), so no line is lost.
 */
import fs from 'node:fs';
import type { Logger } from '../runtime/gateway.js';
import { compileFilter } from './cel/compile.js';
import { createJsonFormatter, createTextFormatter, istioTextFormat, ISTIO_JSON_FORMAT, type JsonFormatSpec, type LineFormatter } from './format/index.js';
import type { StreamInfo } from './stream-info.js';

/** Most bytes queued per destination while its output pushes back. */
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/**
 * Lines are gathered this long before one write (Envoy buffers its file access logs for up to
 * 1 s): at full load one thread-pool write carries hundreds of lines, so the cost of the hand-off
 * to the writer thread stays a fraction of a microsecond per line.
 */
export const FLUSH_INTERVAL_MS = 10;

/** Lines are encoded into blocks of this size (a block is shared by many lines, then sliced). */
const ENCODE_BLOCK = 64 * 1024;

/**
 * Largest single write to a shared stdout/stderr: POSIX makes pipe writes of at most PIPE_BUF
 * (4096) bytes atomic, so lines of several worker processes never interleave mid-line.
 */
const PIPE_CHUNK = 4096;
const FILE_CHUNK = 1024 * 1024;

/** Where a writer's bytes go. */
interface Output {
  write(chunk: Buffer, cb: (err: NodeJS.ErrnoException | null, written: number) => void): void;
  close(): Promise<void>;
}

/**
 * A file descriptor written with fs.write (libuv thread pool): the event loop never waits for
 * a slow disk or a full pipe. A non-blocking pipe that is full answers EAGAIN: retried later.
 */
class FdOutput implements Output {
  readonly #fd: Promise<number>;
  readonly #own: boolean;
  constructor(fd: Promise<number>, own: boolean) {
    this.#fd = fd;
    this.#own = own;
    fd.catch(() => {});
  }

  write(chunk: Buffer, cb: (err: NodeJS.ErrnoException | null, written: number) => void): void {
    this.#fd.then((fd) => fs.write(fd, chunk, 0, chunk.length, null, (e, n) => cb(e, n)), (e: NodeJS.ErrnoException) => cb(e, 0));
  }

  async close(): Promise<void> {
    if (!this.#own) return;
    let fd: number;
    try { fd = await this.#fd; } catch { return; } // never opened
    await new Promise<void>((r) => fs.close(fd, () => r()));
  }
}

/**
 * Synchronous writes to a pipe, socket or character device (a terminal, /dev/null). Node puts a
 * stdio pipe in non-blocking mode, so a full pipe answers EAGAIN at once (retried later) and
 * the event loop never waits; a write of at most PIPE_BUF bytes is all or nothing. Measured:
 * a thread-pool write costs ~50 µs of main-thread time per call on the project's VMs, a
 * direct write ~5–10 µs.
 */
class SyncOutput implements Output {
  readonly #fd: number;
  constructor(fd: number) { this.#fd = fd; }
  write(chunk: Buffer, cb: (err: NodeJS.ErrnoException | null, written: number) => void): void {
    let n = 0;
    let err: NodeJS.ErrnoException | null = null;
    try { n = fs.writeSync(this.#fd, chunk); } catch (e) { err = e as NodeJS.ErrnoException; }
    queueMicrotask(() => cb(err, n));
  }
  async close(): Promise<void> { /* stdio: not ours */ }
}

/** How to write to stdout/stderr: `shared` = pipe or socket (PIPE_BUF chunks), `sync` = direct writes are safe. */
function stdioKind(fd: number): { shared: boolean; sync: boolean } {
  try {
    // Creating the stdio stream makes Node switch a pipe to non-blocking mode.
    void (fd === 1 ? process.stdout : process.stderr);
    const st = fs.fstatSync(fd);
    const shared = st.isFIFO() || st.isSocket();
    return { shared, sync: shared || st.isCharacterDevice() };
  } catch {
    return { shared: true, sync: false };
  }
}

/** A Writable (tests inject a PassThrough for /dev/stdout). */
class StreamOutput implements Output {
  readonly #out: NodeJS.WritableStream;
  constructor(out: NodeJS.WritableStream) { this.#out = out; }
  write(chunk: Buffer, cb: (err: NodeJS.ErrnoException | null, written: number) => void): void {
    // A Writable may keep the chunk queued after write() returns: give it a copy (blocks are reused).
    if (this.#out.write(Buffer.from(chunk))) cb(null, chunk.length);
    else this.#out.once('drain', () => cb(null, chunk.length));
  }
  async close(): Promise<void> { /* not ours */ }
}

/** An encode block: bytes [0, end) hold whole lines, [sent, end) are not written yet. */
interface Block {
  readonly buf: Buffer;
  end: number;
  sent: number;
}

/** Spare blocks kept per destination: lines are encoded into memory that is still in cache. */
const SPARE_BLOCKS = 4;

/**
 * Writes lines to one destination: lines are encoded straight into a block (no string
 * building), blocks are written every FLUSH_INTERVAL_MS in chunks that end at a line boundary,
 * one write in flight at a time; written blocks are reused (no 64 KiB allocation per block,
 * and the next lines land in memory that was just written).
 */
export class LineWriter {
  readonly #out: Output;
  readonly #chunk: number;
  /** The block lines are appended to; sealed into #queue on flush. */
  #cur: Block | null = null;
  /** Sealed blocks waiting to be written, oldest first. */
  readonly #queue: Block[] = [];
  /** Bytes in #queue not written yet. */
  #queued = 0;
  readonly #spare: Buffer[] = [];
  #inFlight = false;
  #scheduled = false;
  #failed = false;
  #idle: (() => void)[] = [];
  readonly #onDropped: (n: number) => void;
  readonly #onError: (e: Error) => void;
  /** Lines dropped (queue full or output failed) and accepted. */
  dropped = 0;
  written = 0;

  constructor(out: Output, chunk: number, onDropped: (n: number) => void, onError: (e: Error) => void) {
    this.#out = out;
    this.#chunk = chunk;
    this.#onDropped = onDropped;
    this.#onError = onError;
  }

  /** Append one line (newline included). */
  push(line: string): void {
    let cur = this.#cur;
    if (this.#failed || (cur === null ? 0 : cur.end) + this.#queued > MAX_QUEUED_BYTES) {
      this.dropped++;
      this.#onDropped(1);
      return;
    }
    const need = line.length; // a byte string: one byte per char
    if (cur === null || cur.buf.length - cur.end < need) {
      this.#seal();
      const buf = need <= ENCODE_BLOCK ? (this.#spare.pop() ?? Buffer.allocUnsafe(ENCODE_BLOCK)) : Buffer.allocUnsafe(need);
      cur = this.#cur = { buf, end: 0, sent: 0 };
    }
    cur.end += cur.buf.write(line, cur.end, 'latin1');
    this.written++;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setTimeout(this.#pump, FLUSH_INTERVAL_MS);
    }
  }

  /** Append the line `f` writes for `info` straight into the current block (see LineFormatter.write). */
  pushWith(f: LineFormatter, info: StreamInfo): void {
    let cur = this.#cur;
    if (this.#failed || (cur === null ? 0 : cur.end) + this.#queued > MAX_QUEUED_BYTES) {
      this.dropped++;
      this.#onDropped(1);
      return;
    }
    let end = -1;
    if (cur === null || (end = f.write!(info, cur.buf, cur.end)) < 0) {
      this.#seal();
      cur = this.#cur = { buf: this.#spare.pop() ?? Buffer.allocUnsafe(ENCODE_BLOCK), end: 0, sent: 0 };
      end = f.write!(info, cur.buf, 0);
      if (end < 0) { this.push(f.format(info)); return; } // longer than a block
    }
    cur.end = end;
    this.written++;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setTimeout(this.#pump, FLUSH_INTERVAL_MS);
    }
  }

  /** Move the current block into the write queue. */
  #seal(): void {
    const cur = this.#cur;
    if (cur === null || cur.end === 0) return;
    this.#queue.push(cur);
    this.#queued += cur.end;
    this.#cur = null;
  }

  readonly #pump = (): void => {
    this.#scheduled = false;
    if (this.#inFlight) return;
    this.#seal();
    const queue = this.#queue;
    if (queue.length === 0) { this.#settle(); return; }
    const head = queue[0]!;
    const buf = head.buf;
    const from = head.sent;
    let end = head.end;
    if (end - from > this.#chunk) {
      // Cut at the last line end within one chunk (a longer line goes out whole).
      const nl = buf.lastIndexOf(10, from + this.#chunk - 1);
      const first = buf.indexOf(10, from);
      end = nl >= from ? nl + 1 : first !== -1 && first < end ? first + 1 : end;
    }
    this.#inFlight = true;
    this.#out.write(buf.subarray(from, end), (err, n) => {
      this.#inFlight = false;
      if (err) {
        if (err.code === 'EAGAIN') { setTimeout(this.#pump, 5); return; } // full non-blocking pipe
        this.#fail(err);
        return;
      }
      head.sent += n;
      this.#queued -= n;
      if (head.sent >= head.end) {
        queue.shift();
        if (buf.length === ENCODE_BLOCK && this.#spare.length < SPARE_BLOCKS) this.#spare.push(buf);
      }
      // A backlog (or a waiting flush) is written at once; lines that arrived meanwhile wait for
      // the next interval, so a fast write does not turn into a stream of tiny writes.
      const pending = this.#cur !== null && this.#cur.end > 0;
      if (queue.length > 0 || (pending && this.#idle.length > 0)) this.#pump();
      else if (pending) {
        if (!this.#scheduled) { this.#scheduled = true; setTimeout(this.#pump, FLUSH_INTERVAL_MS); }
      } else this.#settle();
    });
  };

  #fail(err: Error): void {
    this.#failed = true;
    const lost = this.#queue.length > 0 || (this.#cur !== null && this.#cur.end > 0) ? 1 : 0;
    this.#queue.length = 0;
    this.#queued = 0;
    this.#cur = null;
    if (lost) this.#onDropped(lost);
    this.#onError(err);
    this.#settle();
  }

  #empty(): boolean {
    return !this.#inFlight && this.#queue.length === 0 && (this.#cur === null || this.#cur.end === 0);
  }

  #settle(): void {
    if (!this.#empty()) return;
    const w = this.#idle;
    this.#idle = [];
    for (const f of w) f();
  }

  /** Write everything queued; resolves when the output took it all. */
  flush(): Promise<void> {
    if (this.#empty()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#idle.push(resolve);
      if (!this.#inFlight && !this.#scheduled) this.#pump();
    });
  }

  /** Flush, then close a file this writer opened. */
  async close(): Promise<void> {
    await this.flush();
    await this.#out.close();
  }
}

/** One configured access log: where, in which format, and which requests. */
export interface AccessLogSpec {
  /** `/dev/stdout`, `/dev/stderr` or a file path. */
  readonly path: string;
  readonly format: { readonly kind: 'text'; readonly text: string } | { readonly kind: 'json'; readonly spec: JsonFormatSpec };
  readonly omitEmptyValues?: boolean;
  /** CEL filter (Telemetry `filter.expression`): log only when true. */
  readonly filter?: string;
  /** Provider name, for messages. */
  readonly provider?: string;
}

/** Istio's MeshConfig log: TEXT (default format, or `format` + newline) or JSON (default keys, or `format` as a JSON object). */
export function meshLogFormat(encoding: 'TEXT' | 'JSON', format: string): AccessLogSpec['format'] {
  if (encoding === 'JSON') {
    return { kind: 'json', spec: format === '' ? ISTIO_JSON_FORMAT : (JSON.parse(format) as JsonFormatSpec) };
  }
  return { kind: 'text', text: istioTextFormat(format) };
}

interface ActiveLog {
  readonly formatter: LineFormatter;
  readonly filter: ((i: StreamInfo) => boolean) | undefined;
  readonly writer: LineWriter;
}

export interface AccessLogsOptions {
  /** Stream for `/dev/stdout` (tests capture it); default process.stdout. */
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream;
  readonly log?: Logger;
  /** Called with the number of lines dropped (metrics). */
  readonly onDropped?: (n: number) => void;
}

/** The set of active access logs; replaced whole when Telemetry config changes. */
export class AccessLogs {
  readonly #opts: AccessLogsOptions;
  readonly #writers = new Map<string, LineWriter>();
  #active: readonly ActiveLog[] = [];
  #key = '';
  #warnedDrop = false;

  constructor(opts: AccessLogsOptions = {}) {
    this.#opts = opts;
  }

  /** Configure the logs (no-op when unchanged). Throws FormatError / CelError on a bad spec. */
  set(specs: readonly AccessLogSpec[]): void {
    const key = JSON.stringify(specs);
    if (key === this.#key) return;
    const active = specs.map((s): ActiveLog => ({
      formatter: s.format.kind === 'json'
        ? createJsonFormatter(s.format.spec, { omitEmptyValues: s.omitEmptyValues === true })
        : createTextFormatter(s.format.text, { omitEmptyValues: s.omitEmptyValues === true }),
      filter: s.filter ? compileFilter(s.filter) : undefined,
      writer: this.#writer(s.path),
    }));
    this.#active = active;
    this.#key = key;
    // Files no longer written to are flushed and closed (stdout/stderr writers cost nothing).
    const inUse = new Set(specs.map((x) => x.path));
    for (const [path, w] of this.#writers) {
      if (inUse.has(path) || path === '/dev/stdout' || path === '/dev/stderr') continue;
      this.#writers.delete(path);
      void w.close();
    }
  }

  get active(): number { return this.#active.length; }

  #writer(path: string): LineWriter {
    let w = this.#writers.get(path);
    if (w !== undefined) return w;
    const onDropped = (n: number): void => {
      this.#opts.onDropped?.(n);
      if (!this.#warnedDrop) {
        this.#warnedDrop = true;
        this.#opts.log?.warn(`OBS_ACCESS_LOG_DROPPED: Dropping access-log lines for "${path}": the output cannot keep up`, { code: 'OBS_ACCESS_LOG_DROPPED' });
      }
    };
    const onError = (e: Error): void => {
      this.#opts.log?.error(`OBS_ACCESS_LOG_OPEN_FAILED: Cannot write access log "${path}": ${(e as NodeJS.ErrnoException).code ?? e.message}`, { code: 'OBS_ACCESS_LOG_OPEN_FAILED' });
    };
    if (path === '/dev/stdout' || path === '/dev/stderr') {
      const injected = path === '/dev/stdout' ? this.#opts.stdout : this.#opts.stderr;
      const fd = path === '/dev/stdout' ? 1 : 2;
      if (injected) {
        w = new LineWriter(new StreamOutput(injected), PIPE_CHUNK, onDropped, onError);
      } else {
        // Regular files (stdout redirected to disk) go through the thread pool: a disk may be slow.
        const k = stdioKind(fd);
        const out = k.sync ? new SyncOutput(fd) : new FdOutput(Promise.resolve(fd), false);
        w = new LineWriter(out, k.shared ? PIPE_CHUNK : FILE_CHUNK, onDropped, onError);
      }
    } else {
      const fd = new Promise<number>((resolve, reject) => fs.open(path, 'a', (e, n) => (e ? reject(e) : resolve(n))));
      fd.catch(onError);
      w = new LineWriter(new FdOutput(fd, true), FILE_CHUNK, onDropped, onError);
    }
    this.#writers.set(path, w);
    return w;
  }

  /** Per finished stream (hot path). */
  onStream(info: StreamInfo): void {
    const a = this.#active;
    for (let k = 0; k < a.length; k++) {
      const l = a[k]!;
      if (l.filter !== undefined && !l.filter(info)) continue;
      if (l.formatter.write !== undefined) l.writer.pushWith(l.formatter, info);
      else l.writer.push(l.formatter.format(info));
    }
  }

  /** Lines dropped over all destinations. */
  get dropped(): number {
    let n = 0;
    for (const w of this.#writers.values()) n += w.dropped;
    return n;
  }

  async flush(): Promise<void> {
    await Promise.all([...this.#writers.values()].map((w) => w.flush()));
  }

  /** Flush and close owned files (shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.#writers.values()].map((w) => w.close()));
  }
}
