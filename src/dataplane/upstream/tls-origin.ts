/**
 * Upstream TLS origination (DestinationRule trafficPolicy.tls SIMPLE / MUTUAL): how a pool
 * opens a TLS connection. The CA, client certificate and key come from the certificate store
 * at every connect, so a rotated client certificate or CA is used by the next new connection;
 * pooled connections keep theirs.
 *
 * Verification (pitfalls.md: never `rejectUnauthorized: false` unless insecureSkipVerify): the
 * chain against the CA (or Node's bundled roots when none is given) and then either the
 * DestinationRule `subjectAltNames` (any SAN equal to one of them) or the SNI as a host name.
 * The SNI is the rule's `sni`, else the service host; an IP address is never sent as SNI
 * (RFC 6066 §3) and is then checked against the IP SANs.
 */
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { ClusterTlsIR } from '../../config/ir/types.js';
import { parseSans } from '../tls/cert-info.js';
import type { CertStore } from '../tls/cert-store.js';

/** Opens TLS connections for one cluster's pool. */
export interface UpstreamTls {
  /** `alpn`: `http/1.1` for HTTP/1.1 pools, `h2` for HTTP/2 ones. */
  connect(address: string, port: number, alpn: string): tls.TLSSocket;
}

/** The origination settings of a cluster. */
export function createUpstreamTls(ir: ClusterTlsIR, serviceHost: string, store: CertStore | undefined): UpstreamTls {
  const sni = ir.sni ?? serviceHost;
  const sendSni = isIP(sni) === 0 && !sni.startsWith('*');
  let cached: { version: number; ctx: tls.SecureContext } | undefined;
  const context = (): tls.SecureContext | undefined => {
    const key = ir.credential?.key;
    if (key === undefined || store === undefined) return undefined;
    const v = store.get(key)?.current;
    if (!v) return undefined;
    if (cached?.version !== v.version) {
      const wantCert = ir.mode === 'MUTUAL';
      cached = {
        version: v.version,
        ctx: tls.createSecureContext({
          ...(v.ca ? { ca: v.ca } : {}),
          ...(wantCert && v.cert && v.key ? { cert: v.cert, key: v.key } : {}),
        }),
      };
    }
    return cached.ctx;
  };
  const sans = ir.subjectAltNames;
  const checkServerIdentity = sans?.length
    ? (_host: string, cert: tls.PeerCertificate): Error | undefined => {
      const s = parseSans(cert.subjectaltname);
      const all = [...s.dns, ...s.uri, ...s.ip];
      return sans.some((want) => all.includes(want) || all.includes(want.toLowerCase()))
        ? undefined
        : new Error(`Upstream certificate SANs [${all.join(', ')}] match none of ${sans.join(', ')}`);
    }
    : (_host: string, cert: tls.PeerCertificate): Error | undefined => tls.checkServerIdentity(sni, cert);
  return {
    connect(address, port, alpn) {
      const ctx = context();
      return tls.connect({
        host: address,
        port,
        ...(sendSni ? { servername: sni } : {}),
        ...(ctx ? { secureContext: ctx } : {}),
        ALPNProtocols: [alpn],
        rejectUnauthorized: ir.insecureSkipVerify !== true,
        checkServerIdentity,
      });
    },
  };
}
