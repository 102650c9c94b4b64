/**
 * Routing step shared by the HTTP/1.1 and HTTP/2 front ends: find the route, answer
 * everything that needs no upstream (404, httpsRedirect, redirect, direct response) and
 * hand back the forward action otherwise.
 */
import type { StreamInfo, StreamSink } from '../../observability/stream-info.js';
import type { CompiledAction } from '../../runtime/actions.js';
import { applyHeaderOps } from '../../runtime/actions.js';
import type { RouteTable } from '../router/route-table.js';
import { findRoute } from '../router/route-table.js';
import type { RequestView } from '../router/request-view.js';
import { Detail, Flag } from './details.js';
import type { Downstream } from './downstream.js';
import { appendForwardedFor } from './forwarded.js';
import { localReply } from './local-reply.js';
import { newRequestId } from './request-id.js';

/** Per-listener state the front ends read on every request. `table` is swapped atomically. */
export interface ListenerRuntime {
  readonly port: number;
  table: RouteTable<CompiledAction>;
  sink: StreamSink;
  draining: boolean;
  idleTimeoutMs: number;
  /**
   * Open downstream connections. `drain(closeAfterMs)`: busy ones close after their current
   * response, idle ones close now or, with closeAfterMs > 0, after that long without activity
   * (HTTP/1.1) or send GOAWAY after that delay (HTTP/2), so closes are spread out (jitter).
   */
  readonly connections: Set<{ drain(closeAfterMs?: number): void }>;
  h2Handoff(socket: import('node:net').Socket): void;
  /** Scheme of requests on this listener (`http`, or `https` behind TLS). */
  scheme(head: unknown): string;
  /** TLS connections: what the handshake decided (server pinned by SNI, client certificate). */
  readonly tls?: TlsConnInfo;
  /** Trusted proxy hops in front (Envoy xff_num_trusted_hops); 0/absent = trust nothing. */
  readonly trustedProxies?: number;
  /** X-Forwarded-Client-Cert policy (Envoy forward_client_cert_details); absent = SANITIZE_SET. */
  readonly forwardClientCert?: ForwardClientCertMode;
}

/** Envoy forward_client_cert_details values. */
export type ForwardClientCertMode = 'SANITIZE' | 'FORWARD_ONLY' | 'APPEND_FORWARD' | 'SANITIZE_SET' | 'ALWAYS_FORWARD_ONLY';

/** Per TLS connection facts. */
export interface TlsConnInfo {
  /** Name of the ServerIR the SNI selected: routing never leaves it. */
  readonly server: string;
  /** SNI as received ('' when the client sent none). */
  readonly sni: string;
  /** This connection's own XFCC element when the client presented a verified certificate. */
  readonly xfcc?: string;
}

const NOT_FOUND = Buffer.alloc(0);

/**
 * Route the request; returns the forward action, or undefined when it was answered here.
 * `peerIp` is the connection's peer (X-Forwarded-For of a local reply).
 */
export function dispatchLocalAction(lr: ListenerRuntime, ds: Downstream, req: RequestView, info: StreamInfo, peerIp: string):
  Extract<CompiledAction, { type: 'forward' }> | undefined {
  const tls = lr.tls;
  if (tls !== undefined) info.requestedServerName = tls.sni;
  const found = findRoute(lr.table, req, tls?.server);
  // Envoy require_tls ALL: a request that already is https (trusted X-Forwarded-Proto behind a
  // TLS-offloading load balancer, --trusted-proxies) is served, not redirected again.
  if (found !== undefined && found.server.ir.httpsRedirect && req.scheme !== 'https') {
    info.detail = Detail.httpsRedirect;
    const loc = `https://${req.host}${req.path}${req.query ? `?${req.query}` : ''}`;
    finishLocal(lr, ds, req, peerIp, info, 301, ['location'], [loc], NOT_FOUND);
    return undefined;
  }
  const route = found?.route;
  if (route === undefined) {
    info.addFlag(Flag.NoRouteFound);
    info.detail = Detail.routeNotFound;
    finishLocal(lr, ds, req, peerIp, info, 404, [], [], NOT_FOUND);
    return undefined;
  }
  const a = route.action;
  info.routeName = a.routeName;
  info.routeId = a.routeId;
  if (a.type === 'forward') return a;
  if (a.type === 'direct') {
    info.detail = a.detail;
    let n: readonly string[] = a.body.length ? ['content-type'] : [];
    let v: readonly string[] = a.body.length ? ['text/plain'] : [];
    if (a.responseOps) ({ lnames: n, values: v } = applyHeaderOps(a.responseOps, n, v, info));
    finishLocal(lr, ds, req, peerIp, info, a.status, n, v, a.body);
    return undefined;
  }
  // Redirect.
  info.detail = Detail.directResponse;
  const location = buildRedirect(a.ir, a.pathRewrite, req);
  let n: readonly string[] = ['location'];
  let v: readonly string[] = [location];
  if (a.responseOps) ({ lnames: n, values: v } = applyHeaderOps(a.responseOps, n, v, info));
  finishLocal(lr, ds, req, peerIp, info, a.ir.statusCode, n, v, NOT_FOUND);
  return undefined;
}

function finishLocal(lr: ListenerRuntime, ds: Downstream, req: RequestView, peerIp: string, info: StreamInfo, status: number,
  lnames: readonly string[], values: readonly string[], body: Buffer): void {
  stampLocal(req, info, peerIp);
  localReply(ds, status, lnames, values, body, info);
  info.endHr = performance.now();
  lr.sink.onStreamDone(info);
}

/**
 * Envoy mutates request headers before routing, so a locally answered request logs the same
 * x-request-id (the client's, else a generated one) and x-forwarded-for (the client's with the
 * peer appended) as a forwarded one would.
 */
function stampLocal(req: RequestView, info: StreamInfo, peerIp: string): void {
  const n = req.lnames;
  const v = req.values;
  let xff: string | undefined;
  let id = '';
  for (let i = 0; i < n.length; i++) {
    const k = n[i]!;
    if (k === 'x-request-id') { if (id === '') id = v[i]!; }
    else if (k === 'x-forwarded-for') xff = xff === undefined ? v[i]! : `${xff}, ${v[i]!}`;
  }
  if (info.requestId === '') info.requestId = id !== '' ? id : newRequestId();
  if (info.xForwardedFor === '' && peerIp !== '') info.xForwardedFor = appendForwardedFor(xff, peerIp);
}

const DEFAULT_PORT: Readonly<Record<string, number>> = { http: 80, https: 443 };

/** Build the Location of a redirect (Envoy RedirectAction / Gateway API RequestRedirect). */
export function buildRedirect(r: Extract<CompiledAction, { type: 'redirect' }>['ir'],
  rewrite: ((p: string) => string) | undefined, req: RequestView): string {
  const scheme = r.scheme ?? req.scheme;
  let host = r.host ?? req.host;
  let port: number | undefined;
  if (r.port !== undefined) port = r.port;
  else {
    switch (r.portMode) {
      case 'FromRequest': port = req.port; break;
      case 'FromScheme': port = undefined; break;
      case 'Keep': port = r.scheme !== undefined ? undefined : req.port; break;
      case 'Original': {
        // No authority rewrite and no scheme change keeps the Host as received (port included).
        if (r.host === undefined && r.scheme === undefined) host = req.authority;
        break;
      }
    }
  }
  if (port !== undefined && port !== DEFAULT_PORT[scheme]) {
    if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
    host = `${host}:${port}`;
  }
  let path = rewrite ? rewrite(req.path) : req.path;
  let query = req.query;
  const qi = path.indexOf('?');
  if (qi !== -1) { query = path.slice(qi + 1); path = path.slice(0, qi); }
  return `${scheme}://${host}${path}${query ? `?${query}` : ''}`;
}

