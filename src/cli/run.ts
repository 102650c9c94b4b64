/**
 * `portico run`: load config, start the gateway and the admin API, watch the config paths and
 * apply every change; on SIGTERM/SIGINT drain (readiness 503 at once) and exit 0; on SIGHUP
 * re-read the config now. With `--workers N` (default: the CPU count) a primary process does
 * the config and admin work and N workers serve traffic (src/runtime/workers/, docs/operations.md).
 */
import cluster from 'node:cluster';
import { startAdmin } from '../admin/server.js';
import type { Diagnostic } from '../errors/diagnostic.js';
import { FileSource } from '../config/sources/file-source.js';
import type { LoadedResource, WorkloadIdentity } from '../config/resources/types.js';
import { parseDuration } from '../config/resources/duration.js';
import { DEFAULT_MESH_CONFIG, loadMeshConfig, type MeshConfig } from '../config/mesh/mesh-config.js';
import { formatDiagnostic } from '../errors/diagnostic.js';
import { Observability } from '../observability/hub.js';
import { createLogger } from '../observability/logger.js';
import { DEFAULT_MAX_CONNECTIONS, Gateway, type Logger, type ShutdownResult } from '../runtime/gateway.js';
import { exportCertificateExpiry } from '../dataplane/tls/cert-store.js';
import type { ForwardClientCertMode } from '../dataplane/http/dispatch.js';
import { FORWARD_CLIENT_CERT_MODES } from '../dataplane/http/forwarded.js';
import type { GatewayTlsOptions } from '../dataplane/tls/listener.js';
import { defaultWorkerCount } from '../runtime/workers/cpus.js';
import { runPrimary } from '../runtime/workers/primary.js';
import { runWorker } from '../runtime/workers/worker.js';
import { intFlag, labelsFlag, UsageError } from './flags.js';

export interface RunHandle {
  readonly gateway: Gateway;
  readonly adminPort: number;
  /** Re-read the config now (SIGHUP); applies only if something changed. */
  reload(): Promise<void>;
  /** Drain and close; `delayMs` overrides --drain-delay (a retired worker drains at once). */
  stop(opts?: { readonly delayMs?: number }): Promise<void>;
}

/** --drain-delay and --drain-timeout. */
export interface DrainSettings {
  /** After SIGTERM, keep accepting this long (readiness already 503); default 0. */
  readonly delayMs: number;
  /** Then let in-flight requests finish for at most this long; default 5 s. */
  readonly timeoutMs: number;
}

function durationFlag(v: Record<string, unknown>, name: string, def: number): number {
  if (v[name] === undefined) return def;
  const d = parseDuration(String(v[name]));
  if (d === undefined) throw new UsageError(`Invalid value "${String(v[name])}" for --${name}: expected a duration like 5s or 500ms`);
  return d;
}

/** Parse the drain flags (UsageError on a bad value). */
export function drainFrom(v: Record<string, unknown>): DrainSettings {
  return { delayMs: durationFlag(v, 'drain-delay', 0), timeoutMs: durationFlag(v, 'drain-timeout', 5000) };
}

/** --workers N: 1 = one process (no primary); default: the CPUs this process may use. */
export function workersFrom(v: Record<string, unknown>): number {
  return intFlag(v, 'workers', defaultWorkerCount(), 1, 256);
}

/** --trusted-proxies, --forward-client-cert, --cert-expiry-warning-days (docs/tls.md). */
export function tlsOptionsFrom(v: Record<string, unknown>): GatewayTlsOptions {
  const mode = v['forward-client-cert'] as string | undefined;
  if (mode !== undefined && !(FORWARD_CLIENT_CERT_MODES as readonly string[]).includes(mode.toUpperCase())) {
    throw new UsageError(`Invalid value "${mode}" for --forward-client-cert: expected one of ${FORWARD_CLIENT_CERT_MODES.join(', ')}`);
  }
  return {
    trustedProxies: intFlag(v, 'trusted-proxies', 0, 0, 64),
    ...(mode !== undefined ? { forwardClientCert: mode.toUpperCase() as ForwardClientCertMode } : {}),
    certWarnDays: intFlag(v, 'cert-expiry-warning-days', 30, 0, 3650),
  };
}

export function identityFrom(v: Record<string, unknown>): WorkloadIdentity {
  return {
    namespace: (v.namespace as string | undefined) ?? 'istio-system',
    labels: labelsFlag(v, { istio: 'ingressgateway' }),
    ingressPort: intFlag(v, 'ingress-port', 80, 1, 65535),
    ingressHttpsPort: intFlag(v, 'ingress-https-port', 443, 1, 65535),
    bindAddress: (v.bind as string | undefined) ?? '0.0.0.0',
    clusterDomain: 'cluster.local',
  };
}

/** Where configuration comes from: the file watcher, or (in a worker) the primary. */
export interface ConfigFeed {
  /** The first configuration; applied before the admin API starts. */
  start(): Promise<{ readonly resources: readonly LoadedResource[]; readonly diagnostics: readonly Diagnostic[] }>;
  reload?(): Promise<void>;
  close(): void;
}

/** Programmatic extras (tests, quickstart, workers): where the access log goes, quiet operational log. */
export interface StartExtras {
  readonly accessLogOut?: NodeJS.WritableStream;
  readonly quiet?: boolean;
  /** Replaces the file watcher; the feed applies later updates itself (workers: IPC from the primary). */
  readonly feed?: (gateway: Gateway, log: Logger) => ConfigFeed;
  /** Replaces --admin-port/--admin-address (a worker's private admin API on 127.0.0.1:0). */
  readonly admin?: { readonly port: number; readonly address: string; readonly exclusive?: boolean };
  /** Added to every operational log line (`{"worker":3}`). */
  readonly logFields?: Readonly<Record<string, unknown>>;
}

/** A logger that adds `extra` to every line's fields. */
export function withFields(log: Logger, extra: Readonly<Record<string, unknown>>): Logger {
  return {
    info: (m, f) => log.info(m, { ...extra, ...f }),
    warn: (m, f) => log.warn(m, { ...extra, ...f }),
    error: (m, f) => log.error(m, { ...extra, ...f }),
  };
}

/**
 * --mesh-config FILE (MeshConfig: access logs, Telemetry providers), validated with file:line
 * and field path; any error is a UsageError listing every problem. Absent = Portico's defaults.
 */
export function meshFrom(v: Record<string, unknown>, log?: { warn(m: string, f?: Record<string, unknown>): void }): MeshConfig {
  const file = v['mesh-config'] as string | undefined;
  if (file === undefined) return DEFAULT_MESH_CONFIG;
  const r = loadMeshConfig(file);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || r.mesh === undefined) {
    throw new UsageError(`Invalid --mesh-config "${file}":\n${r.diagnostics.map((d) => `  ${formatDiagnostic(d)}`).join('\n')}`);
  }
  for (const d of r.diagnostics) log?.warn(formatDiagnostic(d), { code: d.code });
  return r.mesh;
}

/** Start everything; used by the CLI and by tests (in-process). */
export async function startGateway(v: Record<string, unknown>, extras: StartExtras = {}): Promise<RunHandle> {
  const paths = (v.config as string[] | undefined) ?? [];
  if (paths.length === 0) throw new UsageError('Missing --config PATH');
  const identity = identityFrom(v);
  const adminPort = intFlag(v, 'admin-port', 15000, 0, 65535);
  const drain = drainFrom(v);
  const drainTimeoutMs = drain.timeoutMs;
  const baseLog = createLogger(process.stderr, extras.quiet === true);
  const log = extras.logFields ? withFields(baseLog, extras.logFields) : baseLog;
  const mesh = meshFrom(v, log);
  // Access logs and metrics; flushed and closed on stop.
  const access = new Observability({
    mesh, namespace: identity.namespace, labels: identity.labels, log, accessLogDisabled: v['no-access-log'] === true,
    ...(extras.accessLogOut ? { stdout: extras.accessLogOut } : {}),
  });
  const maxConnections = intFlag(v, 'max-connections', DEFAULT_MAX_CONNECTIONS, 1, 10_000_000);
  const gateway = new Gateway({ identity, sink: access, log, drainTimeoutMs, mesh, tls: tlsOptionsFrom(v), maxConnections });
  access.metrics.attach(gateway);
  exportCertificateExpiry(gateway.certs, access.metrics);
  const onReload = v['__onReload'] as ((o: unknown) => void) | undefined;
  const source: ConfigFeed = extras.feed?.(gateway, log) ?? new FileSource(paths, {
    debounceMs: 100,
    onUpdate: (r) => { void gateway.apply(r.resources, r.diagnostics).then((o) => onReload?.(o)); },
    onError: (e) => log.error(`Cannot reload configuration: ${(e as Error).message}`),
  });
  const first = await source.start();
  await gateway.apply(first.resources, first.diagnostics);
  const adminAt = extras.admin ?? { port: adminPort, address: (v['admin-address'] as string | undefined) ?? '127.0.0.1' };
  const admin = await startAdmin(gateway, { ...adminAt, metrics: access.metrics });
  const boundAdmin = (admin.address() as { port: number }).port;
  log.info(`Admin API on http://${adminAt.address}:${boundAdmin}`);
  let stopping: Promise<void> | undefined;
  return {
    gateway,
    adminPort: boundAdmin,
    reload: async () => { await source.reload?.(); },
    stop: (opts = {}) => {
      stopping ??= (async () => {
        source.close();
        const r: ShutdownResult = await gateway.shutdown({ delayMs: opts.delayMs ?? drain.delayMs });
        if (r.forced > 0) {
          log.warn(`WORKER_DRAIN_TIMEOUT: Closing ${r.forced} connection(s) still open after the ${drainTimeoutMs} ms drain timeout`, { code: 'WORKER_DRAIN_TIMEOUT' });
        }
        await access.close();
        await new Promise<void>((r) => admin.close(() => r()));
        admin.closeAllConnections?.();
      })();
      return stopping;
    },
  };
}

export async function runCommand(v: Record<string, unknown>): Promise<number> {
  const workers = workersFrom(v);
  const drain = drainFrom(v);
  // A worker runs this same command line (cluster.fork re-executes it): same flags, but its
  // configuration comes from the primary and its admin API is private.
  if (cluster.isWorker) return runWorker((extras) => startGateway(v, extras), drain);
  if (workers > 1) {
    const paths = (v.config as string[] | undefined) ?? [];
    if (paths.length === 0) throw new UsageError('Missing --config PATH');
    identityFrom(v); // flag errors before any worker is forked
    meshFrom(v);
    return runPrimary({
      workers, paths, drain,
      admin: { port: intFlag(v, 'admin-port', 15000, 0, 65535), address: (v['admin-address'] as string | undefined) ?? '127.0.0.1' },
      log: createLogger(process.stderr, false),
    });
  }
  const h = await startGateway(v);
  const onHup = (): void => { void h.reload(); };
  process.on('SIGHUP', onHup);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      process.stderr.write(`portico: ${sig} received, draining (readiness now 503${drain.delayMs ? `, still accepting for ${drain.delayMs} ms` : ''})\n`);
      void h.stop().then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  process.removeListener('SIGHUP', onHup);
  return 0;
}
