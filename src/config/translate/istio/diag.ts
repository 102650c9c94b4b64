/**
 * Diagnostic plumbing and value readers shared by the Istio translator files.
 *
 * A `Loc` names where a value came from (resource + field path). Delegate merging mixes
 * fields of two VirtualServices into one route, so every reader takes the `Loc` of the field
 * it reads instead of assuming one resource per route.
 */
import type { ResourceKey, Severity } from '../../../errors/diagnostic.js';
import { keyString } from '../../../errors/diagnostic.js';
import type { IstioCode } from '../../../errors/codes/istio.js';
import type { TlsCode } from '../../../errors/codes/tls.js';
import { childPath, indexPath } from '../../resources/schema/field-path.js';
import type { TranslateContext } from '../context.js';

export { childPath, indexPath };

/** Where a field lives: the resource and the field path inside it. */
export interface Loc {
  readonly resource: ResourceKey;
  readonly path: string;
}

/** `loc` extended by a field name or map key. */
export function at(loc: Loc, key: string): Loc {
  return { resource: loc.resource, path: childPath(loc.path, key) };
}

/** `loc` extended by a list index. */
export function atIndex(loc: Loc, index: number): Loc {
  return { resource: loc.resource, path: indexPath(loc.path, index) };
}

/** Reports diagnostics once each and remembers which resources had any. */
export interface Reporter {
  report(code: IstioCode | TlsCode, severity: Severity, loc: Loc, message: string): void;
  /** True when some diagnostic was reported against the resource. */
  hasProblems(resource: ResourceKey): boolean;
}

/**
 * Wraps ctx.report. A VirtualService is translated once per listener and gateway set, so the
 * same problem can be met several times; it is reported once (same code, resource, path and
 * message).
 */
export function createReporter(ctx: TranslateContext): Reporter {
  const seen = new Set<string>();
  const withProblems = new Set<string>();
  return {
    report(code, severity, loc, message) {
      const id = `${code}\0${keyString(loc.resource)}\0${loc.path}\0${message}`;
      if (seen.has(id)) return;
      seen.add(id);
      withProblems.add(keyString(loc.resource));
      ctx.report({ code, severity, resource: loc.resource, path: loc.path, message });
    },
    hasProblems: (resource) => withProblems.has(keyString(resource)),
  };
}

/** A plain (non-array) object. */
export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The string, or undefined for anything else. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A list of strings; non-strings are skipped, a non-list gives []. */
export function strList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Values of a string map (labels, selectors); non-string values become their JSON text. */
export function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObj(v)) return out;
  for (const [k, x] of Object.entries(v)) out[k] = typeof x === 'string' ? x : JSON.stringify(x);
  return out;
}

/** True when every selector entry equals the label of the same key (an empty selector selects all). */
export function labelsMatch(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** An integer within [min, max], or undefined. */
export function intIn(v: unknown, min: number, max: number): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined;
}

/** `"a", "b"` for messages. */
export function quoteList(items: readonly string[]): string {
  return items.map((s) => JSON.stringify(s)).join(', ');
}
