/**
 * Which Ingresses Portico serves (networking.k8s.io/v1 IngressClass and the legacy annotation).
 */
import type { LoadedResource } from '../../resources/types.js';
import type { TranslateContext } from '../context.js';

/** IngressClass spec.controller that Portico serves. */
export const INGRESS_CONTROLLER = 'portico.dev/ingress-controller';
/** Class name Portico answers to even without an IngressClass object. */
export const INGRESS_CLASS_NAME = 'portico';
/** Legacy (pre-IngressClass) annotation naming the class. */
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
/** IngressClass annotation marking the cluster default class. */
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

/** Decides, per Ingress, whether it is ours; records IngressClass statuses. */
export interface ClassSelector {
  /** undefined when served; otherwise the reason it is ignored. */
  (ing: LoadedResource): string | undefined;
}

/**
 * Class selection, in Kubernetes' order:
 *  1. `spec.ingressClassName` names `portico` or an IngressClass whose controller is ours;
 *  2. else the legacy annotation `kubernetes.io/ingress.class` does the same;
 *  3. else (no class at all) an IngressClass of ours is marked default
 *     (`ingressclass.kubernetes.io/is-default-class: "true"`).
 * An IngressClass named `portico` that belongs to another controller wins over the built-in name.
 */
export function createClassSelector(ctx: TranslateContext): ClassSelector {
  const ours = new Set<string>();
  const foreign = new Set<string>();
  let defaultOurs: string | undefined;
  for (const ic of ctx.byKind('IngressClass')) {
    if (!String(ic.object.apiVersion).startsWith('networking.k8s.io/')) continue;
    const controller = ic.object.spec?.controller;
    if (controller === INGRESS_CONTROLLER) {
      ours.add(ic.key.name);
      if (ic.object.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true') defaultOurs ??= ic.key.name;
      ctx.setStatus({ key: ic.key, state: 'accepted', reasons: [] });
    } else {
      foreign.add(ic.key.name);
      ctx.setStatus({ key: ic.key, state: 'ignored', reasons: [`controller "${String(controller ?? '')}" is not "${INGRESS_CONTROLLER}"`] });
    }
  }
  const isOurs = (name: string): boolean => ours.has(name) || (name === INGRESS_CLASS_NAME && !foreign.has(name));

  return (ing) => {
    const className = ing.object.spec?.ingressClassName;
    if (typeof className === 'string' && className !== '') {
      return isOurs(className) ? undefined : `ingressClassName "${className}" is not served by Portico`;
    }
    const legacy = ing.object.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
    if (typeof legacy === 'string' && legacy !== '') {
      return isOurs(legacy) ? undefined : `annotation ${LEGACY_CLASS_ANNOTATION} "${legacy}" is not served by Portico`;
    }
    return defaultOurs !== undefined ? undefined : 'No ingress class and no default IngressClass of Portico';
  };
}
