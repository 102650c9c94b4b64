/**
 * Runtime clusters: endpoints (live objects leased from the registry so pools and
 * load-balancer state survive config swaps) and the load balancers over them.
 */
import type { ClusterIR, LbPolicy } from '../../config/ir/types.js';
import type { H1Pool } from './h1-pool.js';
import type { H2Pool } from './h2-pool.js';

/** One upstream address. `active` counts requests in flight (LEAST_REQUEST). */
export interface Endpoint {
  readonly key: string;
  readonly address: string;
  readonly port: number;
  readonly protocol: 'http1' | 'h2c';
  weight: number;
  active: number;
  /** Exactly one of these is set, per protocol. */
  readonly h1: H1Pool | undefined;
  readonly h2: H2Pool | undefined;
  /** Connect failures in a row (exposed in /clusters). */
  consecutiveFailures: number;
  totalRequests: number;
}

export interface LoadBalancer {
  /** Pick an endpoint; `exclude` is the previously tried one (retry host predicate). */
  pick(exclude: Endpoint | undefined): Endpoint | undefined;
}

function allEqualWeights(eps: readonly Endpoint[]): boolean {
  for (let i = 1; i < eps.length; i++) if (eps[i]!.weight !== eps[0]!.weight) return false;
  return true;
}

/** Round robin; smooth weighted round robin (nginx's algorithm) when weights differ. */
export function roundRobin(eps: readonly Endpoint[]): LoadBalancer {
  let next = Math.floor(Math.random() * Math.max(1, eps.length));
  if (allEqualWeights(eps)) {
    return {
      pick(exclude) {
        const n = eps.length;
        if (n === 0) return undefined;
        let e = eps[next++ % n]!;
        if (e === exclude && n > 1) e = eps[next++ % n]!;
        return e;
      },
    };
  }
  const current = eps.map(() => 0);
  const total = eps.reduce((a, e) => a + e.weight, 0);
  return {
    pick(exclude) {
      let best = -1;
      for (let i = 0; i < eps.length; i++) {
        current[i]! += eps[i]!.weight;
        if (eps[i] === exclude && eps.length > 1) continue;
        if (best === -1 || current[i]! > current[best]!) best = i;
      }
      if (best === -1) return undefined;
      current[best]! -= total;
      return eps[best];
    },
  };
}

function weightedRandom(eps: readonly Endpoint[], total: number): Endpoint {
  let r = Math.random() * total;
  for (let i = 0; i < eps.length; i++) {
    r -= eps[i]!.weight;
    if (r < 0) return eps[i]!;
  }
  return eps[eps.length - 1]!;
}

/** Some endpoint other than `ex` (retry host predicate), scanning from a random start. */
function otherThan(eps: readonly Endpoint[], ex: Endpoint): Endpoint {
  const n = eps.length;
  const start = Math.floor(Math.random() * n);
  for (let i = 0; i < n; i++) {
    const e = eps[(start + i) % n]!;
    if (e !== ex) return e;
  }
  return ex;
}

/** Uniform (or weighted) random. */
export function random(eps: readonly Endpoint[]): LoadBalancer {
  const equal = allEqualWeights(eps);
  const total = eps.reduce((a, e) => a + e.weight, 0);
  return {
    pick(exclude) {
      const n = eps.length;
      if (n === 0) return undefined;
      const e = equal ? eps[Math.floor(Math.random() * n)]! : weightedRandom(eps, total);
      return e === exclude && n > 1 ? otherThan(eps, e) : e;
    },
  };
}

/**
 * Envoy's LEAST_REQUEST: power of two choices — sample two endpoints (weighted when weights
 * differ) and take the one with fewer active requests relative to its weight.
 */
export function leastRequest(eps: readonly Endpoint[]): LoadBalancer {
  const equal = allEqualWeights(eps);
  const total = eps.reduce((a, e) => a + e.weight, 0);
  const sample = equal ? () => eps[Math.floor(Math.random() * eps.length)]! : () => weightedRandom(eps, total);
  return {
    pick(exclude) {
      const n = eps.length;
      if (n === 0) return undefined;
      if (n === 1) return eps[0];
      let a = sample();
      let b = sample();
      if (a === exclude) a = b;
      if (b === exclude) b = a;
      if (a === exclude) a = b = otherThan(eps, exclude); // both samples hit the excluded host
      return a.active / a.weight <= b.active / b.weight ? a : b;
    },
  };
}

export function createLoadBalancer(policy: LbPolicy, eps: readonly Endpoint[]): LoadBalancer {
  switch (policy) {
    case 'ROUND_ROBIN': return roundRobin(eps);
    case 'RANDOM': return random(eps);
    default: return leastRequest(eps);
  }
}

/** A cluster in a snapshot. Endpoints may be replaced (DNS refresh); the LB follows. */
export class ClusterHandle {
  readonly ir: ClusterIR;
  #endpoints: readonly Endpoint[];
  #lb: LoadBalancer;
  /** Requests in flight on this cluster (circuit breaking, metrics). */
  active = 0;
  total = 0;
  failures = 0;

  constructor(ir: ClusterIR, endpoints: readonly Endpoint[]) {
    this.ir = ir;
    this.#endpoints = endpoints;
    this.#lb = createLoadBalancer(ir.lb, endpoints);
  }

  get endpoints(): readonly Endpoint[] { return this.#endpoints; }

  setEndpoints(eps: readonly Endpoint[]): void {
    this.#endpoints = eps;
    this.#lb = createLoadBalancer(this.ir.lb, eps);
  }

  pick(exclude?: Endpoint): Endpoint | undefined {
    return this.#lb.pick(exclude);
  }
}
