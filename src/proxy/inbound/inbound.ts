/**
 * The inbound side: connections from other workloads (or their proxies) to the
 * local application.
 *
 *   accept ─▶ detect ─┬─ TLS with SNI = our identity ─▶ mesh TLS ─▶ transport header ─┬─ http1 ─▶ H1Session (+ l5d-client-id)
 *                     │                                                                ├─ h2    ─▶ H2Relay   (+ l5d-client-id)
 *                     │                                                                └─ opaque ─▶ pipe to 127.0.0.1:<port>
 *                     ├─ http1 / h2 (plain client, tls="no_identity") ─▶ forward port
 *                     └─ other TLS (the application's own), opaque, timeout ─▶ pipe to forward port
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { trackAccepted, type ProxyContext } from '../context.ts';
import { plainOpener, type ConnectFailure } from '../connect.ts';
import { readDetect } from '../detect/index.ts';
import type { H2Connection, H2Target } from '../h2/index.ts';
import { H1Session, ProxyHttpError } from '../http/index.ts';
import type { RouteStats, TlsLabel } from '../metrics/index.ts';
import { decodeTransportHeader, MuxConnection, pipeWhenOpen, TRANSPORT_HEADER_LENGTH, type Opener, type PooledConnection } from '../tcp/index.ts';
import { MESH_ALPN_MUX, peerIdentity } from '../tls/index.ts';

/** Request headers removed from inbound requests: only this proxy may say who the client is. */
const DROP_HEADERS: readonly string[] = ['l5d-client-id'];
/** Distinct request authorities with series of their own; later ones are counted under `OTHER_AUTHORITY`. */
const MAX_INBOUND_AUTHORITIES = 500;
/** The `authority` label of requests past `MAX_INBOUND_AUTHORITIES`. */
const OTHER_AUTHORITY = 'other';

/** Handles connections accepted on the inbound listener. */
export class Inbound {
  readonly #ctx: ProxyContext;
  readonly #openers = new Map<number, Opener>();
  readonly #opaqueOpeners = new Map<number, Opener>();
  readonly #routeStats = new Map<string, RouteStats>();
  readonly #authorities = new Set<string>();

  constructor(ctx: ProxyContext) {
    this.#ctx = ctx;
    ctx.mesh.handle((t) => this.#meshSecure(t), (err) => {
      ctx.log.info('refused mesh connection', { reason: err.message });
    });
  }

  /**
   * Handles one accepted connection. `originalPort`: the port it was addressed to
   * before iptables redirected it (transparent mode); plain-text connections go to
   * the application on that port, otherwise to `inboundForwardPort`.
   */
  accept(socket: net.Socket, originalPort?: number): void {
    const ctx = this.#ctx;
    if (originalPort !== undefined && ctx.config.opaquePorts.has(originalPort)) {
      // An opaque application port: never detect (a server-speaks-first client would wait), never mesh TLS.
      ctx.metrics.detected('inbound', 'skipped');
      this.#opaque(socket, originalPort, 'no_identity', undefined, undefined);
      return;
    }
    readDetect(socket, { timeoutMs: ctx.config.detectTimeoutMs }, (d, buffered) => {
      const mesh = d.kind === 'tls' && d.sni !== undefined && d.sni === ctx.mesh.identity;
      ctx.metrics.detected('inbound', mesh ? 'mesh_tls' : d.kind);
      ctx.log.debug('inbound detected', { protocol: mesh ? 'mesh_tls' : d.kind });
      if (mesh) {
        this.#mesh(socket, buffered);
        return;
      }
      const port = originalPort ?? ctx.config.inboundForwardPort;
      if (port === undefined) {
        ctx.log.info('closing inbound connection without a destination', { protocol: d.kind, hint: 'set --inbound-forward-port' });
        socket.destroy();
        return;
      }
      if (d.kind === 'http1') this.#http1(socket, port, 'no_identity', undefined, buffered);
      else if (d.kind === 'h2') this.#h2(socket, port, 'no_identity', undefined, buffered);
      else this.#opaque(socket, port, 'no_identity', undefined, buffered);
    });
  }

  #mesh(socket: net.Socket, buffered: Buffer | undefined): void {
    const ctx = this.#ctx;
    if (buffered !== undefined) socket.unshift(buffered);
    try {
      ctx.mesh.accept(socket);
    } catch (err) {
      ctx.log.warn('refusing mesh connection', { reason: (err as Error).message });
      socket.destroy();
    }
  }

  /** A mesh connection whose client certificate verified: read the transport header, then serve. */
  #meshSecure(t: tls.TLSSocket): void {
    const ctx = this.#ctx;
    t.on('error', () => t.destroy());
    const id = t.authorized ? peerIdentity(t) : undefined;
    if (id === undefined) {
      ctx.log.info('refusing mesh connection from an unverified peer', { reason: String(t.authorizationError ?? 'no DNS identity') });
      t.destroy();
      return;
    }
    let head: Buffer | undefined;
    // A peer that sends its FIN before a whole transport header can never be served
    // (the socket is half-open: nothing else would close it).
    const onEnd = (): void => { t.destroy(); };
    t.once('end', onEnd);
    const onData = (chunk: Buffer): void => {
      head = head === undefined ? chunk : Buffer.concat([head, chunk]);
      const h = decodeTransportHeader(head);
      if (h.kind === 'incomplete') return;
      t.removeListener('data', onData);
      t.removeListener('end', onEnd);
      t.pause();
      if (h.kind === 'invalid') {
        ctx.log.info('refusing mesh connection without a transport header', { client_id: id });
        t.destroy();
        return;
      }
      const rest = head.length > TRANSPORT_HEADER_LENGTH ? head.subarray(TRANSPORT_HEADER_LENGTH) : undefined;
      const { protocol, port } = h.header;
      if (protocol === 'http1') this.#http1(t, port, 'true', id, rest);
      else if (protocol === 'h2') this.#h2(t, port, 'true', id, rest);
      else if (protocol === 'mux' && t.alpnProtocol === MESH_ALPN_MUX) this.#mux(t, port, id, rest);
      else if (protocol === 'mux') {
        // Not negotiated: this proxy runs with --opaque-mux false (or the client skipped ALPN).
        ctx.log.info('refusing a multiplexed mesh connection that was not negotiated', { client_id: id });
        t.destroy();
      }
      else this.#opaque(t, port, 'true', id, rest);
    };
    t.on('data', onData);
  }

  /** A multiplexed mesh connection: each stream is an opaque connection to the application on `port`. */
  #mux(t: tls.TLSSocket, port: number, clientId: string, initial: Buffer | undefined): void {
    const ctx = this.#ctx;
    const open = this.#opaqueOpener(port);
    // Each stream is a connection of the client's: counted as one, with its own bytes
    // (the shared connection's counters would say nothing until it closes).
    const stats = ctx.metrics.tcp('inbound', 'src', 'true', clientId);
    const m: MuxConnection = new MuxConnection(t, {
      role: 'server',
      initial,
      onStreamClosed: (st) => stats.close(st.bytesIn, st.bytesOut),
      onOpen: (st) => {
        stats.open();
        open((err, up) => {
          if (err !== null || up === undefined) {
            ctx.log.debug('inbound opaque connect failed', { port, reason: err?.message });
            m.refuse(st);
            return;
          }
          m.attach(st, up as net.Socket);
        });
      },
      onClose: (e) => {
        if (e !== undefined) ctx.log.info('multiplexed mesh connection failed', { client_id: clientId, reason: e.message });
      },
    });
    ctx.live.set(t, () => m.drain());
    t.once('close', () => ctx.live.delete(t));
  }

  #opener(port: number): Opener {
    let o = this.#openers.get(port);
    if (o === undefined) {
      o = plainOpener(this.#ctx, 'inbound', this.#ctx.config.inboundForwardHost, port);
      this.#openers.set(port, o);
    }
    return o;
  }

  /** Application connections of opaque streams: half-open, so each side's FIN travels on its own. */
  #opaqueOpener(port: number): Opener {
    let o = this.#opaqueOpeners.get(port);
    if (o === undefined) {
      o = plainOpener(this.#ctx, 'inbound', this.#ctx.config.inboundForwardHost, port, true);
      this.#opaqueOpeners.set(port, o);
    }
    return o;
  }

  #stats(requested: string, tlsLabel: TlsLabel, clientId: string | undefined): RouteStats {
    // The authority is the client's to choose: past a bound, new ones share one series,
    // or a client could make /metrics (and the proxy's memory) grow without end.
    let authority = requested;
    if (!this.#authorities.has(authority)) {
      if (this.#authorities.size >= MAX_INBOUND_AUTHORITIES) authority = OTHER_AUTHORITY;
      else this.#authorities.add(authority);
    }
    const k = `${authority}\0${clientId ?? ''}`;
    let s = this.#routeStats.get(k);
    if (s === undefined) {
      s = this.#ctx.metrics.route('inbound', authority, tlsLabel, clientId);
      if (this.#routeStats.size > 10_000) this.#routeStats.clear();
      this.#routeStats.set(k, s);
    }
    return s;
  }

  #http1(socket: Duplex, port: number, tlsLabel: TlsLabel, clientId: string | undefined, initial: Buffer | undefined): void {
    const ctx = this.#ctx;
    const key = `app|${port}`;
    const open = this.#opener(port);
    let lastHost: string | undefined;
    let lastStats: RouteStats | undefined;
    // The request waiting for an application connection (one at a time per session):
    // one callback per session instead of a closure per request.
    let waiting: ((err: ProxyHttpError | null, up?: PooledConnection, stats?: RouteStats) => void) | undefined;
    let waitingStats: RouteStats | undefined;
    const acquired = (err: Error | null, up?: PooledConnection): void => {
      const cb = waiting!;
      const stats = waitingStats;
      waiting = undefined;
      waitingStats = undefined;
      if (err !== null) cb(new ProxyHttpError((err as Partial<ConnectFailure>).status ?? 502, err.message, { cause: err }), undefined, stats);
      else cb(null, up, stats);
    };
    const session = new H1Session(socket, {
      maxHeadBytes: ctx.config.maxHeadBytes,
      dropRequestHeaders: DROP_HEADERS,
      addRequestHeaders: clientId === undefined ? undefined : Buffer.from(`l5d-client-id: ${clientId}\r\n`, 'latin1'),
      originForm: false,
      route: (head, owner, fresh, cb) => {
        const host = head.host ?? '';
        if (host !== lastHost || lastStats === undefined) {
          lastHost = host;
          lastStats = this.#stats(host, tlsLabel, clientId);
        }
        waiting = cb;
        waitingStats = lastStats;
        ctx.apps.acquire(key, open, owner, acquired, fresh);
      },
      log: ctx.log,
    }, initial);
    trackAccepted(ctx, socket, ctx.metrics.tcp('inbound', 'src', tlsLabel, clientId), () => session.drain());
    socket.resume();
  }

  #h2(socket: Duplex, port: number, tlsLabel: TlsLabel, clientId: string | undefined, initial: Buffer | undefined): void {
    const ctx = this.#ctx;
    if (initial !== undefined) socket.unshift(initial);
    trackAccepted(ctx, socket, ctx.metrics.tcp('inbound', 'src', tlsLabel, clientId), () => {});
    // A connection's streams nearly always name one authority and share one
    // application session: reuse the last target instead of a key and lookup per stream.
    const key = `app|h2|${port}`;
    let last: H2Target | undefined;
    let lastAuthority = '';
    ctx.h2.serve(socket, {
      addHeaders: clientId === undefined ? undefined : { 'l5d-client-id': clientId },
      dropHeaders: DROP_HEADERS,
      route: (authority, cb) => {
        const upstream = this.#appH2(key, port);
        if (last === undefined || last.upstream !== upstream || authority !== lastAuthority) {
          last = { upstream, stats: this.#stats(authority, tlsLabel, clientId) };
          lastAuthority = authority;
        }
        cb(null, last);
      },
    });
  }

  /** The h2c connection to the application on `port` (`key` names it in the context). */
  #appH2(key: string, port: number): H2Connection {
    const ctx = this.#ctx;
    let upstream = ctx.h2Sessions.get(key);
    if (upstream === undefined || !upstream.usable) {
      const socket = net.connect({ host: ctx.config.inboundForwardHost, port, noDelay: true });
      socket.on('error', (err) => ctx.log.debug('h2 app connection error', { port, reason: err.message }));
      const s = ctx.h2.connect(socket);
      ctx.h2Sessions.set(key, s);
      s.onGone(() => {
        if (ctx.h2Sessions.get(key) === s) ctx.h2Sessions.delete(key);
      });
      upstream = s;
    }
    return upstream;
  }

  #opaque(socket: Duplex, port: number, tlsLabel: TlsLabel, clientId: string | undefined, initial: Buffer | undefined): void {
    const ctx = this.#ctx;
    socket.pause();
    socket.on('error', () => {});
    trackAccepted(ctx, socket, ctx.metrics.tcp('inbound', 'src', tlsLabel, clientId), () => {});
    pipeWhenOpen(socket, initial, this.#opaqueOpener(port), (err) => {
      ctx.log.debug('inbound opaque connect failed', { port, reason: err?.message });
    });
  }
}
