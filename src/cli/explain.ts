/**
 * `portico explain`: route one request offline through the very same compiled route tables
 * the data plane uses (compileRouteTable + findRoute/explainRoute), and print each decision.
 */
import { loadPaths } from '../config/sources/file-loader.js';
import { translate } from '../config/translate/index.js';
import type { RouteIR } from '../config/ir/types.js';
import { explainRoute } from '../dataplane/router/route-table.js';
import { hostWithoutPort, type RequestView } from '../dataplane/router/request-view.js';
import { normalizePath } from '../dataplane/http/path.js';
import { buildSnapshot } from '../runtime/build.js';
import { Registry } from '../runtime/registry.js';
import type { CompiledAction } from '../runtime/actions.js';
import { buildRedirect } from '../dataplane/http/dispatch.js';
import { identityFrom } from './run.js';
import { intFlag, UsageError } from './flags.js';

export async function explainCommand(v: Record<string, unknown>, positionals: string[]): Promise<number> {
  const paths = (v.config as string[] | undefined) ?? [];
  if (paths.length === 0) throw new UsageError('Missing --config PATH');
  const spec = positionals.join(' ').trim();
  const m = /^([A-Za-z]+)\s+(\S+)$/.exec(spec);
  if (!m) throw new UsageError(`Invalid request "${spec}": expected 'METHOD URL', e.g. 'GET http://shop.example.com/cart'`);
  let url: URL;
  try { url = new URL(m[2]!); } catch { throw new UsageError(`Invalid URL "${m[2]}"`); }
  const identity = identityFrom(v);
  const loaded = await loadPaths(paths);
  const t = translate(loaded.resources, identity);
  const registry = new Registry();
  const { snapshot } = buildSnapshot(t.ir, 1, registry, new Map());
  const out: string[] = [];
  const listeners = [...snapshot.listeners.values()];
  const port = v.port !== undefined ? intFlag(v, 'port', 0, 1, 65535)
    : url.port ? Number(url.port) : listeners.length === 1 ? listeners[0]!.ir.port : (url.protocol === 'https:' ? 443 : 80);
  const lnames: string[] = [];
  const values: string[] = [];
  for (const h of (v.header as string[] | undefined) ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw new UsageError(`Invalid header "${h}": expected 'name: value'`);
    lnames.push(h.slice(0, i).trim().toLowerCase());
    values.push(h.slice(i + 1).trim());
  }
  const authority = url.host;
  const req: RequestView = {
    method: m[1]!.toUpperCase(),
    path: normalizePath(decodeURI(url.pathname) === url.pathname ? url.pathname : url.pathname) ?? url.pathname,
    query: url.search.slice(1),
    authority,
    host: hostWithoutPort(authority),
    scheme: url.protocol.replace(':', ''),
    port,
    lnames,
    values,
    parsedQuery: undefined,
  };
  out.push(`request   ${req.method} ${req.scheme}://${authority}${req.path}${req.query ? `?${req.query}` : ''} (listener port ${port})`);
  const listener = listeners.find((l) => l.ir.port === port);
  if (!listener) {
    out.push(`listener  none on port ${port} (listeners: ${listeners.map((l) => l.ir.name).join(', ') || 'none'})`);
    out.push('result    connection refused: no listener');
    process.stdout.write(`${out.join('\n')}\n`);
    return 1;
  }
  out.push(`listener  ${listener.ir.name}`);
  const ex = explainRoute(listener.table, req);
  for (const s of ex.servers) out.push(`  server  ${s.matched ? '✔' : '✘'} ${s.candidate}: ${s.reason}`);
  for (const s of ex.vhosts) out.push(`  vhost   ${s.matched ? '✔' : '✘'} ${s.candidate}: ${s.reason}`);
  for (const s of ex.routes) out.push(`  route   ${s.matched ? '✔' : '✘'} ${s.candidate}: ${s.reason}`);
  const res = ex.result;
  if (res?.server.ir.httpsRedirect) {
    out.push(`result    301 https redirect (server ${res.server.ir.name} has httpsRedirect)`);
  } else if (!res?.vhost) {
    out.push('result    404 NR route_not_found: no virtual host matches the host');
  } else if (!res.route) {
    out.push('result    404 NR route_not_found: no route of the virtual host matched');
  } else {
    const r = res.route.ir;
    out.push(`matched   ${r.id} (from ${r.source.kind}/${r.source.namespace}/${r.source.name} ${r.sourcePath})`);
    describeAction(out, r, res.route.action, req);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

function describeAction(out: string[], r: RouteIR, a: CompiledAction, req: RequestView): void {
  if (a.type === 'direct') { out.push(`result    ${a.status} direct response (${a.body.length} bytes)`); return; }
  if (a.type === 'redirect') { out.push(`result    ${a.ir.statusCode} redirect to ${buildRedirect(a.ir, a.pathRewrite, req)}`); return; }
  const total = a.totalWeight || 1;
  for (const b of a.backends) {
    const pct = ((b.weight / total) * 100).toFixed(1);
    if (b.invalid) out.push(`backend   ${pct}% → local reply ${b.invalid.status} ${b.invalid.flag} ${b.invalid.detail}`);
    else out.push(`backend   ${pct}% → cluster ${b.cluster!.ir.name} (${b.cluster!.endpoints.length} endpoints, ${b.cluster!.ir.lb}, ${b.cluster!.ir.protocol})`);
  }
  const filters: string[] = [];
  if (a.pathRewrite) filters.push(`path rewrite → ${a.pathRewrite(req.path)}`);
  if (a.authority) filters.push(`authority rewrite → ${a.authority}`);
  if (r.requestHeaders) filters.push(`request headers ${JSON.stringify(r.requestHeaders)}`);
  if (r.responseHeaders) filters.push(`response headers ${JSON.stringify(r.responseHeaders)}`);
  if (a.timeoutMs) filters.push(`timeout ${a.timeoutMs} ms`);
  if (a.retry) filters.push(`retries ${a.retry.attempts}${a.retry.perTryTimeoutMs ? ` (per try ${a.retry.perTryTimeoutMs} ms)` : ''}`);
  for (const mm of a.mirrors) filters.push(`mirror ${(mm.fraction * 100).toFixed(1)}% → ${mm.cluster.ir.name}`);
  for (const f of r.filters ?? []) filters.push(f.type);
  out.push(`filters   ${filters.length ? filters.join('; ') : 'none'}`);
}
