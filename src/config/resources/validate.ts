/**
 * Schema validation of loaded resources. Each supported kind has a declarative schema
 * (schema/*.ts); the generic walker reports unknown fields (warnings, with "did you mean"),
 * wrong types, missing required fields, bad enum values, durations and RE2 regexes (errors).
 *
 * Quarantine rule: a resource with any error is rejected on its own; its siblings, and the
 * resource itself when it only has warnings, stay in effect.
 */
import { keyString, type Diagnostic } from '../../errors/diagnostic.js';
import type { KubeObject, LoadedResource } from './types.js';
import { findKind, lookupKind } from './schema/index.js';
import { WalkContext, walk } from './schema/walk.js';

/** True when Portico reads this apiVersion + kind (e.g. `networking.istio.io/v1beta1`, `VirtualService`). */
export function isSupportedKind(apiVersion: string, kind: string): boolean {
  return lookupKind(apiVersion, kind) !== undefined;
}

/** The LOAD_KIND_SKIPPED warning for a resource whose kind or version Portico does not read. */
export function skippedKindWarning(r: LoadedResource): Diagnostic {
  const apiVersion = String(r.object.apiVersion);
  const known = findKind(apiVersion, r.key.kind);
  const message = known
    ? `Skipped ${r.key.kind} with unsupported apiVersion ${JSON.stringify(apiVersion)}: expected one of ${known.versions
        .map((v) => (known.group ? `${known.group}/${v}` : v))
        .join(', ')}`
    : `Skipped unsupported kind ${JSON.stringify(r.key.kind)} (apiVersion ${JSON.stringify(apiVersion)})`;
  return {
    code: 'LOAD_KIND_SKIPPED',
    severity: 'warning',
    resource: r.key,
    path: known ? 'apiVersion' : 'kind',
    ...(r.origin ? { origin: r.positionOf(known ? 'apiVersion' : 'kind') ?? r.origin } : {}),
    message,
  };
}

function check(r: LoadedResource): { diagnostics: Diagnostic[]; object: KubeObject } {
  const spec = lookupKind(String(r.object.apiVersion), r.key.kind);
  if (!spec) return { diagnostics: [], object: r.object };
  const ctx = new WalkContext(r);
  const object = walk(r.object, spec.schema, '', ctx) as KubeObject;
  return { diagnostics: ctx.diagnostics, object };
}

/**
 * Validates one resource against the schema of its kind. Returns errors and warnings, each
 * with code, resource key, field path and resolved position. Unsupported kinds give no
 * diagnostics here (the caller reports them with {@link skippedKindWarning}).
 */
export function validateResource(r: LoadedResource): Diagnostic[] {
  return check(r).diagnostics;
}

/** Outcome of {@link validateAll}. */
export interface ValidateAllResult {
  /** Supported resources without errors, in input order. Istio snake_case fields are renamed to camelCase. */
  readonly valid: LoadedResource[];
  /** Resources with at least one error, keyed `Kind/namespace/name`, with all their diagnostics. */
  readonly rejected: Map<string, Diagnostic[]>;
  /** Every diagnostic, in input order, including LOAD_KIND_SKIPPED for unsupported kinds. */
  readonly diagnostics: Diagnostic[];
}

/**
 * Validates every resource. A resource with any error is quarantined alone (in `rejected`);
 * warnings keep it. Unsupported kinds are neither valid nor rejected: they get a
 * LOAD_KIND_SKIPPED warning.
 */
export function validateAll(resources: readonly LoadedResource[]): ValidateAllResult {
  const valid: LoadedResource[] = [];
  const rejected = new Map<string, Diagnostic[]>();
  const diagnostics: Diagnostic[] = [];
  for (const r of resources) {
    if (!isSupportedKind(String(r.object.apiVersion), r.key.kind)) {
      diagnostics.push(skippedKindWarning(r));
      continue;
    }
    const result = check(r);
    diagnostics.push(...result.diagnostics);
    if (result.diagnostics.some((d) => d.severity === 'error')) {
      rejected.set(keyString(r.key), result.diagnostics);
    } else {
      valid.push(result.object === r.object ? r : { ...r, object: result.object });
    }
  }
  return { valid, rejected, diagnostics };
}
