/**
 * Streaming validator for the chunked transfer coding (RFC 9112 §7.1). It tracks framing
 * without copying or decoding data, so the proxy forwards the raw bytes as they are and still
 * knows exactly where the message ends. State survives arbitrary splits of the input.
 */

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;
const SEMI = 59;
const COLON = 58;

const S_SIZE = 0; // first hex digit of chunk-size expected
const S_SIZE_MORE = 1; // inside chunk-size
const S_SIZE_WS = 2; // BWS after chunk-size: only SP/HT or ';' may follow
const S_EXT = 3; // inside chunk-ext, until CR
const S_SIZE_LF = 4; // CR of the chunk-size line seen
const S_DATA = 5;
const S_DATA_CR = 6; // CR after chunk-data expected
const S_DATA_LF = 7;
const S_TRAILER = 8; // start of a trailer line, or of the final empty line
const S_TRAILER_NAME = 9;
const S_TRAILER_VALUE = 10;
const S_TRAILER_LF = 11; // CR of a trailer line seen
const S_END_LF = 12; // CR of the final empty line seen
const S_DONE = 13;
const S_ERROR = 14;

/** 16 hex digits at most (leading zeros included), and a size that fits a JS integer. */
const MAX_SIZE_DIGITS = 16;

/** Hex value of a byte, or -1. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) { HEX[0x41 + c] = 10 + c; HEX[0x61 + c] = 10 + c; }

/** tchar (RFC 9110 §5.6.2). */
const TOKEN = new Uint8Array(256);
for (const ch of "!#$%&'*+-.^_`|~") TOKEN[ch.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;

/** Bytes allowed in chunk-ext and trailer values: HT, SP, VCHAR, obs-text. */
const TEXT = new Uint8Array(256);
for (let c = 0; c < 256; c++) TEXT[c] = c === HT || (c >= 0x20 && c !== 0x7f) ? 1 : 0;

/** Limits for one chunked body. */
export interface ChunkedLimits {
  /** Bytes of one chunk-ext, from the first byte after the size to the CR (default 4 KiB). */
  readonly maxExtBytes: number;
  /** Bytes of the trailer section including its final CRLF (default 60 KiB, like headers). */
  readonly maxTrailerBytes: number;
}

/** Defaults: 4 KiB per chunk-ext, 60 KiB of trailers (Envoy applies its header limit to trailers). */
export const DEFAULT_CHUNKED_LIMITS: ChunkedLimits = Object.freeze({ maxExtBytes: 4096, maxTrailerBytes: 60 * 1024 });

/**
 * Tracks chunked framing of one message at a time. Call reset() before each message, then
 * scan() every piece of body bytes in order. One instance per connection direction.
 */
export class ChunkedScanner {
  readonly #maxExt: number;
  readonly #maxTrailer: number;
  #state = S_SIZE;
  #remaining = 0; // data bytes left in the current chunk (S_DATA), or the size being read
  #digits = 0;
  #extBytes = 0;
  #trailerBytes = 0;
  #error = '';

  constructor(limits: ChunkedLimits = DEFAULT_CHUNKED_LIMITS) {
    this.#maxExt = limits.maxExtBytes;
    this.#maxTrailer = limits.maxTrailerBytes;
  }

  /** True once the last chunk, the trailers and the final CRLF have been consumed. */
  get done(): boolean { return this.#state === S_DONE; }

  /** `http1.*` detail of a framing error, '' while the framing is valid. */
  get error(): string { return this.#error; }

  /** Prepares for a new message. */
  reset(): void {
    this.#state = S_SIZE;
    this.#remaining = 0;
    this.#digits = 0;
    this.#extBytes = 0;
    this.#trailerBytes = 0;
    this.#error = '';
  }

  /**
   * Consumes buf[start, end) and returns how many of those bytes belong to this message
   * (fewer than end - start only when the message ended inside the range, or on error). After
   * the call `done` or `error` may be set; once either is, further calls return 0.
   * On error the return value is the number of bytes before the offending one.
   */
  scan(buf: Buffer, start: number, end: number): number {
    let state = this.#state;
    if (state === S_DONE || state === S_ERROR) return 0;
    let i = start;
    while (i < end) {
      if (state === S_DATA) {
        // Bulk skip: data is never looked at.
        const avail = end - i;
        const rem = this.#remaining;
        if (avail < rem) { this.#remaining = rem - avail; i = end; break; }
        i += rem;
        this.#remaining = 0;
        state = S_DATA_CR;
        continue;
      }
      const c = buf[i]!;
      switch (state) {
        case S_SIZE: {
          const h = HEX[c]!;
          if (h < 0) return this.#fail(i - start, c === LF ? 'http1.bare_lf' : 'http1.invalid_chunk_size');
          this.#remaining = h;
          this.#digits = 1;
          state = S_SIZE_MORE;
          break;
        }
        case S_SIZE_MORE: {
          const h = HEX[c]!;
          if (h >= 0) {
            const n = this.#remaining * 16 + h;
            if (++this.#digits > MAX_SIZE_DIGITS || n > Number.MAX_SAFE_INTEGER) {
              return this.#fail(i - start, 'http1.invalid_chunk_size');
            }
            this.#remaining = n;
          } else if (c === CR) {
            state = S_SIZE_LF;
          } else if (c === SEMI) {
            this.#extBytes = 1;
            state = S_EXT;
          } else if (c === SP || c === HT) {
            // RFC 9112 §7.1.1: BWS is allowed before ';' only (chunk-ext = *( BWS ";" ... )).
            this.#extBytes = 1;
            state = S_SIZE_WS;
          } else {
            return this.#fail(i - start, c === LF ? 'http1.bare_lf' : 'http1.invalid_chunk_size');
          }
          break;
        }
        case S_SIZE_WS:
          if (++this.#extBytes > this.#maxExt) return this.#fail(i - start, 'http1.chunk_ext_too_long');
          if (c === SEMI) state = S_EXT;
          else if (c !== SP && c !== HT) return this.#fail(i - start, c === LF ? 'http1.bare_lf' : 'http1.invalid_chunk_size');
          break;
        case S_EXT:
          // chunk-ext content is forwarded untouched; it only has to be printable and bounded.
          if (c === CR) { state = S_SIZE_LF; break; }
          if (++this.#extBytes > this.#maxExt) return this.#fail(i - start, 'http1.chunk_ext_too_long');
          if (TEXT[c] !== 1) return this.#fail(i - start, c === LF ? 'http1.bare_lf' : 'http1.invalid_chunk_extension');
          break;
        case S_SIZE_LF:
          if (c !== LF) return this.#fail(i - start, 'http1.chunk_missing_crlf');
          if (this.#remaining === 0) {
            this.#trailerBytes = 0;
            state = S_TRAILER; // last-chunk: trailer section follows
          } else {
            state = S_DATA;
          }
          break;
        case S_DATA_CR:
          // RFC 9112 §7.1: chunk-data is followed by exactly CRLF.
          if (c !== CR) return this.#fail(i - start, 'http1.chunk_missing_crlf');
          state = S_DATA_LF;
          break;
        case S_DATA_LF:
          if (c !== LF) return this.#fail(i - start, 'http1.chunk_missing_crlf');
          state = S_SIZE;
          break;
        case S_TRAILER:
          if (++this.#trailerBytes > this.#maxTrailer) return this.#fail(i - start, 'http1.trailers_too_large');
          if (c === CR) state = S_END_LF;
          else if (TOKEN[c] === 1) state = S_TRAILER_NAME;
          // A line starting with SP/HT would be obs-fold (RFC 9112 §5.2), anything else is junk.
          else return this.#fail(i - start, c === LF ? 'http1.bare_lf' : 'http1.invalid_trailer');
          break;
        case S_TRAILER_NAME:
          if (++this.#trailerBytes > this.#maxTrailer) return this.#fail(i - start, 'http1.trailers_too_large');
          if (c === COLON) state = S_TRAILER_VALUE;
          else if (TOKEN[c] !== 1) return this.#fail(i - start, c === LF ? 'http1.bare_lf' : 'http1.invalid_trailer');
          break;
        case S_TRAILER_VALUE:
          if (++this.#trailerBytes > this.#maxTrailer) return this.#fail(i - start, 'http1.trailers_too_large');
          if (c === CR) state = S_TRAILER_LF;
          else if (TEXT[c] !== 1) return this.#fail(i - start, c === LF ? 'http1.bare_lf' : 'http1.invalid_trailer');
          break;
        case S_TRAILER_LF:
          if (++this.#trailerBytes > this.#maxTrailer) return this.#fail(i - start, 'http1.trailers_too_large');
          if (c !== LF) return this.#fail(i - start, 'http1.invalid_trailer');
          state = S_TRAILER;
          break;
        case S_END_LF:
          if (c !== LF) return this.#fail(i - start, 'http1.chunk_missing_crlf');
          this.#state = S_DONE;
          return i + 1 - start;
      }
      i++;
    }
    this.#state = state;
    return i - start;
  }

  #fail(consumed: number, detail: string): number {
    this.#state = S_ERROR;
    this.#error = detail;
    return consumed;
  }
}

/** The chunk-size line for a chunk of `len` bytes (`len` > 0; 0 starts the last chunk). */
export function chunkHeader(len: number): string {
  return `${len.toString(16)}\r\n`;
}

/** Last chunk with no trailers: ends a chunked body. */
export const LAST_CHUNK = '0\r\n\r\n';
