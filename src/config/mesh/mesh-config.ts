/**
 * MeshConfig (`portico run --mesh-config FILE`): the Istio mesh settings Portico reads —
 * access logs (accessLogFile, accessLogEncoding, accessLogFormat), telemetry providers
 * (defaultProviders, extensionProviders[].envoyFileAccessLog / prometheus) and rootNamespace.
 *
 * The file may be the MeshConfig itself, an `istio` ConfigMap (`data.mesh` holds it, as
 * `kubectl get cm istio -n istio-system -o yaml` prints it), an IstioOperator
 * (`spec.meshConfig`) or Helm values (`meshConfig:`). Other MeshConfig fields are accepted and
 * ignored. Every problem is a Diagnostic with file:line:col and the field path.
 */
import fs from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, type Node, type Scalar } from 'yaml';
import type { Diagnostic, Origin } from '../../errors/diagnostic.js';
import { compileFormat, createJsonFormatter, FormatError, type JsonFormatSpec } from '../../observability/format/index.js';
import { any, arr, bool, enm, map, obj, str, strList, type ObjectSchema } from '../resources/schema/dsl.js';
import { WalkContext, walk } from '../resources/schema/walk.js';
import { resolvePosition } from '../sources/parse-file.js';
import type { LoadedResource } from '../resources/types.js';

/** `envoyFileAccessLog` provider. */
export interface FileAccessLogProvider {
  readonly path: string;
  /** `text` format string, or `labels` (JSON object format; `{}` = Istio's default keys). */
  readonly logFormat?: { readonly text?: string; readonly labels?: JsonFormatSpec };
  readonly omitEmptyValues?: boolean;
}

export interface ExtensionProvider {
  readonly name: string;
  readonly envoyFileAccessLog?: FileAccessLogProvider;
  readonly prometheus?: Readonly<Record<string, never>>;
  /** Any other provider type (recorded so names resolve; Portico does not implement it). */
  readonly other?: string;
}

export interface MeshConfig {
  /** '' = the mesh access log is off; `/dev/stdout`, `/dev/stderr` or a file path. */
  readonly accessLogFile: string;
  readonly accessLogEncoding: 'TEXT' | 'JSON';
  /** '' = Istio's default format for the encoding. */
  readonly accessLogFormat: string;
  readonly rootNamespace: string;
  readonly defaultProviders: { readonly accessLogging: readonly string[]; readonly metrics: readonly string[] };
  /** Built-in `envoy` and `prometheus` providers plus the file's, by name (the file's win). */
  readonly extensionProviders: readonly ExtensionProvider[];
  /** Where it came from (`--mesh-config` path), for messages. */
  readonly source?: string;
}

const BUILTIN_PROVIDERS: readonly ExtensionProvider[] = Object.freeze([
  { name: 'prometheus', prometheus: {} },
  { name: 'envoy', envoyFileAccessLog: { path: '/dev/stdout' } },
]);

/**
 * Portico's defaults without --mesh-config: one TEXT line per request on stdout (Istio's own
 * default is no access log; Portico keeps logging on unless told otherwise), Istio metrics on.
 */
export const DEFAULT_MESH_CONFIG: MeshConfig = Object.freeze({
  accessLogFile: '/dev/stdout',
  accessLogEncoding: 'TEXT',
  accessLogFormat: '',
  rootNamespace: 'istio-system',
  defaultProviders: { accessLogging: [], metrics: ['prometheus'] },
  extensionProviders: BUILTIN_PROVIDERS,
});

/** A provider by name (case-insensitive, as Istio's fetchProvider). */
export function findProvider(mesh: MeshConfig, name: string): ExtensionProvider | undefined {
  const l = name.toLowerCase();
  return mesh.extensionProviders.find((p) => p.name.toLowerCase() === l);
}

// ------------------------------------------------------------------ schema

const logFormat = obj({ text: str(), labels: map(any()) }, { protoNames: true });
const OTHER_PROVIDERS = ['envoyExtAuthzHttp', 'envoyExtAuthzGrpc', 'zipkin', 'lightstep', 'datadog', 'stackdriver', 'opencensus',
  'skywalking', 'opentelemetry', 'envoyHttpAls', 'envoyTcpAls', 'envoyOtelAls', 'sds'];

const providerSchema = obj({
  name: { ...str({ minLength: 1 }), required: true },
  envoyFileAccessLog: obj({ path: str(), logFormat, omitEmptyValues: bool() }, { protoNames: true }),
  prometheus: obj({}, { open: true }),
  ...Object.fromEntries(OTHER_PROVIDERS.map((p) => [p, any()])),
}, { protoNames: true });

/** Other MeshConfig fields users paste along; accepted, not read. */
const IGNORED_FIELDS = ['defaultConfig', 'enableTracing', 'enablePrometheusMerge', 'trustDomain', 'trustDomainAliases',
  'outboundTrafficPolicy', 'ingressClass', 'ingressService', 'ingressControllerMode', 'ingressSelector', 'enableAutoMtls',
  'localityLbSetting', 'dnsRefreshRate', 'h2UpgradePolicy', 'inboundClusterStatName', 'outboundClusterStatName', 'certificates',
  'caCertificates', 'discoverySelectors', 'pathNormalization', 'defaultHttpRetryPolicy', 'meshMTLS', 'tlsDefaults', 'serviceSettings',
  'extensionProviders_', 'configSources', 'protocolDetectionTimeout', 'connectTimeout', 'tcpKeepalive', 'defaultServiceExportTo',
  'defaultVirtualServiceExportTo', 'defaultDestinationRuleExportTo', 'accessLogEncoding_', 'disableEnvoyListenerLog',
  'verifyCertificateAtClient', 'enableEnvoyAccessLogService', 'envoyAccessLogService', 'envoyMetricsService', 'proxyHttpPort',
  'proxyListenPort', 'proxyInboundListenPort', 'rootNamespace_', 'thriftConfig', 'serviceScopeConfigs', 'gatewayTopology'];

const meshSchema: ObjectSchema = obj({
  accessLogFile: str(),
  accessLogEncoding: enm(['TEXT', 'JSON']),
  accessLogFormat: str(),
  rootNamespace: str({ minLength: 1 }),
  defaultProviders: obj({ accessLogging: strList(), metrics: strList(), tracing: strList() }, { protoNames: true }),
  extensionProviders: arr(providerSchema),
  ...Object.fromEntries(IGNORED_FIELDS.filter((f) => !f.endsWith('_')).map((f) => [f, any()])),
}, { protoNames: true });

// ------------------------------------------------------------------ loading

export interface MeshConfigResult {
  /** Undefined when the file has errors. */
  readonly mesh: MeshConfig | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

/** Read and validate a mesh config file. */
export function loadMeshConfig(file: string): MeshConfigResult {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return fail({ code: 'OBS_MESH_CONFIG_READ_FAILED', severity: 'error', path: '', message: `Cannot read mesh config "${file}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
  }
  return parseMeshConfig(file, text);
}

function fail(d: Diagnostic): MeshConfigResult {
  return { mesh: undefined, diagnostics: [d] };
}

/** Parse and validate mesh config text (YAML or JSON). */
export function parseMeshConfig(file: string, text: string): MeshConfigResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const at = (offset: number): Origin => {
    const p = lc.linePos(offset);
    return { file, line: p.line, col: p.col };
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    return fail({ code: 'OBS_MESH_CONFIG_SYNTAX', severity: 'error', path: '', origin: at(e.pos[0]), message: `Cannot parse mesh config: ${e.message.split('\n')[0]}` });
  }
  const js: unknown = doc.toJS();
  if (js === null || js === undefined) return { mesh: { ...DEFAULT_MESH_CONFIG, accessLogFile: '', source: file }, diagnostics: [] };
  if (typeof js !== 'object' || Array.isArray(js)) {
    return fail({ code: 'OBS_MESH_CONFIG_SYNTAX', severity: 'error', path: '', origin: { file, line: 1, col: 1 }, message: 'Cannot load mesh config: expected an object' });
  }
  // Find the MeshConfig inside the wrappers; `prefix` is its field path, `root` its node.
  let value = js as Record<string, unknown>;
  let prefix = '';
  let root: Node | null = doc.contents as Node | null;
  const o = value;
  if (o['kind'] === 'ConfigMap' && typeof (o['data'] as Record<string, unknown> | undefined)?.['mesh'] === 'string') {
    // The mesh is YAML inside a string: parse it and map its lines back into the file.
    const meshNode = isMap(root) ? (root.getIn(['data', 'mesh'], true) as Scalar | undefined) : undefined;
    const inner = parseMeshConfig(file, String((o['data'] as Record<string, unknown>)['mesh']));
    const block = meshNode && isScalar(meshNode) && (meshNode.type === 'BLOCK_LITERAL' || meshNode.type === 'BLOCK_FOLDED');
    const startLine = meshNode?.range ? lc.linePos(meshNode.range[0]).line : 1;
    const shift = (d: Diagnostic): Diagnostic => {
      if (!d.origin) return d;
      const line = block ? startLine + d.origin.line : startLine;
      return { ...d, path: d.path ? `data.mesh: ${d.path}` : 'data.mesh', origin: { file, line, col: block ? d.origin.col + indentOf(text, line) : d.origin.col } };
    };
    return { mesh: inner.mesh, diagnostics: inner.diagnostics.map(shift) };
  }
  for (const wrap of [['spec', 'meshConfig'], ['meshConfig']]) {
    let v: unknown = value;
    for (const k of wrap) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      value = v as Record<string, unknown>;
      prefix = wrap.join('.');
      root = isMap(root) ? (root.getIn(wrap, true) as Node | null) : root;
      break;
    }
  }
  const positionOf = (path: string): Origin | undefined => {
    if (!root) return undefined;
    const off = resolvePosition(root, path);
    return off === undefined ? undefined : at(off);
  };
  const pseudo: LoadedResource = {
    key: { kind: 'MeshConfig', namespace: '', name: file },
    object: value as never,
    origin: { file, line: 1, col: 1 },
    positionOf,
    source: 'mesh-config',
    seq: 0,
  };
  const ctx = new WalkContext(pseudo);
  const checked = walk(value, meshSchema, '', ctx, true) as Record<string, unknown>;
  const diagnostics: Diagnostic[] = [];
  const report = (d: Omit<Diagnostic, 'origin'>): void => {
    diagnostics.push({ ...d, ...(positionOf(d.path) ? { origin: positionOf(d.path)! } : {}) });
  };
  const mesh = buildMesh(checked, file, report);
  const all = [...ctx.diagnostics.map(({ resource: _r, ...d }) => d), ...diagnostics]
    .map((d) => (prefix && d.path ? { ...d, path: `${prefix}.${d.path}` } : d));
  const errors = all.some((d) => d.severity === 'error');
  return { mesh: errors ? undefined : mesh, diagnostics: all };
}

function indentOf(text: string, line: number): number {
  const l = text.split('\n')[line - 1] ?? '';
  return l.length - l.trimStart().length;
}

/** Semantic checks on a schema-valid object, and the resulting MeshConfig. */
function buildMesh(v: Record<string, unknown>, file: string, report: (d: Omit<Diagnostic, 'origin'>) => void): MeshConfig {
  const encoding = v['accessLogEncoding'] === 'JSON' ? 'JSON' : 'TEXT';
  const format = typeof v['accessLogFormat'] === 'string' ? v['accessLogFormat'] : '';
  if (format !== '') checkLogFormat(format, encoding, 'accessLogFormat', report);
  const providers: ExtensionProvider[] = [];
  const seen = new Map<string, number>();
  const list = Array.isArray(v['extensionProviders']) ? (v['extensionProviders'] as Record<string, unknown>[]) : [];
  list.forEach((p, i) => {
    const path = `extensionProviders[${i}]`;
    const name = typeof p['name'] === 'string' ? p['name'] : '';
    if (name === '') return;
    const prev = seen.get(name.toLowerCase());
    if (prev !== undefined) {
      report({ code: 'OBS_MESH_CONFIG_INVALID', severity: 'error', path: `${path}.name`, message: `Duplicate extension provider name "${name}": already defined by extensionProviders[${prev}]` });
      return;
    }
    seen.set(name.toLowerCase(), i);
    const f = p['envoyFileAccessLog'] as Record<string, unknown> | undefined;
    if (f) {
      const lf = f['logFormat'] as { text?: string; labels?: Record<string, unknown> } | undefined;
      if (lf?.text !== undefined && lf.labels !== undefined) {
        report({ code: 'OBS_MESH_CONFIG_INVALID', severity: 'error', path: `${path}.envoyFileAccessLog.logFormat.labels`, message: 'Conflicting fields "text" and "labels" of logFormat: set only one' });
      }
      if (typeof lf?.text === 'string' && lf.text !== '') checkLogFormat(lf.text, 'TEXT', `${path}.envoyFileAccessLog.logFormat.text`, report);
      if (lf?.labels !== undefined) checkJsonFormat(lf.labels, `${path}.envoyFileAccessLog.logFormat.labels`, report);
      providers.push({
        name,
        envoyFileAccessLog: {
          path: typeof f['path'] === 'string' && f['path'] !== '' ? f['path'] : '/dev/stdout',
          ...(lf ? { logFormat: { ...(typeof lf.text === 'string' ? { text: lf.text } : {}), ...(lf.labels ? { labels: lf.labels as JsonFormatSpec } : {}) } } : {}),
          ...(f['omitEmptyValues'] === true ? { omitEmptyValues: true } : {}),
        },
      });
      return;
    }
    if (p['prometheus'] !== undefined) { providers.push({ name, prometheus: {} }); return; }
    const other = OTHER_PROVIDERS.find((k) => p[k] !== undefined);
    if (other) {
      report({ code: 'OBS_PROVIDER_UNSUPPORTED', severity: 'warning', path: `${path}.${other}`, message: `Ignoring extension provider "${name}": Portico does not implement ${other} providers` });
      providers.push({ name, other });
      return;
    }
    report({ code: 'OBS_MESH_CONFIG_INVALID', severity: 'error', path, message: `Extension provider "${name}" has no provider type: set envoyFileAccessLog or prometheus` });
  });
  const merged = [...providers, ...BUILTIN_PROVIDERS.filter((b) => !seen.has(b.name))];
  const dp = (v['defaultProviders'] ?? {}) as Record<string, unknown>;
  const names = (k: string): string[] => (Array.isArray(dp[k]) ? (dp[k] as string[]) : []);
  const mesh: MeshConfig = {
    accessLogFile: typeof v['accessLogFile'] === 'string' ? v['accessLogFile'] : '',
    accessLogEncoding: encoding,
    accessLogFormat: format,
    rootNamespace: typeof v['rootNamespace'] === 'string' ? v['rootNamespace'] : 'istio-system',
    defaultProviders: {
      accessLogging: names('accessLogging'),
      metrics: dp['metrics'] === undefined ? ['prometheus'] : names('metrics'),
    },
    extensionProviders: merged,
    source: file,
  };
  for (const kind of ['accessLogging', 'metrics'] as const) {
    mesh.defaultProviders[kind].forEach((n, i) => {
      if (!findProvider(mesh, n)) {
        report({ code: 'OBS_PROVIDER_NOT_FOUND', severity: 'warning', path: `defaultProviders.${kind}[${i}]`, message: `Unknown provider "${n}": not defined in extensionProviders; it is skipped` });
      }
    });
  }
  return mesh;
}

function checkLogFormat(format: string, encoding: 'TEXT' | 'JSON', path: string, report: (d: Omit<Diagnostic, 'origin'>) => void): void {
  if (encoding === 'JSON') {
    // Istio reads a JSON accessLogFormat as a JSON object of format strings.
    let parsed: unknown;
    try {
      parsed = JSON.parse(format);
    } catch (e) {
      report({ code: 'OBS_MESH_CONFIG_INVALID', severity: 'error', path, message: `Invalid JSON accessLogFormat: ${(e as Error).message}` });
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      report({ code: 'OBS_MESH_CONFIG_INVALID', severity: 'error', path, message: 'Invalid JSON accessLogFormat: expected a JSON object of format strings' });
      return;
    }
    checkJsonFormat(parsed as Record<string, unknown>, path, report);
    return;
  }
  try {
    compileFormat(format);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    report({ code: 'OBS_FORMAT_INVALID', severity: 'error', path, message: `Invalid access-log format: ${e.message}` });
  }
}

function checkJsonFormat(spec: Record<string, unknown>, path: string, report: (d: Omit<Diagnostic, 'origin'>) => void): void {
  try {
    createJsonFormatter(spec as JsonFormatSpec);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    report({ code: 'OBS_FORMAT_INVALID', severity: 'error', path, message: `Invalid access-log format: ${e.message}` });
  }
}
