/**
 * The kinds Portico reads, by API group and kind, with their accepted versions and
 * whole-object schemas.
 */
import { any, int, obj, req, str, strMap, type ObjectSchema, type Schema } from './dsl.js';
import {
  gatewayClassSpec, grpcRouteSpec, httpRouteSpec, k8sGatewaySpec, referenceGrantSpec, tcpRouteSpec, tlsRouteSpec,
} from './gateway-api.js';
import {
  destinationRuleSpec, istioGatewaySpec, serviceEntrySpec, virtualServiceSpec, workloadEntrySpec,
} from './istio.js';
import { telemetrySpec } from './telemetry.js';
import {
  endpointSliceFields, endpointsFields, ingressClassFields, ingressFields, namespaceFields, podFields, secretFields,
  serviceFields,
} from './kubernetes.js';

/** One supported kind. */
export interface KindSpec {
  /** API group; "" for the core group (`apiVersion: v1`). */
  readonly group: string;
  readonly kind: string;
  readonly versions: readonly string[];
  /** Schema of the whole object (apiVersion, kind, metadata and the rest). */
  readonly schema: ObjectSchema;
}

const objectMeta = obj(
  {
    name: req(str({ minLength: 1 })),
    namespace: str(),
    labels: strMap(),
    annotations: strMap(),
    creationTimestamp: str(),
    generation: int({ min: 0 }),
  },
  // uid, resourceVersion, managedFields, ownerReferences… are written by the API server.
  { open: true },
);

function envelope(fields: Readonly<Record<string, Schema>>): ObjectSchema {
  return obj({ apiVersion: req(str()), kind: req(str()), metadata: req(objectMeta), ...fields });
}

/** spec (required) plus a status block that is never checked. */
const withSpec = (spec: ObjectSchema): ObjectSchema => envelope({ spec: req(spec), status: any() });

const ISTIO = 'networking.istio.io';
const ISTIO_VERSIONS = ['v1', 'v1beta1', 'v1alpha3'];
const GATEWAY = 'gateway.networking.k8s.io';
const GATEWAY_VERSIONS = ['v1', 'v1beta1'];

/** Every supported kind. */
export const KIND_SPECS: readonly KindSpec[] = [
  { group: ISTIO, kind: 'Gateway', versions: ISTIO_VERSIONS, schema: withSpec(istioGatewaySpec) },
  { group: ISTIO, kind: 'VirtualService', versions: ISTIO_VERSIONS, schema: withSpec(virtualServiceSpec) },
  { group: ISTIO, kind: 'DestinationRule', versions: ISTIO_VERSIONS, schema: withSpec(destinationRuleSpec) },
  { group: ISTIO, kind: 'ServiceEntry', versions: ISTIO_VERSIONS, schema: withSpec(serviceEntrySpec) },
  { group: ISTIO, kind: 'WorkloadEntry', versions: ISTIO_VERSIONS, schema: withSpec(workloadEntrySpec) },

  { group: GATEWAY, kind: 'GatewayClass', versions: GATEWAY_VERSIONS, schema: withSpec(gatewayClassSpec) },
  { group: GATEWAY, kind: 'Gateway', versions: GATEWAY_VERSIONS, schema: withSpec(k8sGatewaySpec) },
  { group: GATEWAY, kind: 'HTTPRoute', versions: GATEWAY_VERSIONS, schema: withSpec(httpRouteSpec) },
  { group: GATEWAY, kind: 'ReferenceGrant', versions: ['v1', 'v1beta1'], schema: withSpec(referenceGrantSpec) },
  { group: GATEWAY, kind: 'GRPCRoute', versions: ['v1', 'v1alpha2'], schema: withSpec(grpcRouteSpec) },
  { group: GATEWAY, kind: 'TLSRoute', versions: ['v1', 'v1alpha3', 'v1alpha2'], schema: withSpec(tlsRouteSpec) },
  { group: GATEWAY, kind: 'TCPRoute', versions: ['v1alpha2'], schema: withSpec(tcpRouteSpec) },

  { group: 'telemetry.istio.io', kind: 'Telemetry', versions: ['v1', 'v1alpha1'], schema: withSpec(telemetrySpec) },

  { group: 'networking.k8s.io', kind: 'Ingress', versions: ['v1'], schema: envelope(ingressFields) },
  { group: 'networking.k8s.io', kind: 'IngressClass', versions: ['v1'], schema: envelope(ingressClassFields) },

  { group: '', kind: 'Service', versions: ['v1'], schema: envelope(serviceFields) },
  { group: '', kind: 'Endpoints', versions: ['v1'], schema: envelope(endpointsFields) },
  { group: 'discovery.k8s.io', kind: 'EndpointSlice', versions: ['v1'], schema: envelope(endpointSliceFields) },
  { group: '', kind: 'Pod', versions: ['v1'], schema: envelope(podFields) },
  { group: '', kind: 'Namespace', versions: ['v1'], schema: envelope(namespaceFields) },
  { group: '', kind: 'Secret', versions: ['v1'], schema: envelope(secretFields) },
];

const BY_GROUP_KIND = new Map(KIND_SPECS.map((k) => [`${k.group}/${k.kind}`, k]));

/** `networking.istio.io/v1` → `{group, version}`; `v1` → group "". */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.lastIndexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/** The kind spec for a group and kind, whatever the version; undefined when the kind is unknown. */
export function findKind(apiVersion: string, kind: string): KindSpec | undefined {
  return BY_GROUP_KIND.get(`${splitApiVersion(apiVersion).group}/${kind}`);
}

/** The kind spec when both kind and version are supported. */
export function lookupKind(apiVersion: string, kind: string): KindSpec | undefined {
  const spec = findKind(apiVersion, kind);
  return spec && spec.versions.includes(splitApiVersion(apiVersion).version) ? spec : undefined;
}
