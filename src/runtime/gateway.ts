/**
 * The running gateway: applies config (translate → build → swap), owns the listeners and the
 * registry of live upstream objects, and drains on shutdown. Requests in flight keep the
 * route table they started with; new requests see the new one at once.
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import type http2 from 'node:http2';
import { channel } from 'node:diagnostics_channel';
import type { Diagnostic } from '../errors/diagnostic.js';
import { formatDiagnostic, keyString } from '../errors/diagnostic.js';
import type { GatewayIR, ListenerIR } from '../config/ir/types.js';
import type { LoadedResource, WorkloadIdentity } from '../config/resources/types.js';
import { translate, type TranslateResult } from '../config/translate/index.js';
import type { ListenerRuntime } from '../dataplane/http/dispatch.js';
import { H1Conn } from '../dataplane/http/h1-server.js';
import { createH2Server } from '../dataplane/http/h2-server.js';
import type { StreamSink } from '../observability/stream-info.js';
import type { MeshConfig } from '../config/mesh/mesh-config.js';
import type { CompiledAction } from './actions.js';
import { buildSnapshot, hashIR, type DnsTable, type Snapshot } from './build.js';
import { Registry } from './registry.js';
import { CertStore } from '../dataplane/tls/cert-store.js';
import { credentialsOf, syncListenerTls, type GatewayTlsOptions, type TlsListenerRuntime } from '../dataplane/tls/listener.js';
import type { ForwardClientCertMode } from '../dataplane/http/dispatch.js';
import { trustedScheme } from '../dataplane/http/forwarded.js';
import type { RouteTable } from '../dataplane/router/route-table.js';

const swapChannel = channel('portico:snapshot:swap');

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Default per-listener connection limit (Envoy's overload manager has none by default; we cap). */
export const DEFAULT_MAX_CONNECTIONS = 100_000;

export interface GatewayOptions {
  readonly identity: WorkloadIdentity;
  readonly sink: StreamSink;
  /** --mesh-config (Telemetry providers, root namespace); absent = Portico's defaults. */
  readonly mesh?: MeshConfig;
  readonly log: Logger;
  readonly drainTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  /** Most downstream connections one listener accepts at once (beyond: accepted and closed). */
  readonly maxConnections?: number;
  /** Trusted proxies, XFCC policy, certificate expiry warning window (docs/tls.md). */
  readonly tls?: GatewayTlsOptions;
}

/** Options of {@link Gateway.shutdown}. */
export interface ShutdownOptions {
  /** Keep accepting (readiness already 503) this long before closing listeners; default 0. */
  readonly delayMs?: number;
  /** Spread idle-connection closes and GOAWAYs over this window; default min(2 s, drain timeout / 2). */
  readonly closeWindowMs?: number;
}

/** What {@link Gateway.shutdown} had to cut short. */
export interface ShutdownResult {
  /** Connections still open when the drain timeout expired (closed forcibly). */
  readonly forced: number;
}

export interface ApplyOutcome {
  readonly applied: boolean;
  readonly generation: number;
  readonly errors: number;
  readonly warnings: number;
  readonly unchanged?: boolean;
}

class Listener implements ListenerRuntime {
  readonly port: number;
  readonly address: string;
  table: RouteTable<CompiledAction>;
  sink: StreamSink;
  draining = false;
  idleTimeoutMs: number;
  readonly connections = new Set<{ drain(closeAfterMs?: number): void }>();
  readonly server: net.Server;
  readonly h2: http2.Http2Server;
  bound = false;
  error: string | undefined;
  /** TLS state (HTTPS/TLS listeners); swapped with the snapshot, never rebinding the port. */
  tlsRuntime: TlsListenerRuntime | undefined;
  trustedProxies: number | undefined;
  forwardClientCert: ForwardClientCertMode | undefined;

  constructor(ir: ListenerIR, table: RouteTable<CompiledAction>, sink: StreamSink, idleTimeoutMs: number) {
    this.port = ir.port;
    this.address = ir.address;
    this.table = table;
    this.sink = sink;
    this.idleTimeoutMs = idleTimeoutMs;
    this.h2 = createH2Server(this);
    const name = ir.name;
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (s) => { this.sink.onConnection?.(name, s); const t = this.tlsRuntime; if (t === undefined) new H1Conn(s, this); else t.accept(s); });
  }

  h2Handoff(socket: net.Socket): void { this.h2.emit('connection', socket); }
  scheme(head: unknown): string { return trustedScheme(this.trustedProxies, head, 'http'); }

  listen(): Promise<void> {
    return new Promise((resolve) => {
      const onErr = (e: NodeJS.ErrnoException) => { this.error = `${e.code ?? e.message}`; resolve(); };
      this.server.once('error', onErr);
      this.server.listen({ port: this.port, host: this.address, backlog: 1024 }, () => {
        this.server.removeListener('error', onErr);
        this.bound = true;
        resolve();
      });
    });
  }

  /**
   * Stop accepting; busy connections close after their current response. Idle ones close now,
   * or, with a close window, each after its own random share of it (25–100 %), so thousands of
   * clients do not reconnect in the same instant (istio #58100).
   */
  drain(closeWindowMs = 0, random: () => number = Math.random): void {
    this.draining = true;
    if (this.bound) this.server.close();
    for (const c of [...this.connections]) c.drain(closeWindowMs > 0 ? Math.round(closeWindowMs * (0.25 + 0.75 * random())) : 0);
  }
}

export class Gateway {
  readonly #opts: GatewayOptions;
  readonly registry = new Registry();
  readonly #listeners = new Map<string, Listener>();
  #snapshot: Snapshot | undefined;
  #last: TranslateResult | undefined;
  #lastGood = new Map<string, LoadedResource>();
  #generation = 0;
  #reloadsApplied = 0;
  #reloadsRejected = 0;
  #draining = false;
  #shutdown: Promise<ShutdownResult> | undefined;
  #lastLoadDiagnostics: readonly Diagnostic[] = [];

  /** Certificates in use; rotation happens here, never by rebinding listeners. */
  readonly certs: CertStore;

  constructor(opts: GatewayOptions) {
    this.#opts = opts;
    this.certs = new CertStore({ log: opts.log, ...(opts.tls?.certWarnDays !== undefined ? { warnDays: opts.tls.certWarnDays } : {}) });
    this.registry.certs = this.certs;
  }

  get snapshot(): Snapshot | undefined { return this.#snapshot; }
  get lastTranslation(): TranslateResult | undefined { return this.#last; }
  get generation(): number { return this.#generation; }
  get draining(): boolean { return this.#draining; }
  get stats(): { applied: number; rejected: number } { return { applied: this.#reloadsApplied, rejected: this.#reloadsRejected }; }
  get loadDiagnostics(): readonly Diagnostic[] { return this.#lastLoadDiagnostics; }
  listenerStates(): { name: string; port: number; address: string; bound: boolean; error?: string; connections: number }[] {
    return [...this.#listeners.entries()].map(([name, l]) => ({
      name, port: l.port, address: l.address, bound: l.bound, connections: l.connections.size, ...(l.error ? { error: l.error } : {}),
    }));
  }

  /** Ready = a config is applied and every listener is bound, and not draining. */
  ready(): boolean {
    if (this.#draining || this.#snapshot === undefined) return false;
    for (const l of this.#listeners.values()) if (!l.bound) return false;
    return true;
  }

  /**
   * Apply a freshly loaded resource set. Resources that fail validation, and every resource
   * of a file that failed to parse, are replaced by their last good version, so an invalid
   * write never drops routing that was serving.
   */
  async apply(resources: readonly LoadedResource[], loadDiagnostics: readonly Diagnostic[]): Promise<ApplyOutcome> {
    const log = this.#opts.log;
    this.#lastLoadDiagnostics = loadDiagnostics;
    const brokenFiles = new Set(loadDiagnostics.filter((d) => d.severity === 'error' && d.origin).map((d) => d.origin!.file));
    const merged = new Map<string, LoadedResource>();
    for (const r of resources) merged.set(keyString(r.key), r);
    for (const [k, r] of this.#lastGood) {
      if (!merged.has(k) && r.origin && brokenFiles.has(r.origin.file)) merged.set(k, r);
    }
    let result = translate([...merged.values()], this.#opts.identity, this.#opts.mesh);
    if (result.rejected.size > 0) {
      let replaced = false;
      for (const k of result.rejected) {
        const prev = this.#lastGood.get(k);
        if (prev) { merged.set(k, prev); replaced = true; }
      }
      if (replaced) {
        const again = translate([...merged.values()], this.#opts.identity, this.#opts.mesh);
        result = { ...again, diagnostics: [...result.diagnostics.filter((d) => d.severity === 'error'), ...again.diagnostics.filter((d) => d.severity !== 'error')], rejected: result.rejected };
      }
    }
    const diags = [...loadDiagnostics, ...result.diagnostics];
    const errors = diags.filter((d) => d.severity === 'error');
    const warnings = diags.filter((d) => d.severity === 'warning');
    for (const d of errors) log.error(formatDiagnostic(d), { code: d.code });
    for (const d of warnings) log.warn(formatDiagnostic(d), { code: d.code });
    this.#last = { ...result, diagnostics: diags };
    // Secret material rotates here even when the IR (which holds only references) is unchanged.
    this.certs.updateSecrets(result.credentials);
    if (this.#snapshot && hashIR(result.ir) === this.#snapshot.irHash) {
      if (errors.length) this.#reloadsRejected++;
      return { applied: false, unchanged: true, generation: this.#generation, errors: errors.length, warnings: warnings.length };
    }
    let snap: Snapshot;
    try {
      const dnsTable = await resolveDns(result.ir);
      const built = buildSnapshot(result.ir, this.#generation + 1, this.registry, dnsTable);
      snap = built.snapshot;
      // File certificates of new servers are loaded before the first handshake can need them.
      this.certs.retain([...credentialsOf(this.#snapshot?.ir), ...credentialsOf(snap.ir)]);
      await this.#swap(snap);
      this.certs.retain(credentialsOf(snap.ir));
      this.registry.commit(built.used, 30_000);
      this.#scheduleDnsRefresh(snap);
    } catch (e) {
      this.#reloadsRejected++;
      log.error(`BUILD_FAILED: Cannot apply the new configuration: ${(e as Error).message}; the previous one keeps serving`, { code: 'BUILD_FAILED' });
      return { applied: false, generation: this.#generation, errors: errors.length + 1, warnings: warnings.length };
    }
    this.#generation = snap.version;
    this.#reloadsApplied++;
    if (errors.length) this.#reloadsRejected++;
    // Remember last-good versions of every resource that made it in.
    for (const [k, r] of merged) if (!result.rejected.has(k)) this.#lastGood.set(k, r);
    for (const k of [...this.#lastGood.keys()]) if (!merged.has(k)) this.#lastGood.delete(k);
    log.info('Configuration applied', {
      generation: snap.version, listeners: snap.listeners.size, clusters: snap.clusters.size, errors: errors.length, warnings: warnings.length,
    });
    return { applied: true, generation: snap.version, errors: errors.length, warnings: warnings.length };
  }

  async #swap(snap: Snapshot): Promise<void> {
    const wanted = new Set<string>();
    const binds: Promise<void>[] = [];
    for (const [name, l] of snap.listeners) {
      wanted.add(name);
      const cur = this.#listeners.get(name);
      if (cur) { cur.table = l.table; syncListenerTls(cur, l.tls, this.certs, this.#opts.log); continue; }
      const nl = new Listener(l.ir, l.table, this.#opts.sink, this.#opts.idleTimeoutMs ?? 3_600_000);
      nl.server.maxConnections = this.#opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
      nl.trustedProxies = this.#opts.tls?.trustedProxies;
      nl.forwardClientCert = this.#opts.tls?.forwardClientCert;
      syncListenerTls(nl, l.tls, this.certs, this.#opts.log);
      this.#listeners.set(name, nl);
      binds.push(nl.listen().then(() => {
        if (nl.error) this.#opts.log.error(`LISTENER_BIND_FAILED: Cannot bind listener "${name}": ${nl.error}`, { code: 'LISTENER_BIND_FAILED' });
        else this.#opts.log.info(`Listening on ${name}`);
      }));
    }
    for (const [name, l] of this.#listeners) {
      if (wanted.has(name)) continue;
      l.drain();
      this.#listeners.delete(name);
    }
    const prev = this.#snapshot;
    this.#snapshot = snap;
    this.#opts.sink.configure?.(snap.ir);
    if (swapChannel.hasSubscribers) swapChannel.publish({ from: prev?.version ?? 0, to: snap.version });
    await Promise.all(binds);
  }

  #dnsTimer: NodeJS.Timeout | undefined;

  /**
   * ServiceEntry resolution DNS: re-resolve names periodically (default 30 s, or the cluster's
   * dnsRefreshMs) and swap the endpoints of the live clusters in place; pools survive.
   */
  #scheduleDnsRefresh(snap: Snapshot): void {
    if (this.#dnsTimer) clearInterval(this.#dnsTimer);
    this.#dnsTimer = undefined;
    const dnsClusters = [...snap.clusters.values()].filter((c) => c.ir.endpoints.some((e) => e.dns));
    if (dnsClusters.length === 0) return;
    const every = Math.max(1000, Math.min(...dnsClusters.map((c) => c.ir.dnsRefreshMs ?? 30_000)));
    this.#dnsTimer = setInterval(() => {
      if (this.#snapshot !== snap) return;
      void resolveDns(snap.ir).then((table) => {
        if (this.#snapshot !== snap) return;
        const used = new Set<string>();
        for (const c of dnsClusters) {
          const eps = [];
          for (const e of c.ir.endpoints) {
            if (e.ready === false) continue;
            const addrs = e.dns ? (table.get(e.address) ?? []) : [e.address];
            for (const a of addrs) eps.push(this.registry.endpoint(c.ir, e, a, used));
          }
          c.setEndpoints(eps);
        }
        this.registry.markUsed(used);
      });
    }, every);
    this.#dnsTimer.unref();
  }

  /**
   * Graceful drain (F43; docs/operations.md). `ready()` turns false at once; listeners keep
   * accepting for `delayMs` so load balancers notice; then they stop accepting, idle
   * connections close and busy ones close after their current response (HTTP/1.1
   * `connection: close`, HTTP/2 GOAWAY), spread over a close window; in-flight requests get up
   * to drainTimeoutMs; whatever is still open then is closed. Idempotent: a second call
   * returns the first call's promise.
   */
  shutdown(opts: ShutdownOptions = {}): Promise<ShutdownResult> {
    this.#shutdown ??= this.#drainAll(opts);
    return this.#shutdown;
  }

  async #drainAll(opts: ShutdownOptions): Promise<ShutdownResult> {
    this.#draining = true;
    if (this.#dnsTimer) clearInterval(this.#dnsTimer);
    if (opts.delayMs !== undefined && opts.delayMs > 0) await new Promise((r) => setTimeout(r, opts.delayMs));
    const timeoutMs = this.#opts.drainTimeoutMs ?? 5000;
    const window = opts.closeWindowMs ?? Math.min(2000, Math.floor(timeoutMs / 2));
    for (const l of this.#listeners.values()) l.drain(window);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && [...this.#listeners.values()].some((l) => l.connections.size > 0)) {
      await new Promise((r) => setTimeout(r, 25));
    }
    let forced = 0;
    for (const l of this.#listeners.values()) {
      forced += l.connections.size;
      for (const c of [...l.connections]) {
        const sock = (c as { socket?: net.Socket }).socket;
        sock?.destroy();
      }
      l.h2.close();
    }
    this.registry.close();
    this.certs.close();
    return { forced };
  }
}

/** Resolve every DNS endpoint of the IR (bounded by a 2 s timeout per name). */
async function resolveDns(ir: GatewayIR): Promise<DnsTable> {
  const names = new Set<string>();
  for (const c of ir.clusters) for (const e of c.endpoints) if (e.dns) names.add(e.address);
  const out = new Map<string, string[]>();
  await Promise.all([...names].map(async (n) => {
    try {
      const r = await Promise.race([
        dns.lookup(n, { all: true }),
        new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timeout')), 2000).unref()),
      ]);
      out.set(n, r.map((a) => a.address));
    } catch { out.set(n, []); }
  }));
  return out;
}
