import type { Origin, ResourceKey } from '../../errors/diagnostic.js';

/** A Kubernetes-style object as read from YAML/JSON (or later from the API server). */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly creationTimestamp?: string;
    readonly generation?: number;
    readonly [k: string]: unknown;
  };
  readonly spec?: any;
  readonly [k: string]: any;
}

/**
 * Resolves a field path of one object to a source position. Paths use the same
 * syntax as diagnostics: `spec.http[0].route[1].destination.host`. When the exact
 * field has no position the nearest ancestor's position is returned.
 */
export type PositionLookup = (path: string) => Origin | undefined;

/** One loaded object with its provenance. */
export interface LoadedResource {
  readonly key: ResourceKey;
  readonly object: KubeObject;
  /** Position of the object itself (the document start). */
  readonly origin?: Origin;
  readonly positionOf: PositionLookup;
  /** Name of the source that produced it: `file`, `kubernetes`, `admin`. */
  readonly source: string;
  /** Order of appearance across all inputs; a stable tie-breaker when creationTimestamp is absent. */
  readonly seq: number;
}

/** Everything one source (or the aggregate of all sources) currently holds. */
export interface ResourceSet {
  readonly revision: number;
  /** Keyed by `Kind/namespace/name`. */
  readonly objects: ReadonlyMap<string, LoadedResource>;
}

/** The identity of the gateway workload Portico plays (CLI --namespace / --labels). */
export interface WorkloadIdentity {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Port Kubernetes Ingress resources are served on (CLI --ingress-port, default 80). */
  readonly ingressPort: number;
  /** Port Ingress `spec.tls` hosts are served on with TLS (CLI --ingress-https-port, default 443). */
  readonly ingressHttpsPort?: number;
  /** Address listeners bind to (CLI --bind, default 0.0.0.0). */
  readonly bindAddress: string;
  /** Cluster DNS suffix, default `cluster.local`. */
  readonly clusterDomain: string;
}
