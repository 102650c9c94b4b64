/**
 * Gateway API listener TLS (gateway_types.go GatewayTLSConfig): HTTPS listeners terminate
 * (mode Terminate, the default) with `certificateRefs`; TLS listeners pass through (Passthrough,
 * routed by TLSRoute on SNI) or terminate and proxy TCP to the TLSRoute backends.
 *
 * certificateRefs: core Secrets of type kubernetes.io/tls (`tls.crt`, `tls.key`); a Secret in
 * another namespace needs a ReferenceGrant there allowing Gateways of the Gateway's namespace
 * (a grant for HTTPRoutes does not count). An invalid reference sets ResolvedRefs False
 * (InvalidCertificateRef or RefNotPermitted); with no valid reference left the listener is not
 * programmed. Several valid references: the certificate whose SAN matches the SNI is served.
 *
 * Portico options (`tls.options`, Gateway API has no fields for these yet):
 * `portico.dev/http2: "false"` (ALPN http/1.1 only), `portico.dev/tls-min-version` and
 * `portico.dev/tls-max-version` (`1.0`–`1.3`), `portico.dev/tls-cipher-suites` (OpenSSL names,
 * comma separated).
 */
import type { CredentialIR, TlsServerIR, TlsVersionIR } from '../../ir/types.js';
import type { LoadedResource } from '../../resources/types.js';
import type { Condition, TranslateContext } from '../context.js';
import { type CredentialMaterial, mergeMaterial, readSecret } from '../tls/credentials.js';
import {
  alpnFor, CIPHERS_KEY, DEFAULT_MAX_VERSION, DEFAULT_MIN_VERSION, HTTP2_KEY, MAX_VERSION_KEY, MIN_VERSION_KEY, OPTION_TLS_VERSIONS,
  SUPPORTED_CIPHER_SUITES, versionRank,
} from '../tls/settings.js';
import { type GrantIndex, grantAllows } from './backends.js';
import { arr, cond, str } from './common.js';

/** Outcome: settings when the listener can be programmed, plus conditions to report. */
export interface ListenerTls {
  readonly tls?: TlsServerIR;
  readonly conditions: readonly Condition[];
}

/** Reads and validates the `tls` block of an HTTPS or TLS listener. */
export function readListenerTls(
  ctx: TranslateContext, gw: LoadedResource, l: any, index: number, protocol: 'HTTPS' | 'TLS',
  grants: GrantIndex, material: Map<string, CredentialMaterial>,
): ListenerTls {
  const path = `spec.listeners[${index}].tls`;
  const name = String(l?.name ?? '');
  const report = (code: string, severity: 'error' | 'warning', at: string, message: string): void =>
    ctx.report({ code, severity, resource: gw.key, path: at, message });
  const conditions: Condition[] = [];
  const fail = (reason: string, message: string): ListenerTls =>
    ({ conditions: [...conditions, cond('Accepted', false, reason, message), cond('Programmed', false, 'Invalid', message)] });

  const t = l?.tls;
  const mode = str(t?.mode) ?? 'Terminate';
  if (protocol === 'HTTPS' && mode !== 'Terminate') {
    report('TLS_SETTINGS_INVALID', 'error', `${path}.mode`, `Cannot serve listener "${name}": an HTTPS listener must terminate TLS (mode Terminate)`);
    return fail('UnsupportedValue', 'HTTPS listeners need tls.mode Terminate');
  }
  if (t?.frontendValidation !== undefined) {
    report('TLS_MODE_UNSUPPORTED', 'warning', `${path}.frontendValidation`,
      `Cannot serve listener "${name}": client certificate validation (frontendValidation) is not supported for Gateway API listeners yet; use an Istio Gateway with tls.mode MUTUAL`);
    return fail('UnsupportedValue', 'frontendValidation is not supported');
  }
  const options: Record<string, string> = t?.options && typeof t.options === 'object' ? t.options : {};
  const versions = readVersions(options, name, `${path}.options`, report);
  if (!versions) return fail('UnsupportedValue', 'Invalid TLS version options');
  if (mode === 'Passthrough') {
    return { tls: { mode: 'PASSTHROUGH', credentials: [], minVersion: versions.min, maxVersion: versions.max, alpn: [] }, conditions };
  }

  const refs = arr(t?.certificateRefs);
  if (refs.length === 0) {
    report('TLS_SETTINGS_INVALID', 'error', `${path}.certificateRefs`, `Cannot serve listener "${name}": mode Terminate needs at least one certificateRef`);
    return { conditions: [cond('ResolvedRefs', false, 'InvalidCertificateRef', 'No certificateRefs'), cond('Programmed', false, 'Invalid', 'No certificateRefs')] };
  }
  const credentials: CredentialIR[] = [];
  let refProblem: Condition | undefined;
  refs.forEach((ref: any, i: number) => {
    const at = `${path}.certificateRefs[${i}]`;
    const group = str(ref?.group) ?? '';
    const kind = str(ref?.kind) ?? 'Secret';
    const refName = String(ref?.name ?? '');
    const ns = str(ref?.namespace) ?? gw.key.namespace;
    if ((group !== '' && group !== 'core') || kind !== 'Secret') {
      report('TLS_CREDENTIAL_INVALID', 'error', at, `Cannot use certificateRef "${refName}": kind "${group ? `${group}/` : ''}${kind}" is not supported (only core Secret)`);
      refProblem ??= cond('ResolvedRefs', false, 'InvalidCertificateRef', `certificateRef "${refName}" is not a core Secret`);
      return;
    }
    if (ns !== gw.key.namespace && !grantAllows(grants, 'Gateway', gw.key.namespace, ns, refName, 'Secret')) {
      report('TLS_CERT_REF_NOT_PERMITTED', 'error', at,
        `Cannot use Secret "${ns}/${refName}": no ReferenceGrant in namespace "${ns}" allows Gateways from namespace "${gw.key.namespace}"`);
      refProblem ??= cond('ResolvedRefs', false, 'RefNotPermitted', `Secret "${ns}/${refName}" is not permitted by a ReferenceGrant`);
      return;
    }
    const r = readSecret((k, n, nm) => ctx.resources.get(`${k}/${n}/${nm}`), ns, refName, { certificate: true, ca: false, istio: false });
    if (!r.ok) {
      report(r.reason === 'not_found' ? 'TLS_CREDENTIAL_NOT_FOUND' : 'TLS_CREDENTIAL_INVALID', 'error', at, r.message);
      refProblem ??= cond('ResolvedRefs', false, 'InvalidCertificateRef', r.message);
      return;
    }
    mergeMaterial(material, r.credential.key, r.material);
    if (!credentials.some((c) => c.key === r.credential.key)) credentials.push(r.credential);
  });
  if (refProblem) conditions.push(refProblem);
  if (credentials.length === 0) {
    return { conditions: [...conditions, cond('Programmed', false, 'Invalid', 'No valid certificateRef')] };
  }
  const ciphers: string[] = [];
  for (const c of (options[CIPHERS_KEY] ?? '').split(/[,:\s]+/).map((x) => x.trim().toUpperCase()).filter(Boolean)) {
    if (SUPPORTED_CIPHER_SUITES.has(c)) ciphers.push(c);
    else report('TLS_SETTINGS_INVALID', 'warning', `${path}.options["${CIPHERS_KEY}"]`, `Ignoring cipher suite "${c}" on listener "${name}": not one of ${[...SUPPORTED_CIPHER_SUITES].join(', ')}`);
  }
  return {
    tls: {
      mode: 'SIMPLE',
      credentials,
      minVersion: versions.min,
      maxVersion: versions.max,
      ...(ciphers.length ? { cipherSuites: ciphers } : {}),
      alpn: protocol === 'HTTPS' ? alpnFor(options[HTTP2_KEY]) : [],
    },
    conditions,
  };
}

function readVersions(options: Record<string, string>, name: string, at: string,
  report: (code: string, severity: 'error' | 'warning', at: string, message: string) => void): { min: TlsVersionIR; max: TlsVersionIR } | undefined {
  const pick = (key: string, dflt: TlsVersionIR): TlsVersionIR | undefined => {
    const raw = options[key];
    if (raw === undefined) return dflt;
    const v = OPTION_TLS_VERSIONS[raw.trim()];
    if (!v) report('TLS_SETTINGS_INVALID', 'error', `${at}["${key}"]`, `Cannot serve listener "${name}": ${key} "${raw}" is not one of 1.0, 1.1, 1.2, 1.3`);
    return v;
  };
  const min = pick(MIN_VERSION_KEY, DEFAULT_MIN_VERSION);
  const max = pick(MAX_VERSION_KEY, DEFAULT_MAX_VERSION);
  if (!min || !max) return undefined;
  if (versionRank(min) > versionRank(max)) {
    report('TLS_SETTINGS_INVALID', 'error', `${at}["${MIN_VERSION_KEY}"]`, `Cannot serve listener "${name}": the minimum TLS version ${min} is above the maximum ${max}`);
    return undefined;
  }
  return { min, max };
}
