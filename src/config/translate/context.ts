/**
 * Contracts shared by the translators (Istio, Gateway API, Ingress) and the service registry.
 * Translation is pure: everything a translator needs is in the TranslateContext it is given.
 */
import type { Diagnostic, ResourceKey } from '../../errors/diagnostic.js';
import type { ClusterIR, EndpointIR, ListenerIR } from '../ir/types.js';
import type { LoadedResource, WorkloadIdentity } from '../resources/types.js';
import type { CredentialMaterial } from './tls/credentials.js';

/** Kubernetes-style status condition (Gateway API conditions on routes and gateways). */
export interface Condition {
  readonly type: string; // Accepted, ResolvedRefs, Programmed...
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string; // Accepted, NotAllowedByListeners, BackendNotFound, RefNotPermitted...
  readonly message: string;
}

/** Per-parent status of a Gateway API route (or per-listener of a Gateway). */
export interface ParentStatus {
  /** `Gateway/ns/name` plus `/sectionName` when given. */
  readonly parentRef: string;
  readonly conditions: readonly Condition[];
}

/** What /config_dump shows for every input resource. */
export interface ResourceStatus {
  readonly key: ResourceKey;
  /**
   * accepted: in effect; partial: in effect with some parts dropped (see diagnostics);
   * rejected: not in effect (invalid); ignored: not for this gateway (other class, selector,
   * exportTo, unsupported kind).
   */
  readonly state: 'accepted' | 'partial' | 'rejected' | 'ignored';
  readonly reasons: readonly string[];
  /** Gateway API conditions, per parent (routes) or for the object itself (Gateway: parentRef ""). */
  readonly parents?: readonly ParentStatus[];
}

/** A resolved Service (Kubernetes Service or ServiceEntry host). */
export interface ServiceInfo {
  /** FQDN: `reviews.default.svc.cluster.local` or the ServiceEntry host. */
  readonly host: string;
  readonly namespace: string;
  readonly name: string;
  readonly kind: 'Service' | 'ServiceEntry';
  readonly ports: readonly ServicePortInfo[];
  readonly exportTo?: readonly string[];
  readonly source: ResourceKey;
}

export interface ServicePortInfo {
  readonly name?: string;
  readonly port: number;
  /** Resolved protocol for the upstream connection. */
  readonly protocol: 'http1' | 'h2c' | 'tcp' | 'tls';
  readonly appProtocol?: string;
}

export interface ClusterRequest {
  /** Service FQDN (short names already expanded by the caller). */
  readonly host: string;
  /** Service port number; may be omitted when the service has exactly one port. */
  readonly port?: number;
  readonly subset?: string;
  /** Namespace of the referring resource (for DestinationRule / exportTo visibility). */
  readonly fromNamespace: string;
}

export type ClusterResult =
  | { readonly ok: true; readonly name: string; readonly cluster: ClusterIR }
  | {
      readonly ok: false;
      readonly reason: 'service_not_found' | 'port_not_found' | 'port_required' | 'subset_not_found';
      /** Sentence-case message for diagnostics and conditions. */
      readonly message: string;
    };

/**
 * Service registry built once per translation from Services, Endpoints, EndpointSlices, Pods,
 * ServiceEntries, WorkloadEntries and DestinationRules. Clusters are created on demand and
 * deduplicated; only requested clusters reach the IR.
 */
export interface ServiceRegistry {
  /** Look up a service by FQDN. */
  service(host: string): ServiceInfo | undefined;
  /** Get or create the cluster for a destination, applying DestinationRule settings. */
  cluster(req: ClusterRequest): ClusterResult;
  /** Every cluster requested so far, sorted by name. */
  clusters(): ClusterIR[];
  /** Ready endpoints of a service port (used by diagnostics and explain). */
  endpoints(host: string, port: number): readonly EndpointIR[];
  /** Secret material of DestinationRule credentialNames used by the clusters made so far. */
  credentials?(): ReadonlyMap<string, CredentialMaterial>;
}

/** Input to every translator. */
export interface TranslateContext {
  readonly identity: WorkloadIdentity;
  /** All loaded resources, by `Kind/namespace/name`. */
  readonly resources: ReadonlyMap<string, LoadedResource>;
  /** Resources of one kind, in input order. */
  byKind(kind: string): readonly LoadedResource[];
  readonly registry: ServiceRegistry;
  /** Report a problem; the diagnostic's origin is resolved from the resource's positions. */
  report(d: Omit<Diagnostic, 'origin'> & { readonly resource: ResourceKey }): void;
  /** Record the status of a resource (last call wins). */
  setStatus(s: ResourceStatus): void;
  /** Expand a short host with the namespace of the referring resource. */
  fqdn(host: string, namespace: string): string;
}

/** What one translator contributes; the orchestrator merges listeners by address+port. */
export interface TranslatorOutput {
  readonly listeners: readonly ListenerIR[];
  /** PEM material of the Secrets its TLS servers reference, by credential key (kept out of the IR). */
  readonly credentials?: ReadonlyMap<string, CredentialMaterial>;
}

export type Translator = (ctx: TranslateContext) => TranslatorOutput;
