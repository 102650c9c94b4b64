import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { AccessLogs, MAX_QUEUED_BYTES, meshLogFormat } from './access-log.js';
import { accessLogSpecs } from './hub.js';
import { DEFAULT_MESH_CONFIG, parseMeshConfig } from '../config/mesh/mesh-config.js';
import { StreamInfo } from './stream-info.js';

function info(code: number, id: string): StreamInfo {
  const i = new StreamInfo();
  i.startMs = Date.UTC(2024, 0, 1);
  i.responseCode = code;
  i.method = 'GET';
  i.originalPath = `/p/${id}`;
  i.requestId = id;
  return i;
}

describe('access logs', () => {
  it('batches lines, never writes more than 4096 bytes at once to stdout, always whole lines', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (d: Buffer) => chunks.push(d));
    const logs = new AccessLogs({ stdout: out });
    logs.set([{ path: '/dev/stdout', format: { kind: 'text', text: `%REQ(X-REQUEST-ID)% ${'x'.repeat(200)}\n` } }]);
    for (let k = 0; k < 500; k++) logs.onStream(info(200, `id-${k}`));
    await logs.flush();
    await new Promise((r) => setImmediate(r));
    assert.ok(chunks.length > 1);
    for (const c of chunks) {
      assert.ok(c.length <= 4096, `chunk of ${c.length} bytes`);
      assert.equal(c[c.length - 1], 10);
    }
    const lines = Buffer.concat(chunks).toString().split('\n').filter(Boolean);
    assert.equal(lines.length, 500);
    assert.equal(lines[499]!.split(' ')[0], 'id-499');
  });

  it('filters per log (CEL) and writes files; close flushes everything', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-al-'));
    const file = path.join(dir, 'errors.log');
    const logs = new AccessLogs();
    logs.set([{ path: file, format: meshLogFormat('TEXT', '%RESPONSE_CODE% %REQ(:PATH)%'), filter: 'response.code >= 400' }]);
    for (let k = 0; k < 1000; k++) logs.onStream(info(k % 2 ? 503 : 200, String(k)));
    await logs.close();
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    assert.equal(lines.length, 500);
    assert.ok(lines.every((l) => l.startsWith('503 /p/')));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('bounded: an output that never drains drops lines beyond the queue limit and counts them', async () => {
    const stuck = new Writable({ highWaterMark: 1024, write(_c, _e, _cb) { /* never completes */ } });
    let dropped = 0;
    const logs = new AccessLogs({ stdout: stuck, onDropped: (n) => { dropped += n; } });
    logs.set([{ path: '/dev/stdout', format: { kind: 'text', text: `${'y'.repeat(1000)}\n` } }]);
    const lines = Math.ceil(MAX_QUEUED_BYTES / 1000) + 2000;
    for (let k = 0; k < lines; k++) {
      logs.onStream(info(200, String(k)));
      if (k % 1000 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.ok(dropped > 0, 'lines dropped');
    assert.equal(logs.dropped, dropped);
  });

  it('reused encode blocks never corrupt a line: 30,000 lines of mixed sizes (one over a block) to a file and to a slow stream', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-al-'));
    const file = path.join(dir, 'mixed.log');
    const got: Buffer[] = [];
    const slow = new Writable({ highWaterMark: 2048, write(c: Buffer, _e, cb) { got.push(c); setImmediate(cb); } });
    const logs = new AccessLogs({ stdout: slow });
    const fmt = { kind: 'text' as const, text: '%REQ(X-REQUEST-ID)% %REQ(:PATH)%\n' };
    logs.set([{ path: file, format: fmt }, { path: '/dev/stdout', format: fmt }]);
    const want: string[] = [];
    for (let k = 0; k < 30_000; k++) {
      const i = info(200, `id-${k}`);
      i.originalPath = k === 12_345 ? `/${'p'.repeat(70_000)}` : `/${'x'.repeat(k % 300)}`;
      want.push(`id-${k} ${i.originalPath}`);
      logs.onStream(i);
      if (k % 2_000 === 0) await new Promise((r) => setTimeout(r, 12)); // let flushes and writes interleave
    }
    await logs.close();
    assert.deepEqual(fs.readFileSync(file, 'latin1').split('\n').slice(0, -1), want);
    assert.deepEqual(Buffer.concat(got).toString('latin1').split('\n').slice(0, -1), want);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an unwritable file is reported and its lines dropped, without throwing', async () => {
    const errors: string[] = [];
    const logs = new AccessLogs({ log: { info() {}, warn() {}, error: (m) => errors.push(m) } });
    logs.set([{ path: '/nonexistent-dir/x/access.log', format: meshLogFormat('TEXT', '') }]);
    logs.onStream(info(200, 'a'));
    await logs.flush();
    await new Promise((r) => setTimeout(r, 20));
    assert.match(errors[0] ?? '', /^OBS_ACCESS_LOG_OPEN_FAILED: Cannot write access log "\/nonexistent-dir\/x\/access.log": ENOENT/);
    await logs.close();
  });
});

describe('access log selection (Istio rules)', () => {
  const mesh = parseMeshConfig('m', `accessLogFile: /var/log/mesh.log
accessLogEncoding: JSON
extensionProviders:
- name: text-file
  envoyFileAccessLog: {path: /tmp/t.log, logFormat: {text: "%RESPONSE_CODE%"}}
- name: json-default
  envoyFileAccessLog: {path: /tmp/j.log, logFormat: {labels: {}}, omitEmptyValues: true}
- name: prom
  prometheus: {}
`).mesh!;

  it('no Telemetry logging: the MeshConfig file in the MeshConfig encoding; "" = none', () => {
    const s = accessLogSpecs(mesh, undefined);
    assert.equal(s.length, 1);
    assert.equal(s[0]!.path, '/var/log/mesh.log');
    assert.equal(s[0]!.format.kind, 'json');
    assert.deepEqual(accessLogSpecs({ ...DEFAULT_MESH_CONFIG, accessLogFile: '' }, undefined), []);
  });

  it('providers: envoy follows the MeshConfig format; text and labels formats; {} = Istio JSON; non-file providers skipped', () => {
    const s = accessLogSpecs(mesh, [{ provider: 'envoy' }, { provider: 'text-file', filter: 'response.code >= 500' }, { provider: 'json-default' }, { provider: 'prom' }, { provider: 'nope' }]);
    assert.deepEqual(s.map((x) => [x.provider, x.path, x.format.kind, x.filter, x.omitEmptyValues]), [
      ['envoy', '/dev/stdout', 'json', undefined, undefined],
      ['text-file', '/tmp/t.log', 'text', 'response.code >= 500', undefined],
      ['json-default', '/tmp/j.log', 'json', undefined, true],
    ]);
    assert.deepEqual(s[1]!.format, { kind: 'text', text: '%RESPONSE_CODE%\n' });
    assert.equal(Object.keys((s[2]!.format as { spec: object }).spec).length, 24);
    assert.deepEqual(accessLogSpecs(mesh, []), []);
  });
});
