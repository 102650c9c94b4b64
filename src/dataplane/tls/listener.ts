/**
 * TLS on a listener: ClientHello peek → server by SNI → that server's own TLS settings.
 *
 * Node's SNICallback swaps certificates but not protocol versions, ciphers or the client
 * certificate mode, so one TLS context per port cannot keep servers apart (pitfalls.md "TLS").
 * Instead the first bytes are read without terminating (client-hello.ts), the server is chosen
 * by SNI (exact > longest wildcard > `*`), and only then is the TLS socket built — by a
 * `tls.Server` that belongs to that server (and to the certificate its SNI picks), fed the
 * socket with the peeked bytes put back. Every server thus negotiates with its own versions,
 * ciphers, ALPN and client-certificate mode, and keeps its own session-ticket keys (a session
 * resumed on a SIMPLE server cannot skip a MUTUAL server's client certificate).
 *
 * After the handshake:
 * - HTTP servers: ALPN `h2` → node:http2, else the HTTP/1.1 fast path, both with the server
 *   pinned (routing never leaves it, whatever the Host header says) and, when a client
 *   certificate was verified, this connection's X-Forwarded-Client-Cert element;
 * - L4 servers (PASSTHROUGH, or terminated TCP): SNI → route → weighted cluster, bytes piped.
 *
 * A ClientHello whose SNI matches no server gets a fatal `unrecognized_name` alert and is
 * closed (Envoy closes such connections without an alert: no filter chain matches, flag NR;
 * the alert gives clients a readable error). Non-TLS first bytes are closed at once.
 */
import { randomBytes, type X509Certificate } from 'node:crypto';
import type net from 'node:net';
import tls from 'node:tls';
import type { CredentialIR, GatewayIR } from '../../config/ir/types.js';
import { StreamInfo } from '../../observability/stream-info.js';
import type { CompiledAction } from '../../runtime/actions.js';
import type { ForwardClientCertMode, ListenerRuntime, TlsConnInfo } from '../http/dispatch.js';
import { trustedScheme } from '../http/forwarded.js';
import { fmtAddr, H1Conn } from '../http/h1-server.js';
import { createH2Server } from '../http/h2-server.js';
import type { RouteTable } from '../router/route-table.js';
import { certHash, parseSans, rfc2253, sniScore, spkiHash } from './cert-info.js';
import type { CertStore, CredentialVersion, StoreLog } from './cert-store.js';
import { Alert, alertRecord, type ClientHello, MAX_CLIENT_HELLO, parseClientHello } from './client-hello.js';
import type { CompiledTlsListener, CompiledTlsServer } from './compile.js';
import { proxyL4 } from './l4-proxy.js';

/** Envoy's tls_inspector waits up to 15 s (listener_filters_timeout) for the ClientHello. */
const HELLO_TIMEOUT_MS = 15_000;
/** Bound on the TLS handshake itself (after the ClientHello). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** What the TLS runtime needs from its listener (the plaintext ListenerRuntime). */
/**
 * TLS 1.3 suites in BoringSSL's order on CPUs with AES instructions (what Envoy negotiates):
 * AES-128-GCM first. TLS 1.3 suites are not configurable per server (as in Envoy).
 */
const TLS13_SUITES = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';
/**
 * Envoy's default server cipher list for TLS 1.2 (non-FIPS; its equal-preference groups
 * `[A|B]` written as A before B, which OpenSSL's syntax cannot express).
 */
const ENVOY_SERVER_CIPHERS = `${TLS13_SUITES}:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:` +
  'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384';

export type BaseListener = ListenerRuntime;

/** TLS state of one bound listener; survives snapshots, updated on each swap. */
export class TlsListenerRuntime {
  readonly base: BaseListener;
  readonly store: CertStore;
  readonly log: StoreLog;
  #compiled: CompiledTlsListener;
  /** Live server objects by settings signature (reused across swaps while unchanged). */
  #servers = new Map<string, ServerRuntime>();

  constructor(base: BaseListener, store: CertStore, log: StoreLog, compiled: CompiledTlsListener) {
    this.base = base;
    this.store = store;
    this.log = log;
    this.#compiled = compiled;
    this.update(compiled);
  }

  /** New snapshot: keep server runtimes whose settings did not change, create the others. */
  update(compiled: CompiledTlsListener): void {
    this.#compiled = compiled;
    const next = new Map<string, ServerRuntime>();
    for (const s of compiled.list) {
      const prev = this.#servers.get(s.signature);
      if (prev) { prev.compiled = s; next.set(s.signature, prev); } else next.set(s.signature, new ServerRuntime(this, s));
    }
    this.#servers = next;
  }

  /** A new TCP connection on the listener. */
  accept(socket: net.Socket): void {
    new HelloReader(this, socket);
  }

  /** The ClientHello is in: choose the server and hand the connection on. */
  dispatch(socket: net.Socket, hello: ClientHello, bytes: Buffer): void {
    const sni = hello.sni ?? '';
    const server = this.#compiled.servers.get(sni);
    if (server === undefined) {
      this.#refuse(socket, hello, Alert.unrecognizedName, 'NR', 'filter_chain_not_found');
      return;
    }
    if (server.tls.mode === 'PASSTHROUGH') {
      const route = server.routes?.get(sni);
      proxyL4(this.base, socket, bytes, route, newInfo(this.base, socket, sni));
      return;
    }
    const rt = this.#servers.get(server.signature);
    const term = rt?.terminatorFor(hello.sni);
    if (term === undefined) {
      this.#refuse(socket, hello, Alert.internalError, 'UF', 'no_certificate');
      return;
    }
    socket.unshift(bytes);
    term.server.emit('connection', socket);
  }

  #refuse(socket: net.Socket, hello: ClientHello, alert: number, flag: string, detail: string): void {
    socket.on('error', () => { /* the peer may be gone already */ });
    const info = newInfo(this.base, socket, hello.sni ?? '');
    info.addFlag(flag);
    info.connectionTerminationDetails = detail;
    socket.end(alertRecord(alert, hello.recordVersion));
    setTimeout(() => socket.destroy(), 1000).unref();
    info.endHr = performance.now();
    this.base.sink.onStreamDone(info);
  }
}

/** A StreamInfo for an L4 event on this listener. */
export function newInfo(lr: BaseListener, socket: net.Socket, sni: string): StreamInfo {
  const info = new StreamInfo();
  info.startMs = Date.now();
  info.startHr = performance.now();
  info.listenerPort = lr.port;
  info.downstreamLocalAddress = fmtAddr(socket.localAddress, socket.localPort);
  info.downstreamRemoteAddress = fmtAddr(socket.remoteAddress, socket.remotePort);
  info.requestedServerName = sni;
  return info;
}

/** Reads the ClientHello (bounded in time and size) without consuming it for TLS. */
class HelloReader {
  readonly #rt: TlsListenerRuntime;
  readonly #socket: net.Socket;
  #buf: Buffer | null = null;
  readonly #timer: NodeJS.Timeout;
  /** Registered in the listener's connections while peeking, so a drain can close it. */
  readonly #handle: { socket: net.Socket; drain(): void };

  constructor(rt: TlsListenerRuntime, socket: net.Socket) {
    this.#rt = rt;
    this.#socket = socket;
    this.#handle = { socket, drain: () => socket.destroy() };
    rt.base.connections.add(this.#handle);
    socket.on('data', this.#onData);
    socket.on('error', this.#onClose);
    socket.on('close', this.#onClose);
    this.#timer = setTimeout(() => socket.destroy(), HELLO_TIMEOUT_MS);
  }

  readonly #onData = (d: Buffer): void => {
    const buf = this.#buf === null ? d : Buffer.concat([this.#buf, d]);
    this.#buf = buf;
    const r = parseClientHello(buf);
    if (r.state === 'more') {
      if (buf.length > MAX_CLIENT_HELLO + 64) this.#socket.destroy();
      return;
    }
    this.#detach();
    if (r.state !== 'ok') {
      // Not TLS, or a malformed hello: nothing sensible can be answered.
      this.#socket.destroy();
      return;
    }
    this.#socket.pause();
    this.#rt.dispatch(this.#socket, r.hello, buf);
  };

  readonly #onClose = (): void => { this.#detach(); };

  #detach(): void {
    clearTimeout(this.#timer);
    this.#rt.base.connections.delete(this.#handle);
    this.#socket.removeListener('data', this.#onData);
    this.#socket.removeListener('error', this.#onClose);
    this.#socket.removeListener('close', this.#onClose);
  }
}

/** The live side of one terminating (or passthrough) server. */
class ServerRuntime {
  readonly rt: TlsListenerRuntime;
  compiled: CompiledTlsServer;
  /** Session ticket keys shared by this server's certificates, never by other servers. */
  readonly ticketKeys = randomBytes(48);
  readonly #terminators = new Map<string, Terminator>();

  constructor(rt: TlsListenerRuntime, compiled: CompiledTlsServer) {
    this.rt = rt;
    this.compiled = compiled;
  }

  /**
   * The certificate for this SNI: exact SAN, then wildcard SAN, then the first credential (the
   * server's default). Undefined when no credential has a usable version.
   */
  terminatorFor(sni: string | undefined): Terminator | undefined {
    const creds = this.compiled.tls.credentials;
    let best: { key: string; v: CredentialVersion; score: number } | undefined;
    for (const c of creds) {
      const v = this.rt.store.get(c.key)?.current;
      if (!v || !v.leaf) continue;
      const score = creds.length === 1 ? 0 : sniScore(v.leafSans, v.leafCn, sni);
      if (best === undefined || score > best.score) best = { key: c.key, v, score };
      if (score === 2) break;
    }
    if (best === undefined) return undefined;
    let t = this.#terminators.get(best.key);
    if (!t) { t = new Terminator(this, best.key); this.#terminators.set(best.key, t); }
    return t.refresh(best.v) ? t : undefined;
  }

  /** A TLS handshake completed: enforce the client-certificate policy, then serve. */
  onSecure(sock: tls.TLSSocket, term: Terminator): void {
    const tlsIr = this.compiled.tls;
    const sni = typeof sock.servername === 'string' ? sock.servername.toLowerCase() : '';
    let xfcc: string | undefined;
    if (tlsIr.mode !== 'SIMPLE') {
      const peer = sock.getPeerX509Certificate();
      if (peer !== undefined) {
        // OPTIONAL_MUTUAL still validates a certificate that is presented (pitfalls.md).
        if (!sock.authorized || !clientCertAllowed(peer, tlsIr)) { sock.destroy(); return; }
        xfcc = xfccElement(peer, term.ownUri);
      } else if (tlsIr.mode === 'MUTUAL') {
        sock.destroy();
        return;
      }
    }
    const info: TlsConnInfo = { server: this.compiled.ir.name, sni, ...(xfcc !== undefined ? { xfcc } : {}) };
    if (this.compiled.routes !== undefined) {
      // Terminated TLS proxied as TCP (Istio TLS + SIMPLE/MUTUAL, Gateway API TLS Terminate).
      proxyL4(this.rt.base, sock, null, this.compiled.routes.get(sni), newInfo(this.rt.base, sock, sni));
      return;
    }
    const lr = new TlsConnLr(this.rt.base, info);
    if (sock.alpnProtocol === 'h2') lr.h2Handoff(sock);
    else new H1Conn(sock, lr);
  }
}

/** A tls.Server for one (server, certificate) pair. Never listens: sockets are emitted into it. */
class Terminator {
  readonly server: tls.Server;
  readonly #sr: ServerRuntime;
  readonly #credKey: string;
  #stamp = '';
  /** Stamp whose context could not be built (logged once). */
  #failed = '';
  /** URI SAN of the served certificate: XFCC `By`. */
  ownUri: string | undefined;

  constructor(sr: ServerRuntime, credKey: string) {
    this.#sr = sr;
    this.#credKey = credKey;
    const t = sr.compiled.tls;
    this.server = new tls.Server({
      requestCert: t.mode !== 'SIMPLE',
      rejectUnauthorized: t.mode === 'MUTUAL',
      ...(t.alpn.length ? { ALPNProtocols: [...t.alpn] } : {}),
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    this.server.on('secureConnection', (s: tls.TLSSocket) => sr.onSecure(s, this));
    this.server.on('tlsClientError', (_e, s: tls.TLSSocket) => { s.destroy(); });
  }

  /** Rebuild the context when the certificate or CA changed; false when unusable. */
  refresh(v: CredentialVersion): boolean {
    const t = this.#sr.compiled.tls;
    const store = this.#sr.rt.store;
    let ca: CredentialVersion | undefined;
    if (t.mode !== 'SIMPLE') {
      ca = t.clientCa ? store.get(t.clientCa.key)?.current : undefined;
      if (!ca?.ca) return false;
    }
    const stamp = `${v.version}|${ca?.version ?? 0}`;
    if (stamp === this.#stamp) return true;
    if (stamp === this.#failed) return false;
    let ciphers = t.cipherSuites?.length ? `${TLS13_SUITES}:${t.cipherSuites.join(':')}` : ENVOY_SERVER_CIPHERS;
    // OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1 signatures) at its default security level.
    if (t.minVersion === 'TLSv1' || t.minVersion === 'TLSv1.1') ciphers += ':@SECLEVEL=0';
    try {
      this.server.setSecureContext({
        cert: v.cert!, key: v.key!,
        ...(ca?.ca ? { ca: ca.ca } : {}),
        minVersion: t.minVersion, maxVersion: t.maxVersion,
        ciphers, honorCipherOrder: true, ticketKeys: this.#sr.ticketKeys,
      });
    } catch (e) {
      this.#failed = stamp;
      this.#sr.rt.log.error(`TLS_SETTINGS_INVALID: Cannot build the TLS context of "${this.#sr.compiled.ir.name}": ${(e as Error).message}`,
        { code: 'TLS_SETTINGS_INVALID', credential: this.#credKey });
      return false;
    }
    this.ownUri = v.leafSans.uri[0];
    this.#stamp = stamp;
    return true;
  }
}

/** subjectAltNames (any SAN, exact) AND (hash OR spki) when configured (Envoy semantics). */
function clientCertAllowed(peer: X509Certificate, t: CompiledTlsServer['tls']): boolean {
  if (t.subjectAltNames?.length) {
    const s = parseSans(peer.subjectAltName);
    const all = [...s.dns, ...s.uri, ...s.ip, ...s.email];
    if (!t.subjectAltNames.some((want) => all.includes(want) || all.includes(want.toLowerCase()))) return false;
  }
  const hashes = t.verifyCertificateHash ?? [];
  const spkis = t.verifyCertificateSpki ?? [];
  if (hashes.length || spkis.length) {
    if (!(hashes.length && hashes.includes(certHash(peer))) && !(spkis.length && spkis.includes(spkiHash(peer)))) return false;
  }
  return true;
}

/**
 * This connection's XFCC element, as Istio sets it at a gateway (forward_client_cert_details
 * SANITIZE_SET with subject, dns and uri): `By=<own URI SAN>;Hash=<sha256>;Subject="<dn>";
 * URI=<uri>;DNS=<dns>`. Values holding `,`, `;` or `=` are quoted (envoy-behaviour.md §5).
 */
export function xfccElement(peer: X509Certificate, ownUri: string | undefined): string {
  const parts: string[] = [];
  if (ownUri) parts.push(`By=${quote(ownUri)}`);
  parts.push(`Hash=${certHash(peer)}`);
  parts.push(`Subject="${rfc2253(peer.subject).replace(/(["\\])/g, '\\$1')}"`);
  const s = parseSans(peer.subjectAltName);
  for (const u of s.uri) parts.push(`URI=${quote(u)}`);
  for (const d of s.dns) parts.push(`DNS=${quote(d)}`);
  return parts.join(';');
}

function quote(v: string): string {
  return /[,;="]/.test(v) ? `"${v.replace(/(["\\])/g, '\\$1')}"` : v;
}

/**
 * ListenerRuntime of one TLS connection: delegates to the listener (so the current route table
 * is read per request) with the server pinned, scheme `https` and the connection's TLS facts.
 */
class TlsConnLr implements ListenerRuntime {
  readonly #base: BaseListener;
  readonly tls: TlsConnInfo;

  constructor(base: BaseListener, tlsInfo: TlsConnInfo) {
    this.#base = base;
    this.tls = tlsInfo;
  }

  get port(): number { return this.#base.port; }
  get table(): RouteTable<CompiledAction> { return this.#base.table; }
  set table(_t: RouteTable<CompiledAction>) { /* tables are swapped on the listener */ }
  get sink() { return this.#base.sink; }
  set sink(_s) { /* owned by the listener */ }
  get draining(): boolean { return this.#base.draining; }
  set draining(_d: boolean) { /* owned by the listener */ }
  get idleTimeoutMs(): number { return this.#base.idleTimeoutMs; }
  set idleTimeoutMs(_n: number) { /* owned by the listener */ }
  get connections() { return this.#base.connections; }
  get trustedProxies(): number | undefined { return this.#base.trustedProxies; }
  get forwardClientCert(): ForwardClientCertMode | undefined { return this.#base.forwardClientCert; }

  h2Handoff(socket: net.Socket): void {
    createH2Server(this).emit('connection', socket);
  }

  scheme(head: unknown): string {
    return trustedScheme(this.#base.trustedProxies, head, 'https');
  }
}

/** Gateway-wide TLS and forwarding settings (CLI flags; docs/tls.md). */
export interface GatewayTlsOptions {
  /** `--trusted-proxies N`: hops in front whose X-Forwarded-For / -Proto are trusted (default 0). */
  readonly trustedProxies?: number;
  /** `--forward-client-cert MODE` (default SANITIZE_SET). */
  readonly forwardClientCert?: ForwardClientCertMode;
  /** `--cert-expiry-warning-days N` (default 30). */
  readonly certWarnDays?: number;
}

/** A listener that may carry TLS. */
export interface TlsCapableListener extends BaseListener {
  tlsRuntime: TlsListenerRuntime | undefined;
}

/** Give a listener the TLS view of a new snapshot (or take TLS away). Never rebinds. */
export function syncListenerTls(l: TlsCapableListener, compiled: CompiledTlsListener | undefined, store: CertStore, log: StoreLog): void {
  if (compiled === undefined) { l.tlsRuntime = undefined; return; }
  if (l.tlsRuntime === undefined) l.tlsRuntime = new TlsListenerRuntime(l, store, log, compiled);
  else l.tlsRuntime.update(compiled);
}

/** Every credential a GatewayIR uses (server certificates, client CAs, origination). */
export function credentialsOf(ir: GatewayIR | undefined): CredentialIR[] {
  if (ir === undefined) return [];
  const out: CredentialIR[] = [];
  for (const l of ir.listeners) {
    for (const s of l.servers) {
      if (!s.tls) continue;
      out.push(...s.tls.credentials);
      if (s.tls.clientCa) out.push(s.tls.clientCa);
    }
  }
  for (const c of ir.clusters) if (c.tls?.credential) out.push(c.tls.credential);
  return out;
}
