/** A problem found while loading, validating or translating configuration. */
export type Severity = 'error' | 'warning';

/** Identifies one input object: `HTTPRoute/shop/checkout`. */
export interface ResourceKey {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /**
   * API group, set by loaders. Only used to tell apart kinds that exist in two groups
   * (Istio `Gateway` and Gateway API `Gateway`); see keyString.
   */
  readonly group?: string;
}

/** Kinds whose name is shared by two API groups; the Gateway API one is keyed with its group. */
const AMBIGUOUS: Readonly<Record<string, string>> = { Gateway: 'gateway.networking.k8s.io' };

/** API group of an apiVersion (`networking.istio.io/v1` → `networking.istio.io`, `v1` → ''). */
export function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i === -1 ? '' : apiVersion.slice(0, i);
}

/** Where a resource (or one of its fields) came from. */
export interface Origin {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export interface Diagnostic {
  /** Stable code listed in src/errors/codes.ts and docs/errors.md, e.g. `TRANSLATE_BACKEND_NOT_FOUND`. */
  readonly code: string;
  readonly severity: Severity;
  /** The resource the problem belongs to; absent for file-level problems (YAML syntax). */
  readonly resource?: ResourceKey;
  /** Field path inside the resource: `spec.rules[1].backendRefs[0].port`. Empty for the whole object. */
  readonly path: string;
  /** Resolved position of `path` (or of the resource when the field has no position). */
  readonly origin?: Origin;
  /** Sentence case, values quoted, no trailing period (STYLE.md §10). */
  readonly message: string;
  /** Optional fix hint, e.g. `did you mean "ROUND_ROBIN"?`. */
  readonly suggestion?: string;
}

/** `Kind/namespace/name`. */
export function keyString(k: ResourceKey): string {
  if (k.group !== undefined && AMBIGUOUS[k.kind] === k.group) return `${k.kind}.${k.group}/${k.namespace}/${k.name}`;
  return `${k.kind}/${k.namespace}/${k.name}`;
}

/** One diagnostic line: `file:line:col  Kind/ns/name  field.path  message (suggestion)`. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.origin ? `${d.origin.file}:${d.origin.line}:${d.origin.col}` : '-';
  const res = d.resource ? keyString(d.resource) : '-';
  const sug = d.suggestion ? ` (${d.suggestion})` : '';
  return `${where}  ${res}  ${d.path || '-'}  ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}${sug}`;
}
