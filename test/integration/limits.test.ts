/** Connection limit per listener (--max-connections): beyond it, new connections are closed. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { EchoServer } from '../../src/cli/echo.js';
import { freePort, istioGatewayYaml, request, serviceYaml, startEchos, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('listener connection limit', () => {
  let gw: TestGateway;
  let echo: EchoServer;
  let port: number;
  before(async () => {
    [echo] = await startEchos('echo-a');
    port = await freePort();
    gw = await startTestGateway({
      'gw.yaml': istioGatewayYaml(port),
      'svc.yaml': serviceYaml('echo-a', [echo!.port]),
      'vs.yaml': `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: demo}
spec:
  hosts: ["*"]
  gateways: [istio-system/gw]
  http: [{route: [{destination: {host: echo-a.demo.svc.cluster.local, port: {number: 80}}}]}]
`,
    }, { 'max-connections': '2' });
  });
  after(async () => { await gw.close(); await echo.close(); });

  it('closes connections beyond --max-connections and keeps serving the others', async () => {
    const open = (): Promise<net.Socket> => new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(s));
      s.on('error', reject);
    });
    const a = await open();
    const b = await open();
    const c = await open();
    const closed = await new Promise<boolean>((resolve) => {
      c.on('close', () => resolve(true));
      c.on('error', () => {});
      setTimeout(() => resolve(false), 1000);
    });
    assert.equal(closed, true, 'the third connection is closed by the gateway');
    const r = await new Promise<string>((resolve) => {
      let out = '';
      a.on('data', (d) => { out += d.toString(); if (out.includes('echo-a')) resolve(out); });
      a.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    assert.match(r, /^HTTP\/1\.1 200/);
    a.destroy(); b.destroy();
    await new Promise((r2) => setTimeout(r2, 100));
    const after2 = await request(port, { path: '/' });
    assert.equal(after2.status, 200, 'a slot freed up: new connections work again');
  });
});
