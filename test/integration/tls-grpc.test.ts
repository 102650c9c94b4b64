/**
 * gRPC over MUTUAL TLS end to end: a @grpc/grpc-js client with a client certificate → HTTPS
 * server (ALPN h2, client certificate required) → h2c upstream (Service port appProtocol grpc)
 * → grpc-js server. Checks unary and server-streaming calls, trailers (grpc-status and custom
 * metadata) through the h2 → h2 path, an error status, and X-Forwarded-Client-Cert at the server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { createCA, createLeaf, tlsSecretYaml, type TestCert } from '../helpers/tls.js';

const PROTO = `syntax = "proto3";
package demo;
service Echo {
  rpc Say (Msg) returns (Msg);
  rpc Count (Msg) returns (stream Msg);
}
message Msg { string text = 1; }
`;

interface Msg { text: string }
type EchoClient = grpc.Client & {
  Say(m: Msg, md: grpc.Metadata, cb: (e: grpc.ServiceError | null, r?: Msg) => void): grpc.ClientUnaryCall;
  Count(m: Msg, md: grpc.Metadata): grpc.ClientReadableStream<Msg>;
};

describe('gRPC over MUTUAL TLS', () => {
  let gw: TestGateway;
  let server: grpc.Server;
  let port: number;
  let ca: TestCert;
  let client: TestCert;
  let stranger: TestCert;
  let dir: string;
  let EchoCtor: grpc.ServiceClientConstructor;
  let lastXfcc: string | undefined;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-grpc-'));
    fs.writeFileSync(path.join(dir, 'echo.proto'), PROTO);
    const def = protoLoader.loadSync(path.join(dir, 'echo.proto'));
    const pkg = grpc.loadPackageDefinition(def) as unknown as { demo: { Echo: grpc.ServiceClientConstructor } };
    EchoCtor = pkg.demo.Echo;
    server = new grpc.Server();
    server.addService(EchoCtor.service, {
      Say: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
        lastXfcc = call.metadata.get('x-forwarded-client-cert')[0] as string | undefined;
        if (call.request.text === 'fail') {
          cb({ code: grpc.status.FAILED_PRECONDITION, details: 'told to fail' });
          return;
        }
        const trailer = new grpc.Metadata();
        trailer.set('x-trailer', 'kept');
        cb(null, { text: `hello ${call.request.text}` }, trailer);
      },
      Count: (call: grpc.ServerWritableStream<Msg, Msg>) => {
        for (let i = 1; i <= 3; i++) call.write({ text: `${call.request.text}-${i}` });
        call.end();
      },
    });
    const upstreamPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p)));
    });
    ca = createCA({ cn: 'gRPC Root' });
    const serverCert = createLeaf(ca, { dns: ['grpc.example.com'] });
    client = createLeaf(ca, { cn: 'grpc-client', usage: 'client', uris: ['spiffe://cluster.local/ns/apps/sa/grpc-client'] });
    stranger = createLeaf(createCA(), { cn: 'stranger', usage: 'client' });
    port = await freePort();
    gw = await startTestGateway({
      'all.yaml': `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: grpc, namespace: istio-system}
spec:
  servers:
  - port: {number: ${port}, name: https, protocol: HTTPS}
    hosts: ["grpc.example.com"]
    tls: {mode: MUTUAL, credentialName: grpc-cert}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: grpc, namespace: demo}
spec:
  hosts: ["grpc.example.com"]
  gateways: ["istio-system/grpc"]
  http:
  - route: [{destination: {host: echo-grpc.demo.svc.cluster.local}}]
---
apiVersion: v1
kind: Service
metadata: {name: echo-grpc, namespace: demo}
spec:
  ports: [{name: grpc, port: 50051, appProtocol: grpc}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: echo-grpc, namespace: demo}
subsets:
- addresses: [{ip: 127.0.0.1}]
  ports: [{name: grpc, port: ${upstreamPort}}]
---
${tlsSecretYaml('grpc-cert', 'istio-system', { cert: serverCert.certPem, key: serverCert.keyPem, ca: ca.certPem })}`,
    });
  });

  after(async () => {
    await gw?.close();
    await new Promise<void>((r) => server?.tryShutdown(() => r()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const makeClient = (cert: TestCert) => new EchoCtor(`127.0.0.1:${port}`,
    grpc.credentials.createSsl(Buffer.from(ca.certPem), Buffer.from(cert.keyPem), Buffer.from(cert.certPem)),
    { 'grpc.ssl_target_name_override': 'grpc.example.com', 'grpc.default_authority': 'grpc.example.com' }) as EchoClient;

  it('unary call with a client certificate; trailers and the verified certificate reach both ends', async () => {
    const c = makeClient(client);
    try {
      const trailers = await new Promise<{ reply: Msg; md: grpc.Metadata }>((resolve, reject) => {
        let md: grpc.Metadata | undefined;
        const call = c.Say({ text: 'portico' }, new grpc.Metadata(), (e, r) => {
          if (e) reject(e);
          else setImmediate(() => resolve({ reply: r!, md: md ?? new grpc.Metadata() }));
        });
        call.on('status', (s: grpc.StatusObject) => { md = s.metadata; });
      });
      assert.equal(trailers.reply.text, 'hello portico');
      assert.deepEqual(trailers.md.get('x-trailer'), ['kept']);
      assert.match(lastXfcc ?? '', /Subject="CN=grpc-client,O=Portico Test";URI=spiffe:\/\/cluster\.local\/ns\/apps\/sa\/grpc-client/);
    } finally {
      c.close();
    }
  });

  it('server streaming and an error status pass through', async () => {
    const c = makeClient(client);
    try {
      const got: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const s = c.Count({ text: 'n' }, new grpc.Metadata());
        s.on('data', (m: Msg) => got.push(m.text));
        s.on('end', () => resolve());
        s.on('error', reject);
      });
      assert.deepEqual(got, ['n-1', 'n-2', 'n-3']);
      const err = await new Promise<grpc.ServiceError>((resolve) => c.Say({ text: 'fail' }, new grpc.Metadata(), (e) => resolve(e!)));
      assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
      assert.equal(err.details, 'told to fail');
    } finally {
      c.close();
    }
  });

  it('a client certificate from another CA is refused', async () => {
    const c = makeClient(stranger);
    try {
      const err = await new Promise<grpc.ServiceError>((resolve) => c.Say({ text: 'x' }, new grpc.Metadata(), (e) => resolve(e!)));
      assert.equal(err.code, grpc.status.UNAVAILABLE);
    } finally {
      c.close();
    }
  });
});
