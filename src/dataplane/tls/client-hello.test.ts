import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { describe, it } from 'node:test';
import { alertRecord, MAX_CLIENT_HELLO, parseClientHello } from './client-hello.js';

/** Capture the first flight a real Node TLS client sends. */
async function capture(opts: tls.ConnectionOptions): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const srv = net.createServer((s) => {
      s.on('data', (d) => {
        chunks.push(d);
        const r = parseClientHello(Buffer.concat(chunks));
        if (r.state !== 'more') { s.destroy(); srv.close(); resolve(Buffer.concat(chunks)); }
      });
    });
    srv.listen(0, '127.0.0.1', () => {
      const c = tls.connect({ port: (srv.address() as net.AddressInfo).port, host: '127.0.0.1', ...opts });
      c.on('error', () => {});
    });
  });
}

/** Re-frame one handshake record's payload into records of at most `size` bytes. */
function fragment(hello: Buffer, size: number): Buffer {
  const payload = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const out: Buffer[] = [];
  for (let i = 0; i < payload.length; i += size) {
    const part = payload.subarray(i, i + size);
    out.push(Buffer.from([0x16, 0x03, 0x01, part.length >> 8, part.length & 0xff]), part);
  }
  return Buffer.concat(out);
}

describe('ClientHello peek', () => {
  it('reads SNI, ALPN and supported_versions from a real client', async () => {
    const b = await capture({ servername: 'Shop.Example.com', ALPNProtocols: ['h2', 'http/1.1'] });
    const r = parseClientHello(b);
    assert.equal(r.state, 'ok');
    if (r.state !== 'ok') return;
    assert.equal(r.hello.sni, 'shop.example.com');
    assert.deepEqual(r.hello.alpn, ['h2', 'http/1.1']);
    assert.ok(r.hello.versions.includes(0x0304));
    assert.equal(r.hello.legacyVersion, 0x0303);
  });

  it('reports no SNI when the client sends none (IP address target)', async () => {
    const b = await capture({});
    const r = parseClientHello(b);
    assert.equal(r.state, 'ok');
    if (r.state === 'ok') { assert.equal(r.hello.sni, undefined); assert.deepEqual(r.hello.alpn, []); }
  });

  it('waits for more bytes at every split point, then succeeds', async () => {
    const b = await capture({ servername: 'a.test', ALPNProtocols: ['http/1.1'] });
    for (let n = 0; n < b.length; n += 7) assert.equal(parseClientHello(b.subarray(0, n)).state, 'more', `at ${n}`);
    assert.equal(parseClientHello(b).state, 'ok');
  });

  it('reassembles a ClientHello fragmented over several records', async () => {
    const b = await capture({ servername: 'frag.example.com', ALPNProtocols: ['h2'] });
    for (const size of [1, 10, 64, 200]) {
      const f = fragment(b, size);
      for (const cut of [f.length - 1, Math.floor(f.length / 2)]) assert.equal(parseClientHello(f.subarray(0, cut)).state, 'more');
      const r = parseClientHello(f);
      assert.equal(r.state, 'ok', `size ${size}`);
      if (r.state === 'ok') { assert.equal(r.hello.sni, 'frag.example.com'); assert.deepEqual(r.hello.alpn, ['h2']); }
    }
  });

  it('recognises plain HTTP and other garbage as not TLS', () => {
    assert.equal(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n')).state, 'not-tls');
    assert.equal(parseClientHello(Buffer.from([0x80, 0x2e, 0x01])).state, 'not-tls'); // SSLv2 hello
    assert.equal(parseClientHello(Buffer.from([0x16, 0x02])).state, 'not-tls');
  });

  it('rejects malformed and oversized hellos', () => {
    // A handshake record that is not a ClientHello (ServerHello = 2).
    assert.equal(parseClientHello(Buffer.from([0x16, 3, 1, 0, 4, 2, 0, 0, 0])).state, 'invalid');
    // Declared handshake length above the bound.
    assert.equal(parseClientHello(Buffer.from([0x16, 3, 1, 0, 4, 1, 0x02, 0, 0])).state, 'invalid');
    // Zero-length record.
    assert.equal(parseClientHello(Buffer.from([0x16, 3, 1, 0, 0])).state, 'invalid');
    // Garbage after a complete, tiny ClientHello header.
    const body = Buffer.alloc(10);
    const hs = Buffer.concat([Buffer.from([1, 0, 0, body.length]), body]);
    assert.equal(parseClientHello(Buffer.concat([Buffer.from([0x16, 3, 1, 0, hs.length]), hs])).state, 'invalid');
    assert.ok(MAX_CLIENT_HELLO >= 16 * 1024);
  });

  it('builds a fatal alert record', () => {
    assert.deepEqual([...alertRecord(112, 0x0301)], [0x15, 3, 1, 0, 2, 2, 112]);
  });
});
