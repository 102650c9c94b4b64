/** `portico validate --mesh-config` and `portico run --mesh-config` with a bad file: precise errors, exit codes. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('CLI: --mesh-config', () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-meshcli-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('validate lists every mesh-config problem as file:line:col  -  field  message and exits 1', () => {
    const f = path.join(dir, 'mesh.yaml');
    fs.writeFileSync(f, 'accessLogFile: /dev/stdout\naccessLogEncoding: XML\naccessLogFormat: "%START_TIME% %NOPE%"\n');
    const r = cli(['validate', '--mesh-config', f]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      `${f}:2:20  -  accessLogEncoding  Unknown value "XML" for accessLogEncoding: expected one of TEXT, JSON`,
      `${f}:3:18  -  accessLogFormat  Invalid access-log format: Unknown command operator "%NOPE%" at position 13`,
    ]);
  });

  it('validate accepts a good mesh config with Telemetry resources', () => {
    const f = path.join(dir, 'good.yaml');
    fs.writeFileSync(f, 'accessLogFile: /dev/stdout\naccessLogEncoding: JSON\n');
    const cfg = path.join(dir, 'cfg');
    fs.mkdirSync(cfg);
    fs.writeFileSync(path.join(cfg, 'tel.yaml'), `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  accessLogging: [{providers: [{name: envoy}], filter: {expression: "response.code >= 400"}}]
`);
    const r = cli(['validate', '--mesh-config', f, cfg]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it('run refuses to start with an invalid mesh config (exit 2, every problem listed)', () => {
    const f = path.join(dir, 'bad-run.yaml');
    fs.writeFileSync(f, 'accessLogEncoding: JSON\naccessLogFormat: "not json"\n');
    const r = cli(['run', '--workers', '1', '--config', dir, '--admin-port', '0', '--mesh-config', f]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /portico run: Invalid --mesh-config ".*bad-run\.yaml":\n {2}.*bad-run\.yaml:2:18 {2}- {2}accessLogFormat {2}Invalid JSON accessLogFormat: /);
  });
});
