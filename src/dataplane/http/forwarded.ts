/**
 * Trust decisions about forwarding headers (envoy-behaviour.md §5, MISSION F19/F32):
 *
 * - Trusted proxy hops (`--trusted-proxies N`, Istio MeshConfig
 *   `defaultConfig.gatewayTopology.numTrustedProxies`): with N = 0 (default) X-Forwarded-Proto
 *   from a client is ignored and overwritten with the connection's scheme, and the client
 *   address is the TCP peer. With N > 0 (a TLS-offloading load balancer in front) the
 *   X-Forwarded-Proto the load balancer sends decides the scheme (so httpsRedirect does not loop
 *   behind it) and the N-th address from the right of X-Forwarded-For is the client.
 * - X-Forwarded-Client-Cert (`--forward-client-cert MODE`, Istio
 *   `gatewayTopology.forwardClientCertDetails`), default SANITIZE_SET: a client's own header is
 *   never trusted; it is removed on every connection without a verified client certificate and
 *   replaced by the gateway's element on mTLS ones.
 */
import type { ForwardClientCertMode, ListenerRuntime } from './dispatch.js';

/** X-Forwarded-For as sent upstream (Envoy use_remote_address): the client's list, then the peer. */
export function appendForwardedFor(clientXff: string | undefined, peer: string): string {
  return clientXff === undefined ? peer : `${clientXff}, ${peer}`;
}

/** Modes accepted by --forward-client-cert. */
export const FORWARD_CLIENT_CERT_MODES: readonly ForwardClientCertMode[] = ['SANITIZE', 'FORWARD_ONLY', 'APPEND_FORWARD', 'SANITIZE_SET', 'ALWAYS_FORWARD_ONLY'];

/**
 * Scheme of a request: `dflt` (the connection's), or the trusted X-Forwarded-Proto. `head` is an
 * HTTP/1.1 RequestHead (lnames/values) or node:http2 request headers.
 */
export function trustedScheme(trustedProxies: number | undefined, head: unknown, dflt: string): string {
  if (!trustedProxies || head === undefined || head === null) return dflt;
  let v: unknown;
  const h = head as { lnames?: readonly string[]; values?: readonly string[] } & Record<string, unknown>;
  if (Array.isArray(h.lnames)) {
    const i = h.lnames.indexOf('x-forwarded-proto');
    v = i === -1 ? undefined : h.values![i];
  } else {
    v = h['x-forwarded-proto'];
  }
  if (Array.isArray(v)) v = v[0];
  if (typeof v !== 'string') return dflt;
  const first = v.split(',')[0]!.trim().toLowerCase();
  return first === 'https' || first === 'http' ? first : dflt;
}

/** The N-th address from the right of an X-Forwarded-For value, or undefined when too short. */
export function trustedClientAddress(xff: string | undefined, hops: number): string | undefined {
  if (xff === undefined || hops <= 0) return undefined;
  const parts = xff.split(',').map((p) => p.trim()).filter(Boolean);
  return parts.length >= hops ? parts[parts.length - hops] : undefined;
}

/**
 * The X-Forwarded-Client-Cert value to send upstream (undefined = none). Fast when nothing is
 * configured and the connection has no verified client certificate.
 */
export function forwardedClientCert(lr: ListenerRuntime | undefined, lnames: readonly string[], values: readonly string[]): string | undefined {
  if (lr === undefined) return undefined;
  const own = lr.tls?.xfcc;
  const mode = lr.forwardClientCert ?? 'SANITIZE_SET';
  if (own === undefined && mode !== 'ALWAYS_FORWARD_ONLY') return undefined;
  switch (mode) {
    case 'SANITIZE': return undefined;
    case 'SANITIZE_SET': return own;
    case 'FORWARD_ONLY':
    case 'ALWAYS_FORWARD_ONLY': return incoming(lnames, values);
    case 'APPEND_FORWARD': {
      const prev = incoming(lnames, values);
      return prev === undefined ? own : `${prev},${own}`;
    }
    default: return own;
  }
}

function incoming(lnames: readonly string[], values: readonly string[]): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < lnames.length; i++) {
    if (lnames[i] === 'x-forwarded-client-cert') out = out === undefined ? values[i] : `${out},${values[i]}`;
  }
  return out;
}
