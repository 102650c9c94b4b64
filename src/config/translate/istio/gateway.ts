/**
 * Istio Gateway resources → the plaintext HTTP servers this proxy serves.
 *
 * A Gateway applies when its selector matches the proxy's labels (every entry equal; a
 * missing or empty selector applies to every proxy). HTTP, HTTP2, GRPC and GRPC-WEB servers
 * are plaintext HTTP; HTTPS servers terminate TLS (or pass it through, mode PASSTHROUGH) and
 * TLS servers route by SNI (PASSTHROUGH) or terminate and proxy TCP (SIMPLE/MUTUAL), see
 * server-tls.ts. TCP and MONGO servers are skipped with a warning while the Gateway's other
 * servers stay in effect.
 */
import { isIP } from 'node:net';
import type { ResourceKey } from '../../../errors/diagnostic.js';
import type { TlsServerIR } from '../../ir/types.js';
import type { LoadedResource } from '../../resources/types.js';
import type { ResourceStatus, TranslateContext } from '../context.js';
import type { CredentialMaterial } from '../tls/credentials.js';
import { at, atIndex, intIn, isObj, labelsMatch, str, strList, strMap, type Loc, type Reporter } from './diag.js';
import { parseServerHost, type ServerHost } from './hosts.js';
import { readServerTls } from './server-tls.js';

/** API group of Istio networking resources (Gateway API uses the same kind names). */
export const ISTIO_GROUP = 'networking.istio.io/';

/** True for `networking.istio.io/v1`, `v1beta1` and `v1alpha3` objects (same schema). */
export function isIstioNetworking(r: LoadedResource): boolean {
  return typeof r.object.apiVersion === 'string' && r.object.apiVersion.startsWith(ISTIO_GROUP);
}

/** One server of a served Gateway (plaintext HTTP, HTTPS or TLS). */
export interface PlainServer {
  readonly gateway: ResourceKey;
  /** `namespace/name`, as VirtualService `gateways` entries resolve. */
  readonly gatewayRef: string;
  /** `gateway/<ns>/<name>/server/<i>`. */
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly hosts: readonly ServerHost[];
  /** `tls.httpsRedirect: true`: every request gets a 301 to https. */
  readonly httpsRedirect: boolean;
  /** `HTTP` for every plaintext HTTP protocol; `HTTPS` and `TLS` carry `tls`. */
  readonly kind: 'HTTP' | 'HTTPS' | 'TLS';
  readonly tls?: TlsServerIR;
}

const HTTP_PROTOCOLS = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB']);

/** Gateways whose selector matches the proxy, and their servable servers. */
export interface GatewayScan {
  readonly servers: readonly PlainServer[];
  /** `namespace/name` of every Gateway applied to this proxy. */
  readonly served: ReadonlySet<string>;
  /** PEM material of the Secrets the servers use, by credential key (never part of the IR). */
  readonly credentials: ReadonlyMap<string, CredentialMaterial>;
}

/** Reads every Istio Gateway, sets its status and returns its servers. */
export function scanGateways(ctx: TranslateContext, rep: Reporter): GatewayScan {
  const servers: PlainServer[] = [];
  const served = new Set<string>();
  const credentials = new Map<string, CredentialMaterial>();
  const gateways = ctx.byKind('Gateway').filter(isIstioNetworking);
  for (const gw of [...gateways].sort((a, b) => keyOrder(a.key, b.key))) {
    const status = scanGateway(ctx, rep, gw, servers, credentials);
    if (status.state !== 'ignored' && status.state !== 'rejected') served.add(`${gw.key.namespace}/${gw.key.name}`);
    ctx.setStatus(status);
  }
  return { servers, served, credentials };
}

function scanGateway(ctx: TranslateContext, rep: Reporter, gw: LoadedResource, out: PlainServer[],
  credentials: Map<string, CredentialMaterial>): ResourceStatus {
  const key = gw.key;
  const spec: unknown = gw.object.spec;
  const selector = strMap(isObj(spec) ? spec['selector'] : undefined);
  if (!labelsMatch(selector, ctx.identity.labels)) {
    return {
      key,
      state: 'ignored',
      reasons: [`Selector ${JSON.stringify(selector)} does not match the proxy labels ${JSON.stringify(ctx.identity.labels)}`],
    };
  }
  const list = isObj(spec) ? spec['servers'] : undefined;
  if (!Array.isArray(list) || list.length === 0) {
    rep.report('ISTIO_SERVER_INVALID', 'error', { resource: key, path: 'spec.servers' }, 'Cannot serve Gateway: spec.servers is missing or empty');
    return { key, state: 'rejected', reasons: ['spec.servers is missing or empty'] };
  }
  const reasons: string[] = [];
  let skipped = 0;
  list.forEach((raw: unknown, i: number) => {
    const loc = atIndex({ resource: key, path: 'spec.servers' }, i);
    const server = readServer(ctx, rep, gw, raw, i, loc, credentials);
    if (typeof server === 'string') {
      skipped++;
      reasons.push(`Server ${i} skipped: ${server}`);
      return;
    }
    out.push(server);
    reasons.push(server.tls
      ? `Server ${i} serves ${server.kind} (${server.tls.mode}) on ${server.address}:${server.port}`
      : `Server ${i} serves plaintext HTTP on ${server.address}:${server.port}${server.httpsRedirect ? ' (https redirect)' : ''}`);
  });
  return { key, state: skipped > 0 ? 'partial' : 'accepted', reasons };
}

/** A servable server, or the reason it is skipped. */
function readServer(ctx: TranslateContext, rep: Reporter, gw: LoadedResource, raw: unknown, i: number, loc: Loc,
  credentials: Map<string, CredentialMaterial>): PlainServer | string {
  if (!isObj(raw)) {
    rep.report('ISTIO_SERVER_INVALID', 'error', loc, 'Cannot serve server: it is not an object');
    return 'not an object';
  }
  const port = isObj(raw['port']) ? raw['port'] : undefined;
  const number = intIn(port?.['number'], 1, 65535);
  if (number === undefined) {
    rep.report('ISTIO_SERVER_INVALID', 'error', at(at(loc, 'port'), 'number'), 'Cannot serve server: port.number must be an integer from 1 to 65535');
    return 'invalid port.number';
  }
  const protocol = (str(port?.['protocol']) ?? '').toUpperCase();
  if (protocol === '') {
    rep.report('ISTIO_SERVER_INVALID', 'error', at(at(loc, 'port'), 'protocol'), 'Cannot serve server: port.protocol is missing');
    return 'missing port.protocol';
  }
  if (!HTTP_PROTOCOLS.has(protocol) && protocol !== 'HTTPS' && protocol !== 'TLS') {
    rep.report(
      'ISTIO_SERVER_PROTOCOL_UNSUPPORTED', 'warning', at(at(loc, 'port'), 'protocol'),
      `Skipping server on port ${number}: protocol "${protocol}" is not served yet (TCP proxying arrives with a later release)`,
    );
    return `protocol ${protocol} not served yet`;
  }
  const hosts: ServerHost[] = [];
  const rawHosts = strList(raw['hosts']);
  rawHosts.forEach((h, k) => {
    const parsed = parseServerHost(h, gw.key.namespace);
    if (parsed) hosts.push(parsed);
    else rep.report('ISTIO_SERVER_INVALID', 'error', atIndex(at(loc, 'hosts'), k), `Ignoring server host "${h}": it has no DNS name`);
  });
  if (hosts.length === 0) {
    rep.report('ISTIO_SERVER_INVALID', 'error', at(loc, 'hosts'), 'Cannot serve server: hosts is missing or empty');
    return 'no hosts';
  }
  let address = ctx.identity.bindAddress;
  const bind = str(raw['bind']);
  if (bind !== undefined && bind !== '') {
    if (isIP(bind) === 0) {
      rep.report('ISTIO_SERVER_BIND_UNSUPPORTED', 'warning', at(loc, 'bind'), `Skipping server on port ${number}: bind "${bind}" is not an IP address`);
      return `bind ${bind} not supported`;
    }
    address = bind;
  }
  const tls = isObj(raw['tls']) ? raw['tls'] : undefined;
  const base = {
    gateway: gw.key,
    gatewayRef: `${gw.key.namespace}/${gw.key.name}`,
    name: `gateway/${gw.key.namespace}/${gw.key.name}/server/${i}`,
    address,
    port: number,
    hosts,
  };
  if (protocol === 'HTTPS' || protocol === 'TLS') {
    const r = readServerTls(ctx, rep, gw, raw['tls'], protocol, loc, credentials);
    if (!r.ok) return r.reason;
    return { ...base, httpsRedirect: false, kind: protocol, tls: r.tls };
  }
  return { ...base, httpsRedirect: tls?.['httpsRedirect'] === true, kind: 'HTTP' };
}

/** Orders resource keys by namespace, then name. */
export function keyOrder(a: ResourceKey, b: ResourceKey): number {
  return cmp(a.namespace, b.namespace) || cmp(a.name, b.name) || cmp(a.kind, b.kind);
}

/** Code-point string comparison (locale-independent, so output is byte-identical everywhere). */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
