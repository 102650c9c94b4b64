/** Small helpers shared by the Gateway API translator files. */
import type { ResourceKey } from '../../../errors/diagnostic.js';
import type { LoadedResource } from '../../resources/types.js';
import type { Condition, TranslateContext } from '../context.js';

/** API group of Gateway API resources. */
export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
/** GatewayClass spec.controllerName that Portico serves. */
export const CONTROLLER_NAME = 'portico.dev/gateway-controller';

/**
 * Resources of one Gateway API kind. Filters on the API group because `Gateway` is also an Istio
 * kind (networking.istio.io): both share `byKind('Gateway')`.
 */
export function gwKind(ctx: TranslateContext, kind: string): readonly LoadedResource[] {
  return ctx.byKind(kind).filter((r) => typeof r.object.apiVersion === 'string' && r.object.apiVersion.startsWith(`${GATEWAY_GROUP}/`));
}

/** Builds a status condition. */
export function cond(type: string, ok: boolean, reason: string, message: string): Condition {
  return { type, status: ok ? 'True' : 'False', reason, message };
}

/**
 * Creation time in ms for precedence ("the oldest Route based on creation timestamp"). Resources
 * without a timestamp (plain files) count as newest, so they never overtake dated ones; among
 * themselves the `namespace/name` tie-breaker decides.
 */
export function creationMs(r: LoadedResource): number {
  const ts = r.object.metadata.creationTimestamp;
  const ms = typeof ts === 'string' ? Date.parse(ts) : NaN;
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

/** Code-unit string comparison (locale-independent, deterministic). */
export function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Oldest first, then `namespace/name` alphabetically. */
export function compareResources(a: LoadedResource, b: LoadedResource): number {
  const ta = creationMs(a);
  const tb = creationMs(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return cmpStr(`${a.key.namespace}/${a.key.name}`, `${b.key.namespace}/${b.key.name}`);
}

/** `Kind/namespace/name` of a key. */
export function keyOf(k: ResourceKey): string {
  return `${k.kind}/${k.namespace}/${k.name}`;
}

/** A non-empty string or undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** An array (or empty). */
export function arr(v: unknown): readonly any[] {
  return Array.isArray(v) ? v : [];
}

/** Kubernetes label selector (matchLabels AND matchExpressions). An empty selector matches all. */
export function selectorMatches(selector: any, labels: Readonly<Record<string, string>>): boolean {
  if (!selector || typeof selector !== 'object') return false;
  const ml = selector.matchLabels;
  if (ml && typeof ml === 'object') {
    for (const [k, v] of Object.entries(ml)) if (labels[k] !== String(v)) return false;
  }
  for (const e of arr(selector.matchExpressions)) {
    const key = String(e?.key ?? '');
    const values = arr(e?.values).map(String);
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    switch (e?.operator) {
      case 'In':
        if (!has || !values.includes(labels[key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false; // unknown operator: select nothing (fail closed)
    }
  }
  return true;
}

/** Valid TCP port number. */
export function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}
