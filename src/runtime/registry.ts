/**
 * Live objects that outlive snapshots (STYLE.md §4): upstream endpoints with their
 * connection pools and load-balancer counters, keyed by `address:port/protocol`. A reload
 * therefore never drops idle upstream connections or resets least-request state.
 * Endpoints unused by the current snapshot are closed after a grace period.
 */
import type { ClusterIR, EndpointIR } from '../config/ir/types.js';
import type { Endpoint } from '../dataplane/upstream/cluster.js';
import { H1Pool } from '../dataplane/upstream/h1-pool.js';
import { H2Pool } from '../dataplane/upstream/h2-pool.js';
import { createUpstreamTls } from '../dataplane/upstream/tls-origin.js';
import type { CertStore } from '../dataplane/tls/cert-store.js';
import { createHash } from 'node:crypto';

export class Registry {
  readonly #endpoints = new Map<string, Endpoint>();
  /** Certificates for TLS origination (set by the Gateway). */
  certs: CertStore | undefined;
  /** Keys used by the current snapshot; others are released after `graceMs`. */
  #inUse = new Set<string>();

  /** Lease the endpoint for one EndpointIR of a cluster (address already resolved). */
  endpoint(c: ClusterIR, e: EndpointIR, address: string, used: Set<string>): Endpoint {
    // Pools with different TLS origination settings never share connections.
    const tlsKey = c.tls ? `/tls:${createHash('sha256').update(JSON.stringify([c.tls, c.serviceHost])).digest('hex').slice(0, 12)}` : '';
    const key = `${address}:${e.port}/${c.protocol}${tlsKey}`;
    used.add(key);
    let ep = this.#endpoints.get(key);
    if (ep === undefined) {
      const h1 = c.protocol === 'http1' ? new H1Pool(address, e.port) : undefined;
      const h2 = c.protocol === 'h2c' ? new H2Pool(address, e.port) : undefined;
      if (c.tls) {
        const up = createUpstreamTls(c.tls, c.serviceHost, this.certs);
        if (h1) h1.tls = up;
        if (h2) h2.tls = up;
      }
      ep = { key, address, port: e.port, protocol: c.protocol, weight: e.weight || 1, active: 0, h1, h2, consecutiveFailures: 0, totalRequests: 0 };
      this.#endpoints.set(key, ep);
    }
    if (ep.h1) {
      ep.h1.connectTimeoutMs = c.connectTimeoutMs;
      ep.h1.idleTimeoutMs = c.idleTimeoutMs;
      ep.h1.maxRequestsPerConnection = c.maxRequestsPerConnection ?? 0;
      // Istio's limits are per cluster; with one pool per endpoint they are enforced per
      // endpoint (exact for single-endpoint clusters; documented in docs/upstreams.md).
      ep.h1.maxConnections = c.maxConnections ?? Infinity;
    }
    if (ep.h2) ep.h2.connectTimeoutMs = c.connectTimeoutMs;
    return ep;
  }

  /** Called after a swap with the keys the new snapshot uses. */
  commit(used: Set<string>, graceMs: number): void {
    this.#inUse = used;
    const t = setTimeout(() => this.#sweep(), graceMs);
    t.unref();
  }

  /** Add keys to the in-use set (DNS refresh leases new addresses between swaps). */
  markUsed(keys: Set<string>): void {
    for (const k of keys) this.#inUse.add(k);
  }

  #sweep(): void {
    for (const [k, ep] of this.#endpoints) {
      if (this.#inUse.has(k) || ep.active > 0) continue;
      ep.h1?.close();
      ep.h2?.close();
      this.#endpoints.delete(k);
    }
  }

  all(): IterableIterator<Endpoint> { return this.#endpoints.values(); }

  close(): void {
    for (const ep of this.#endpoints.values()) { ep.h1?.close(); ep.h2?.close(); }
    this.#endpoints.clear();
  }
}
