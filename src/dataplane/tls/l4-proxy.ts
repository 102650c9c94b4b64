/**
 * L4 proxying of a TLS connection: the PASSTHROUGH case (the ClientHello bytes already read are
 * sent first, so the backend terminates TLS itself and its own certificate reaches the client)
 * and terminated TLS proxied as TCP. One upstream connection per downstream connection, to an
 * endpoint of the weighted route's cluster; half-closes are propagated; one access-log entry per
 * connection when it ends (Envoy's TCP proxy log: no method or path, bytes both ways).
 */
import net from 'node:net';
import type { StreamInfo } from '../../observability/stream-info.js';
import type { ListenerRuntime } from '../http/dispatch.js';
import { Flag } from '../http/details.js';
import { fmtAddr } from '../http/h1-server.js';
import type { CompiledTlsRoute } from './compile.js';

/** Proxy `down` to the route's backend; `first` = bytes already read from `down` (or null). */
export function proxyL4(lr: ListenerRuntime, down: net.Socket, first: Buffer | null, route: CompiledTlsRoute | undefined, info: StreamInfo): void {
  const handle = { socket: down, drain(): void { /* TCP streams run to their end; shutdown force-closes */ } };
  let logged = false;
  const finish = (): void => {
    if (logged) return;
    logged = true;
    lr.connections.delete(handle);
    info.bytesReceived = down.bytesRead;
    info.bytesSent = down.bytesWritten;
    info.endHr = performance.now();
    lr.sink.onStreamDone(info);
  };
  const fail = (flag: string, detail: string): void => {
    info.addFlag(flag);
    info.connectionTerminationDetails = detail;
    down.destroy();
    finish();
  };
  if (route === undefined) { fail(Flag.NoRouteFound, 'no_matching_route'); return; }
  info.routeName = route.ir.id;
  info.routeId = route.ir.id;
  const backend = route.pick();
  if (backend === undefined || backend.cluster === undefined) {
    fail(backend?.invalid?.flag ?? Flag.NoClusterFound, backend?.invalid?.detail ?? 'cluster_not_found');
    return;
  }
  const cluster = backend.cluster;
  info.upstreamCluster = cluster.ir.name;
  info.destinationService = cluster.ir.serviceHost;
  const ep = cluster.pick();
  if (ep === undefined) { fail(Flag.NoHealthyUpstream, 'no_healthy_upstream'); return; }
  info.upstreamHost = ep.address.includes(':') ? `[${ep.address}]:${ep.port}` : `${ep.address}:${ep.port}`;
  lr.connections.add(handle);
  ep.active++;
  cluster.active++;
  cluster.total++;
  ep.totalRequests++;
  const up = net.connect({ host: ep.address, port: ep.port, noDelay: true, allowHalfOpen: true });
  up.setTimeout(cluster.ir.connectTimeoutMs);
  let connected = false;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    ep.active--;
    cluster.active--;
  };
  up.on('timeout', () => {
    if (!connected) { info.upstreamTransportFailureReason = 'connect timeout'; info.addFlag(Flag.UpstreamConnectionFailure); up.destroy(); down.destroy(); }
  });
  up.once('connect', () => {
    connected = true;
    up.setTimeout(0);
    info.upstreamLocalAddress = fmtAddr(up.localAddress, up.localPort);
    info.upstreamSentHr = performance.now();
    if (first !== null && first.length > 0) up.write(first);
    down.pipe(up);
    up.pipe(down);
    down.resume();
  });
  up.on('error', (e: NodeJS.ErrnoException) => {
    if (!connected) {
      info.addFlag(Flag.UpstreamConnectionFailure);
      info.upstreamTransportFailureReason = e.code ?? e.message;
    }
    down.destroy();
  });
  down.on('error', () => { up.destroy(); });
  up.on('close', () => { release(); if (!down.destroyed && !down.writableEnded) down.end(); if (!connected) finish(); });
  down.on('close', () => { up.destroy(); release(); finish(); });
}
