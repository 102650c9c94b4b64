/**
 * GatewayIR: the translated, protocol-neutral description of what the data plane must do.
 * Plain JSON data (no functions, no Maps, no RegExp) so it can be hashed, diffed, dumped in
 * /config_dump and compared in golden tests. Every translator (Istio, Gateway API, Ingress)
 * produces this; runtime/build compiles it into a Snapshot.
 *
 * Shape: listener (bound port) → servers (SNI / Host isolation groups, one route table each)
 * → virtual hosts (domains) → routes (ordered: first match wins) → backends → clusters.
 */
import type { ResourceKey } from '../../errors/diagnostic.js';

export interface GatewayIR {
  /** Sorted by port. */
  readonly listeners: readonly ListenerIR[];
  /** Sorted by name; only clusters referenced by some route. */
  readonly clusters: readonly ClusterIR[];
  /** Telemetry API result for this gateway; absent = MeshConfig defaults (observability.md). */
  readonly telemetry?: TelemetryIR;
}

export type ListenerProtocol = 'HTTP' | 'HTTPS' | 'TLS' | 'TCP';

export interface ListenerIR {
  /** `0.0.0.0:8080` style, unique. */
  readonly name: string;
  /** Bind address; the CLI --bind value unless a resource says otherwise. */
  readonly address: string;
  readonly port: number;
  readonly protocol: ListenerProtocol;
  /**
   * Server blocks sharing the port. For plaintext HTTP the request Host selects the server
   * (Gateway API listener isolation); for TLS the SNI does. Istio plaintext servers on one
   * port are merged into one server with hostnames ["*"] (Istio shares one route table).
   */
  readonly servers: readonly ServerIR[];
  readonly sources: readonly ResourceKey[];
}

export interface ServerIR {
  /** `gateway/istio-system/main/server/0` or `gateway/ns/gw/listener/http`. */
  readonly name: string;
  /** Hostnames selecting this server: exact, `*.suffix` or `*`. Most specific wins. */
  readonly hostnames: readonly string[];
  /** Plain HTTP server that answers every request with a 301 to https (Istio httpsRedirect). */
  readonly httpsRedirect?: boolean;
  /**
   * TLS settings of a server on an HTTPS/TLS listener (every server of such a listener has
   * them). The ClientHello's SNI selects the server by `hostnames` (exact > longest wildcard >
   * `*`); the server's own versions, ciphers and client-certificate mode apply, and its
   * requests never reach another server's routes, whatever their Host header says.
   */
  readonly tls?: TlsServerIR;
  readonly virtualHosts: readonly VirtualHostIR[];
  /**
   * L4 routes by SNI: PASSTHROUGH servers (Istio VirtualService `tls`, Gateway API TLSRoute) and
   * terminated TLS servers that proxy the decrypted bytes as TCP (Istio TLS + SIMPLE with `tcp`
   * routes, Gateway API TLS listener in Terminate mode). Absent on HTTP servers.
   */
  readonly tlsRoutes?: readonly TlsRouteIR[];
  readonly source: ResourceKey;
}

/** Server-side TLS mode (Istio ServerTLSSettings.mode; Gateway API Terminate = SIMPLE). */
export type TlsModeIR = 'SIMPLE' | 'MUTUAL' | 'OPTIONAL_MUTUAL' | 'PASSTHROUGH';

/** Wire names of TLS versions, as node:tls spells them. */
export type TlsVersionIR = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/**
 * Where certificate material comes from. Only references: the PEM data of Secrets travels
 * beside the IR (TranslateResult.credentials) into the certificate store, so key material is
 * never part of the hashed IR, goldens or /config_dump. `key` is stable across reloads: the
 * store keeps one live credential per key and rotates it in place.
 */
export interface CredentialIR {
  /** `file:<cert>|<key>|<ca>` or `secret:<namespace>/<name>`. */
  readonly key: string;
  readonly source: 'file' | 'secret';
  /** File paths (source file); each optional, but cert and key come together. */
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly caFile?: string;
  /** `namespace/name` of the Secret (source secret). */
  readonly secret?: string;
  /** `namespace/name` of the Secret the CA came from when it is the `<name>-cacert` companion. */
  readonly caSecret?: string;
}

export interface TlsServerIR {
  readonly mode: TlsModeIR;
  /**
   * Certificates served (not PASSTHROUGH). Several: the one whose SAN matches the SNI exactly,
   * else by wildcard SAN, else the first (Gateway API certificateRefs, Istio credentialNames).
   */
  readonly credentials: readonly CredentialIR[];
  /** CA bundle verifying client certificates (MUTUAL, OPTIONAL_MUTUAL); from a credential. */
  readonly clientCa?: CredentialIR;
  /** Default TLSv1.2 / TLSv1.3. TLSv1 and TLSv1.1 also lower OpenSSL's security level. */
  readonly minVersion: TlsVersionIR;
  readonly maxVersion: TlsVersionIR;
  /** OpenSSL names for TLS ≤ 1.2; absent = Node's default list. */
  readonly cipherSuites?: readonly string[];
  /** Accepted client certificate SANs (exact, any SAN type); absent = any. */
  readonly subjectAltNames?: readonly string[];
  /** Hex SHA-256 of accepted client certificates (colons removed, lower-case). */
  readonly verifyCertificateHash?: readonly string[];
  /** Base64 SHA-256 of accepted client certificate SPKIs. */
  readonly verifyCertificateSpki?: readonly string[];
  /** ALPN offered: `["h2", "http/1.1"]`, or `["http/1.1"]` with HTTP/2 disabled. */
  readonly alpn: readonly string[];
}

/** One L4 route of a TLS server: SNI patterns → weighted clusters. */
export interface TlsRouteIR {
  /** `virtualservice/ns/name/tls/0/match/1`, `tlsroute/ns/name/rule/0`. */
  readonly id: string;
  /** SNI patterns (exact, `*.suffix`, `*`); exact beats the longest wildcard beats `*`. */
  readonly sniHosts: readonly string[];
  readonly backends: readonly BackendIR[];
  readonly source: ResourceKey;
  readonly sourcePath: string;
}

export interface VirtualHostIR {
  /** Unique inside the listener: `<server>/vhost/<domain>`. */
  readonly name: string;
  /**
   * Domains, lower-case: exact (`shop.example.com`), wildcard prefix (`*.example.com`, one or
   * more labels, never the bare parent), or `*`. The port in the Host header is ignored.
   * Selection: exact > longest wildcard suffix > `*`.
   */
  readonly domains: readonly string[];
  /** Ordered; the first route whose match holds wins. Translators sort per their spec. */
  readonly routes: readonly RouteIR[];
}

/** How a string value is compared. Regex uses RE2 syntax with full-match semantics. */
export type StringMatchIR =
  | { readonly type: 'Exact'; readonly value: string; readonly ignoreCase?: boolean }
  | { readonly type: 'Prefix'; readonly value: string; readonly ignoreCase?: boolean }
  | { readonly type: 'Suffix'; readonly value: string; readonly ignoreCase?: boolean }
  | { readonly type: 'Regex'; readonly value: string }
  | { readonly type: 'Present' };

export type PathMatchIR =
  /** Whole path (query excluded) equals value. */
  | { readonly type: 'Exact'; readonly value: string; readonly ignoreCase?: boolean }
  /** Plain string prefix (Istio uri.prefix): `/pre` matches `/prefix`. */
  | { readonly type: 'Prefix'; readonly value: string; readonly ignoreCase?: boolean }
  /**
   * Segment prefix (Gateway API PathPrefix, Ingress Prefix): `/v2` matches `/v2`, `/v2/x`,
   * not `/v2x`. A trailing `/` on value is ignored (value `/` matches everything).
   */
  | { readonly type: 'PathPrefix'; readonly value: string; readonly ignoreCase?: boolean }
  /** RE2 full match on the path without query. */
  | { readonly type: 'Regex'; readonly value: string };

export interface HeaderMatchIR {
  /** Lower-case header name. */
  readonly name: string;
  readonly match: StringMatchIR;
  /**
   * Inverted (Istio withoutHeaders): the route matches only if the header does NOT match;
   * a missing header counts as the empty string.
   */
  readonly invert?: boolean;
}

export interface QueryMatchIR {
  readonly name: string;
  /** `Exact ""` matches `?key` with no value; `Present` matches the key with any value. */
  readonly match: StringMatchIR;
}

/** All present conditions must hold (AND). An empty MatchIR matches everything. */
export interface MatchIR {
  readonly path?: PathMatchIR;
  readonly method?: StringMatchIR;
  readonly headers?: readonly HeaderMatchIR[];
  readonly queryParams?: readonly QueryMatchIR[];
  /** Host header as received, port included (Istio authority). */
  readonly authority?: StringMatchIR;
  /** `http` / `https` of the downstream connection (or trusted X-Forwarded-Proto). */
  readonly scheme?: StringMatchIR;
  /** Listener port (Istio match.port). */
  readonly port?: number;
  /**
   * Hostnames the route serves inside its virtual host (Gateway API route hostnames after
   * intersection). Absent = every domain of the virtual host.
   */
  readonly hostnames?: readonly string[];
}

export interface HeaderOpsIR {
  /** Replace every value (create when absent). Names lower-case. */
  readonly set?: readonly { readonly name: string; readonly value: string }[];
  /** Append a value (create when absent). */
  readonly add?: readonly { readonly name: string; readonly value: string }[];
  readonly remove?: readonly string[];
}

export type PathRewriteIR =
  /** Replace the matched prefix (Istio rewrite.uri on prefix match, Gateway API ReplacePrefixMatch). */
  | { readonly type: 'ReplacePrefix'; readonly prefix: string; readonly replacement: string; readonly segmentAware: boolean }
  /** Replace the whole path (query kept). */
  | { readonly type: 'ReplaceFull'; readonly value: string }
  /** RE2 regex replace of every match (Istio uriRegexRewrite); `\1` backreferences. */
  | { readonly type: 'Regex'; readonly pattern: string; readonly substitution: string };

export interface RewriteIR {
  readonly path?: PathRewriteIR;
  /** New Host / :authority. */
  readonly authority?: string;
}

export interface RetryIR {
  /** Number of retries (not tries). 0 disables. */
  readonly attempts: number;
  readonly perTryTimeoutMs?: number;
  /** Envoy retry-on tokens: connect-failure, refused-stream, 5xx, gateway-error, reset, ... */
  readonly retryOn: readonly string[];
  /** Retriable upstream status codes (numeric tokens of retryOn). */
  readonly retriableStatusCodes: readonly number[];
  readonly backoffBaseMs: number;
}

export interface MirrorIR {
  readonly cluster: string;
  /** 0–100, fractional allowed. */
  readonly percent: number;
}

export type RouteActionIR =
  | { readonly type: 'forward'; readonly backends: readonly BackendIR[] }
  | {
      readonly type: 'redirect';
      /** `http` / `https`; absent = keep. */
      readonly scheme?: string;
      /** Absent = request host without port. */
      readonly host?: string;
      /** Explicit port; absent = see portMode. */
      readonly port?: number;
      /**
       * How to pick the port when `port` is absent: `FromRequest` (listener port),
       * `FromScheme` (well-known port of the new scheme, omitted), or `Keep`
       * (Gateway API default: scheme given → its well-known port; else listener port), or
       * `Original` (Istio/Envoy default: no authority rewrite keeps the Host header as received,
       * port included; an authority rewrite drops the port).
       */
      readonly portMode: 'FromRequest' | 'FromScheme' | 'Keep' | 'Original';
      readonly path?: PathRewriteIR;
      readonly statusCode: number;
    }
  | {
      readonly type: 'direct';
      readonly status: number;
      readonly body?: string;
      /** Base64 body (Istio bytes). */
      readonly bodyBase64?: string;
      /** Response code detail, default `direct_response`. */
      readonly detail?: string;
    };

export interface BackendIR {
  /** Relative weight (> 0; weight-0 backends are dropped by translators). */
  readonly weight: number;
  /** Target cluster; absent when the backend is invalid (see `invalid`). */
  readonly cluster?: string;
  /**
   * An unresolvable backend answers locally: Gateway API invalid backendRef → 500,
   * Istio unknown host → 503 `cluster_not_found` (flag NC), undefined subset → 503.
   */
  readonly invalid?: { readonly status: number; readonly detail: string; readonly flag: string };
  readonly requestHeaders?: HeaderOpsIR;
  readonly responseHeaders?: HeaderOpsIR;
  /** Backend-level authority rewrite (used only when the route has none). */
  readonly authority?: string;
}

export interface RouteIR {
  /** Envoy route name, logged as %ROUTE_NAME%: Istio `<route.name>.<match.name>` or ``; path-shaped otherwise. */
  readonly name: string;
  /** Stable unique id for metrics and explain: `virtualservice/ns/name/http/0/match/1`. */
  readonly id: string;
  readonly match: MatchIR;
  readonly action: RouteActionIR;
  readonly rewrite?: RewriteIR;
  readonly requestHeaders?: HeaderOpsIR;
  readonly responseHeaders?: HeaderOpsIR;
  /** Whole-request timeout including retries; absent = none (Istio default). */
  readonly timeoutMs?: number;
  readonly retry?: RetryIR;
  readonly mirrors?: readonly MirrorIR[];
  /** Per-route filters (later issues: cors, jwt, rate limits...). */
  readonly filters?: readonly FilterIR[];
  readonly source: ResourceKey;
  /** Field path of the rule inside its resource: `spec.http[2].match[0]`. */
  readonly sourcePath: string;
}

export interface FilterIR {
  readonly type: string;
  readonly config: unknown;
  readonly source: ResourceKey;
}

export type LbPolicy = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM';

export interface EndpointIR {
  /** IP address, or a DNS name when `dns` is true (resolved by the runtime). */
  readonly address: string;
  readonly port: number;
  /** Relative weight, default 1. */
  readonly weight: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly dns?: boolean;
  /** Not ready endpoints are kept out by translators; reserved for health state. */
  readonly ready?: boolean;
}

export interface ClusterIR {
  /** Envoy/Istio style: `outbound|8080|v1|reviews.default.svc.cluster.local`. */
  readonly name: string;
  /** Service FQDN (destination_service). */
  readonly serviceHost: string;
  readonly serviceNamespace?: string;
  readonly servicePort: number;
  readonly subset?: string;
  /** Upstream protocol: HTTP/1.1 keep-alive, or cleartext HTTP/2 prior knowledge. */
  readonly protocol: 'http1' | 'h2c';
  readonly lb: LbPolicy;
  readonly endpoints: readonly EndpointIR[];
  /** DNS re-resolution for `dns` endpoints (ServiceEntry resolution DNS). */
  readonly dnsRefreshMs?: number;
  readonly connectTimeoutMs: number;
  /** Circuit breakers (Istio connectionPool): absent = unlimited. */
  readonly maxConnections?: number;
  readonly maxPendingRequests?: number;
  readonly maxRequests?: number;
  /** 0/absent = unlimited; 1 disables keep-alive. */
  readonly maxRequestsPerConnection?: number;
  readonly idleTimeoutMs: number;
  /** TLS origination (DestinationRule trafficPolicy.tls SIMPLE / MUTUAL). */
  readonly tls?: ClusterTlsIR;
  readonly source?: ResourceKey;
}

/** Upstream TLS (Istio ClientTLSSettings). HTTP/1.1 clusters offer ALPN http/1.1, h2 clusters h2. */
export interface ClusterTlsIR {
  readonly mode: 'SIMPLE' | 'MUTUAL';
  /**
   * CA (to verify the upstream) and, for MUTUAL, the client certificate and key. Absent CA =
   * the system trust store.
   */
  readonly credential?: CredentialIR;
  /** SNI sent; default the service host (never an IP address). */
  readonly sni?: string;
  /** Accepted upstream SANs; absent = the SNI must match the certificate (hostname check). */
  readonly subjectAltNames?: readonly string[];
  /** Skip CA and SAN verification (Istio insecureSkipVerify). */
  readonly insecureSkipVerify?: boolean;
}

/** Defaults shared by translators. */
export const CLUSTER_DEFAULTS = {
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 3_600_000,
  lb: 'LEAST_REQUEST' as LbPolicy,
} as const;

/** Istio's default retry policy when a route has no `retries` block. */
export const DEFAULT_RETRY: RetryIR = {
  attempts: 2,
  retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'],
  retriableStatusCodes: [],
  backoffBaseMs: 25,
};

/**
 * What the Telemetry resources (and MeshConfig defaultProviders) that apply to this gateway
 * decide, merged root namespace → namespace → workload as Istio does.
 */
export interface TelemetryIR {
  /**
   * Access logs by provider (sorted), with the CEL filter in effect for each. Absent = no
   * Telemetry access logging and no default provider: MeshConfig accessLogFile decides.
   * Empty = access logging disabled.
   */
  readonly accessLogging?: readonly { readonly provider: string; readonly filter?: string }[];
  /** Metric providers in effect (sorted) and the merged overrides of the Istio metrics (gateway = CLIENT mode). */
  readonly metrics?: {
    readonly providers: readonly string[];
    /** Telemetry metric name (`REQUEST_COUNT`…) → override; ALL_METRICS disabled shows as providers without prometheus. */
    readonly overrides: Readonly<Record<string, {
      readonly disabled?: boolean;
      readonly tags?: readonly { readonly name: string; readonly remove: boolean; readonly value?: string }[];
    }>>;
  };
  /** The Telemetry resources that applied, root first. */
  readonly sources: readonly ResourceKey[];
}
