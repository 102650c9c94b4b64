/**
 * HTTPRouteFilter parsing (httproute_types.go HTTPRouteFilter, HTTPHeaderFilter,
 * HTTPRequestRedirectFilter, HTTPURLRewriteFilter, HTTPRequestMirrorFilter). Conformance:
 * httproute-request-header-modifier, httproute-response-header-modifier, httproute-request-redirect*,
 * httproute-rewrite-path, httproute-rewrite-host, httproute-request-mirror.
 */
import type { HeaderOpsIR, MirrorIR, PathMatchIR, PathRewriteIR } from '../../ir/types.js';
import type { LoadedResource } from '../../resources/types.js';
import type { TranslateContext } from '../context.js';
import { type GrantIndex, resolveBackend } from './backends.js';
import { arr, isPort, str } from './common.js';

/** A path modifier before it meets a match (ReplacePrefixMatch needs the matched prefix). */
export type PathModifier = { readonly kind: 'full'; readonly value: string } | { readonly kind: 'prefix'; readonly value: string };

export interface RedirectSpec {
  readonly scheme?: string;
  readonly host?: string;
  readonly port?: number;
  readonly path?: PathModifier;
  readonly statusCode: number;
}

export interface RewriteSpec {
  readonly authority?: string;
  readonly path?: PathModifier;
}

/** Everything the rule-level filters contribute. */
export interface RuleFilters {
  requestHeaders?: HeaderOpsIR;
  responseHeaders?: HeaderOpsIR;
  redirect?: RedirectSpec;
  rewrite?: RewriteSpec;
  readonly mirrors: MirrorIR[];
}

/** A problem with a filter; `invalid` problems make the whole rule answer 500. */
export interface FilterIssue {
  readonly code: string;
  readonly path: string;
  readonly message: string;
  /** ResolvedRefs reason when the problem is an unresolvable reference (mirror). */
  readonly refReason?: string;
}

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

/** Parses the filters of one rule. */
export function parseRuleFilters(
  ctx: TranslateContext,
  grants: GrantIndex,
  route: LoadedResource,
  filters: readonly any[],
  at: string,
): { filters: RuleFilters; invalid: FilterIssue[]; refs: FilterIssue[] } {
  const out: RuleFilters = { mirrors: [] };
  const invalid: FilterIssue[] = [];
  const refs: FilterIssue[] = [];
  filters.forEach((f: any, i: number) => {
    const path = `${at}[${i}]`;
    const type = String(f?.type ?? '');
    const need = (field: string): any => {
      if (f?.[field] === undefined || f[field] === null) {
        invalid.push({ code: 'GWAPI_FILTER_INVALID', path, message: `Cannot apply ${type} filter: field "${field}" is missing` });
      }
      return f?.[field];
    };
    switch (type) {
      case 'RequestHeaderModifier': {
        const v = need('requestHeaderModifier');
        if (v) out.requestHeaders = mergeOps(out.requestHeaders, parseHeaderOps(v));
        break;
      }
      case 'ResponseHeaderModifier': {
        const v = need('responseHeaderModifier');
        if (v) out.responseHeaders = mergeOps(out.responseHeaders, parseHeaderOps(v));
        break;
      }
      case 'RequestRedirect': {
        const v = need('requestRedirect');
        if (v) {
          const r = parseRedirect(v, `${path}.requestRedirect`);
          if ('code' in r) invalid.push(r);
          else out.redirect = r;
        }
        break;
      }
      case 'URLRewrite': {
        const v = need('urlRewrite');
        if (v) {
          const r = parseRewrite(v, `${path}.urlRewrite`);
          if ('code' in r) invalid.push(r);
          else out.rewrite = r;
        }
        break;
      }
      case 'RequestMirror': {
        const v = need('requestMirror');
        if (!v) break;
        const res = resolveBackend(ctx, grants, route, v.backendRef);
        if (!res.ok) {
          refs.push({ code: 'GWAPI_MIRROR_INVALID', path: `${path}.requestMirror.backendRef`, message: `${res.message}: the mirror is dropped`, refReason: res.reason });
          break;
        }
        out.mirrors.push({ cluster: res.cluster, percent: mirrorPercent(v) });
        break;
      }
      default:
        // ExtensionRef cannot be resolved by Portico; CORS and ExternalAuth are not implemented yet.
        // Spec: an unresolvable filter "MUST NOT be skipped"; requests get an error response.
        invalid.push({ code: 'GWAPI_FILTER_UNSUPPORTED', path: `${path}.type`, message: `Cannot apply filter of type "${type}": not supported by this release` });
    }
  });
  if (out.redirect && out.rewrite) {
    invalid.push({ code: 'GWAPI_FILTER_INVALID', path: at, message: 'Cannot combine RequestRedirect and URLRewrite filters in one rule' });
  }
  return { filters: out, invalid, refs };
}

/** HTTPHeaderFilter → HeaderOpsIR; header names are case-insensitive, so lower-cased. */
export function parseHeaderOps(v: any): HeaderOpsIR | undefined {
  const pairs = (list: unknown): { name: string; value: string }[] =>
    arr(list)
      .filter((h: any) => typeof h?.name === 'string' && h.name !== '')
      .map((h: any) => ({ name: h.name.toLowerCase(), value: String(h.value ?? '') }));
  const set = pairs(v?.set);
  const add = pairs(v?.add);
  const remove = arr(v?.remove).filter((n): n is string => typeof n === 'string' && n !== '').map((n) => n.toLowerCase());
  if (!set.length && !add.length && !remove.length) return undefined;
  return { ...(set.length ? { set } : {}), ...(add.length ? { add } : {}), ...(remove.length ? { remove } : {}) };
}

function mergeOps(a: HeaderOpsIR | undefined, b: HeaderOpsIR | undefined): HeaderOpsIR | undefined {
  if (!a) return b;
  if (!b) return a;
  const set = [...(a.set ?? []), ...(b.set ?? [])];
  const add = [...(a.add ?? []), ...(b.add ?? [])];
  const remove = [...(a.remove ?? []), ...(b.remove ?? [])];
  return { ...(set.length ? { set } : {}), ...(add.length ? { add } : {}), ...(remove.length ? { remove } : {}) };
}

function parsePathModifier(p: any, at: string): PathModifier | FilterIssue | undefined {
  if (p === undefined || p === null) return undefined;
  if (p.type === 'ReplaceFullPath' && typeof p.replaceFullPath === 'string') return { kind: 'full', value: p.replaceFullPath };
  if (p.type === 'ReplacePrefixMatch' && typeof p.replacePrefixMatch === 'string') return { kind: 'prefix', value: p.replacePrefixMatch };
  return { code: 'GWAPI_FILTER_INVALID', path: `${at}.path`, message: `Cannot use path modifier of type "${String(p.type)}": expected ReplaceFullPath or ReplacePrefixMatch with its value` };
}

function parseRedirect(v: any, at: string): RedirectSpec | FilterIssue {
  const scheme = str(v.scheme);
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') {
    return { code: 'GWAPI_FILTER_INVALID', path: `${at}.scheme`, message: `Cannot redirect to scheme "${scheme}": expected http or https` };
  }
  if (v.port !== undefined && !isPort(v.port)) {
    return { code: 'GWAPI_FILTER_INVALID', path: `${at}.port`, message: 'Cannot redirect: port must be an integer from 1 to 65535' };
  }
  const statusCode = v.statusCode ?? 302;
  if (!REDIRECT_CODES.has(statusCode)) {
    return { code: 'GWAPI_FILTER_INVALID', path: `${at}.statusCode`, message: `Cannot redirect with status ${String(statusCode)}: expected 301, 302, 303, 307 or 308` };
  }
  const path = parsePathModifier(v.path, at);
  if (path && 'code' in path) return path;
  const host = str(v.hostname)?.toLowerCase();
  return {
    ...(scheme ? { scheme } : {}), ...(host ? { host } : {}), ...(isPort(v.port) ? { port: v.port } : {}),
    ...(path ? { path } : {}), statusCode,
  };
}

function parseRewrite(v: any, at: string): RewriteSpec | FilterIssue {
  const path = parsePathModifier(v.path, at);
  if (path && 'code' in path) return path;
  const authority = str(v.hostname)?.toLowerCase();
  return { ...(authority ? { authority } : {}), ...(path ? { path } : {}) };
}

/** `percent` (0–100) or `fraction` (numerator/denominator, denominator default 100); default 100. */
function mirrorPercent(v: any): number {
  if (typeof v.percent === 'number') return Math.min(100, Math.max(0, v.percent));
  const f = v.fraction;
  if (f && typeof f.numerator === 'number') {
    const d = typeof f.denominator === 'number' && f.denominator > 0 ? f.denominator : 100;
    return Math.min(100, Math.max(0, (f.numerator / d) * 100));
  }
  return 100;
}

/**
 * Applies a path modifier to one match. ReplacePrefixMatch replaces exactly the matched
 * PathPrefix (segment-aware), so it is only valid on a PathPrefix match; undefined otherwise.
 */
export function pathRewriteFor(mod: PathModifier, match: PathMatchIR): PathRewriteIR | undefined {
  if (mod.kind === 'full') return { type: 'ReplaceFull', value: mod.value };
  if (match.type !== 'PathPrefix') return undefined;
  return { type: 'ReplacePrefix', prefix: match.value, replacement: mod.value, segmentAware: true };
}
