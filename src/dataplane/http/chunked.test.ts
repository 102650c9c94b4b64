import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkHeader, ChunkedScanner, LAST_CHUNK } from './chunked.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Scans `raw` in one call; returns consumed, done, error. */
function scanAll(raw: string, scanner = new ChunkedScanner()): { used: number; done: boolean; error: string } {
  const buf = bytes(raw);
  const used = scanner.scan(buf, 0, buf.length);
  return { used, done: scanner.done, error: scanner.error };
}

/** Feeds `raw` in pieces cut at `cuts`; returns the total consumed and the final state. */
function scanPieces(raw: string, cuts: number[]): { used: number; done: boolean; error: string } {
  const buf = bytes(raw);
  const s = new ChunkedScanner();
  let used = 0;
  let at = 0;
  for (const cut of [...cuts, buf.length]) {
    if (s.done || s.error) break;
    const n = s.scan(buf, at, cut);
    assert.ok(n <= cut - at);
    used += n;
    if (n < cut - at) break; // message ended (or failed) inside this piece
    at = cut;
  }
  return { used, done: s.done, error: s.error };
}

const BODY = '5\r\nhello\r\n1a;name=value;flag\r\nabcdefghijklmnopqrstuvwxyz\r\n000\r\nX-Checksum: abc\r\nX-B:\r\n\r\n';

describe('ChunkedScanner', () => {
  it('consumes a whole body and stops at its end', () => {
    const next = 'GET /next HTTP/1.1\r\n';
    const r = scanAll(BODY + next);
    assert.deepEqual(r, { used: BODY.length, done: true, error: '' });
  });

  it('handles the smallest body and uppercase hex', () => {
    assert.deepEqual(scanAll('0\r\n\r\n'), { used: 5, done: true, error: '' });
    assert.deepEqual(scanAll('A\r\n0123456789\r\n0\r\n\r\n'), { used: 20, done: true, error: '' });
    assert.deepEqual(scanAll('0000000000000005\r\nhello\r\n0\r\n\r\n').done, true);
  });

  it('gives the same result at every split point', () => {
    const whole = scanAll(`${BODY}XYZ`);
    const raw = `${BODY}XYZ`;
    for (let k = 0; k <= raw.length; k++) {
      assert.deepEqual(scanPieces(raw, [k]), whole, `split at ${k}`);
    }
  });

  it('gives the same result with one-byte feeds', () => {
    const raw = `${BODY}XYZ`;
    const cuts = Array.from({ length: raw.length }, (_, i) => i + 1);
    assert.deepEqual(scanPieces(raw, cuts), { used: BODY.length, done: true, error: '' });
  });

  it('reports not done while the body is incomplete', () => {
    const s = new ChunkedScanner();
    const buf = bytes('5\r\nhel');
    assert.equal(s.scan(buf, 0, buf.length), buf.length);
    assert.equal(s.done, false);
    assert.equal(s.error, '');
    assert.equal(s.scan(bytes(''), 0, 0), 0);
  });

  it('returns 0 after done and can be reset for the next message', () => {
    const s = new ChunkedScanner();
    const buf = bytes('0\r\n\r\n');
    assert.equal(s.scan(buf, 0, buf.length), 5);
    assert.equal(s.scan(buf, 0, buf.length), 0);
    s.reset();
    assert.equal(s.done, false);
    assert.equal(s.scan(buf, 0, buf.length), 5);
    assert.equal(s.done, true);
  });

  it('honours start and end', () => {
    const buf = bytes(`xx3\r\nabc\r\n0\r\n\r\nyy`);
    const s = new ChunkedScanner();
    assert.equal(s.scan(buf, 2, buf.length - 2), buf.length - 4);
    assert.equal(s.done, true);
  });

  it('rejects malformed chunk sizes', () => {
    for (const bad of ['0x5\r\n', '+5\r\n', '-5\r\n', ' 5\r\n', 'g\r\n', '\r\n', '5 \r\n', '5 x\r\n', '5x\r\n',
      '00000000000000005\r\n', '20000000000000\r\n', 'ffffffffffffffff\r\n']) {
      const r = scanAll(bad);
      assert.equal(r.error, 'http1.invalid_chunk_size', JSON.stringify(bad));
      assert.equal(r.done, false);
    }
    assert.equal(scanAll('1fffffffffffff\r\n').error, ''); // 2^53 - 1 is the largest accepted
  });

  it('returns the offset of the offending byte on error', () => {
    assert.equal(scanAll('5\r\nhelloX').used, 8);
    assert.equal(scanAll('zz').used, 0);
  });

  it('accepts bounded chunk extensions, BWS before ;', () => {
    assert.equal(scanAll('5 ;a=b\r\nhello\r\n0;last\r\n\r\n').done, true);
    assert.equal(scanAll('5\t; a="q s"\r\nhello\r\n0\r\n\r\n').done, true);
    const long = `5;${'x'.repeat(5000)}\r\nhello\r\n0\r\n\r\n`;
    assert.equal(scanAll(long).error, 'http1.chunk_ext_too_long');
    assert.equal(scanAll(`5${' '.repeat(5000)};\r\n`).error, 'http1.chunk_ext_too_long');
    assert.equal(scanAll('5;a\x00\r\nhello\r\n0\r\n\r\n').error, 'http1.invalid_chunk_extension');
    const custom = new ChunkedScanner({ maxExtBytes: 4, maxTrailerBytes: 100 });
    assert.equal(scanAll('5;abcd\r\n', custom).error, 'http1.chunk_ext_too_long');
  });

  it('checks the CRLF after every chunk', () => {
    assert.equal(scanAll('5\r\nhelloX\r\n0\r\n\r\n').error, 'http1.chunk_missing_crlf');
    assert.equal(scanAll('5\r\nhello\rX0\r\n\r\n').error, 'http1.chunk_missing_crlf');
    assert.equal(scanAll('5\r\nhello\n0\r\n\r\n').error, 'http1.chunk_missing_crlf');
    assert.equal(scanAll('5\r\nhello0\r\n\r\n').error, 'http1.chunk_missing_crlf');
    assert.equal(scanAll('5\rXhello').error, 'http1.chunk_missing_crlf');
    assert.equal(scanAll('0\r\n\rX').error, 'http1.chunk_missing_crlf');
  });

  it('rejects bare LF line endings', () => {
    assert.equal(scanAll('5\nhello\r\n').error, 'http1.bare_lf');
    assert.equal(scanAll('5;x\nhello\r\n').error, 'http1.bare_lf');
    assert.equal(scanAll('0\r\n\n').error, 'http1.bare_lf');
    assert.equal(scanAll('0\r\nX: y\n\r\n').error, 'http1.bare_lf');
  });

  it('validates and bounds trailers', () => {
    assert.equal(scanAll('0\r\nbad name: x\r\n\r\n').error, 'http1.invalid_trailer');
    assert.equal(scanAll('0\r\n folded: x\r\n\r\n').error, 'http1.invalid_trailer');
    assert.equal(scanAll('0\r\nX: a\x00\r\n\r\n').error, 'http1.invalid_trailer');
    assert.equal(scanAll('0\r\nX: a\rb\r\n\r\n').error, 'http1.invalid_trailer');
    assert.equal(scanAll(`0\r\nX: ${'a'.repeat(61 * 1024)}\r\n\r\n`).error, 'http1.trailers_too_large');
    const small = new ChunkedScanner({ maxExtBytes: 16, maxTrailerBytes: 10 });
    assert.equal(scanAll('0\r\nX-Long: abc\r\n\r\n', small).error, 'http1.trailers_too_large');
    assert.equal(scanAll('0\r\nX: 1\r\nY: 2\r\n\r\n').done, true);
  });

  it('skips large data without looking at it', () => {
    const data = Buffer.alloc(1 << 20, 0x0a); // LF bytes inside data are just data
    const s = new ChunkedScanner();
    const head = bytes(`${(1 << 20).toString(16)}\r\n`);
    assert.equal(s.scan(head, 0, head.length), head.length);
    assert.equal(s.scan(data, 0, data.length), data.length);
    const tail = bytes('\r\n0\r\n\r\n');
    assert.equal(s.scan(tail, 0, tail.length), tail.length);
    assert.equal(s.done, true);
  });
});

describe('chunk helpers', () => {
  it('chunkHeader and LAST_CHUNK', () => {
    assert.equal(chunkHeader(255), 'ff\r\n');
    assert.equal(chunkHeader(1), '1\r\n');
    assert.equal(LAST_CHUNK, '0\r\n\r\n');
    const s = new ChunkedScanner();
    const buf = bytes(`${chunkHeader(3)}abc\r\n${LAST_CHUNK}`);
    assert.equal(s.scan(buf, 0, buf.length), buf.length);
    assert.equal(s.done, true);
  });
});

describe('ChunkedScanner: fuzz', () => {
  function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function randomBody(rand: () => number): string {
    let out = '';
    const chunks = Math.floor(rand() * 4);
    for (let c = 0; c < chunks; c++) {
      const len = 1 + Math.floor(rand() * 40);
      const hex = len.toString(16);
      out += `${rand() < 0.5 ? hex : hex.toUpperCase()}${rand() < 0.3 ? ';e=1' : ''}\r\n${'\r\n0x;'.repeat(10).slice(0, len).padEnd(len, 'z')}\r\n`;
    }
    out += rand() < 0.5 ? '0\r\n' : '00;last\r\n';
    if (rand() < 0.4) out += 'X-T: v\r\n';
    return `${out}\r\n`;
  }

  function randomCuts(rand: () => number, len: number): number[] {
    const cuts: number[] = [];
    for (let at = 0; at < len;) {
      at += 1 + Math.floor(rand() * 6);
      if (at < len) cuts.push(at);
    }
    return cuts;
  }

  it('valid bodies are accepted whole and in random pieces', () => {
    const rand = prng(7);
    for (let i = 0; i < 500; i++) {
      const body = randomBody(rand);
      const raw = `${body}NEXT`;
      assert.deepEqual(scanAll(raw), { used: body.length, done: true, error: '' }, JSON.stringify(raw));
      assert.deepEqual(scanPieces(raw, randomCuts(rand, raw.length)), { used: body.length, done: true, error: '' });
    }
  });

  it('mutated bodies give the same verdict whole and in pieces', () => {
    const rand = prng(11);
    const alphabet = ['\r', '\n', ';', ' ', '0', 'f', 'x', '\x00', ':', '\r\n'];
    for (let i = 0; i < 1500; i++) {
      let raw = randomBody(rand);
      const at = Math.floor(rand() * raw.length);
      const piece = alphabet[Math.floor(rand() * alphabet.length)]!;
      raw = rand() < 0.5 ? raw.slice(0, at) + piece + raw.slice(at) : raw.slice(0, at) + raw.slice(at + 1);
      const whole = scanAll(raw);
      assert.ok(whole.used <= raw.length);
      assert.ok(!(whole.done && whole.error !== ''));
      assert.deepEqual(scanPieces(raw, randomCuts(rand, raw.length)), whole, JSON.stringify(raw));
    }
  });
});
