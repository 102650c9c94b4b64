/**
 * Kubernetes Ingress translator (networking.k8s.io/v1). Every served Ingress shares one plaintext
 * listener on `identity.ingressPort` with one server (hostnames ["*"]): one virtual host per rule
 * host, routes ordered across all Ingresses (Exact first, then longer Prefix, then the oldest
 * Ingress), and the winning defaultBackend appended as a catch-all to every virtual host.
 *
 * `spec.tls` entries add an HTTPS listener on `identity.ingressHttpsPort` (default 443): one TLS
 * server per entry (SNI = its hosts, certificate = the kubernetes.io/tls Secret `secretName` in
 * the Ingress namespace) serving the virtual hosts of those hosts plus the catch-all ones. A host
 * named by an older Ingress's entry keeps that entry's certificate.
 */
import type { ResourceKey } from '../../../errors/diagnostic.js';
import type { BackendIR, ListenerIR, MatchIR, PathMatchIR, RouteIR, ServerIR, VirtualHostIR } from '../../ir/types.js';
import { DEFAULT_RETRY } from '../../ir/types.js';
import type { LoadedResource } from '../../resources/types.js';
import type { TranslateContext, Translator } from '../context.js';
import { arr, cmpStr, compareResources, creationMs, str } from '../gatewayapi/common.js';
import { compareDomains, covers } from '../gatewayapi/hostnames.js';
import { type CredentialMaterial, mergeMaterial, readSecret } from '../tls/credentials.js';
import { alpnFor, DEFAULT_MAX_VERSION, DEFAULT_MIN_VERSION } from '../tls/settings.js';
import { createClassSelector } from './class.js';

export { INGRESS_CLASS_NAME, INGRESS_CONTROLLER } from './class.js';

interface Entry {
  readonly route: RouteIR;
  /** 0 = Exact, 1 = Prefix (segment-wise). */
  readonly rank: number;
  /** Path length without a trailing "/" ("/" counts 1). */
  readonly length: number;
  readonly created: number;
  readonly nsName: string;
  readonly rule: number;
  readonly path: number;
}

/** Translates served Ingresses into one listener on the ingress port. */
export const translateIngress: Translator = (ctx) => {
  const selector = createClassSelector(ctx);
  const served: LoadedResource[] = [];
  for (const ing of ctx.byKind('Ingress')) {
    if (!String(ing.object.apiVersion).startsWith('networking.k8s.io/')) continue;
    const why = selector(ing);
    if (why === undefined) served.push(ing);
    else ctx.setStatus({ key: ing.key, state: 'ignored', reasons: [why] });
  }
  if (served.length === 0) return { listeners: [] };
  served.sort(compareResources);

  const byHost = new Map<string, Entry[]>();
  const problems = new Map<LoadedResource, string[]>();
  let defaultRoute: RouteIR | undefined;
  let defaultOwner: LoadedResource | undefined;

  for (const ing of served) {
    const notes: string[] = [];
    problems.set(ing, notes);
    const warn = (code: string, severity: 'error' | 'warning', path: string, message: string): void => {
      ctx.report({ code, severity, resource: ing.key, path, message });
      notes.push(message);
    };

    const db = ing.object.spec?.defaultBackend;
    if (db !== undefined && db !== null) {
      if (!defaultOwner) {
        defaultOwner = ing;
        const id = `ingress/${ing.key.namespace}/${ing.key.name}/default-backend`;
        defaultRoute = {
          name: id, id, match: { path: { type: 'PathPrefix', value: '/' } },
          action: { type: 'forward', backends: [resolveBackend(ctx, ing, db, 'spec.defaultBackend', warn)] },
          retry: DEFAULT_RETRY, source: ing.key, sourcePath: 'spec.defaultBackend',
        };
      } else {
        warn('INGRESS_DEFAULT_BACKEND_CONFLICT', 'warning', 'spec.defaultBackend',
          `Cannot use defaultBackend: Ingress "${defaultOwner.key.namespace}/${defaultOwner.key.name}" is older and its defaultBackend wins`);
      }
    }
    arr(ing.object.spec?.rules).forEach((rule: any, ri: number) => {
      const rawHost = str(rule?.host)?.toLowerCase();
      const host = rawHost ?? '*';
      if (rawHost !== undefined && !validHost(rawHost)) {
        return warn('INGRESS_HOST_INVALID', 'error', `spec.rules[${ri}].host`, `Cannot serve host "${rawHost}": expected a DNS name or a single-label wildcard such as "*.example.com"`);
      }
      arr(rule?.http?.paths).forEach((p: any, pi: number) => {
        const at = `spec.rules[${ri}].http.paths[${pi}]`;
        const path = parsePath(p);
        if (typeof path === 'string') return warn('INGRESS_PATH_INVALID', 'error', at, path);
        const id = `ingress/${ing.key.namespace}/${ing.key.name}/rule/${ri}/path/${pi}`;
        const match: MatchIR = { path, ...(host.startsWith('*.') ? { authority: singleLabel(host) } : {}) };
        const route: RouteIR = {
          name: id, id, match,
          action: { type: 'forward', backends: [resolveBackend(ctx, ing, p?.backend, `${at}.backend`, warn)] },
          // Istio turns an Ingress into a VirtualService, which gets the mesh default retry.
          retry: DEFAULT_RETRY, source: ing.key, sourcePath: at,
        };
        const list = byHost.get(host) ?? [];
        byHost.set(host, list);
        list.push({
          route, rank: path.type === 'Exact' ? 0 : 1, length: path.value === '/' ? 1 : path.value.replace(/\/$/, '').length,
          created: creationMs(ing), nsName: `${ing.key.namespace}/${ing.key.name}`, rule: ri, path: pi,
        });
      });
    });
  }

  // Kubernetes: a request matching no rule goes to defaultBackend, a known host too.
  if (defaultRoute && !byHost.has('*')) byHost.set('*', []);
  const port = ctx.identity.ingressPort;
  const serverName = `ingress/${port}`;
  const virtualHosts: VirtualHostIR[] = [...byHost.keys()].sort(compareDomains).map((domain) => ({
    name: `${serverName}/vhost/${domain}`,
    domains: [domain],
    routes: [...byHost.get(domain)!.sort(compareEntries).map((e) => e.route), ...(defaultRoute ? [defaultRoute] : [])],
  }));

  const credentials = new Map<string, CredentialMaterial>();
  const tlsServers = buildTlsServers(ctx, served, virtualHosts, problems, credentials);

  for (const ing of served) {
    const notes = problems.get(ing) ?? [];
    ctx.setStatus({ key: ing.key, state: notes.length ? 'partial' : 'accepted', reasons: notes });
  }
  const bind = ctx.identity.bindAddress;
  const sources: ResourceKey[] = served.map((s) => s.key).sort((a, b) => cmpStr(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
  const listeners: ListenerIR[] = [{
    name: `${bind}:${port}`, address: bind, port, protocol: 'HTTP',
    servers: [{ name: serverName, hostnames: ['*'], virtualHosts, source: served[0]!.key }],
    sources,
  }];
  if (tlsServers.length > 0) {
    const httpsPort = ctx.identity.ingressHttpsPort ?? 443;
    const tlsSources = [...new Map(tlsServers.map((s) => [`${s.source.namespace}/${s.source.name}`, s.source])).entries()]
      .sort(([a], [b]) => cmpStr(a, b)).map(([, k]) => k);
    listeners.push({ name: `${bind}:${httpsPort}`, address: bind, port: httpsPort, protocol: 'HTTPS', servers: tlsServers, sources: tlsSources });
  }
  return { listeners, credentials };
};

/**
 * One TLS server per `spec.tls` entry (oldest Ingress first). Its virtual hosts are those whose
 * domain one of its hosts covers, plus host-less (`*`) ones, so a Host header naming another
 * entry's host never reaches that entry's routes through this certificate.
 */
function buildTlsServers(ctx: TranslateContext, served: readonly LoadedResource[], vhosts: readonly VirtualHostIR[],
  problems: Map<LoadedResource, string[]>, credentials: Map<string, CredentialMaterial>): ServerIR[] {
  const out: ServerIR[] = [];
  const claimed = new Map<string, string>();
  const httpsPort = ctx.identity.ingressHttpsPort ?? 443;
  for (const ing of served) {
    arr(ing.object.spec?.tls).forEach((entry: any, i: number) => {
      const at = `spec.tls[${i}]`;
      const note = (code: string, path: string, message: string): void => {
        ctx.report({ code, severity: 'warning', resource: ing.key, path, message });
        problems.get(ing)?.push(message);
      };
      const secretName = str(entry?.secretName);
      const rawHosts: string[] = arr(entry?.hosts).filter((h: unknown): h is string => typeof h === 'string' && h !== '').map((h: string) => h.toLowerCase());
      const hosts = rawHosts.length > 0 ? rawHosts : ['*'];
      if (!secretName) {
        return note('INGRESS_TLS_UNSUPPORTED', `${at}.secretName`,
          `Cannot terminate TLS for ${hosts.join(', ')}: the entry has no secretName (a controller default certificate is not supported); served on the plaintext port only`);
      }
      const ns = ing.key.namespace;
      const r = readSecret((k, n, nm) => ctx.resources.get(`${k}/${n}/${nm}`), ns, secretName, { certificate: true, ca: false, istio: false });
      if (!r.ok) {
        return note(r.reason === 'not_found' ? 'TLS_CREDENTIAL_NOT_FOUND' : 'TLS_CREDENTIAL_INVALID', `${at}.secretName`,
          `${r.message}; hosts ${hosts.map((h) => `"${h}"`).join(', ')} are not served on port ${httpsPort}`);
      }
      const mine: string[] = [];
      for (const h of hosts) {
        const owner = claimed.get(h);
        if (owner !== undefined) {
          note('TLS_SNI_CONFLICT', `${at}.hosts`, `Not serving "${h}" with Secret "${ns}/${secretName}": ${owner} already serves it on port ${httpsPort}`);
          continue;
        }
        claimed.set(h, `Ingress "${ns}/${ing.key.name}"`);
        mine.push(h);
      }
      if (mine.length === 0) return;
      mergeMaterial(credentials, r.credential.key, r.material);
      const name = `ingress/${httpsPort}/tls/${ns}/${ing.key.name}/${i}`;
      out.push({
        name,
        hostnames: mine,
        tls: { mode: 'SIMPLE', credentials: [r.credential], minVersion: DEFAULT_MIN_VERSION, maxVersion: DEFAULT_MAX_VERSION, alpn: alpnFor(undefined) },
        virtualHosts: vhosts
          .filter((v) => v.domains.some((d) => d === '*' || mine.some((h) => covers(h, d))))
          .map((v) => ({ ...v, name: `${name}/vhost/${v.domains[0]}` })),
        source: ing.key,
      });
    });
  }
  return out;
}

/** Exact before Prefix; longer first; then the oldest Ingress, namespace/name, rule, path. */
function compareEntries(a: Entry, b: Entry): number {
  return a.rank - b.rank || b.length - a.length || (a.created === b.created ? 0 : a.created < b.created ? -1 : 1)
    || cmpStr(a.nsName, b.nsName) || a.rule - b.rule || a.path - b.path;
}

/**
 * Ingress pathType → PathMatchIR. Exact and Prefix follow the Ingress spec (Prefix is
 * segment-wise). ImplementationSpecific is served as Prefix; a trailing `/*` or `*` (a common
 * spelling from older controllers) is dropped first, so `/api/*` means the prefix `/api`.
 */
function parsePath(p: any): PathMatchIR | string {
  const type = p?.pathType ?? 'ImplementationSpecific';
  let value: unknown = p?.path ?? '/';
  if (typeof value !== 'string' || !value.startsWith('/')) return `Cannot serve path "${String(value)}": it must start with "/"`;
  if (type === 'Exact') return { type: 'Exact', value };
  if (type === 'Prefix') return { type: 'PathPrefix', value };
  if (type === 'ImplementationSpecific') {
    value = value.replace(/\/?\*$/, '') || '/';
    return { type: 'PathPrefix', value: value as string };
  }
  return `Cannot serve path "${value}": unknown pathType "${String(type)}" (expected Exact, Prefix or ImplementationSpecific)`;
}

/** RFC 1123 name, or `*.` followed by one (the Ingress wildcard is exactly one label). */
function validHost(h: string): boolean {
  const body = h.startsWith('*.') ? h.slice(2) : h;
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(body) && !/^\d+(\.\d+){3}$/.test(body);
}

/**
 * Virtual hosts treat `*.foo.com` as one or more labels (Gateway API); an Ingress wildcard covers
 * exactly one (`bar.foo.com`, not `baz.bar.foo.com`), so each route of such a host also matches
 * the Host header (port allowed) against a single-label pattern. Others fall to the catch-all.
 */
function singleLabel(host: string): { readonly type: 'Regex'; readonly value: string } {
  const suffix = host.slice(1).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return { type: 'Regex', value: `(?i)[^.:]+${suffix}(:[0-9]+)?` };
}

/** An Ingress backend → BackendIR; unresolvable ones answer 503 `cluster_not_found` (flag NC). */
function resolveBackend(
  ctx: TranslateContext,
  ing: LoadedResource,
  b: any,
  at: string,
  warn: (code: string, severity: 'error' | 'warning', path: string, message: string) => void,
): BackendIR {
  const notFound: BackendIR = { weight: 1, invalid: { status: 503, detail: 'cluster_not_found', flag: 'NC' } };
  const svc = b?.service;
  if (!svc || typeof svc.name !== 'string') {
    warn('INGRESS_BACKEND_INVALID', 'error', at, b?.resource ? 'Cannot use a resource backend: only Service backends are supported' : 'Cannot use backend: service.name is required');
    return notFound;
  }
  const ns = ing.key.namespace;
  const host = `${svc.name}.${ns}.svc.${ctx.identity.clusterDomain}`;
  let port: number | undefined = typeof svc.port?.number === 'number' ? svc.port.number : undefined;
  if (port === undefined) {
    const portName = str(svc.port?.name);
    if (!portName) {
      warn('INGRESS_BACKEND_INVALID', 'error', `${at}.service.port`, `Cannot use backend "${svc.name}": port.number or port.name is required`);
      return notFound;
    }
    const info = ctx.registry.service(host);
    port = info?.ports.find((p) => p.name === portName)?.port;
    if (port === undefined) {
      warn('INGRESS_BACKEND_NOT_FOUND', 'warning', `${at}.service.port.name`,
        info ? `Cannot resolve backend "${svc.name}": port "${portName}" not found on service "${svc.name}.${ns}"`
          : `Cannot resolve backend "${svc.name}": service not found in namespace "${ns}"`);
      return notFound;
    }
  }
  const r = ctx.registry.cluster({ host, port, fromNamespace: ns });
  if (!r.ok) {
    const why = r.reason === 'service_not_found' ? `service not found in namespace "${ns}"`
      : r.reason === 'port_not_found' ? `port ${port} not found on service "${svc.name}.${ns}"`
        : r.message.charAt(0).toLowerCase() + r.message.slice(1);
    warn('INGRESS_BACKEND_NOT_FOUND', 'warning', `${at}.service`, `Cannot resolve backend "${svc.name}": ${why}`);
    return notFound;
  }
  return { weight: 1, cluster: r.name };
}
