/**
 * Telemetry API (telemetry.istio.io) → TelemetryIR for this gateway, as istiod computes it
 * for one proxy (pilot/pkg/model/telemetry.go):
 *
 *  1. Scope. At most one Telemetry per level applies, the oldest of each level:
 *     root namespace (MeshConfig rootNamespace, default istio-system) without selector = mesh
 *     wide; the gateway's namespace without selector = namespace wide; a Telemetry in the
 *     gateway's namespace whose `selector.matchLabels` are all among the gateway's labels, or
 *     whose `targetRefs` name a Gateway API Gateway served here = workload. Later levels override
 *     earlier ones.
 *  2. Access logging (mergeLogs): providers named at the deepest level that names any win;
 *     an entry without providers inherits its parent's (or defaultProviders.accessLogging);
 *     `disabled: true` removes them; gateways are CLIENT for `match.mode`. No Telemetry
 *     logging and no default provider = MeshConfig accessLogFile decides (IR field absent).
 *  3. Metrics (mergeMetrics): providers likewise; overrides applied in order, later ones on
 *     top; `ALL_METRICS` disabled drops the provider; tag overrides merge by tag name.
 */
import type { TelemetryIR } from '../../ir/types.js';
import { DEFAULT_MESH_CONFIG, findProvider, type MeshConfig } from '../../mesh/mesh-config.js';
import type { LoadedResource } from '../../resources/types.js';
import type { TranslateContext } from '../context.js';

const GROUP = 'telemetry.istio.io/';
const GATEWAY_API = 'gateway.networking.k8s.io';

interface ProviderRef { name?: string }
interface AccessLogging { providers?: ProviderRef[]; disabled?: boolean; filter?: { expression?: string }; match?: { mode?: string } }
interface TagOverride { operation?: string; value?: string }
interface MetricsOverride { match?: { metric?: string; customMetric?: string; mode?: string }; disabled?: boolean; tagOverrides?: Record<string, TagOverride> }
interface Metrics { providers?: ProviderRef[]; overrides?: MetricsOverride[]; reportingInterval?: string }
interface TargetRef { group?: string; kind?: string; name?: string; namespace?: string }
interface TelemetrySpec {
  selector?: { matchLabels?: Record<string, string> };
  targetRef?: TargetRef;
  targetRefs?: TargetRef[];
  accessLogging?: AccessLogging[];
  metrics?: Metrics[];
  tracing?: unknown[];
}

const ALL = ['GRPC_REQUEST_MESSAGES', 'GRPC_RESPONSE_MESSAGES', 'REQUEST_COUNT', 'REQUEST_DURATION', 'REQUEST_SIZE', 'RESPONSE_SIZE',
  'TCP_CLOSED_CONNECTIONS', 'TCP_OPENED_CONNECTIONS', 'TCP_RECEIVED_BYTES', 'TCP_SENT_BYTES'];

function creation(r: LoadedResource): number {
  const t = r.object.metadata.creationTimestamp;
  const ms = typeof t === 'string' ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? Number.MAX_SAFE_INTEGER : ms;
}

const names = (ps: readonly ProviderRef[] | undefined): string[] => (ps ?? []).map((p) => p.name ?? '').filter((n) => n !== '');

/** Translate the Telemetry resources that apply to this gateway; undefined = MeshConfig defaults. */
export function translateTelemetry(ctx: TranslateContext, mesh: MeshConfig = DEFAULT_MESH_CONFIG): TelemetryIR | undefined {
  const id = ctx.identity;
  const root = mesh.rootNamespace;
  const list = ctx.byKind('Telemetry')
    .filter((r) => String(r.object.apiVersion).startsWith(GROUP))
    .sort((a, b) => creation(a) - creation(b) || a.seq - b.seq);
  const level: { root?: LoadedResource; ns?: LoadedResource; workload?: LoadedResource } = {};
  const ignore = (r: LoadedResource, reason: string): void => ctx.setStatus({ key: r.key, state: 'ignored', reasons: [reason] });
  const take = (slot: 'root' | 'ns' | 'workload', r: LoadedResource, what: string): void => {
    const prev = level[slot];
    if (prev === undefined) { level[slot] = r; return; }
    ctx.report({
      code: 'OBS_TELEMETRY_CONFLICT', severity: 'warning', resource: r.key, path: '',
      message: `Ignoring Telemetry "${r.key.namespace}/${r.key.name}": "${prev.key.namespace}/${prev.key.name}" already applies ${what} and is older`,
    });
    ignore(r, `Telemetry ${prev.key.namespace}/${prev.key.name} already applies ${what}`);
  };
  for (const r of list) {
    const spec = (r.object.spec ?? {}) as TelemetrySpec;
    const ns = r.key.namespace;
    const refs = spec.targetRefs ?? (spec.targetRef ? [spec.targetRef] : []);
    const labels = spec.selector?.matchLabels ?? {};
    if (refs.length > 0) {
      let hit = false;
      refs.forEach((t, i) => {
        const path = spec.targetRefs ? `spec.targetRefs[${i}]` : 'spec.targetRef';
        if (t.kind !== 'Gateway' || (t.group !== undefined && t.group !== GATEWAY_API)) {
          ctx.report({ code: 'OBS_TELEMETRY_TARGET_UNSUPPORTED', severity: 'warning', resource: r.key, path, message: `Ignoring targetRef ${t.group ?? ''}/${t.kind ?? ''} "${t.name ?? ''}": a gateway applies only targetRefs to a Gateway API Gateway` });
          return;
        }
        if (servesGateway(ctx, t.namespace ?? ns, t.name ?? '')) hit = true;
      });
      if (hit) take('workload', r, 'to this gateway');
      else ignore(r, 'No targetRef names a Gateway API Gateway served by this gateway');
      continue;
    }
    if (Object.keys(labels).length > 0) {
      const match = ns === id.namespace && Object.entries(labels).every(([k, v]) => id.labels[k] === v);
      if (match) take('workload', r, 'to this gateway');
      else ignore(r, ns === id.namespace
        ? `Selector ${JSON.stringify(labels)} does not match the gateway labels ${JSON.stringify(id.labels)}`
        : `Workload selectors apply only in the gateway's namespace "${id.namespace}"`);
      continue;
    }
    if (ns === root) take('root', r, 'mesh-wide');
    else if (ns === id.namespace) take('ns', r, `to namespace "${ns}"`);
    else ignore(r, `Namespace "${ns}" is neither the root namespace "${root}" nor the gateway's namespace "${id.namespace}"`);
  }
  const chain = [level.root, level.ns, level.workload].filter((r): r is LoadedResource => r !== undefined);
  for (const r of chain) checkApplied(ctx, r, mesh);

  const specs = chain.map((r) => (r.object.spec ?? {}) as TelemetrySpec);
  const accessLogging = mergeLogs(specs.map((s) => s.accessLogging ?? []).filter((l) => l.length > 0), mesh);
  const metrics = specs.some((s) => (s.metrics ?? []).length > 0) ? mergeMetrics(specs.flatMap((s) => s.metrics ?? []), mesh) : undefined;
  if (accessLogging === undefined && metrics === undefined) return chain.length ? { sources: chain.map((r) => r.key) } : undefined;
  return {
    ...(accessLogging !== undefined ? { accessLogging } : {}),
    ...(metrics !== undefined ? { metrics } : {}),
    sources: chain.map((r) => r.key),
  };
}

/** A Gateway API Gateway `ns/name` exists among the resources (Portico serves those it is given). */
function servesGateway(ctx: TranslateContext, ns: string, name: string): boolean {
  return ctx.byKind('Gateway').some((g) => String(g.object.apiVersion).startsWith(`${GATEWAY_API}/`) && g.key.namespace === ns && g.key.name === name);
}

/** Warnings for what an applied Telemetry asks and Portico does not do; its status. */
function checkApplied(ctx: TranslateContext, r: LoadedResource, mesh: MeshConfig): void {
  const spec = (r.object.spec ?? {}) as TelemetrySpec;
  const reasons: string[] = [];
  const warn = (code: string, path: string, message: string): void => {
    ctx.report({ code, severity: 'warning', resource: r.key, path, message });
    reasons.push(`${path}: ${message}`);
  };
  if ((spec.tracing ?? []).length > 0) warn('OBS_TELEMETRY_FIELD_UNSUPPORTED', 'spec.tracing', 'Ignoring tracing: Portico does not trace yet');
  (spec.accessLogging ?? []).forEach((a, i) => {
    names(a.providers).forEach((n, k) => {
      const p = findProvider(mesh, n);
      if (!p) warn('OBS_PROVIDER_NOT_FOUND', `spec.accessLogging[${i}].providers[${k}].name`, `Unknown provider "${n}": not defined in meshConfig.extensionProviders`);
      else if (!p.envoyFileAccessLog) warn('OBS_PROVIDER_UNSUPPORTED', `spec.accessLogging[${i}].providers[${k}].name`, `Provider "${n}" is not an envoyFileAccessLog provider; Portico writes no access log for it`);
    });
    if (names(a.providers).length === 0 && a.disabled !== true && mesh.defaultProviders.accessLogging.length === 0) {
      warn('OBS_TELEMETRY_NO_PROVIDER', `spec.accessLogging[${i}]`, 'No provider: name one (e.g. "envoy") or set meshConfig.defaultProviders.accessLogging; nothing is logged');
    }
  });
  (spec.metrics ?? []).forEach((m, i) => {
    if (m.reportingInterval !== undefined) warn('OBS_TELEMETRY_FIELD_UNSUPPORTED', `spec.metrics[${i}].reportingInterval`, 'Ignoring reportingInterval: metrics are exported live at each scrape');
    names(m.providers).forEach((n, k) => {
      if (!findProvider(mesh, n)) warn('OBS_PROVIDER_NOT_FOUND', `spec.metrics[${i}].providers[${k}].name`, `Unknown provider "${n}": not defined in meshConfig.extensionProviders`);
    });
    (m.overrides ?? []).forEach((o, k) => {
      if (o.match?.customMetric !== undefined) warn('OBS_TELEMETRY_FIELD_UNSUPPORTED', `spec.metrics[${i}].overrides[${k}].match.customMetric`, `Ignoring override of custom metric "${o.match.customMetric}": Portico has no custom metrics`);
      else if (o.match?.mode === 'SERVER') warn('OBS_TELEMETRY_FIELD_UNSUPPORTED', `spec.metrics[${i}].overrides[${k}].match.mode`, 'Ignoring a SERVER-only override: a gateway reports client-side metrics');
    });
  });
  ctx.setStatus({ key: r.key, state: reasons.length ? 'partial' : 'accepted', reasons });
}

/** Istio's mergeLogs for a CLIENT proxy: provider → filter. Undefined = fall back to MeshConfig. */
function mergeLogs(levels: readonly AccessLogging[][], mesh: MeshConfig): TelemetryIR['accessLogging'] {
  const defaults = mesh.defaultProviders.accessLogging;
  if (levels.length === 0 && defaults.length === 0) return undefined;
  const providers = new Map<string, string | undefined>();
  if (levels.length === 0) {
    for (const d of defaults) providers.set(d, undefined);
    return sortedLogs(providers);
  }
  let providerNames: readonly string[] = defaults;
  const filters = new Map<string, string | undefined>();
  for (const l of levels) {
    const set = new Set<string>();
    for (const a of l) {
      for (const p of names(a.providers)) { set.add(p); filters.set(p, a.filter?.expression); }
    }
    if (set.size > 0) providerNames = [...set];
  }
  const inScope = new Set(providerNames);
  let parent: readonly string[] = defaults;
  for (const l of levels) {
    for (const a of l) {
      let pn: readonly string[] = names(a.providers);
      if (pn.length === 0) pn = parent;
      parent = pn;
      for (const p of pn) {
        if (!inScope.has(p)) continue;
        if (a.match?.mode === 'SERVER') continue; // gateways are CLIENT
        if (a.disabled === true) { providers.delete(p); continue; }
        providers.set(p, filters.get(p));
      }
    }
  }
  return sortedLogs(providers);
}

function sortedLogs(m: ReadonlyMap<string, string | undefined>): NonNullable<TelemetryIR['accessLogging']> {
  return [...m.keys()].sort().map((provider) => {
    const filter = m.get(provider);
    return filter ? { provider, filter } : { provider };
  });
}

type Override = { disabled?: boolean; tags: Map<string, TagOverride> };

/** Istio's mergeMetrics, CLIENT mode, for every provider in scope. */
function mergeMetrics(metrics: readonly Metrics[], mesh: MeshConfig): NonNullable<TelemetryIR['metrics']> {
  const defaults = mesh.defaultProviders.metrics;
  let providerNames: readonly string[] = defaults;
  for (const m of metrics) { const n = names(m.providers); if (n.length > 0) providerNames = n; }
  const inScope = new Set(providerNames);
  const perProvider = new Map<string, Map<string, Override>>();
  const disabledAll = new Set<string>();
  let parent: readonly string[] = defaults;
  for (const m of metrics) {
    let pn: readonly string[] = names(m.providers);
    if (pn.length === 0) pn = parent;
    parent = pn;
    for (const p of pn) {
      if (!inScope.has(p)) continue;
      let mp = perProvider.get(p);
      if (!mp) perProvider.set(p, (mp = new Map()));
      for (const o of m.overrides ?? []) {
        const metric = o.match?.metric ?? (o.match?.customMetric === undefined ? 'ALL_METRICS' : undefined);
        if (metric === 'ALL_METRICS' && o.disabled === true) { disabledAll.add(p); continue; }
        disabledAll.delete(p);
        if (metric === undefined) continue; // customMetric: reported as unsupported
        if (o.match?.mode === 'SERVER') continue;
        for (const name of metric === 'ALL_METRICS' ? ALL : [metric]) {
          const cur = mp.get(name) ?? { tags: new Map<string, TagOverride>() };
          if (o.disabled !== undefined) cur.disabled = o.disabled;
          for (const [k, v] of Object.entries(o.tagOverrides ?? {})) cur.tags.set(k, v);
          mp.set(name, cur);
        }
      }
    }
  }
  const providers = [...perProvider.keys()].filter((p) => !disabledAll.has(p)).sort();
  // The Prometheus registry is one: the first prometheus provider in scope gives the overrides.
  const prom = providers.find((p) => findProvider(mesh, p)?.prometheus !== undefined);
  const overrides: Record<string, { disabled?: boolean; tags?: { name: string; remove: boolean; value?: string }[] }> = {};
  for (const [metric, o] of prom ? [...perProvider.get(prom)!].sort(([a], [b]) => (a < b ? -1 : 1)) : []) {
    const tags = [...o.tags].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, t]) => (
      t.operation === 'REMOVE' ? { name, remove: true } : { name, remove: false, value: t.value ?? '' }));
    overrides[metric] = { ...(o.disabled ? { disabled: true } : {}), ...(tags.length ? { tags } : {}) };
  }
  return { providers, overrides };
}

