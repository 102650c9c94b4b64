#!/usr/bin/env node
// Opens N keep-alive connections to 127.0.0.1:PORT, sends one GET on each, reads its response
// and keeps the connection open and idle. Prints one JSON line {opened, failed, ms} when done,
// then holds everything until SIGTERM. A separate process so the test can raise its fd limit
// (`ulimit -n`) without depending on the test runner's.
//
//   node idle-conns.mjs PORT N [HOST] [CONCURRENCY]
import net from 'node:net';

const [port, n, host = 'idle.test', concurrency = '500'] = process.argv.slice(2);
const total = Number(n);
const sockets = [];
let failed = 0;
let firstError = '';

function one() {
  return new Promise((resolve) => {
    const s = net.connect(Number(port), '127.0.0.1');
    let buf = '';
    s.setEncoding('latin1');
    const bad = (why) => { failed++; firstError ||= why; s.destroy(); resolve(); };
    s.once('error', (e) => bad(e.code ?? e.message));
    s.once('connect', () => s.write(`GET /idle HTTP/1.1\r\nhost: ${host}\r\n\r\n`));
    s.on('data', function onData(d) {
      buf += d;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const m = /\r\ncontent-length: *(\d+)/i.exec(buf.slice(0, end));
      if (!m) { bad('no content-length'); return; }
      if (buf.length - end - 4 < Number(m[1])) return;
      if (!buf.startsWith('HTTP/1.1 200')) { bad(buf.slice(0, 12)); return; }
      s.removeListener('data', onData);
      s.on('error', () => {});
      buf = '';
      sockets.push(s);
      resolve();
    });
  });
}

const t0 = Date.now();
let next = 0;
await Promise.all(Array.from({ length: Number(concurrency) }, async () => {
  while (next < total) { next++; await one(); }
}));
process.stdout.write(`${JSON.stringify({ opened: sockets.length, failed, firstError, ms: Date.now() - t0 })}\n`);
process.on('SIGTERM', () => { for (const s of sockets) s.destroy(); process.exit(0); });
setInterval(() => {}, 1 << 30);
