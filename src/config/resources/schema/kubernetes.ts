/**
 * Schemas of the core Kubernetes kinds Portico reads: Ingress, IngressClass
 * (networking.k8s.io/v1), Service, Endpoints, Pod, Namespace, Secret (v1) and EndpointSlice
 * (discovery.k8s.io/v1). These are whole-object field sets (Secret and Endpoints keep their
 * data outside `spec`); `index.ts` adds apiVersion, kind and metadata.
 */
import {
  any, arr, bool, enm, int, intOrStr, map, obj, req, str, strList, strMap, withCheck,
  type CheckContext, type Schema,
} from './dsl.js';
import { childPath } from './field-path.js';

const portNumber = () => int({ min: 1, max: 65535 });
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

const objectReference = obj({}, { open: true });

// ---- Ingress / IngressClass -----------------------------------------------------------

const ingressBackend = obj(
  {
    service: obj(
      {
        name: req(str({ minLength: 1 })),
        port: obj({ number: portNumber(), name: str({ minLength: 1 }) }, { oneOf: [{ fields: ['number', 'name'], mode: 'exactlyOne' }] }),
      },
    ),
    resource: obj({ apiGroup: str(), kind: req(str()), name: req(str()) }),
  },
  { oneOf: [{ fields: ['service', 'resource'], mode: 'exactlyOne' }] },
);

const ingressPath = withCheck(
  obj({
    path: str(),
    pathType: req(enm(['Exact', 'Prefix', 'ImplementationSpecific'])),
    backend: req(ingressBackend),
  }),
  (p: { path?: unknown; pathType?: unknown }, at: string, ctx: CheckContext) => {
    if ((p.pathType === 'Exact' || p.pathType === 'Prefix') && typeof p.path === 'string' && !p.path.startsWith('/')) {
      ctx.error('VALIDATE_INVALID_VALUE', `${at}.path`, `Invalid path ${JSON.stringify(p.path)} for pathType "${p.pathType}": must start with "/"`);
    }
  },
);

/** Ingress top-level fields. */
export const ingressFields: Record<string, Schema> = {
  // Optional in the Kubernetes API; an Ingress without spec simply routes nothing.
  spec: obj({
    ingressClassName: str(),
    defaultBackend: ingressBackend,
    backend: obj({}, { open: true, deprecated: 'extensions/v1beta1 field: use "defaultBackend"' }),
    rules: arr(obj({
      host: str(),
      http: obj({ paths: req(arr(ingressPath, { minItems: 1 })) }),
    })),
    tls: arr(obj({ hosts: strList(), secretName: str() })),
  }),
  status: any(),
};

/** IngressClass top-level fields. */
export const ingressClassFields: Record<string, Schema> = {
  spec: obj({
    controller: str(),
    parameters: obj({ apiGroup: str(), kind: req(str()), name: req(str()), namespace: str(), scope: enm(['Cluster', 'Namespace']) }),
  }),
};

// ---- Service / Endpoints / EndpointSlice ----------------------------------------------

const servicePort = obj({
  name: str(),
  port: req(portNumber()),
  targetPort: intOrStr({ min: 1, max: 65535 }),
  protocol: enm(PROTOCOLS),
  appProtocol: str(),
  nodePort: int({ min: 0, max: 65535 }),
});

/** Service top-level fields. */
export const serviceFields: Record<string, Schema> = {
  spec: obj({
    ports: arr(servicePort),
    selector: strMap(),
    type: enm(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']),
    clusterIP: str(),
    clusterIPs: strList(),
    externalIPs: strList(),
    externalName: str(),
    externalTrafficPolicy: enm(['Cluster', 'Local']),
    internalTrafficPolicy: enm(['Cluster', 'Local']),
    healthCheckNodePort: int(),
    ipFamilies: arr(enm(['IPv4', 'IPv6'])),
    ipFamilyPolicy: enm(['SingleStack', 'PreferDualStack', 'RequireDualStack']),
    loadBalancerClass: str(),
    loadBalancerIP: str(),
    loadBalancerSourceRanges: strList(),
    allocateLoadBalancerNodePorts: bool(),
    publishNotReadyAddresses: bool(),
    sessionAffinity: enm(['None', 'ClientIP']),
    sessionAffinityConfig: any(),
    trafficDistribution: str(),
  }),
  status: any(),
};

const endpointAddress = obj({ ip: req(str()), hostname: str(), nodeName: str(), targetRef: objectReference });
const endpointPort = obj({ name: str(), port: req(portNumber()), protocol: enm(PROTOCOLS), appProtocol: str() });

/** Endpoints top-level fields. */
export const endpointsFields: Record<string, Schema> = {
  subsets: arr(obj({
    addresses: arr(endpointAddress),
    notReadyAddresses: arr(endpointAddress),
    ports: arr(endpointPort),
  })),
};

/** EndpointSlice top-level fields. */
export const endpointSliceFields: Record<string, Schema> = {
  addressType: req(enm(['IPv4', 'IPv6', 'FQDN'])),
  endpoints: arr(obj({
    addresses: req(strList({ minItems: 1, maxItems: 100 })),
    conditions: obj({ ready: bool(), serving: bool(), terminating: bool() }),
    hostname: str(),
    nodeName: str(),
    zone: str(),
    targetRef: objectReference,
    hints: any(),
    deprecatedTopology: strMap(),
  })),
  ports: arr(obj({ name: str(), port: int({ min: 1, max: 65535 }), protocol: enm(PROTOCOLS), appProtocol: str() })),
};

// ---- Pod / Namespace / Secret ---------------------------------------------------------

/** Pod top-level fields: only metadata.labels and the IPs matter; spec is not checked. */
export const podFields: Record<string, Schema> = {
  spec: any(),
  status: obj({ podIP: str(), podIPs: arr(obj({ ip: req(str()) })), phase: str() }, { open: true }),
};

/** Namespace top-level fields. */
export const namespaceFields: Record<string, Schema> = {
  spec: any(),
  status: any(),
};

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Secret data values must be base64; messages name the key, never the value. */
function checkBase64(data: Record<string, unknown>, path: string, ctx: CheckContext): void {
  for (const [key, value] of Object.entries(data)) {
    if (typeof value !== 'string') continue;
    const compact = value.replace(/\s+/g, '');
    if (compact.length % 4 !== 0 || !BASE64.test(compact)) {
      ctx.error('VALIDATE_INVALID_VALUE', childPath(path, key), `Invalid Secret data ${JSON.stringify(key)}: value is not valid base64`);
    }
  }
}

/** Secret top-level fields (shape only). */
export const secretFields: Record<string, Schema> = {
  type: str(),
  data: map(str({ secret: true }), { check: checkBase64 }),
  stringData: map(str({ secret: true })),
  immutable: bool(),
};
