/**
 * `portico run`: load config, start the gateway and the admin API, watch the config paths and
 * apply every change; on SIGTERM/SIGINT drain (readiness 503 at once) and exit 0.
 */
import { startAdmin } from '../admin/server.js';
import { FileSource } from '../config/sources/file-source.js';
import type { WorkloadIdentity } from '../config/resources/types.js';
import { parseDuration } from '../config/resources/duration.js';
import { AccessLog } from '../observability/access-log.js';
import { createLogger } from '../observability/logger.js';
import { Gateway } from '../runtime/gateway.js';
import { intFlag, labelsFlag, UsageError } from './flags.js';

export interface RunHandle {
  readonly gateway: Gateway;
  readonly adminPort: number;
  stop(): Promise<void>;
}

export function identityFrom(v: Record<string, unknown>): WorkloadIdentity {
  return {
    namespace: (v.namespace as string | undefined) ?? 'istio-system',
    labels: labelsFlag(v, { istio: 'ingressgateway' }),
    ingressPort: intFlag(v, 'ingress-port', 80, 1, 65535),
    bindAddress: (v.bind as string | undefined) ?? '0.0.0.0',
    clusterDomain: 'cluster.local',
  };
}

/** Programmatic extras (tests, quickstart): where the access log goes, quiet operational log. */
export interface StartExtras {
  readonly accessLogOut?: NodeJS.WritableStream;
  readonly quiet?: boolean;
}

/** Start everything; used by the CLI and by tests (in-process). */
export async function startGateway(v: Record<string, unknown>, extras: StartExtras = {}): Promise<RunHandle> {
  const paths = (v.config as string[] | undefined) ?? [];
  if (paths.length === 0) throw new UsageError('Missing --config PATH');
  const identity = identityFrom(v);
  const adminPort = intFlag(v, 'admin-port', 15000, 0, 65535);
  let drainTimeoutMs = 5000;
  if (v['drain-timeout'] !== undefined) {
    const d = parseDuration(String(v['drain-timeout']));
    if (d === undefined) throw new UsageError(`Invalid value "${String(v['drain-timeout'])}" for --drain-timeout: expected a duration like 5s or 500ms`);
    drainTimeoutMs = d;
  }
  const log = createLogger(process.stderr, extras.quiet === true);
  const access = new AccessLog({ enabled: v['no-access-log'] !== true, ...(extras.accessLogOut ? { out: extras.accessLogOut } : {}) });
  const gateway = new Gateway({ identity, sink: access, log, drainTimeoutMs });
  const onReload = v['__onReload'] as ((o: unknown) => void) | undefined;
  const source = new FileSource(paths, {
    debounceMs: 100,
    onUpdate: (r) => { void gateway.apply(r.resources, r.diagnostics).then((o) => onReload?.(o)); },
    onError: (e) => log.error(`Cannot reload configuration: ${(e as Error).message}`),
  });
  const first = await source.start();
  await gateway.apply(first.resources, first.diagnostics);
  const admin = await startAdmin(gateway, { port: adminPort, address: (v['admin-address'] as string | undefined) ?? '127.0.0.1' });
  const boundAdmin = (admin.address() as { port: number }).port;
  log.info(`Admin API on http://${(v['admin-address'] as string | undefined) ?? '127.0.0.1'}:${boundAdmin}`);
  let stopping: Promise<void> | undefined;
  return {
    gateway,
    adminPort: boundAdmin,
    stop: () => {
      stopping ??= (async () => {
        source.close();
        await gateway.shutdown();
        await access.flush();
        await new Promise<void>((r) => admin.close(() => r()));
        admin.closeAllConnections?.();
      })();
      return stopping;
    },
  };
}

export async function runCommand(v: Record<string, unknown>): Promise<number> {
  const h = await startGateway(v);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      process.stderr.write(`portico: ${sig} received, draining (readiness now 503)\n`);
      void h.stop().then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}
