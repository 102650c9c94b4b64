/**
 * `portico echo`: the demo/test backend. Answers every request with JSON describing it
 * (method, path, host, headers, protocol, body size and its own name). Serves HTTP/1.1 and,
 * on the same port, cleartext HTTP/2 with prior knowledge.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';

export interface EchoOptions {
  readonly port: number;
  readonly host?: string;
  readonly name: string;
}

export interface EchoServer {
  readonly port: number;
  close(): Promise<void>;
}

type AnyReq = http.IncomingMessage | http2.Http2ServerRequest;
type AnyRes = http.ServerResponse | http2.Http2ServerResponse;

function handler(name: string) {
  return (req: AnyReq, res: AnyRes): void => {
    let bytes = 0;
    req.on('data', (d: Buffer) => { bytes += d.length; });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !k.startsWith(':')) headers[k] = v;
      const status = Number(url.searchParams.get('status') ?? 200) || 200;
      const body = JSON.stringify({
        name,
        method: req.method,
        path: url.pathname,
        query: url.search ? url.search.slice(1) : '',
        host: req.headers.host ?? (req.headers as Record<string, string>)[':authority'] ?? '',
        protocol: `HTTP/${req.httpVersion}`,
        headers,
        bodyBytes: bytes,
      });
      (res as http.ServerResponse).writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-echo-name': name });
      res.end(body);
    });
  };
}

export function startEcho(opts: EchoOptions): Promise<EchoServer> {
  const h1 = http.createServer({ keepAliveTimeout: 65_000 }, handler(opts.name));
  const h2 = http2.createServer({}, handler(opts.name));
  const preface = Buffer.from('PRI * HTTP/2.0');
  const server = net.createServer((sock) => {
    sock.once('readable', () => {
      const first: Buffer | null = sock.read();
      if (first === null) { sock.once('readable', () => server.emit('connection', sock)); return; }
      sock.unshift(first);
      if (first.subarray(0, preface.length).equals(preface)) h2.emit('connection', sock);
      else h1.emit('connection', sock);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        close: () => new Promise((r) => {
          h1.closeAllConnections();
          server.close(() => r());
          h2.close();
        }),
      });
    });
  });
}
