/**
 * The action of an HTTP route: `route[]` (forward to weighted destinations), `redirect`,
 * `directResponse`; plus `mirror`/`mirrors[]`, which also resolve destinations.
 *
 * Unresolvable destinations do not drop the route: Istio keeps it and traffic to that
 * destination fails. Unknown host or port → 503 `cluster_not_found` (flag NC, Istio
 * blackholes the cluster). Unknown subset → 503 `no_healthy_upstream` (flag UH): Istio emits
 * a cluster name with no endpoints behind it, so the client sees "no healthy upstream" —
 * never a fallback to all endpoints.
 */
import type { BackendIR, MirrorIR, RouteActionIR } from '../../ir/types.js';
import type { TranslateContext } from '../context.js';
import { at, atIndex, intIn, isObj, str, type Loc, type Reporter } from './diag.js';
import { translateHeaders } from './headers.js';
import type { Sourced } from './sourced.js';

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

/** Translates the route's action; undefined when the route must be dropped. */
export function translateAction(route: Sourced, ctx: TranslateContext, rep: Reporter, routeLoc: Loc): RouteActionIR | undefined {
  const v = route.value;
  const present = (['route', 'redirect', 'directResponse'] as const).filter((k) =>
    k === 'route' ? Array.isArray(v[k]) && (v[k] as unknown[]).length > 0 : v[k] !== undefined && v[k] !== null);
  if (present.length === 0) {
    rep.report('ISTIO_ROUTE_ACTION_INVALID', 'error', routeLoc, 'Dropping route: it has no route, redirect, directResponse or delegate');
    return undefined;
  }
  if (present.length > 1) {
    rep.report('ISTIO_ROUTE_ACTION_INVALID', 'error', routeLoc, `Dropping route: only one of route, redirect, directResponse may be set, found ${present.join(', ')}`);
    return undefined;
  }
  switch (present[0]!) {
    case 'route':
      return translateForward(v['route'] as unknown[], route.loc('route'), ctx, rep);
    case 'redirect':
      return translateRedirect(v['redirect'], route.loc('redirect'), rep);
    default:
      return translateDirect(v['directResponse'], route.loc('directResponse'), rep);
  }
}

/** `route[]` destinations → a forward action (also used by tls/tcp routes); undefined drops the route. */
export function translateForward(list: readonly unknown[], loc: Loc, ctx: TranslateContext, rep: Reporter): Extract<RouteActionIR, { type: 'forward' }> | undefined {
  const ns = loc.resource.namespace;
  const entries: { k: number; entry: Record<string, unknown>; target: Destination; weight: number | undefined }[] = [];
  for (let k = 0; k < list.length; k++) {
    const l = atIndex(loc, k);
    const entry = isObj(list[k]) ? (list[k] as Record<string, unknown>) : {};
    const target = readDestination(entry['destination'], at(l, 'destination'), rep, 'route');
    if (!target) return undefined;
    const w = entry['weight'];
    if (w !== undefined && intIn(w, 0, 2 ** 31 - 1) === undefined) {
      rep.report('ISTIO_FIELD_INVALID', 'error', at(l, 'weight'), 'Dropping route: weight must be a non-negative integer');
      return undefined;
    }
    entries.push({ k, entry, target, weight: w as number | undefined });
  }
  // A single destination takes all traffic whatever its weight. With several, weight 0
  // (or absent, which is 0 in the proto) removes a destination; when no weight is set at
  // all the destinations share traffic equally. Dropped destinations are not resolved, so
  // they request no cluster.
  let weighted: { k: number; entry: Record<string, unknown>; target: Destination; weight: number }[];
  if (entries.length === 1) weighted = [{ ...entries[0]!, weight: 100 }];
  else if (entries.every((e) => !e.weight)) weighted = entries.map((e) => ({ ...e, weight: 1 }));
  else weighted = entries.filter((e) => (e.weight ?? 0) > 0).map((e) => ({ ...e, weight: e.weight! }));
  const backends = weighted.map(({ k, entry, target, weight }): BackendIR => {
    const l = atIndex(loc, k);
    const resolved = resolveBackend(ctx, rep, target, ns, at(l, 'destination'));
    const headers = translateHeaders(entry['headers'], at(l, 'headers'), rep);
    return {
      weight,
      ...resolved,
      ...(headers.request.ops ? { requestHeaders: headers.request.ops } : {}),
      ...(headers.response.ops ? { responseHeaders: headers.response.ops } : {}),
      ...(headers.request.authority !== undefined ? { authority: headers.request.authority } : {}),
    };
  });
  return { type: 'forward', backends };
}

/** A destination as written: host (as given), optional port and subset. */
interface Destination {
  readonly host: string;
  readonly port?: number;
  readonly subset?: string;
}

function readDestination(v: unknown, loc: Loc, rep: Reporter, what: 'route' | 'mirror'): Destination | undefined {
  const host = isObj(v) ? str(v['host']) : undefined;
  if (!isObj(v) || !host) {
    if (what === 'route') rep.report('ISTIO_ROUTE_ACTION_INVALID', 'error', at(loc, 'host'), 'Dropping route: destination.host is required');
    else rep.report('ISTIO_MIRROR_NOT_FOUND', 'warning', at(loc, 'host'), 'Dropping mirror: destination.host is required');
    return undefined;
  }
  const out: { host: string; port?: number; subset?: string } = { host };
  const port = isObj(v['port']) ? v['port']['number'] : undefined;
  if (port !== undefined) {
    const n = intIn(port, 1, 65535);
    if (n === undefined) {
      rep.report('ISTIO_FIELD_INVALID', 'error', at(at(loc, 'port'), 'number'), `Dropping ${what}: port.number must be an integer from 1 to 65535`);
      return undefined;
    }
    out.port = n;
  }
  const subset = str(v['subset']);
  if (subset) out.subset = subset;
  return out;
}

/** Resolves a destination to a cluster, or to a local 503 answer with a warning. */
function resolveBackend(ctx: TranslateContext, rep: Reporter, d: Destination, ns: string, loc: Loc): Pick<BackendIR, 'cluster' | 'invalid'> {
  // ClusterResult.message is a full sentence naming the host, port or subset.
  const host = ctx.fqdn(d.host.toLowerCase(), ns);
  const r = ctx.registry.cluster({ host, fromNamespace: ns, ...(d.port !== undefined ? { port: d.port } : {}), ...(d.subset ? { subset: d.subset } : {}) });
  if (r.ok) return { cluster: r.name };
  if (r.reason === 'subset_not_found') {
    rep.report('ISTIO_SUBSET_NOT_FOUND', 'warning', at(loc, 'subset'), `${r.message}; requests get 503 no_healthy_upstream`);
    return { invalid: { status: 503, detail: 'no_healthy_upstream', flag: 'UH' } };
  }
  const field = r.reason === 'service_not_found' ? at(loc, 'host') : at(at(loc, 'port'), 'number');
  rep.report('ISTIO_DESTINATION_NOT_FOUND', 'warning', field, `${r.message}; requests get 503 cluster_not_found`);
  return { invalid: { status: 503, detail: 'cluster_not_found', flag: 'NC' } };
}

function translateRedirect(v: unknown, loc: Loc, rep: Reporter): RouteActionIR | undefined {
  if (!isObj(v)) {
    rep.report('ISTIO_FIELD_INVALID', 'error', loc, 'Dropping route: redirect must be an object');
    return undefined;
  }
  const code = v['redirectCode'] ?? 301;
  if (typeof code !== 'number' || !REDIRECT_CODES.has(code)) {
    // Istio emits the route without an action, which Envoy rejects; drop it visibly instead.
    rep.report('ISTIO_REDIRECT_CODE_INVALID', 'error', at(loc, 'redirectCode'), `Dropping route: redirectCode ${JSON.stringify(code)} is not one of 301, 302, 303, 307, 308`);
    return undefined;
  }
  const out: { -readonly [K in keyof Extract<RouteActionIR, { type: 'redirect' }>]: Extract<RouteActionIR, { type: 'redirect' }>[K] } = {
    type: 'redirect', portMode: 'Original', statusCode: code,
  };
  const uri = str(v['uri']);
  if (uri !== undefined && uri !== '') out.path = { type: 'ReplaceFull', value: uri };
  const authority = str(v['authority']);
  if (authority !== undefined && authority !== '') out.host = authority;
  const scheme = str(v['scheme']);
  if (scheme !== undefined && scheme !== '') out.scheme = scheme.toLowerCase();
  if (v['port'] !== undefined && v['derivePort'] !== undefined) {
    rep.report('ISTIO_FIELD_INVALID', 'error', at(loc, 'derivePort'), 'Dropping route: redirect port and derivePort are mutually exclusive');
    return undefined;
  }
  if (v['port'] !== undefined) {
    const port = intIn(v['port'], 1, 65535);
    if (port === undefined) {
      rep.report('ISTIO_FIELD_INVALID', 'error', at(loc, 'port'), 'Dropping route: redirect port must be an integer from 1 to 65535');
      return undefined;
    }
    out.port = port;
  } else if (v['derivePort'] === 'FROM_REQUEST_PORT') out.portMode = 'FromRequest';
  else if (v['derivePort'] === 'FROM_PROTOCOL_DEFAULT') out.portMode = 'FromScheme';
  else if (v['derivePort'] !== undefined) {
    rep.report('ISTIO_FIELD_INVALID', 'error', at(loc, 'derivePort'),
      `Dropping route: derivePort ${JSON.stringify(v['derivePort'])} is not FROM_PROTOCOL_DEFAULT or FROM_REQUEST_PORT`);
    return undefined;
  }
  if (v['prefixRewrite'] !== undefined) {
    rep.report('ISTIO_FIELD_NOT_YET_SUPPORTED', 'warning', at(loc, 'prefixRewrite'), 'Ignoring redirect.prefixRewrite: not supported yet (later release)');
  }
  return out;
}

function translateDirect(v: unknown, loc: Loc, rep: Reporter): RouteActionIR | undefined {
  const status = isObj(v) ? intIn(v['status'], 200, 599) : undefined;
  if (!isObj(v) || status === undefined) {
    rep.report('ISTIO_FIELD_INVALID', 'error', at(loc, 'status'), 'Dropping route: directResponse.status must be an integer from 200 to 599');
    return undefined;
  }
  const body = v['body'];
  if (body === undefined || body === null) return { type: 'direct', status };
  const text = isObj(body) ? str(body['string']) : undefined;
  const bytes = isObj(body) ? str(body['bytes']) : undefined;
  if (!isObj(body) || (text === undefined) === (bytes === undefined)) {
    rep.report('ISTIO_FIELD_INVALID', 'error', at(loc, 'body'), 'Dropping route: directResponse.body must set exactly one of string, bytes');
    return undefined;
  }
  if (bytes !== undefined) {
    if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(bytes)) {
      rep.report('ISTIO_FIELD_INVALID', 'error', at(at(loc, 'body'), 'bytes'), 'Dropping route: directResponse.body.bytes is not base64');
      return undefined;
    }
    return { type: 'direct', status, bodyBase64: bytes.replace(/\s+/g, '') };
  }
  return { type: 'direct', status, body: text! };
}

/**
 * `mirror` + `mirrorPercentage` (default 100, explicit 0 = off; deprecated integer
 * `mirrorPercent` still read) and `mirrors[]` {destination, percentage}. An unresolvable
 * mirror is dropped: mirroring is best effort and never affects the client response.
 */
export function translateMirrors(route: Sourced, ctx: TranslateContext, rep: Reporter): MirrorIR[] {
  const out: MirrorIR[] = [];
  const add = (dest: unknown, pct: unknown, destLoc: Loc, pctLoc: Loc, ns: string) => {
    const percent = readPercent(pct, pctLoc, rep);
    if (percent === undefined || percent === 0) return;
    const d = readDestination(dest, destLoc, rep, 'mirror');
    if (!d) return;
    const host = ctx.fqdn(d.host.toLowerCase(), ns);
    const r = ctx.registry.cluster({ host, fromNamespace: ns, ...(d.port !== undefined ? { port: d.port } : {}), ...(d.subset ? { subset: d.subset } : {}) });
    if (!r.ok) {
      rep.report('ISTIO_MIRROR_NOT_FOUND', 'warning', at(destLoc, r.reason === 'subset_not_found' ? 'subset' : 'host'), `${r.message}; the mirror is dropped`);
      return;
    }
    out.push({ cluster: r.name, percent });
  };
  const v = route.value;
  if (v['mirror'] !== undefined) {
    const pct = v['mirrorPercentage'] !== undefined
      ? (isObj(v['mirrorPercentage']) ? v['mirrorPercentage']['value'] : v['mirrorPercentage'])
      : v['mirrorPercent'];
    const pctLoc = v['mirrorPercentage'] !== undefined ? at(route.loc('mirrorPercentage'), 'value') : route.loc('mirrorPercent');
    add(v['mirror'], pct, route.loc('mirror'), pctLoc, route.loc('mirror').resource.namespace);
  }
  const list = v['mirrors'];
  if (Array.isArray(list)) {
    const base = route.loc('mirrors');
    list.forEach((m: unknown, i: number) => {
      const l = atIndex(base, i);
      const pct = isObj(m) && isObj(m['percentage']) ? m['percentage']['value'] : undefined;
      add(isObj(m) ? m['destination'] : undefined, pct, at(l, 'destination'), at(at(l, 'percentage'), 'value'), base.resource.namespace);
    });
  }
  return out;
}

/** Percentage 0–100 (fractions allowed); absent = 100. */
function readPercent(v: unknown, loc: Loc, rep: Reporter): number | undefined {
  if (v === undefined || v === null) return 100;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) {
    rep.report('ISTIO_FIELD_INVALID', 'error', loc, 'Dropping mirror: the percentage must be a number from 0 to 100');
    return undefined;
  }
  return v;
}
