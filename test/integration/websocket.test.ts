/**
 * HTTP/1.1 Upgrade (WebSocket): the upgrade headers reach the upstream, its 101 reaches the
 * client, and bytes then flow both ways through the gateway as a tunnel.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePort, istioGatewayYaml, startTestGateway, waitFor, type TestGateway } from '../helpers/gateway.js';

function upgradeBackend(seen: string[]): net.Server {
  return net.createServer((s) => {
    let head = '';
    let tunnel = false;
    s.on('data', (d) => {
      if (tunnel) { s.write(d); return; } // echo
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      seen.push(head.slice(0, end));
      tunnel = true;
      s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n');
      const rest = head.slice(end + 4);
      if (rest) s.write(rest);
    });
    s.on('error', () => {});
  });
}

describe('WebSocket upgrade', () => {
  let gw: TestGateway;
  let backend: net.Server;
  let port: number;
  const seen: string[] = [];
  before(async () => {
    backend = upgradeBackend(seen);
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
    const bport = (backend.address() as net.AddressInfo).port;
    port = await freePort();
    gw = await startTestGateway({
      'gw.yaml': istioGatewayYaml(port),
      'svc.yaml': `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ws, namespace: demo}
spec:
  hosts: [ws.internal]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 127.0.0.1, ports: {http: ${bport}}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: demo}
spec:
  hosts: ["*"]
  gateways: [istio-system/gw]
  http: [{route: [{destination: {host: ws.internal, port: {number: 80}}}]}]
`,
    });
  });
  after(async () => { await gw.close(); backend.close(); });

  it('forwards the upgrade, returns 101 and tunnels bytes both ways', async () => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => { got += d.toString('latin1'); });
    s.write('GET /chat HTTP/1.1\r\nHost: ws.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: abc\r\nSec-WebSocket-Version: 13\r\nx-request-id: ws-1\r\n\r\n');
    await waitFor(() => got.includes('\r\n\r\n'), 3000);
    assert.match(got, /^HTTP\/1\.1 101 /);
    assert.match(got, /\r\nconnection: upgrade\r\n/i);
    assert.match(got, /\r\nupgrade: websocket\r\n/i);
    got = '';
    s.write('frame-1');
    await waitFor(() => got === 'frame-1', 3000);
    s.write('frame-2');
    await waitFor(() => got === 'frame-1frame-2', 3000);
    assert.match(seen[0]!, /\r\nconnection: upgrade\r\nupgrade: websocket/i);
    assert.match(seen[0]!, /\r\nsec-websocket-key: abc/i);
    s.end();
    const line = await waitFor(() => gw.logs.find((l) => l.request_id === 'ws-1'), 3000);
    assert.equal(line.response_code, '101');
    assert.equal(line.bytes_received, '14');
  });
});
