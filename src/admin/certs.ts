/**
 * `GET /certs`: the certificate inventory (MISSION F20). Every credential in use with its
 * certificates (subject, SANs, issuer, serial, validity, days left, SHA-256), where it comes from
 * (files or Secret), its last rejection if any, and what uses it: listener and port, server,
 * the SNI host names that select it and the hosts its server routes. Never key material.
 */
import type { ListenerIR, ServerIR } from '../config/ir/types.js';
import type { CredentialSummary } from '../dataplane/tls/cert-store.js';
import { sniScore } from '../dataplane/tls/cert-info.js';
import type { Gateway } from '../runtime/gateway.js';

/** One use of a credential. */
export interface CertUse {
  readonly role: 'server' | 'client-ca' | 'upstream';
  readonly listener?: string;
  readonly port?: number;
  readonly server?: string;
  readonly mode?: string;
  /** SNI host names for which this certificate is served. */
  readonly sniHosts?: readonly string[];
  /** Host names the server routes (virtual-host domains, or TLS route SNI patterns). */
  readonly hostsServed?: readonly string[];
  readonly cluster?: string;
}

export interface CertInventory {
  readonly warningDays: number;
  readonly credentials: readonly (CredentialSummary & { readonly usedBy: readonly CertUse[] })[];
}

/** Build the inventory from the certificate store and the serving snapshot. */
export function certInventory(gw: Gateway): CertInventory {
  const uses = new Map<string, CertUse[]>();
  const add = (key: string, u: CertUse): void => {
    const l = uses.get(key);
    if (l) l.push(u); else uses.set(key, [u]);
  };
  const ir = gw.snapshot?.ir;
  for (const l of ir?.listeners ?? []) {
    for (const s of l.servers) {
      if (!s.tls) continue;
      for (const c of s.tls.credentials) {
        add(c.key, { role: 'server', listener: l.name, port: l.port, server: s.name, mode: s.tls.mode, sniHosts: sniFor(gw, s, c.key), hostsServed: hostsOf(l, s) });
      }
      if (s.tls.clientCa) add(s.tls.clientCa.key, { role: 'client-ca', listener: l.name, port: l.port, server: s.name, mode: s.tls.mode });
    }
  }
  for (const c of ir?.clusters ?? []) if (c.tls?.credential) add(c.tls.credential.key, { role: 'upstream', cluster: c.name, mode: c.tls.mode });
  return {
    warningDays: gw.certs.warnDays,
    credentials: gw.certs.inventory().map((c) => ({ ...c, usedBy: uses.get(c.key) ?? [] })),
  };
}

/** The server host names whose SNI picks this credential (same rule as the data plane). */
function sniFor(gw: Gateway, s: ServerIR, key: string): string[] {
  const creds = s.tls!.credentials;
  if (creds.length === 1) return [...s.hostnames];
  return s.hostnames.filter((h) => {
    let best: string | undefined;
    let bestScore = -1;
    for (const c of creds) {
      const v = gw.certs.get(c.key)?.current;
      if (!v) continue;
      const score = sniScore(v.leafSans, v.leafCn, h.startsWith('*.') ? `x${h.slice(1)}` : h);
      if (score > bestScore) { best = c.key; bestScore = score; }
    }
    return best === key;
  });
}

function hostsOf(_l: ListenerIR, s: ServerIR): string[] {
  const out = new Set<string>();
  for (const v of s.virtualHosts) for (const d of v.domains) out.add(d);
  for (const r of s.tlsRoutes ?? []) for (const h of r.sniHosts) out.add(h);
  return [...out].sort();
}
