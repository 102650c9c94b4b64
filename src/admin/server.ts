/**
 * Admin API (node:http, loopback by default): /ready, /config_dump, /clusters, /listeners.
 * Read-only views of every pipeline stage; it never mutates the data plane.
 */
import http from 'node:http';
import { keyString } from '../errors/diagnostic.js';
import type { Gateway } from '../runtime/gateway.js';
import { certInventory } from './certs.js';

export interface AdminOptions {
  readonly port: number;
  readonly address: string;
  /** Bind this process's own port even in a cluster worker (a worker's private admin API). */
  readonly exclusive?: boolean;
  /** Serves `GET /stats/prometheus` (text 0.0.4, or OpenMetrics when the Accept header asks). */
  readonly metrics?: { render(accept?: string): { readonly body: string; readonly contentType: string } };
}

export function startAdmin(gw: Gateway, opts: AdminOptions): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    try {
      if (url.pathname === '/stats/prometheus' && opts.metrics) {
        const m = opts.metrics.render(req.headers.accept);
        send(res, 200, m.body, m.contentType);
        return;
      }
      route(gw, url, res);
    } catch (e) {
      send(res, 500, { error: (e as Error).message });
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: opts.port, host: opts.address, exclusive: opts.exclusive === true }, () => resolve(server));
  });
}

function send(res: http.ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function route(gw: Gateway, url: URL, res: http.ServerResponse): void {
  switch (url.pathname) {
    case '/ready':
      if (gw.ready()) send(res, 200, 'LIVE\n', 'text/plain');
      else send(res, 503, gw.draining ? 'DRAINING\n' : 'NOT READY\n', 'text/plain');
      return;
    case '/healthz':
      send(res, 200, 'OK\n', 'text/plain');
      return;
    case '/config_dump':
      send(res, 200, configDump(gw, url.searchParams.get('include_ir') === 'true'));
      return;
    case '/clusters':
      send(res, 200, clusters(gw));
      return;
    case '/listeners':
      send(res, 200, gw.listenerStates());
      return;
    case '/certs':
      send(res, 200, certInventory(gw));
      return;
    case '/':
      send(res, 200, { endpoints: ['/ready', '/config_dump', '/config_dump?include_ir=true', '/clusters', '/listeners', '/certs', '/healthz', '/stats/prometheus'] });
      return;
    default:
      send(res, 404, { error: `Unknown admin path "${url.pathname}"` });
  }
}

/** Every resource with its status and diagnostics, the snapshot summary and the generation. */
export function configDump(gw: Gateway, includeIr: boolean): unknown {
  const t = gw.lastTranslation;
  const snap = gw.snapshot;
  const diagnosticsByKey = new Map<string, unknown[]>();
  const fileDiagnostics: unknown[] = [];
  for (const d of t?.diagnostics ?? []) {
    const entry = {
      severity: d.severity, code: d.code, path: d.path, message: d.message,
      ...(d.suggestion ? { suggestion: d.suggestion } : {}),
      ...(d.origin ? { origin: `${d.origin.file}:${d.origin.line}:${d.origin.col}` } : {}),
    };
    if (!d.resource) { fileDiagnostics.push(entry); continue; }
    const k = keyString(d.resource);
    let l = diagnosticsByKey.get(k);
    if (!l) diagnosticsByKey.set(k, (l = []));
    l.push(entry);
  }
  const resources = [...(t?.statuses.values() ?? [])]
    .sort((a, b) => keyString(a.key).localeCompare(keyString(b.key)))
    .map((s) => ({
      kind: s.key.kind, namespace: s.key.namespace, name: s.key.name, status: s.state,
      ...(s.reasons.length ? { reasons: s.reasons } : {}),
      ...(s.parents ? { parents: s.parents } : {}),
      ...(diagnosticsByKey.has(keyString(s.key)) ? { diagnostics: diagnosticsByKey.get(keyString(s.key)) } : {}),
    }));
  return {
    generation: gw.generation,
    reloads: gw.stats,
    snapshot: snap ? {
      version: snap.version,
      irHash: snap.irHash,
      createdAt: new Date(snap.createdAt).toISOString(),
      listeners: [...snap.listeners.values()].map((l) => ({
        name: l.ir.name,
        port: l.ir.port,
        servers: l.ir.servers.map((s) => ({
          name: s.name, hostnames: s.hostnames, ...(s.httpsRedirect ? { httpsRedirect: true } : {}),
          virtualHosts: s.virtualHosts.map((v) => ({ name: v.name, domains: v.domains, routes: v.routes.map((r) => r.id) })),
        })),
      })),
      clusters: [...snap.clusters.keys()],
    } : null,
    resources,
    fileDiagnostics,
    ...(includeIr && snap ? { ir: snap.ir } : {}),
  };
}

/** Each cluster's endpoints with live state. */
export function clusters(gw: Gateway): unknown {
  const snap = gw.snapshot;
  if (!snap) return [];
  return [...snap.clusters.values()].map((c) => ({
    name: c.ir.name,
    service: c.ir.serviceHost,
    port: c.ir.servicePort,
    ...(c.ir.subset ? { subset: c.ir.subset } : {}),
    protocol: c.ir.protocol,
    lb: c.ir.lb,
    requestsActive: c.active,
    requestsTotal: c.total,
    endpoints: c.endpoints.map((e) => ({
      address: `${e.address}:${e.port}`,
      weight: e.weight,
      requestsActive: e.active,
      requestsTotal: e.totalRequests,
      connections: e.h1 ? { open: e.h1.total, idle: e.h1.idleCount, opened: e.h1.opened } : { open: e.h2?.total ?? 0 },
      health: 'HEALTHY',
    })),
  }));
}
