/**
 * GatewayClass and Gateway handling: which Gateways Portico serves, which of their listeners are
 * programmed, and the GatewayClass / Gateway / listener status conditions.
 */
import type { TlsServerIR } from '../../ir/types.js';
import type { LoadedResource } from '../../resources/types.js';
import type { Condition, ParentStatus, TranslateContext } from '../context.js';
import type { CredentialMaterial } from '../tls/credentials.js';
import type { GrantIndex } from './backends.js';
import {
  CONTROLLER_NAME, GATEWAY_GROUP, arr, compareResources, cond, gwKind, isPort, str,
} from './common.js';
import { checkHostname, normalizeHostname } from './hostnames.js';
import { readListenerTls } from './listener-tls.js';

/** One Gateway listener as the attachment and IR stages see it. */
export interface ListenerInfo {
  readonly gateway: LoadedResource;
  readonly name: string;
  readonly index: number;
  readonly port: number;
  /** Normalised hostname, `*` when absent. */
  readonly hostname: string;
  /** allowedRoutes.namespaces (from + selector). */
  readonly from: 'Same' | 'All' | 'Selector';
  readonly selector?: unknown;
  /** False when the listener is skipped (invalid, unsupported protocol, conflict, no usable kinds). */
  programmed: boolean;
  /** Conditions accumulated while validating; Programmed/Accepted are finalised in gatewayStatus. */
  readonly problems: Condition[];
  /** Routes attached (Accepted) to this listener. */
  attachedRoutes: number;
  /** HTTP, HTTPS or TLS. */
  readonly protocol: 'HTTP' | 'HTTPS' | 'TLS';
  /** Route kinds that may attach: HTTPRoute on HTTP/HTTPS, TLSRoute on TLS. */
  readonly routeKind: 'HTTPRoute' | 'TLSRoute';
  /** Settings of HTTPS and TLS listeners (set once validated). */
  tls?: TlsServerIR;
}

/** A Gateway of one of our GatewayClasses. */
export interface GatewayInfo {
  readonly resource: LoadedResource;
  readonly listeners: readonly ListenerInfo[];
}

/** HTTP and HTTPS listeners serve HTTPRoute (GRPCRoute arrives later); TLS listeners TLSRoute. */
const KIND_BY_PROTOCOL: Readonly<Record<string, 'HTTPRoute' | 'TLSRoute'>> = { HTTP: 'HTTPRoute', HTTPS: 'HTTPRoute', TLS: 'TLSRoute' };
const LATER_PROTOCOLS = new Set(['TCP', 'UDP']);

/**
 * Finds our GatewayClasses and Gateways, validates listeners and detects hostname conflicts on
 * shared ports. Records GatewayClass statuses and ignored Gateways' statuses; the served
 * Gateways' statuses are written later by {@link writeGatewayStatuses} (they need route counts).
 */
export function collectGateways(ctx: TranslateContext, grants: GrantIndex, material: Map<string, CredentialMaterial>): GatewayInfo[] {
  const ours = new Set<string>();
  const allClasses = new Set<string>();
  for (const gc of gwKind(ctx, 'GatewayClass')) {
    allClasses.add(gc.key.name);
    if (gc.object.spec?.controllerName === CONTROLLER_NAME) {
      ours.add(gc.key.name);
      ctx.setStatus({
        key: gc.key, state: 'accepted', reasons: [],
        parents: [{ parentRef: '', conditions: [cond('Accepted', true, 'Accepted', `Handled by ${CONTROLLER_NAME}`)] }],
      });
    } else {
      ctx.setStatus({
        key: gc.key, state: 'ignored',
        reasons: [`controllerName "${String(gc.object.spec?.controllerName ?? '')}" is not "${CONTROLLER_NAME}"`],
      });
    }
  }

  const gateways: GatewayInfo[] = [];
  for (const gw of [...gwKind(ctx, 'Gateway')].sort(compareResources)) {
    const className = str(gw.object.spec?.gatewayClassName) ?? '';
    if (!ours.has(className)) {
      if (!allClasses.has(className)) {
        ctx.report({
          code: 'GWAPI_GATEWAY_CLASS_NOT_FOUND', severity: 'warning', resource: gw.key,
          path: 'spec.gatewayClassName', message: `Cannot find GatewayClass "${className}": the Gateway is not served`,
        });
      }
      ctx.setStatus({ key: gw.key, state: 'ignored', reasons: [`GatewayClass "${className}" is not handled by ${CONTROLLER_NAME}`] });
      continue;
    }
    gateways.push({ resource: gw, listeners: collectListeners(ctx, gw, grants, material) });
  }
  markConflicts(ctx, gateways);
  return gateways;
}

function collectListeners(ctx: TranslateContext, gw: LoadedResource, grants: GrantIndex, material: Map<string, CredentialMaterial>): ListenerInfo[] {
  const out: ListenerInfo[] = [];
  const names = new Set<string>();
  arr(gw.object.spec?.listeners).forEach((l: any, index: number) => {
    const path = `spec.listeners[${index}]`;
    const name = str(l?.name);
    const report = (code: string, severity: 'error' | 'warning', at: string, message: string): void =>
      ctx.report({ code, severity, resource: gw.key, path: at, message });
    if (!name) return report('GWAPI_LISTENER_INVALID', 'error', `${path}.name`, 'Cannot serve listener: name is required');
    if (names.has(name)) {
      return report('GWAPI_LISTENER_DUPLICATE_NAME', 'error', `${path}.name`, `Cannot serve listener "${name}": the name is used by an earlier listener`);
    }
    names.add(name);
    const problems: Condition[] = [];
    const from = l?.allowedRoutes?.namespaces?.from ?? 'Same';
    const rawProtocol = String(l?.protocol ?? '');
    const protocol = rawProtocol === 'HTTPS' || rawProtocol === 'TLS' ? rawProtocol : 'HTTP';
    const info: ListenerInfo = {
      gateway: gw, name, index, port: isPort(l?.port) ? l.port : 0,
      hostname: normalizeHostname(str(l?.hostname)),
      from: from === 'All' || from === 'Selector' ? from : 'Same',
      selector: l?.allowedRoutes?.namespaces?.selector,
      programmed: true, problems, attachedRoutes: 0,
      protocol, routeKind: KIND_BY_PROTOCOL[protocol]!,
    };
    out.push(info);
    const skip = (c: Condition): void => { info.programmed = false; problems.push(c); };

    if (!isPort(l?.port)) {
      report('GWAPI_LISTENER_INVALID', 'error', `${path}.port`, `Cannot serve listener "${name}": port must be an integer from 1 to 65535`);
      skip(cond('Accepted', false, 'PortUnavailable', 'Port must be an integer from 1 to 65535'));
      return;
    }
    if (!(rawProtocol in KIND_BY_PROTOCOL)) {
      const later = LATER_PROTOCOLS.has(rawProtocol);
      report('GWAPI_LISTENER_PROTOCOL_UNSUPPORTED', 'warning', `${path}.protocol`,
        later ? `Cannot serve listener "${name}": protocol "${rawProtocol}" arrives with a later release`
          : `Cannot serve listener "${name}": unknown protocol "${rawProtocol}"`);
      skip(cond('Accepted', false, 'UnsupportedProtocol', `Protocol "${rawProtocol}" is not supported by this release`));
      return;
    }
    if (protocol !== 'HTTP') {
      const t = readListenerTls(ctx, gw, l, index, protocol, grants, material);
      problems.push(...t.conditions);
      if (!t.tls) { info.programmed = false; return; }
      info.tls = t.tls;
    }
    if (info.hostname !== '*') {
      const bad = checkHostname(info.hostname);
      if (bad) {
        report('GWAPI_LISTENER_INVALID', 'error', `${path}.hostname`, `Cannot serve listener "${name}": ${bad}`);
        skip(cond('Accepted', false, 'UnsupportedValue', bad));
        return;
      }
    }
    if (info.from === 'Selector' && (typeof info.selector !== 'object' || info.selector === null)) {
      report('GWAPI_LISTENER_INVALID', 'error', `${path}.allowedRoutes.namespaces.selector`,
        `Cannot serve listener "${name}": from "Selector" needs a selector`);
      skip(cond('Accepted', false, 'UnsupportedValue', 'allowedRoutes.namespaces.from "Selector" needs a selector'));
      return;
    }
    const kinds = arr(l?.allowedRoutes?.kinds);
    if (kinds.length > 0) {
      const bad = kinds
        .map((k: any) => `${str(k?.group) ?? GATEWAY_GROUP}/${String(k?.kind ?? '')}`)
        .filter((k) => k !== `${GATEWAY_GROUP}/${info.routeKind}`);
      if (bad.length > 0) {
        report('GWAPI_LISTENER_ROUTE_KIND_INVALID', 'warning', `${path}.allowedRoutes.kinds`,
          `Cannot allow route kinds ${bad.map((b) => `"${b}"`).join(', ')} on listener "${name}": only ${info.routeKind} is served on ${protocol} listeners`);
        problems.push(cond('ResolvedRefs', false, 'InvalidRouteKinds', `Unsupported route kinds: ${bad.join(', ')}`));
        if (bad.length === kinds.length) {
          info.programmed = false;
          problems.push(cond('Programmed', false, 'Invalid', 'No supported route kind is allowed'));
        }
      }
    }
  });
  return out;
}

/**
 * Listener isolation needs one server per (port, hostname). Gateway API calls two listeners with
 * the same port and hostname Conflicted; Portico binds every Gateway on the same address, so the
 * check runs across all served Gateways: the oldest Gateway (then namespace/name), then the
 * earlier listener, keeps the hostname.
 */
function markConflicts(ctx: TranslateContext, gateways: readonly GatewayInfo[]): void {
  const owner = new Map<string, ListenerInfo>();
  // Plaintext HTTP and TLS (HTTPS, TLS) cannot share a port; the first listener decides.
  const portKind = new Map<number, ListenerInfo>();
  for (const g of gateways) {
    for (const l of g.listeners) {
      if (!l.programmed) continue;
      const kindOwner = portKind.get(l.port);
      if (!kindOwner) portKind.set(l.port, l);
      else if ((kindOwner.protocol === 'HTTP') !== (l.protocol === 'HTTP')) {
        l.programmed = false;
        const by = `listener "${kindOwner.name}" of Gateway "${kindOwner.gateway.key.namespace}/${kindOwner.gateway.key.name}"`;
        l.problems.push(cond('Conflicted', true, 'ProtocolConflict', `Port ${l.port} already serves ${kindOwner.protocol} for ${by}`));
        ctx.report({
          code: 'GWAPI_LISTENER_CONFLICT', severity: 'warning', resource: g.resource.key,
          path: `spec.listeners[${l.index}].protocol`,
          message: `Cannot serve listener "${l.name}": port ${l.port} already serves ${kindOwner.protocol} for ${by}`,
        });
        continue;
      }
      const k = `${l.port}|${l.hostname}`;
      const first = owner.get(k);
      if (!first) { owner.set(k, l); continue; }
      l.programmed = false;
      const by = `listener "${first.name}" of Gateway "${first.gateway.key.namespace}/${first.gateway.key.name}"`;
      l.problems.push(cond('Conflicted', true, 'HostnameConflict', `Port ${l.port} and hostname "${l.hostname}" are already used by ${by}`));
      ctx.report({
        code: 'GWAPI_LISTENER_CONFLICT', severity: 'warning', resource: g.resource.key,
        path: `spec.listeners[${l.index}].hostname`,
        message: `Cannot serve listener "${l.name}": port ${l.port} and hostname "${l.hostname}" are already used by ${by}`,
      });
    }
  }
}

/** Writes each served Gateway's status: Accepted/Programmed and one entry per listener. */
export function writeGatewayStatuses(ctx: TranslateContext, gateways: readonly GatewayInfo[]): void {
  for (const g of gateways) {
    const parents: ParentStatus[] = [];
    const programmed = g.listeners.filter((l) => l.programmed).length;
    const allOk = programmed === g.listeners.length;
    parents.push({
      parentRef: '',
      conditions: [
        cond('Accepted', true, 'Accepted', `Handled by ${CONTROLLER_NAME}`),
        programmed > 0
          ? cond('Programmed', true, 'Programmed', `${programmed} of ${g.listeners.length} listeners programmed`)
          : cond('Programmed', false, 'Invalid', 'No listener could be programmed'),
      ],
    });
    for (const l of g.listeners) parents.push({ parentRef: `listener/${l.name}`, conditions: listenerConditions(l) });
    ctx.setStatus({
      key: g.resource.key,
      state: programmed === 0 ? 'rejected' : allOk ? 'accepted' : 'partial',
      reasons: g.listeners.filter((l) => !l.programmed).map((l) => `listener "${l.name}" is not programmed`),
      parents,
    });
  }
}

function listenerConditions(l: ListenerInfo): Condition[] {
  const has = (type: string): Condition | undefined => l.problems.find((c) => c.type === type);
  const accepted = has('Accepted') ?? cond('Accepted', true, 'Accepted', `Listener accepted: ${l.attachedRoutes} attached routes`);
  const resolved = has('ResolvedRefs') ?? cond('ResolvedRefs', true, 'ResolvedRefs', 'All references resolved');
  const conflicted = has('Conflicted') ?? cond('Conflicted', false, 'NoConflicts', 'No conflicts');
  const programmed = l.programmed
    ? cond('Programmed', true, 'Programmed', `Serving on port ${l.port}`)
    : has('Programmed') ?? cond('Programmed', false, 'Invalid', 'Listener is not programmed');
  return [accepted, resolved, conflicted, programmed];
}
