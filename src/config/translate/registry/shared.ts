/**
 * Types and small helpers shared by the registry builders: the internal service model,
 * the diagnostic sink, exportTo visibility, label selection, age ordering and endpoint
 * construction.
 */
import { isIP } from 'node:net';
import type { Diagnostic, ResourceKey, Severity } from '../../../errors/diagnostic.js';
import type { RegistryCode } from '../../../errors/codes/registry.js';
import type { TlsCode } from '../../../errors/codes/tls.js';
import type { EndpointIR } from '../../ir/types.js';
import type { LoadedResource } from '../../resources/types.js';
import type { ServiceInfo, ServicePortInfo } from '../context.js';

/** One port of a registry service with its ready endpoints (sorted, deduplicated). */
export interface RegistryPort {
  readonly info: ServicePortInfo;
  readonly endpoints: readonly EndpointIR[];
}

/** A Service or one host of a ServiceEntry, as the registry holds it. */
export interface RegistryService {
  readonly info: ServiceInfo;
  /** By service port number, in declaration order. */
  readonly ports: ReadonlyMap<number, RegistryPort>;
  /** The object that declared it (age ordering for duplicate hosts). */
  readonly resource: LoadedResource;
}

/** A diagnostic that always names its resource. */
export type RegistryDiagnostic = Diagnostic & { readonly resource: ResourceKey };

/** Collects diagnostics; `origin` is resolved from the resource's positions. */
export interface DiagnosticSink {
  add(r: LoadedResource, code: RegistryCode | TlsCode, severity: Severity, path: string, message: string): void;
  /** Everything collected, sorted by resource, path and code. */
  list(): RegistryDiagnostic[];
}

/** A sink over an array. */
export function createSink(): DiagnosticSink {
  const out: RegistryDiagnostic[] = [];
  // The same problem can be met once per host or port; report it once.
  const seen = new Set<string>();
  return {
    add(r, code, severity, path, message) {
      const id = JSON.stringify([r.key.kind, r.key.namespace, r.key.name, path, code, message]);
      if (seen.has(id)) return;
      seen.add(id);
      const origin = r.positionOf(path) ?? r.origin;
      out.push({ code, severity, resource: r.key, path, ...(origin ? { origin } : {}), message });
    },
    list() {
      return [...out].sort(compareDiagnostics);
    },
  };
}

function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  const ka = a.resource ? `${a.resource.kind}/${a.resource.namespace}/${a.resource.name}` : '';
  const kb = b.resource ? `${b.resource.kind}/${b.resource.namespace}/${b.resource.name}` : '';
  return cmp(ka, kb) || cmp(a.path, b.path) || cmp(a.code, b.code) || cmp(a.message, b.message);
}

/** Code-point string comparison (locale independent, so output is the same everywhere). */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Whether an object with this `exportTo` in namespace `ns` is visible to the gateway namespace.
 * Istio: empty = `*` (everywhere), `.` = the object's own namespace, otherwise namespace names.
 */
export function isExportedTo(exportTo: unknown, ns: string, gatewayNs: string): boolean {
  if (!Array.isArray(exportTo) || exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || (e === '.' ? ns === gatewayNs : e === gatewayNs));
}

/** The strings of an exportTo list, for ServiceInfo (undefined when absent). */
export function exportList(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((e): e is string => typeof e === 'string') : undefined;
}

/** String-valued entries of a label map (undefined when it is not a map). */
export function labelMap(v: unknown): Record<string, string> | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** Every selector label is present with the same value (an empty selector selects all). */
export function labelsMatch(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>> | undefined): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false;
  return true;
}

/**
 * Oldest first: creationTimestamp (absent counts as oldest, like Go's zero time in Istio),
 * then input order.
 */
export function compareAge(a: LoadedResource, b: LoadedResource): number {
  const ta = timeOf(a);
  const tb = timeOf(b);
  return ta !== tb ? ta - tb : a.seq - b.seq;
}

function timeOf(r: LoadedResource): number {
  const t = r.object.metadata.creationTimestamp;
  const ms = typeof t === 'string' ? Date.parse(t) : Number.NaN;
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/** An integer port 1–65535, or undefined. */
export function portNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535 ? v : undefined;
}

/** Whether `s` is an IPv4 or IPv6 literal. */
export function isIpLiteral(s: string): boolean {
  return isIP(s) !== 0;
}

/** Build an EndpointIR with a fixed key order and no undefined fields (byte-stable IR). */
export function makeEndpoint(
  address: string,
  port: number,
  opts: { weight?: number; labels?: Readonly<Record<string, string>>; dns?: boolean } = {},
): EndpointIR {
  const labels = opts.labels && Object.keys(opts.labels).length > 0 ? sortedRecord(opts.labels) : undefined;
  return {
    address,
    port,
    weight: opts.weight ?? 1,
    ...(labels ? { labels } : {}),
    ...(opts.dns ? { dns: true } : {}),
  };
}

function sortedRecord(r: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(r).sort(cmp)) out[k] = r[k]!;
  return out;
}

/** Sort by address, then port; the rest of the endpoint breaks ties so the order is total. */
export function sortEndpoints(list: readonly EndpointIR[]): EndpointIR[] {
  return [...list].sort(
    (a, b) =>
      cmp(a.address, b.address) ||
      a.port - b.port ||
      a.weight - b.weight ||
      cmp(JSON.stringify(a.labels ?? {}), JSON.stringify(b.labels ?? {})) ||
      Number(a.dns ?? false) - Number(b.dns ?? false),
  );
}

/** Freeze an IR value and everything under it. */
export function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}
