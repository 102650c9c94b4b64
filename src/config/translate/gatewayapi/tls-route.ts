/**
 * TLSRoute (v1alpha2, v1alpha3, v1) rules → TlsRouteIR templates. The SNI patterns are filled in
 * per listener by index.ts (the route hostnames intersected with the listener hostname). Each
 * rule's backendRefs are weighted (absent weight 1, weight 0 gets nothing); an unresolvable
 * backend keeps its share and that share of connections is closed (Gateway API: the equivalent of
 * a 500 for an L4 route).
 */
import type { BackendIR, TlsRouteIR } from '../../ir/types.js';
import type { LoadedResource } from '../../resources/types.js';
import type { TranslateContext } from '../context.js';
import { type GrantIndex, resolveBackend } from './backends.js';
import { arr } from './common.js';
import type { RefProblem } from './rules.js';

export interface TlsRouteTranslation {
  /** One route per rule, in rule order; `sniHosts` is empty until placed on a listener. */
  readonly routes: readonly TlsRouteIR[];
  readonly refProblems: readonly RefProblem[];
  readonly invalid: readonly string[];
}

/** Translates every rule of a TLSRoute. */
export function translateTlsRoute(ctx: TranslateContext, grants: GrantIndex, route: LoadedResource): TlsRouteTranslation {
  const routes: TlsRouteIR[] = [];
  const refProblems: RefProblem[] = [];
  const invalid: string[] = [];
  arr(route.object.spec?.rules).forEach((rule: any, ri: number) => {
    const at = `spec.rules[${ri}]`;
    const backends: BackendIR[] = [];
    arr(rule?.backendRefs).forEach((ref: any, bi: number) => {
      const weight = typeof ref?.weight === 'number' ? ref.weight : 1;
      const r = resolveBackend(ctx, grants, route, ref, weight === 0);
      if (!r.ok) {
        ctx.report({ code: r.code, severity: 'warning', resource: route.key, path: `${at}.backendRefs[${bi}]`, message: r.message });
        refProblems.push({ reason: r.reason, message: r.message });
        if (weight > 0) backends.push({ weight, invalid: { status: 500, detail: r.detail, flag: 'NC' } });
        return;
      }
      if (weight > 0) backends.push({ weight, cluster: r.cluster });
    });
    if (backends.length === 0) {
      const message = `Rule ${ri} has no backendRef with weight: its connections are closed`;
      invalid.push(message);
      backends.push({ weight: 1, invalid: { status: 500, detail: 'backend_not_found', flag: 'NC' } });
    }
    routes.push({ id: `tlsroute/${route.key.namespace}/${route.key.name}/rule/${ri}`, sniHosts: [], backends, source: route.key, sourcePath: at });
  });
  if (routes.length === 0) {
    invalid.push('The TLSRoute has no rules: its connections are closed');
    routes.push({
      id: `tlsroute/${route.key.namespace}/${route.key.name}/rule/0`, sniHosts: [],
      backends: [{ weight: 1, invalid: { status: 500, detail: 'backend_not_found', flag: 'NC' } }], source: route.key, sourcePath: 'spec.rules',
    });
  }
  return { routes, refProblems, invalid };
}
