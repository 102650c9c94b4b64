/**
 * Decodes HTTP/1.1 chunked framing into data slices. Only used where the two sides differ
 * (HTTP/1.1 chunked ↔ HTTP/2 DATA frames); HTTP/1.1 ↔ HTTP/1.1 passes framing through raw
 * and validates it with ChunkedScanner instead.
 */
const SIZE = 0;
const EXT = 1;
const SIZE_LF = 2;
const DATA = 3;
const DATA_CR = 4;
const DATA_LF = 5;
const TRAILER = 6;
const DONE = 7;

export class ChunkDecoder {
  #state = SIZE;
  #size = 0;
  #digits = 0;
  #lineLen = 0;
  #trailerLineLen = 0;
  done = false;
  error = '';

  /** Data slices contained in `buf` (views, not copies). */
  decode(buf: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let i = 0;
    const n = buf.length;
    while (i < n && this.error === '') {
      const c = buf[i]!;
      switch (this.#state) {
        case SIZE: {
          const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (v >= 0) {
            if (++this.#digits > 15) { this.error = 'http1.invalid_chunk_size'; break; }
            this.#size = this.#size * 16 + v;
            i++;
          } else if (c === 59 /* ; */ && this.#digits > 0) { this.#state = EXT; i++; }
          else if (c === 13 && this.#digits > 0) { this.#state = SIZE_LF; i++; }
          else this.error = 'http1.invalid_chunk_size';
          break;
        }
        case EXT:
          if (c === 13) this.#state = SIZE_LF;
          else if (++this.#lineLen > 4096) this.error = 'http1.chunk_ext_too_long';
          i++;
          break;
        case SIZE_LF:
          if (c !== 10) { this.error = 'http1.chunk_missing_crlf'; break; }
          i++;
          this.#digits = 0;
          this.#lineLen = 0;
          if (this.#size === 0) { this.#state = TRAILER; this.#trailerLineLen = 0; }
          else this.#state = DATA;
          break;
        case DATA: {
          const take = Math.min(this.#size, n - i);
          out.push(buf.subarray(i, i + take));
          i += take;
          this.#size -= take;
          if (this.#size === 0) this.#state = DATA_CR;
          break;
        }
        case DATA_CR:
          if (c !== 13) { this.error = 'http1.chunk_missing_crlf'; break; }
          this.#state = DATA_LF; i++;
          break;
        case DATA_LF:
          if (c !== 10) { this.error = 'http1.chunk_missing_crlf'; break; }
          this.#state = SIZE; i++;
          break;
        case TRAILER:
          // Trailers are dropped here; an empty line ends the message.
          if (c === 10) {
            if (this.#trailerLineLen === 0) { this.#state = DONE; this.done = true; }
            this.#trailerLineLen = 0;
          } else if (c !== 13) this.#trailerLineLen++;
          i++;
          break;
        default:
          i = n;
      }
    }
    return out;
  }
}
