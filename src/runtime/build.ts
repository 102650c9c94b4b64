/**
 * GatewayIR → Snapshot: compile route tables and clusters. Synchronous and pure apart from
 * leasing live endpoints from the registry. DNS names are resolved before build (resolve.ts)
 * and passed in, so a build never waits on the network.
 */
import { createHash } from 'node:crypto';
import type { GatewayIR, ListenerIR } from '../config/ir/types.js';
import { ClusterHandle, type Endpoint } from '../dataplane/upstream/cluster.js';
import { compileRouteTable, type RouteTable } from '../dataplane/router/route-table.js';
import { compileTlsListener, type CompiledTlsListener } from '../dataplane/tls/compile.js';
import { compileAction, type CompiledAction } from './actions.js';
import type { Registry } from './registry.js';

export interface Snapshot {
  readonly version: number;
  readonly irHash: string;
  readonly ir: GatewayIR;
  /** By listener name (`address:port`). */
  readonly listeners: ReadonlyMap<string, { readonly ir: ListenerIR; readonly table: RouteTable<CompiledAction>; readonly tls?: CompiledTlsListener }>;
  readonly clusters: ReadonlyMap<string, ClusterHandle>;
  readonly createdAt: number;
}

/** Stable hash of the IR: an update with the same hash is not swapped in. */
export function hashIR(ir: GatewayIR): string {
  return createHash('sha256').update(JSON.stringify(ir)).digest('hex').slice(0, 16);
}

/** Resolved addresses for DNS endpoints: hostname → IPs. */
export type DnsTable = ReadonlyMap<string, readonly string[]>;

export function buildSnapshot(ir: GatewayIR, version: number, registry: Registry, dns: DnsTable): { snapshot: Snapshot; used: Set<string> } {
  const used = new Set<string>();
  const clusters = new Map<string, ClusterHandle>();
  for (const c of ir.clusters) {
    const eps: Endpoint[] = [];
    for (const e of c.endpoints) {
      if (e.ready === false) continue;
      if (e.dns) {
        for (const addr of dns.get(e.address) ?? []) eps.push(registry.endpoint(c, e, addr, used));
      } else {
        eps.push(registry.endpoint(c, e, e.address, used));
      }
    }
    clusters.set(c.name, new ClusterHandle(c, eps));
  }
  const listeners = new Map<string, { ir: ListenerIR; table: RouteTable<CompiledAction>; tls?: CompiledTlsListener }>();
  for (const l of ir.listeners) {
    const tls = compileTlsListener(l, clusters);
    listeners.set(l.name, { ir: l, table: compileRouteTable(l, (r) => compileAction(r, clusters)), ...(tls ? { tls } : {}) });
  }
  return {
    snapshot: { version, irHash: hashIR(ir), ir, listeners, clusters, createdAt: Date.now() },
    used,
  };
}
