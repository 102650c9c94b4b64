import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createRequestHead, createResponseHead, DEFAULT_LIMITS, ERR_BARE_LF, ERR_CL_AND_TE, ERR_DUPLICATE_CONTENT_LENGTH,
  ERR_HEADERS_TOO_LARGE, ERR_INVALID_CONTENT_LENGTH, ERR_INVALID_HEADER_NAME, ERR_INVALID_HEADER_VALUE,
  ERR_INVALID_METHOD, ERR_INVALID_STATUS, ERR_INVALID_URL, ERR_INVALID_VERSION, ERR_MISSING_HOST, ERR_MULTIPLE_HOST,
  ERR_OBS_FOLD, ERR_TE_NOT_CHUNKED, ERR_TOO_MANY_HEADERS, ERROR_DETAILS, errorStatus, parseRequestHead,
  parseResponseHead, ParseStatus, type HeadLimits, type RequestHead, type ResponseHead,
} from './parser.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

function req(raw: string, limits: HeadLimits = DEFAULT_LIMITS): { n: number; h: RequestHead } {
  const h = createRequestHead();
  const buf = bytes(raw);
  return { n: parseRequestHead(buf, 0, buf.length, h, limits), h };
}

function res(raw: string, limits: HeadLimits = DEFAULT_LIMITS): { n: number; h: ResponseHead } {
  const h = createResponseHead();
  const buf = bytes(raw);
  return { n: parseResponseHead(buf, 0, buf.length, h, limits), h };
}

/** Asserts that a request head is rejected with `code` and its detail string. */
function rejects(raw: string, code: number, limits: HeadLimits = DEFAULT_LIMITS): void {
  const { n, h } = req(raw, limits);
  assert.equal(n, code, `${JSON.stringify(raw)}: expected ${ERROR_DETAILS[code]}, got ${n} ${h.error}`);
  assert.equal(h.error, ERROR_DETAILS[code]);
  assert.deepEqual(h.names, []);
}

const GET = 'GET / HTTP/1.1\r\nHost: a.example\r\n\r\n';

describe('parseRequestHead: accepted requests', () => {
  it('parses a typical request', () => {
    const raw = 'GET /api/x?y=1 HTTP/1.1\r\nHost: a.example:8080\r\nUser-Agent: curl/8.5\r\nx-lower: v\r\n' +
      'Accept:  */* \t\r\nEmpty:\r\n\r\n';
    const { n, h } = req(`${raw}BODY`);
    assert.equal(n, raw.length);
    assert.equal(h.method, 'GET');
    assert.equal(h.target, '/api/x?y=1');
    assert.equal(h.versionMinor, 1);
    assert.deepEqual(h.names, ['Host', 'User-Agent', 'x-lower', 'Accept', 'Empty']);
    assert.deepEqual(h.lnames, ['host', 'user-agent', 'x-lower', 'accept', 'empty']);
    assert.deepEqual(h.values, ['a.example:8080', 'curl/8.5', 'v', '*/*', '']);
    assert.equal(h.host, 'a.example:8080');
    assert.equal(h.contentLength, -1);
    assert.equal(h.chunked, false);
    assert.equal(h.keepAlive, true);
    assert.equal(h.upgrade, false);
    assert.equal(h.expectContinue, false);
    assert.deepEqual(h.connectionTokens, []);
    assert.equal(h.error, '');
  });

  it('keeps a method as sent (case-sensitive token)', () => {
    const { n, h } = req('get / HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.ok(n > 0);
    assert.equal(h.method, 'get');
    assert.equal(req('M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n').n, ERR_INVALID_URL); // * is OPTIONS-only
    assert.equal(req('PROPFIND /d HTTP/1.1\r\nHost: a\r\n\r\n').h.method, 'PROPFIND');
  });

  it('skips empty lines before the request line and counts them (RFC 9112 §2.2)', () => {
    const raw = `\r\n\r\n${GET}`;
    const { n, h } = req(raw);
    assert.equal(n, raw.length);
    assert.equal(h.target, '/');
  });

  it('accepts HTTP/1.0 without Host; keep-alive only when asked', () => {
    let r = req('GET / HTTP/1.0\r\n\r\n');
    assert.ok(r.n > 0);
    assert.equal(r.h.versionMinor, 0);
    assert.equal(r.h.host, undefined);
    assert.equal(r.h.keepAlive, false);
    r = req('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n');
    assert.equal(r.h.keepAlive, true);
    r = req('GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n');
    assert.equal(r.h.keepAlive, false);
  });

  it('reads Connection: close, upgrade and other tokens', () => {
    let r = req('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.equal(r.h.keepAlive, false);
    r = req('GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, X-Secret ,, TE\r\nConnection: x-other\r\n\r\n');
    assert.equal(r.h.keepAlive, true);
    assert.deepEqual(r.h.connectionTokens, ['x-secret', 'te', 'x-other']);
    r = req('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    assert.equal(r.h.upgrade, true);
    assert.deepEqual(r.h.connectionTokens, []);
    assert.equal(req('GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n').h.upgrade, false);
    assert.equal(req('GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n').h.upgrade, false);
  });

  it('reuses the output object and its arrays', () => {
    const h = createRequestHead();
    const names = h.names;
    const tokens = h.connectionTokens;
    let b = bytes('GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nConnection: x\r\n\r\n');
    assert.ok(parseRequestHead(b, 0, b.length, h, DEFAULT_LIMITS) > 0);
    assert.equal(h.names.length, 4);
    b = bytes('POST /p HTTP/1.1\r\nHost: b\r\nContent-Length: 3\r\n\r\n');
    assert.ok(parseRequestHead(b, 0, b.length, h, DEFAULT_LIMITS) > 0);
    assert.equal(h.names, names);
    assert.equal(h.connectionTokens, tokens);
    assert.deepEqual(h.names, ['Host', 'Content-Length']);
    assert.deepEqual(h.lnames, ['host', 'content-length']);
    assert.deepEqual(h.values, ['b', '3']);
    assert.deepEqual(h.connectionTokens, []);
    assert.equal(h.contentLength, 3);
    assert.equal(h.host, 'b');
  });

  it('detects Expect: 100-continue case-insensitively', () => {
    assert.equal(req('PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n').h.expectContinue, true);
    assert.equal(req('PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue-x\r\n\r\n').h.expectContinue, false);
  });

  it('accepts Content-Length with OWS, identical duplicates and the largest safe integer', () => {
    assert.equal(req('POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  5 \r\n\r\n').h.contentLength, 5);
    assert.equal(req('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5 ,5\r\n\r\n').h.contentLength, 5);
    assert.equal(req('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n').h.contentLength, 5);
    assert.equal(req('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n').h.contentLength, 0);
    assert.equal(req('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n').h.contentLength, 7);
    assert.equal(req('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9007199254740991\r\n\r\n').h.contentLength, 2 ** 53 - 1);
  });

  it('accepts Transfer-Encoding: chunked in any case, with OWS or a tab', () => {
    for (const v of ['chunked', 'Chunked', 'CHUNKED', '\tchunked', ' chunked \t']) {
      const { n, h } = req(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:${v}\r\n\r\n`);
      assert.ok(n > 0, v);
      assert.equal(h.chunked, true);
      assert.equal(h.contentLength, -1);
    }
    assert.equal(req('POST / HTTP/1.1\r\nHost: a\r\nTransfer-encoding:\tchunked\r\n\r\n').h.chunked, true);
  });

  it('accepts absolute-form, OPTIONS * and CONNECT authority-form', () => {
    assert.equal(req('GET http://b.example/x?y HTTP/1.1\r\nHost: a\r\n\r\n').h.target, 'http://b.example/x?y');
    assert.ok(req('GET HTTPS://b.example:8443 HTTP/1.1\r\nHost: a\r\n\r\n').n > 0);
    assert.ok(req('GET http://b.example?q HTTP/1.1\r\nHost: a\r\n\r\n').n > 0);
    assert.equal(req('OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n').h.target, '*');
    const c = req('CONNECT db.example:5432 HTTP/1.1\r\nHost: db.example:5432\r\n\r\n');
    assert.ok(c.n > 0);
    assert.equal(c.h.target, 'db.example:5432');
    assert.ok(req('CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n').n > 0);
  });

  it('keeps obs-text in values and targets', () => {
    const { n, h } = req('GET /caf\xe9 HTTP/1.1\r\nHost: a\r\nX-Name: Ren\xe9e\r\n\r\n');
    assert.ok(n > 0);
    assert.equal(h.target, '/caf\xe9');
    assert.equal(h.values[1], 'Ren\xe9e');
  });

  it('accepts names that are odd but valid tokens', () => {
    const { h } = req("GET / HTTP/1.1\r\nHost: a\r\nX_Under!#$%&'*+.^`|~: 1\r\n\r\n");
    assert.equal(h.names[1], "X_Under!#$%&'*+.^`|~");
    assert.equal(h.lnames[1], "x_under!#$%&'*+.^`|~");
  });

  it('parses pipelined requests one after the other', () => {
    const a = 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n';
    const b = 'POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n';
    const c = 'GET /3 HTTP/1.1\r\nHost: a\r\n\r\n';
    const buf = bytes(`${a}${b}hi${c}`);
    const h = createRequestHead();
    let at = 0;
    let n = parseRequestHead(buf, at, buf.length, h, DEFAULT_LIMITS);
    assert.equal(n, a.length);
    assert.equal(h.target, '/1');
    at += n;
    n = parseRequestHead(buf, at, buf.length, h, DEFAULT_LIMITS);
    assert.equal(n, b.length);
    assert.equal(h.target, '/2');
    at += n + h.contentLength;
    n = parseRequestHead(buf, at, buf.length, h, DEFAULT_LIMITS);
    assert.equal(n, c.length);
    assert.equal(h.target, '/3');
    assert.equal(at + n, buf.length);
  });

  it('honours start/end and ignores bytes outside them', () => {
    const buf = bytes(`xxxx${GET}\r\n\r\n`);
    const h = createRequestHead();
    assert.equal(parseRequestHead(buf, 4, 4 + GET.length, h, DEFAULT_LIMITS), GET.length);
    assert.equal(parseRequestHead(buf, 4, 4 + GET.length - 1, h, DEFAULT_LIMITS), ParseStatus.Incomplete);
  });

  it('accepts a head of exactly maxHeadBytes', () => {
    const limits = { maxHeadBytes: GET.length, maxHeaders: 100 };
    assert.equal(req(GET, limits).n, GET.length);
    assert.equal(req(GET, { maxHeadBytes: GET.length - 1, maxHeaders: 100 }).n, ERR_HEADERS_TOO_LARGE);
  });
});

describe('parseRequestHead: smuggling corpus', () => {
  const post = (headers: string): string => `POST / HTTP/1.1\r\nHost: a\r\n${headers}\r\n`;

  it('CL.TE and TE.CL: both framing headers → 400', () => {
    rejects(post('Content-Length: 6\r\nTransfer-Encoding: chunked\r\n'), ERR_CL_AND_TE);
    rejects(post('Transfer-Encoding: chunked\r\nContent-Length: 6\r\n'), ERR_CL_AND_TE);
    rejects(post('Transfer-Encoding: chunked\r\nContent-Length: 0\r\n'), ERR_CL_AND_TE);
  });

  it('TE.TE obfuscations', () => {
    rejects(post('Transfer-Encoding: xchunked\r\n'), ERR_TE_NOT_CHUNKED);
    rejects(post('Transfer-Encoding: chunkedx\r\n'), ERR_TE_NOT_CHUNKED);
    rejects(post('Transfer-Encoding: chunked, identity\r\n'), ERR_TE_NOT_CHUNKED);
    rejects(post('Transfer-Encoding: identity\r\n'), ERR_TE_NOT_CHUNKED);
    rejects(post('Transfer-Encoding: gzip, chunked\r\n'), ERR_TE_NOT_CHUNKED);
    rejects(post('Transfer-Encoding: chunked, chunked\r\n'), ERR_TE_NOT_CHUNKED);
    rejects(post('Transfer-Encoding: chunked;x=1\r\n'), ERR_TE_NOT_CHUNKED);
    rejects(post('Transfer-Encoding: "chunked"\r\n'), ERR_TE_NOT_CHUNKED);
    rejects(post('Transfer-Encoding:\r\n'), ERR_TE_NOT_CHUNKED);
    rejects(post('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n'), ERR_TE_NOT_CHUNKED);
    rejects(post('Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n'), ERR_TE_NOT_CHUNKED);
    rejects(post('Transfer-Encoding : chunked\r\n'), ERR_INVALID_HEADER_NAME);
    rejects(post('Transfer-Encoding\t: chunked\r\n'), ERR_INVALID_HEADER_NAME);
    rejects(post(' Transfer-Encoding: chunked\r\n'), ERR_OBS_FOLD);
    rejects(post('\tTransfer-Encoding: chunked\r\n'), ERR_OBS_FOLD);
    rejects(post('X: y\r\n Transfer-Encoding: chunked\r\n'), ERR_OBS_FOLD);
    rejects(post('Transfer-Encoding:\r\n chunked\r\n'), ERR_OBS_FOLD);
    rejects(post('Transfer-Encoding: chunked\x0b\r\n'), ERR_INVALID_HEADER_VALUE);
    rejects(post('Transfer-Encoding: \x00chunked\r\n'), ERR_INVALID_HEADER_VALUE);
    rejects('POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', ERR_TE_NOT_CHUNKED);
  });

  it('a look-alike name is just another field', () => {
    const { n, h } = req(post('Transfer_Encoding: chunked\r\nContent-Length: 1\r\n'));
    assert.ok(n > 0);
    assert.equal(h.chunked, false);
    assert.equal(h.contentLength, 1);
  });

  it('Content-Length must be digits, bounded, and consistent', () => {
    rejects(post('Content-Length: +5\r\n'), ERR_INVALID_CONTENT_LENGTH);
    rejects(post('Content-Length: -5\r\n'), ERR_INVALID_CONTENT_LENGTH);
    rejects(post('Content-Length: 0x5\r\n'), ERR_INVALID_CONTENT_LENGTH);
    rejects(post('Content-Length: 5 5\r\n'), ERR_INVALID_CONTENT_LENGTH);
    rejects(post('Content-Length: 5.0\r\n'), ERR_INVALID_CONTENT_LENGTH);
    rejects(post('Content-Length: 5,\r\n'), ERR_INVALID_CONTENT_LENGTH);
    rejects(post('Content-Length: ,5\r\n'), ERR_INVALID_CONTENT_LENGTH);
    rejects(post('Content-Length:\r\n'), ERR_INVALID_CONTENT_LENGTH);
    rejects(post('Content-Length: 9007199254740992\r\n'), ERR_INVALID_CONTENT_LENGTH);
    rejects(post('Content-Length: 99999999999999999999999\r\n'), ERR_INVALID_CONTENT_LENGTH);
    rejects(post('Content-Length: 5, 6\r\n'), ERR_DUPLICATE_CONTENT_LENGTH);
    rejects(post('Content-Length: 5\r\nContent-Length: 6\r\n'), ERR_DUPLICATE_CONTENT_LENGTH);
    rejects(post('Content-Length: 5\r\nContent-Length: 5, 6\r\n'), ERR_DUPLICATE_CONTENT_LENGTH);
  });

  it('bare LF anywhere in the head → 400 http1.bare_lf', () => {
    rejects('GET / HTTP/1.1\nHost: a\n\n', ERR_BARE_LF);
    rejects('GET / HTTP/1.1\r\nHost: a\n\r\n', ERR_BARE_LF);
    rejects('GET / HTTP/1.1\r\nHost: a\r\nX: 1\n\r\n\r\n', ERR_BARE_LF);
    rejects('GET / HTTP/1.1\r\nHost: a\r\nX\n: 1\r\n\r\n', ERR_BARE_LF);
    rejects('\nGET / HTTP/1.1\r\nHost: a\r\n\r\n', ERR_BARE_LF);
    rejects('GET / HTTP/1.1\r\nHost: a\r\n\n\r\n\r\n', ERR_BARE_LF);
    // Reported even though no CRLFCRLF will ever come.
    rejects('GET / HTTP/1.1\nHost: a\n', ERR_BARE_LF);
  });

  it('NUL, CR and other CTLs in values → 400', () => {
    rejects('GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n', ERR_INVALID_HEADER_VALUE);
    rejects('GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n', ERR_INVALID_HEADER_VALUE);
    rejects('GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n', ERR_INVALID_HEADER_VALUE);
    rejects('GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n', ERR_INVALID_HEADER_VALUE);
    rejects('GET / HTTP/1.1\r\nHost: a\r\nX: a\r\r\n\r\n', ERR_INVALID_HEADER_VALUE);
  });

  it('malformed field names → 400', () => {
    rejects('GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n', ERR_INVALID_HEADER_NAME);
    rejects('GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n', ERR_INVALID_HEADER_NAME);
    rejects('GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n', ERR_INVALID_HEADER_NAME);
    rejects('GET / HTTP/1.1\r\nHost: a\r\nBad(Name): x\r\n\r\n', ERR_INVALID_HEADER_NAME);
    rejects('GET / HTTP/1.1\r\nHost: a\r\nNa\xe9me: x\r\n\r\n', ERR_INVALID_HEADER_NAME);
    rejects('GET / HTTP/1.1\r\nHost: a\r\n\rX: y\r\n\r\n', ERR_INVALID_HEADER_NAME);
  });

  it('request line must be exactly method SP target SP HTTP/1.x CRLF', () => {
    rejects('GET  / HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_URL);
    rejects('GET /  HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_VERSION);
    rejects('GET / HTTP/1.1 \r\nHost: a\r\n\r\n', ERR_INVALID_VERSION);
    rejects('GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_METHOD);
    rejects(' GET / HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_METHOD);
    rejects('G@T / HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_METHOD);
    rejects('GET /\r\nHost: a\r\n\r\n', ERR_INVALID_VERSION);
    rejects('GET / http/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_VERSION);
    rejects('GET / HTTP/1.2\r\nHost: a\r\n\r\n', ERR_INVALID_VERSION);
    rejects('GET / HTTP/2.0\r\nHost: a\r\n\r\n', ERR_INVALID_VERSION);
    rejects('GET / HTTP/1.10\r\nHost: a\r\n\r\n', ERR_INVALID_VERSION);
    rejects('GET / HTTP/0.9\r\nHost: a\r\n\r\n', ERR_INVALID_VERSION);
    rejects('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', ERR_INVALID_VERSION);
  });

  it('request-target: no fragment, no controls, form must fit the method', () => {
    rejects('GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_URL);
    rejects('GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_URL);
    rejects('GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_URL);
    rejects('GET * HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_URL);
    rejects('OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_URL);
    rejects('GET a/b HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_URL);
    rejects('GET example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_URL);
    rejects('GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_URL);
    rejects('GET http://user@b.example/ HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_URL);
    rejects('GET ftp://b.example/ HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_URL);
    rejects('CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_URL);
    rejects('CONNECT db.example HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_URL);
    rejects('CONNECT db.example: HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_URL);
    rejects('CONNECT :443 HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_URL);
    rejects('CONNECT db.example:44x HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_URL);
    rejects('CONNECT u@db.example:443 HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_URL);
    rejects('CONNECT http://db.example:443/ HTTP/1.1\r\nHost: a\r\n\r\n', ERR_INVALID_URL);
  });

  it('Host: exactly one for HTTP/1.1', () => {
    rejects('GET / HTTP/1.1\r\nX: y\r\n\r\n', ERR_MISSING_HOST);
    rejects('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', ERR_MULTIPLE_HOST);
    rejects('GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n', ERR_MULTIPLE_HOST);
    rejects('GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n', ERR_MULTIPLE_HOST);
  });

  it('too many header lines → 400 http1.too_many_headers', () => {
    const limits = { maxHeadBytes: 60 * 1024, maxHeaders: 3 };
    assert.ok(req('GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 1\r\n\r\n', limits).n > 0);
    rejects('GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 1\r\nD: 1\r\n\r\n', ERR_TOO_MANY_HEADERS, limits);
    assert.equal(errorStatus(ERR_TOO_MANY_HEADERS), 400);
    const many = `GET / HTTP/1.1\r\nHost: a\r\n${'X: 1\r\n'.repeat(100)}\r\n`;
    rejects(many, ERR_TOO_MANY_HEADERS);
  });

  it('a head over maxHeadBytes → 431, complete or not', () => {
    const big = `GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(61 * 1024)}\r\n\r\n`;
    rejects(big, ERR_HEADERS_TOO_LARGE);
    rejects(big.slice(0, 60 * 1024), ERR_HEADERS_TOO_LARGE);
    assert.equal(req(big.slice(0, 60 * 1024 - 1)).n, ParseStatus.Incomplete);
    assert.equal(errorStatus(ERR_HEADERS_TOO_LARGE), 431);
    // Long enough only because of the empty lines before it: still bounded.
    rejects(`${'\r\n'.repeat(30 * 1024)}${GET}`, ERR_HEADERS_TOO_LARGE);
  });

  it('maps every error to a detail and a status', () => {
    for (const [code, detail] of Object.entries(ERROR_DETAILS)) {
      assert.match(detail, /^http1\.[a-z_]+$/);
      assert.equal(errorStatus(Number(code)), Number(code) === ERR_HEADERS_TOO_LARGE ? 431 : 400);
    }
  });
});

/** Requests used for split-point tests: every proper prefix is Incomplete. */
const SPLIT_SAMPLES = [
  GET,
  '\r\n\r\nPOST /upload?x=1 HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive, X-A\r\n\r\n',
  'PUT http://b.example/p HTTP/1.1\r\nHost: a\r\nContent-Length:  12 \r\nExpect: 100-continue\r\nEmpty:\r\n\r\n',
  'GET / HTTP/1.0\r\n\r\n',
];

describe('parseRequestHead: partial input', () => {
  it('every split point gives Incomplete, then the same result', () => {
    for (const raw of SPLIT_SAMPLES) {
      const whole = req(raw);
      assert.ok(whole.n > 0, raw);
      const buf = bytes(raw);
      for (let k = 0; k < buf.length; k++) {
        const h = createRequestHead();
        assert.equal(parseRequestHead(buf, 0, k, h, DEFAULT_LIMITS), ParseStatus.Incomplete, `${JSON.stringify(raw)} @${k}`);
        assert.equal(h.error, '');
      }
    }
  });

  it('one-byte feeds with the scanFrom hint give the same result', () => {
    for (const raw of SPLIT_SAMPLES) {
      const whole = req(raw);
      const buf = bytes(raw);
      const h = createRequestHead();
      let prev = 0;
      let n = 0;
      for (let end = 1; end <= buf.length; end++) {
        n = parseRequestHead(buf, 0, end, h, DEFAULT_LIMITS, prev);
        if (end < buf.length) assert.equal(n, 0, `${JSON.stringify(raw)} @${end}`);
        prev = end;
      }
      assert.equal(n, whole.n);
      assert.deepEqual({ ...h }, { ...whole.h });
    }
  });

  it('a rejected head never parses as complete when fed in pieces', () => {
    const bad = [
      'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n',
      'GET / HTTP/1.1\nHost: a\n\n',
      'GET / HTTP/1.2\r\nHost: a\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n',
      'G@T / HTTP/1.1\r\n\r\n',
    ];
    for (const raw of bad) {
      const whole = req(raw);
      assert.ok(whole.n < 0);
      const buf = bytes(raw);
      for (let k = 0; k <= buf.length; k++) {
        const h = createRequestHead();
        const n = parseRequestHead(buf, 0, k, h, DEFAULT_LIMITS);
        assert.ok(n === 0 || n === whole.n, `${JSON.stringify(raw)} @${k}: ${n}`);
      }
    }
  });

  it('reports errors in a partial head early', () => {
    assert.equal(req('GET / HTTP/1.1\r\nBad Name').n, ERR_INVALID_HEADER_NAME);
    assert.equal(req('GET / HTTP/1.1\r\nX: a\x00').n, ERR_INVALID_HEADER_VALUE);
    assert.equal(req('GET / HTTX').n, ERR_INVALID_VERSION);
    assert.equal(req('GET / HTTP/1.').n, 0);
  });
});

describe('parseResponseHead', () => {
  it('parses a status line with a reason', () => {
    const raw = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n';
    const { n, h } = res(`${raw}ok`);
    assert.equal(n, raw.length);
    assert.equal(h.status, 200);
    assert.equal(h.reason, 'OK');
    assert.equal(h.versionMinor, 1);
    assert.deepEqual(h.names, ['Content-Type', 'Content-Length']);
    assert.deepEqual(h.lnames, ['content-type', 'content-length']);
    assert.deepEqual(h.values, ['text/plain', '2']);
    assert.equal(h.contentLength, 2);
    assert.equal(h.chunked, false);
    assert.equal(h.keepAlive, true);
  });

  it('accepts status-line variants', () => {
    assert.equal(res('HTTP/1.1 404 Not Found\r\n\r\n').h.reason, 'Not Found');
    assert.equal(res('HTTP/1.1 200 \r\n\r\n').h.reason, '');
    const bare = res('HTTP/1.1 204\r\n\r\n');
    assert.equal(bare.n, 16);
    assert.equal(bare.h.status, 204);
    assert.equal(bare.h.reason, '');
    assert.equal(res('HTTP/1.1 599 Weird \tReason\xe9\r\n\r\n').h.reason, 'Weird \tReason\xe9');
    assert.equal(res('HTTP/1.1 999 X\r\n\r\n').h.status, 999);
    assert.equal(res('HTTP/1.0 200 OK\r\n\r\n').h.versionMinor, 0);
  });

  it('rejects malformed status lines', () => {
    assert.equal(res('HTTP/1.1 20 OK\r\n\r\n').n, ERR_INVALID_STATUS);
    assert.equal(res('HTTP/1.1 2000 OK\r\n\r\n').n, ERR_INVALID_STATUS);
    assert.equal(res('HTTP/1.1 099 X\r\n\r\n').n, ERR_INVALID_STATUS);
    assert.equal(res('HTTP/1.1 abc OK\r\n\r\n').n, ERR_INVALID_STATUS);
    assert.equal(res('HTTP/1.1  200 OK\r\n\r\n').n, ERR_INVALID_STATUS);
    assert.equal(res('HTTP/1.1 200 O\x00K\r\n\r\n').n, ERR_INVALID_STATUS);
    assert.equal(res('HTTP/2 200 OK\r\n\r\n').n, ERR_INVALID_VERSION);
    assert.equal(res('HTTP/1.2 200 OK\r\n\r\n').n, ERR_INVALID_VERSION);
    assert.equal(res('ICY 200 OK\r\n\r\n').n, ERR_INVALID_VERSION);
    assert.equal(res('HTTP/1.1 200 OK\nX: 1\r\n\r\n').n, ERR_BARE_LF);
    const { h } = res('HTTP/1.1 20 OK\r\n\r\n');
    assert.equal(h.error, 'http1.invalid_status');
  });

  it('parses 1xx interim responses and the final one after them', () => {
    const a = 'HTTP/1.1 100 Continue\r\n\r\n';
    const b = 'HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n';
    const c = 'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n';
    const buf = bytes(a + b + c);
    const h = createResponseHead();
    let at = 0;
    for (const [raw, status] of [[a, 100], [b, 103], [c, 201]] as const) {
      const n = parseResponseHead(buf, at, buf.length, h, DEFAULT_LIMITS);
      assert.equal(n, raw.length);
      assert.equal(h.status, status);
      at += n;
    }
    assert.equal(h.contentLength, 0);
    const up = res('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    assert.equal(up.h.status, 101);
    assert.equal(up.h.keepAlive, true);
    assert.deepEqual(up.h.connectionTokens, []);
  });

  it('no Content-Length and no Transfer-Encoding: length -1, not chunked', () => {
    const { h } = res('HTTP/1.1 200 OK\r\nServer: x\r\n\r\n');
    assert.equal(h.contentLength, -1);
    assert.equal(h.chunked, false);
    assert.equal(h.keepAlive, true); // the caller decides (204/304/HEAD have no body)
  });

  it('Transfer-Encoding wins over Content-Length, and the connection is not reused', () => {
    const { n, h } = res('HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n');
    assert.ok(n > 0);
    assert.equal(h.chunked, true);
    assert.equal(h.contentLength, -1);
    assert.equal(h.keepAlive, false);
  });

  it('reads transfer codings as one list', () => {
    let r = res('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n');
    assert.equal(r.h.chunked, true);
    assert.equal(r.h.keepAlive, true);
    r = res('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n');
    assert.equal(r.h.chunked, true);
    // Final coding not chunked: body until close (RFC 9112 §6.3).
    r = res('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n');
    assert.equal(r.h.chunked, false);
    assert.equal(r.h.contentLength, -1);
    assert.equal(r.h.keepAlive, false);
    r = res('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n');
    assert.equal(r.h.chunked, false);
    assert.equal(r.h.keepAlive, false);
    assert.equal(res('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n').n, ERR_TE_NOT_CHUNKED);
    assert.equal(res('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n').n, ERR_TE_NOT_CHUNKED);
    assert.equal(res('HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n').n, ERR_TE_NOT_CHUNKED);
  });

  it('Content-Length: invalid or conflicting → error, identical duplicates fine', () => {
    assert.equal(res('HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n').n, ERR_INVALID_CONTENT_LENGTH);
    assert.equal(res('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n').n, ERR_DUPLICATE_CONTENT_LENGTH);
    assert.equal(res('HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\n').h.contentLength, 3);
    const { h } = res('HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n');
    assert.equal(h.error, 'http1.invalid_content_length');
  });

  it('keepAlive follows Connection and the version', () => {
    assert.equal(res('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n').h.keepAlive, false);
    assert.equal(res('HTTP/1.1 200 OK\r\nConnection: CLOSE\r\n\r\n').h.keepAlive, false);
    assert.equal(res('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').h.keepAlive, false);
    assert.equal(res('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n').h.keepAlive, true);
    const r = res('HTTP/1.1 200 OK\r\nConnection: X-Trace, keep-alive\r\n\r\n');
    assert.deepEqual(r.h.connectionTokens, ['x-trace']);
  });

  it('is lenient where RFC 9112 allows: whitespace before colon, obs-fold, CTLs', () => {
    let r = res('HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length\t: 4\r\n\r\n');
    assert.deepEqual(r.h.names, ['X-A', 'Content-Length']);
    assert.equal(r.h.contentLength, 4);
    r = res('HTTP/1.1 200 OK\r\nX-Long: part one\r\n  part two\r\n\tthree \r\nY: z\r\n\r\n');
    assert.deepEqual(r.h.values, ['part one part two three', 'z']);
    assert.deepEqual(r.h.names, ['X-Long', 'Y']);
    r = res('HTTP/1.1 200 OK\r\nX-Empty:\r\n folded\r\n\r\n');
    assert.deepEqual(r.h.values, ['folded']);
    r = res('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n chunked\r\n\r\n');
    assert.equal(r.h.chunked, true);
    assert.equal(res('HTTP/1.1 200 OK\r\nX: a\x01b\x7f\r\n\r\n').h.values[0], 'a\x01b\x7f');
  });

  it('stays strict on what would break framing', () => {
    assert.equal(res('HTTP/1.1 200 OK\r\n folded-first\r\n\r\n').n, ERR_OBS_FOLD);
    assert.equal(res('HTTP/1.1 200 OK\r\nX: a\x00\r\n\r\n').n, ERR_INVALID_HEADER_VALUE);
    assert.equal(res('HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n').n, ERR_INVALID_HEADER_VALUE);
    assert.equal(res('HTTP/1.1 200 OK\r\nX: a\n\r\n').n, ERR_BARE_LF);
    assert.equal(res('HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n').n, ERR_INVALID_HEADER_NAME);
    assert.equal(res('HTTP/1.1 200 OK\r\nNoColon\r\n\r\n').n, ERR_INVALID_HEADER_NAME);
    assert.equal(res(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(61 * 1024)}\r\n\r\n`).n, ERR_HEADERS_TOO_LARGE);
    assert.equal(res(`HTTP/1.1 200 OK\r\n${'X: 1\r\n'.repeat(101)}\r\n`).n, ERR_TOO_MANY_HEADERS);
  });

  it('every split point gives Incomplete, then the same result (also with the hint)', () => {
    const samples = [
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n',
      'HTTP/1.1 204\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX: a\r\n b\r\nTransfer-Encoding: chunked\r\n\r\n',
    ];
    for (const raw of samples) {
      const whole = res(raw);
      assert.ok(whole.n > 0);
      const buf = bytes(raw);
      const h = createResponseHead();
      for (let k = 0; k < buf.length; k++) {
        assert.equal(parseResponseHead(buf, 0, k, h, DEFAULT_LIMITS), 0, `${JSON.stringify(raw)} @${k}`);
      }
      let prev = 0;
      let n = 0;
      for (let end = 1; end <= buf.length; end++) {
        n = parseResponseHead(buf, 0, end, h, DEFAULT_LIMITS, prev);
        if (end < buf.length) assert.equal(n, 0);
        prev = end;
      }
      assert.equal(n, whole.n);
      assert.deepEqual({ ...h }, { ...whole.h });
    }
  });
});

describe('parsers: mutation fuzz', () => {
  /** Small deterministic PRNG (mulberry32) so failures reproduce. */
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
  const ALPHABET = ['\r', '\n', '\r\n', ' ', '\t', ':', ',', ';', '\x00', '\x7f', '\xe9', 'a', 'A', '0', '9', '-', '/', '*', '#',
    'chunked', 'Content-Length: 1\r\n', 'Transfer-Encoding: chunked\r\n', 'Host: h\r\n', '\r\n\r\n', 'HTTP/1.1'];
  const SEEDS = [
    'GET /a?b HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X\r\n\r\n',
    'POST http://h/p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
    'OPTIONS * HTTP/1.0\r\nExpect: 100-continue\r\n\r\n',
  ];
  const RESPONSE_SEEDS = [
    'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\n',
    'HTTP/1.1 204 No Content\r\nX: a\r\n b\r\nTransfer-Encoding: gzip, chunked\r\n\r\n',
  ];

  function mutate(rand: () => number, seed: string): string {
    let s = seed;
    const edits = 1 + Math.floor(rand() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(rand() * (s.length + 1));
      const op = rand();
      const piece = ALPHABET[Math.floor(rand() * ALPHABET.length)]!;
      if (op < 0.4) s = s.slice(0, at) + piece + s.slice(at);
      else if (op < 0.7) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rand() * 3));
      else s = s.slice(0, at) + piece + s.slice(at + piece.length);
    }
    return s;
  }

  type Parse = (buf: Buffer, end: number) => { n: number; error: string; names: string[]; values: string[] };
  const parseReq: Parse = (buf, end) => {
    const h = createRequestHead();
    return { n: parseRequestHead(buf, 0, end, h, DEFAULT_LIMITS), error: h.error, names: h.names, values: h.values };
  };
  const parseRes: Parse = (buf, end) => {
    const h = createResponseHead();
    return { n: parseResponseHead(buf, 0, end, h, DEFAULT_LIMITS), error: h.error, names: h.names, values: h.values };
  };

  function check(parse: Parse, raw: string): void {
    const buf = bytes(raw);
    const whole = parse(buf, buf.length);
    const where = JSON.stringify(raw);
    if (whole.n > 0) {
      assert.ok(whole.n <= buf.length, where);
      assert.equal(buf.toString('latin1', whole.n - 4, whole.n), '\r\n\r\n', where);
      assert.equal(whole.error, '');
      for (const name of whole.names) assert.match(name, /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, where);
      for (const value of whole.values) assert.doesNotMatch(value, /[\r\n\x00]|^[ \t]|[ \t]$/, where);
      // The head alone parses the same.
      assert.equal(parse(buf, whole.n).n, whole.n, where);
    } else if (whole.n < 0) {
      assert.equal(whole.error, ERROR_DETAILS[whole.n], where);
      assert.deepEqual(whole.names, []);
    }
    // Prefixes: Incomplete or the same verdict, never a different one.
    const stop = whole.n > 0 ? whole.n : buf.length;
    for (let k = 0; k < stop; k++) {
      const part = parse(buf, k);
      assert.ok(part.n === 0 || (whole.n < 0 && part.n === whole.n), `${where} @${k}: ${part.n} vs ${whole.n}`);
    }
  }

  it('request heads: never throws, verdicts agree across split points', () => {
    const rand = prng(0x5eed);
    for (let i = 0; i < 1500; i++) check(parseReq, mutate(rand, SEEDS[i % SEEDS.length]!));
  });

  it('response heads: never throws, verdicts agree across split points', () => {
    const rand = prng(0xbeef);
    for (let i = 0; i < 1000; i++) check(parseRes, mutate(rand, RESPONSE_SEEDS[i % RESPONSE_SEEDS.length]!));
  });
});
