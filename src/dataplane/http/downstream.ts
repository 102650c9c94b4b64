/**
 * What the proxy core needs from a downstream stream, whatever the wire protocol
 * (HTTP/1.1 connection or HTTP/2 stream). Implemented by h1-server.ts and h2-server.ts.
 */
import type { StreamInfo } from '../../observability/stream-info.js';

/**
 * Buffers handed to sendHead/sendData/upgrade are valid only during the call: they may be a
 * view of the process-wide read buffer (io/shared-read.ts). An implementation copies
 * (`keep()`) whatever it does not consume before returning, including bytes passed to a
 * socket or stream write, which may keep them queued.
 */
export interface Downstream {
  /** `HTTP/1.1`, `HTTP/1.0` or `HTTP/2`. */
  readonly protocol: string;
  /**
   * Send the response head (names lower-case) and the first body bytes. `contentLength` is
   * -1 when unknown; `rawChunked` = the body bytes that follow are HTTP/1.1 chunked framing
   * exactly as the upstream sent them (an HTTP/1.1 downstream passes them through, HTTP/2
   * decodes them). `complete` = the response ends with these bytes.
   */
  sendHead(status: number, lnames: readonly string[], values: readonly string[], contentLength: number,
    rawChunked: boolean, body: Buffer, complete: boolean, info: StreamInfo): void;
  /** More body bytes (same framing as announced). false = downstream is pushing back. */
  sendData(chunk: Buffer, info: StreamInfo): boolean;
  sendEnd(info: StreamInfo): void;
  /** Upstream trailers (names lower-case), sent with the end of the response where the protocol can (HTTP/2). */
  sendTrailers?(lnames: readonly string[], values: readonly string[]): void;
  /** A complete local reply (no upstream involved). */
  sendLocal(status: number, lnames: readonly string[], values: readonly string[], body: Buffer, info: StreamInfo): void;
  /** Flow control of the request body. */
  pauseRequest(): void;
  resumeRequest(): void;
  /** Reset the stream / close the connection (response truncated). */
  abort(): void;
  /**
   * The upstream switched protocols (101): send the head, then relay raw bytes both ways
   * until either side closes; `done` runs once when the tunnel is over. Optional: front ends
   * that cannot tunnel (HTTP/2) leave it out and the exchange answers 502.
   */
  upgrade?(status: number, lnames: readonly string[], values: readonly string[], upstream: import('node:net').Socket,
    rest: Buffer, info: StreamInfo, done: () => void): void;
  /** Called once when the exchange is over (log written); the downstream may start the next. */
  exchangeDone(): void;
}
