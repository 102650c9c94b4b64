/**
 * Gateway API hostname rules (httproute_types.go, HTTPRouteSpec.Hostnames; gateway_types.go,
 * Listener.Hostname). A wildcard `*.example.com` is a suffix match covering ONE OR MORE labels
 * (`foo.example.com`, `a.b.example.com`) but never the bare parent `example.com`.
 * `*` (or an absent hostname) matches everything.
 */

/** Lower-cases and drops a trailing dot; `''` and `'*'` both mean "any host". */
export function normalizeHostname(h: string | undefined): string {
  if (h === undefined) return '*';
  const s = h.trim().toLowerCase().replace(/\.$/, '');
  return s === '' ? '*' : s;
}

/** True for `*.suffix` patterns (not for the catch-all `*`). */
export function isWildcard(h: string): boolean {
  return h.startsWith('*.');
}

/**
 * Does pattern `p` cover every host that `h` can match? `h` may itself be exact or a wildcard:
 * `*.example.com` covers `foo.example.com`, `*.foo.example.com` and itself, not `example.com`.
 */
export function covers(p: string, h: string): boolean {
  if (p === '*' || p === h) return true;
  if (h === '*' || !isWildcard(p)) return false;
  const suffix = p.slice(1); // ".example.com"
  const base = isWildcard(h) ? h.slice(1) : h;
  return base.length > suffix.length && base.endsWith(suffix);
}

/**
 * Intersection of a listener hostname and one route hostname: the more specific of the two when
 * one covers the other, else undefined. A listener `very.specific.com` and a route
 * `*.specific.com` give `very.specific.com`; a listener `*.example.com` and a route
 * `foo.example.com` give `foo.example.com`; `*.foo.example.com` and `*.example.com` give
 * `*.foo.example.com`.
 */
export function intersectHostname(listener: string, route: string): string | undefined {
  if (covers(listener, route)) return route;
  if (covers(route, listener)) return listener;
  return undefined;
}

/**
 * Hostname precedence key (higher wins), httproute_types.go: "precedence must be given to rules
 * from the HTTPRoute with the largest number of: characters in a matching non-wildcard hostname;
 * characters in a matching hostname". `*` (no hostnames) ranks lowest.
 */
export function hostnameSpecificity(original: string): readonly [number, number] {
  if (original === '*') return [0, 0];
  return [isWildcard(original) ? 0 : original.length, original.length];
}

/** The more specific of two original hostnames (the first when equal or `b` is absent). */
export function pickMoreSpecific(a: string, b: string | undefined): string {
  if (b === undefined) return a;
  const [a0, a1] = hostnameSpecificity(a);
  const [b0, b1] = hostnameSpecificity(b);
  return (a0 !== b0 ? a0 > b0 : a1 >= b1) ? a : b;
}

/**
 * Orders virtual-host domains the way the runtime selects them, so output is deterministic and
 * reads naturally: exact names (alphabetical), wildcards (longest first), then `*`.
 */
export function compareDomains(a: string, b: string): number {
  const rank = (d: string): number => (d === '*' ? 2 : isWildcard(d) ? 1 : 0);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1 && a.length !== b.length) return b.length - a.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Validates a Gateway API Hostname (RFC 1123 with an optional leading `*.` label; no IPs).
 * Returns an error message, or undefined when valid.
 */
export function checkHostname(h: string): string | undefined {
  const body = isWildcard(h) ? h.slice(2) : h;
  if (/^\d+(\.\d+){3}$/.test(body) || body.includes(':')) return `IP addresses are not allowed as hostnames`;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(body)) {
    return `"${h}" is not a valid hostname`;
  }
  return undefined;
}
