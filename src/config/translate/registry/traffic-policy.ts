/**
 * DestinationRule traffic policies: parsing (with diagnostics, once per rule), the Istio
 * inheritance rules, and the cluster settings they produce.
 *
 * Inheritance, as Istio's MergeTrafficPolicy does it (istio-networking.md §3):
 * 1. the rule's portLevelSettings block for the port REPLACES the top-level policy wholesale
 *    (omitted fields take defaults, not top-level values);
 * 2. a subset's policy INHERITS that result per field (loadBalancer, connectionPool: a field
 *    the subset sets replaces the inherited one whole);
 * 3. the subset's own portLevelSettings block for the port replaces everything again.
 */
import { CLUSTER_DEFAULTS, type LbPolicy } from '../../ir/types.js';
import type { LoadedResource } from '../../resources/types.js';
import { parseDuration } from '../../resources/duration.js';
import { type DiagnosticSink, portNumber } from './shared.js';

/** Connection pool fields Portico applies; absent = default (limits unlimited). */
export interface ConnectionPoolSettings {
  readonly maxConnections?: number;
  readonly connectTimeoutMs?: number;
  readonly maxPendingRequests?: number;
  readonly maxRequests?: number;
  readonly maxRequestsPerConnection?: number;
  readonly idleTimeoutMs?: number;
  /** http.h2UpgradePolicy UPGRADE: speak h2c to HTTP/1.1 ports. */
  readonly h2Upgrade?: boolean;
}

/** ClientTLSSettings as written (istio-networking.md §3); resolved into ClusterTlsIR by the registry. */
export interface ClientTlsPolicy {
  readonly mode: 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';
  readonly clientCertificate?: string;
  readonly privateKey?: string;
  readonly caCertificates?: string;
  readonly credentialName?: string;
  readonly sni?: string;
  readonly subjectAltNames?: readonly string[];
  readonly insecureSkipVerify?: boolean;
  /** Field path of the block, for diagnostics. */
  readonly path: string;
}

/** One policy block (top level, port level or subset). A present field replaces whole. */
export interface PolicyBlock {
  readonly loadBalancer?: { readonly lb: LbPolicy };
  readonly connectionPool?: ConnectionPoolSettings;
  readonly tls?: ClientTlsPolicy;
}

/** A parsed TrafficPolicy: the top-level block and its portLevelSettings by port number. */
export interface TrafficPolicy {
  readonly base: PolicyBlock;
  readonly ports: ReadonlyMap<number, PolicyBlock>;
}

/** Cluster fields decided by policy. */
export interface ClusterSettings {
  readonly protocol: 'http1' | 'h2c';
  readonly lb: LbPolicy;
  readonly connectTimeoutMs: number;
  readonly maxConnections?: number;
  readonly maxPendingRequests?: number;
  readonly maxRequests?: number;
  readonly maxRequestsPerConnection?: number;
  readonly idleTimeoutMs: number;
}

const LATER_RELEASE = new Set(['outlierDetection']);
const TOP_LEVEL_ONLY_UNSUPPORTED = ['tunnel', 'proxyProtocol', 'retryBudget'];
const LB_UNSUPPORTED = ['localityLbSetting', 'warmupDurationSecs', 'warmup'];
const TCP_UNSUPPORTED = ['tcpKeepalive', 'maxConnectionDuration', 'idleTimeout'];
const HTTP_UNSUPPORTED = ['maxRetries', 'maxConcurrentStreams', 'http2KeepAlive'];

const SIMPLE_LB: Readonly<Record<string, LbPolicy | undefined>> = {
  ROUND_ROBIN: 'ROUND_ROBIN',
  LEAST_REQUEST: 'LEAST_REQUEST',
  LEAST_CONN: 'LEAST_REQUEST', // deprecated alias
  RANDOM: 'RANDOM',
  UNSPECIFIED: undefined,
};

interface At {
  readonly r: LoadedResource;
  readonly sink: DiagnosticSink;
}

/** Parse `trafficPolicy` at `path`; undefined when absent. Problems become diagnostics. */
export function parseTrafficPolicy(raw: unknown, path: string, at: At): TrafficPolicy | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) {
    invalid(at, path, 'trafficPolicy', 'not an object');
    return undefined;
  }
  for (const f of TOP_LEVEL_ONLY_UNSUPPORTED) if (raw[f] !== undefined) unsupported(at, `${path}.${f}`, f);
  const ports = new Map<number, PolicyBlock>();
  const list: unknown = raw.portLevelSettings;
  (Array.isArray(list) ? list : []).forEach((p: any, i: number) => {
    const at2 = `${path}.portLevelSettings[${i}]`;
    const n = portNumber(p?.port?.number);
    if (n === undefined) return invalid(at, `${at2}.port.number`, 'portLevelSettings entry', 'port.number is not a port number');
    if (ports.has(n)) return invalid(at, `${at2}.port.number`, 'portLevelSettings entry', `port ${n} already has settings`);
    ports.set(n, parseBlock(p, at2, at));
  });
  return { base: parseBlock(raw, path, at), ports };
}

function parseBlock(raw: Record<string, any>, path: string, at: At): PolicyBlock {
  for (const f of LATER_RELEASE) {
    if (raw[f] !== undefined) {
      at.sink.add(at.r, 'REGISTRY_UNSUPPORTED_FIELD', 'warning', `${path}.${f}`, `Ignoring ${f}: applied by a later release`);
    }
  }
  const loadBalancer = raw.loadBalancer !== undefined ? parseLoadBalancer(raw.loadBalancer, `${path}.loadBalancer`, at) : undefined;
  const connectionPool = raw.connectionPool !== undefined ? parsePool(raw.connectionPool, `${path}.connectionPool`, at) : undefined;
  const tls = raw.tls !== undefined ? parseClientTls(raw.tls, `${path}.tls`, at) : undefined;
  return { ...(loadBalancer ? { loadBalancer } : {}), ...(connectionPool ? { connectionPool } : {}), ...(tls ? { tls } : {}) };
}

const CLIENT_TLS_MODES = new Set(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']);

function parseClientTls(raw: unknown, path: string, at: At): ClientTlsPolicy | undefined {
  if (!isObject(raw)) {
    invalid(at, path, 'tls', 'not an object');
    return undefined;
  }
  const mode = typeof raw.mode === 'string' ? raw.mode.toUpperCase() : 'DISABLE';
  if (!CLIENT_TLS_MODES.has(mode)) {
    invalid(at, `${path}.mode`, 'tls.mode', `unknown value ${JSON.stringify(raw.mode)}`);
    return undefined;
  }
  const s = (k: string): string | undefined => (typeof raw[k] === 'string' && raw[k] !== '' ? raw[k] : undefined);
  const sans = Array.isArray(raw.subjectAltNames) ? raw.subjectAltNames.filter((x: unknown): x is string => typeof x === 'string') : [];
  const out: Record<string, unknown> = { mode, path };
  for (const k of ['clientCertificate', 'privateKey', 'caCertificates', 'credentialName', 'sni']) if (s(k)) out[k] = s(k);
  if (sans.length) out.subjectAltNames = sans;
  if (raw.insecureSkipVerify === true) out.insecureSkipVerify = true;
  if (raw.caCrl !== undefined) {
    at.sink.add(at.r, 'TLS_FIELD_UNSUPPORTED', 'warning', `${path}.caCrl`, 'Ignoring tls.caCrl: not applied by Portico');
  }
  return out as unknown as ClientTlsPolicy;
}

function parseLoadBalancer(raw: unknown, path: string, at: At): { lb: LbPolicy } {
  const dflt = { lb: CLUSTER_DEFAULTS.lb };
  if (!isObject(raw)) {
    invalid(at, path, 'loadBalancer', 'not an object');
    return dflt;
  }
  for (const f of LB_UNSUPPORTED) if (raw[f] !== undefined) unsupported(at, `${path}.${f}`, f);
  if (raw.consistentHash !== undefined) {
    at.sink.add(at.r, 'REGISTRY_UNSUPPORTED_FIELD', 'warning', `${path}.consistentHash`,
      'Ignoring consistentHash: not yet supported, using LEAST_REQUEST');
    return { lb: 'LEAST_REQUEST' };
  }
  if (raw.simple === undefined) return dflt;
  const simple = typeof raw.simple === 'string' ? raw.simple.toUpperCase() : '';
  if (simple === 'PASSTHROUGH') {
    at.sink.add(at.r, 'REGISTRY_UNSUPPORTED_FIELD', 'warning', `${path}.simple`,
      `Using ${CLUSTER_DEFAULTS.lb} instead of PASSTHROUGH: a gateway has no original destination to pass through to`);
    return dflt;
  }
  if (!(simple in SIMPLE_LB)) {
    invalid(at, `${path}.simple`, 'loadBalancer.simple', `unknown value ${JSON.stringify(raw.simple)}, using ${CLUSTER_DEFAULTS.lb}`);
    return dflt;
  }
  return { lb: SIMPLE_LB[simple] ?? CLUSTER_DEFAULTS.lb };
}

function parsePool(raw: unknown, path: string, at: At): ConnectionPoolSettings {
  if (!isObject(raw)) {
    invalid(at, path, 'connectionPool', 'not an object');
    return {};
  }
  const tcp = isObject(raw.tcp) ? raw.tcp : {};
  const http = isObject(raw.http) ? raw.http : {};
  for (const f of TCP_UNSUPPORTED) if (tcp[f] !== undefined) unsupported(at, `${path}.tcp.${f}`, `tcp.${f}`);
  for (const f of HTTP_UNSUPPORTED) if (http[f] !== undefined) unsupported(at, `${path}.http.${f}`, `http.${f}`);
  const out: Record<string, number | boolean> = {};
  const limit = (v: unknown, p: string, key: keyof ConnectionPoolSettings) => {
    const n = parseLimit(v, p, at);
    if (n !== undefined) out[key] = n;
  };
  limit(tcp.maxConnections, `${path}.tcp.maxConnections`, 'maxConnections');
  const ct = readDuration(tcp.connectTimeout, `${path}.tcp.connectTimeout`, at, 1);
  if (ct !== undefined) out.connectTimeoutMs = ct;
  limit(http.http1MaxPendingRequests, `${path}.http.http1MaxPendingRequests`, 'maxPendingRequests');
  limit(http.http2MaxRequests, `${path}.http.http2MaxRequests`, 'maxRequests');
  limit(http.maxRequestsPerConnection, `${path}.http.maxRequestsPerConnection`, 'maxRequestsPerConnection');
  const idle = readDuration(http.idleTimeout, `${path}.http.idleTimeout`, at, 0);
  if (idle !== undefined) out.idleTimeoutMs = idle;
  // http.useClientProtocol is accepted and ignored: a gateway's upstream protocol comes from the port.
  const up = http.h2UpgradePolicy;
  if (up !== undefined) {
    const v = typeof up === 'string' ? up.toUpperCase() : '';
    if (v === 'UPGRADE') out.h2Upgrade = true;
    else if (v !== 'DEFAULT' && v !== 'DO_NOT_UPGRADE') {
      invalid(at, `${path}.http.h2UpgradePolicy`, 'h2UpgradePolicy', `unknown value ${JSON.stringify(up)}`);
    }
  }
  return out as ConnectionPoolSettings;
}

/** A positive int32 limit; 0 means unset in Istio's API (the default: unlimited). */
function parseLimit(v: unknown, path: string, at: At): number | undefined {
  if (v === undefined || v === 0) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 2 ** 31 - 1) return v;
  invalid(at, path, path.slice(path.lastIndexOf('.') + 1), `${JSON.stringify(v)} is not a positive integer`);
  return undefined;
}

function readDuration(v: unknown, path: string, at: At, minMs: number): number | undefined {
  if (v === undefined) return undefined;
  const ms = typeof v === 'string' ? parseDuration(v.trim()) : undefined;
  const field = path.slice(path.lastIndexOf('.') + 1);
  if (ms === undefined) {
    invalid(at, path, field, `${JSON.stringify(v)} is not a duration like "10s" or "250ms"`);
    return undefined;
  }
  if (ms < minMs) {
    invalid(at, path, field, `${JSON.stringify(v)} is below ${minMs} ms`);
    return undefined;
  }
  // Whole milliseconds; a positive sub-millisecond value never collapses to 0 (= disabled).
  return ms > 0 ? Math.max(1, Math.round(ms)) : 0;
}

/**
 * The policy block in effect for one port of one cluster, from the rule's policy and the
 * subset's policy (either may be absent).
 */
export function effectivePolicy(rule: TrafficPolicy | undefined, subset: TrafficPolicy | undefined, port: number): PolicyBlock {
  const top = rule ? rule.ports.get(port) ?? rule.base : {};
  if (!subset) return top;
  const own = subset.ports.get(port);
  if (own) return own;
  const loadBalancer = subset.base.loadBalancer ?? top.loadBalancer;
  const connectionPool = subset.base.connectionPool ?? top.connectionPool;
  const tls = subset.base.tls ?? top.tls;
  return { ...(loadBalancer ? { loadBalancer } : {}), ...(connectionPool ? { connectionPool } : {}), ...(tls ? { tls } : {}) };
}

/** Cluster settings for a policy block on a port of the given protocol. */
export function clusterSettings(block: PolicyBlock, portProtocol: string): ClusterSettings {
  const pool = block.connectionPool ?? {};
  return {
    protocol: portProtocol === 'h2c' || pool.h2Upgrade ? 'h2c' : 'http1',
    lb: block.loadBalancer?.lb ?? CLUSTER_DEFAULTS.lb,
    connectTimeoutMs: pool.connectTimeoutMs ?? CLUSTER_DEFAULTS.connectTimeoutMs,
    ...(pool.maxConnections !== undefined ? { maxConnections: pool.maxConnections } : {}),
    ...(pool.maxPendingRequests !== undefined ? { maxPendingRequests: pool.maxPendingRequests } : {}),
    ...(pool.maxRequests !== undefined ? { maxRequests: pool.maxRequests } : {}),
    ...(pool.maxRequestsPerConnection !== undefined ? { maxRequestsPerConnection: pool.maxRequestsPerConnection } : {}),
    idleTimeoutMs: pool.idleTimeoutMs ?? CLUSTER_DEFAULTS.idleTimeoutMs,
  };
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unsupported(at: At, path: string, field: string): void {
  at.sink.add(at.r, 'REGISTRY_UNSUPPORTED_FIELD', 'warning', path, `Ignoring ${field}: not yet supported`);
}

function invalid(at: At, path: string, field: string, why: string): void {
  at.sink.add(at.r, 'REGISTRY_INVALID_FIELD', 'warning', path, `Ignoring ${field}: ${why}`);
}
