/**
 * backendRef resolution (httproute_types.go HTTPBackendRef; referencegrant_types.go). An invalid
 * reference does not drop the backend: it becomes a BackendIR that answers 500 for its share of
 * the traffic (conformance: httproute-invalid-backendref-*, httproute-invalid-cross-namespace-
 * backend-ref, httproute-reference-grant).
 */
import type { LoadedResource } from '../../resources/types.js';
import type { TranslateContext } from '../context.js';
import { GATEWAY_GROUP, arr, gwKind, isPort, str } from './common.js';

/** Why a backendRef cannot be used; `reason` is the ResolvedRefs condition reason. */
export interface BackendFailure {
  readonly ok: false;
  readonly reason: 'InvalidKind' | 'BackendNotFound' | 'RefNotPermitted';
  /** Response code detail of the 500. */
  readonly detail: 'invalid_backend_kind' | 'backend_not_found' | 'ref_not_permitted';
  readonly code: 'GWAPI_BACKEND_INVALID_KIND' | 'GWAPI_BACKEND_NOT_FOUND' | 'GWAPI_BACKEND_REF_NOT_PERMITTED';
  readonly message: string;
}

export type BackendResolution = { readonly ok: true; readonly cluster: string } | BackendFailure;

/** ReferenceGrants by target namespace. */
export type GrantIndex = ReadonlyMap<string, readonly LoadedResource[]>;

/** Indexes ReferenceGrants (v1beta1 and v1alpha2 look the same) and marks them accepted. */
export function indexGrants(ctx: TranslateContext): GrantIndex {
  const out = new Map<string, LoadedResource[]>();
  for (const g of gwKind(ctx, 'ReferenceGrant')) {
    const list = out.get(g.key.namespace) ?? [];
    list.push(g);
    out.set(g.key.namespace, list);
    // A grant is plain data: it is "accepted" whether or not a reference uses it.
    ctx.setStatus({ key: g.key, state: 'accepted', reasons: [] });
  }
  return out;
}

/**
 * Does a ReferenceGrant in `toNamespace` allow `fromKind` in `fromNamespace` to reference the core
 * object `name` of `toKind` (Service, or Secret for Gateway certificateRefs)? `to.name` absent =
 * every object of that kind in the namespace.
 */
export function grantAllows(grants: GrantIndex, fromKind: string, fromNamespace: string, toNamespace: string, name: string, toKind = 'Service'): boolean {
  for (const g of grants.get(toNamespace) ?? []) {
    const fromOk = arr(g.object.spec?.from).some((f: any) =>
      f?.group === GATEWAY_GROUP && f?.kind === fromKind && f?.namespace === fromNamespace);
    if (!fromOk) continue;
    const toOk = arr(g.object.spec?.to).some((t: any) =>
      (t?.group ?? '') === '' && t?.kind === toKind && (str(t?.name) === undefined || t.name === name));
    if (toOk) return true;
  }
  return false;
}

/**
 * Resolves one BackendObjectReference of an HTTPRoute to a cluster. Order of checks: kind, then
 * the cross-namespace grant (an unpermitted reference reveals nothing about the target), then the
 * port, then the Service itself. With `probe` the Service is only looked up (no cluster is
 * created): used for weight-0 backends, which must still be valid for ResolvedRefs.
 */
export function resolveBackend(
  ctx: TranslateContext,
  grants: GrantIndex,
  route: LoadedResource,
  ref: any,
  probe = false,
): BackendResolution {
  const group = ref?.group ?? '';
  const kind = ref?.kind ?? 'Service';
  const name = String(ref?.name ?? '');
  const ns = str(ref?.namespace) ?? route.key.namespace;
  if ((group !== '' && group !== 'core') || kind !== 'Service') {
    return fail('InvalidKind', `Cannot resolve backendRef "${name}": kind "${group ? `${group}/` : ''}${kind}" is not supported (only core Service)`);
  }
  if (ns !== route.key.namespace && !grantAllows(grants, route.key.kind, route.key.namespace, ns, name)) {
    return fail('RefNotPermitted', `Cannot resolve backendRef "${name}": no ReferenceGrant in namespace "${ns}" allows ${route.key.kind}s from namespace "${route.key.namespace}"`);
  }
  if (!isPort(ref?.port)) {
    return fail('BackendNotFound', `Cannot resolve backendRef "${name}": port is required for a Service`);
  }
  const host = `${name}.${ns}.svc.${ctx.identity.clusterDomain}`;
  if (probe) {
    const svc = ctx.registry.service(host);
    if (!svc) return fail('BackendNotFound', `Cannot resolve backendRef "${name}": service not found in namespace "${ns}"`);
    if (!svc.ports.some((p) => p.port === ref.port)) {
      return fail('BackendNotFound', `Cannot resolve backendRef "${name}": port ${String(ref.port)} not found on service "${name}.${ns}"`);
    }
    return { ok: true, cluster: '' };
  }
  const r = ctx.registry.cluster({ host, port: ref.port, fromNamespace: route.key.namespace });
  if (!r.ok) {
    const why = r.reason === 'service_not_found' ? `service not found in namespace "${ns}"`
      : r.reason === 'port_not_found' ? `port ${String(ref.port)} not found on service "${name}.${ns}"`
        : r.message.charAt(0).toLowerCase() + r.message.slice(1);
    return fail('BackendNotFound', `Cannot resolve backendRef "${name}": ${why}`);
  }
  return { ok: true, cluster: r.name };
}

function fail(reason: BackendFailure['reason'], message: string): BackendFailure {
  switch (reason) {
    case 'InvalidKind': return { ok: false, reason, detail: 'invalid_backend_kind', code: 'GWAPI_BACKEND_INVALID_KIND', message };
    case 'RefNotPermitted': return { ok: false, reason, detail: 'ref_not_permitted', code: 'GWAPI_BACKEND_REF_NOT_PERMITTED', message };
    default: return { ok: false, reason, detail: 'backend_not_found', code: 'GWAPI_BACKEND_NOT_FOUND', message };
  }
}
