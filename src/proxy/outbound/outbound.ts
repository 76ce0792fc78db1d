/**
 * The outbound side: connections from the local application to other workloads.
 *
 *   accept ─▶ (opaque port or opaque hint? skip) ─▶ detect ─┬─ http1 ─▶ H1Session ─▶ pool ─▶ mesh TLS / plain
 *                                                           ├─ h2    ─▶ H2Relay   ─▶ h2 connection per endpoint
 *                                                           └─ tls, opaque, timeout ─▶ pipe (needs a target)
 *
 * The target is the connection's original destination (transparent mode, from
 * iptables), or explicit: the outbound listener is also an HTTP proxy (absolute-form
 * URLs and CONNECT), and each `--outbound-target` listener has a fixed authority.
 * Each request (connection, for opaque TCP; stream session, for HTTP/2) picks an
 * endpoint by power of two choices over peak-EWMA load; the endpoint set follows
 * discovery live.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { EndpointLoad, pickP2c } from '../balance/index.ts';
import { trackAccepted, type ProxyContext } from '../context.ts';
import { meshOpener, openMesh, plainOpener, type ConnectFailure } from '../connect.ts';
import { readDetect } from '../detect/index.ts';
import { MESH_ALPN_MUX } from '../tls/index.ts';
import type { H2Connection, H2Target } from '../h2/index.ts';
import { H1Session, ProxyHttpError, type RequestHead } from '../http/index.ts';
import type { RouteStats } from '../metrics/index.ts';
import { encodeTransportHeader, MuxConnection, pipeWhenOpen, type Opener, type PoolOwner, type PooledConnection, type TransportProtocolName } from '../tcp/index.ts';
import { normalizeAuthority, type Destination, type DestinationHandle, type Discovery, type Endpoint } from './discovery.ts';

/** Request headers an outbound HTTP/1 session removes: hop-by-hop proxy headers, and a client id only the inbound side may set. */
const H1_DROP_HEADERS: readonly string[] = ['proxy-connection', 'l5d-client-id'];
/** Request headers an outbound HTTP/2 session removes. */
const H2_DROP_HEADERS: readonly string[] = ['l5d-client-id'];

/** How long an endpoint that failed to connect is skipped when others are available. */
const FAILED_ENDPOINT_BACKOFF_MS = 1000;
/** How long an endpoint whose proxy did not offer the multiplexed transport gets one mesh connection per opaque connection before it is asked again. */
const NO_MUX_RETRY_MS = 5 * 60_000;
/** TCP keepalive on multiplexed mesh connections: the kernel's floor under the PING check. */
const MUX_KEEPALIVE_MS = 30_000;

/** One endpoint of a route, with its connection opener and balancer load. */
type Target = {
  ep: Endpoint;
  key: string;
  open: Opener;
  stats: EndpointLoad;
  failedUntil: number;
  cost(now: number): number;
};

/**
 * A route: one authority for one protocol. `dest` is the destination its targets
 * were built from; when the handle returns another object, the set changed and the
 * targets are rebuilt (keeping the load and failure state of endpoints that stay).
 */
type Route = {
  handle: DestinationHandle;
  dest: Destination | undefined;
  targets: Target[];
  protocol: TransportProtocolName;
  /** Counts requests answered by the proxy itself for want of an endpoint (503), labelled `tls="no_identity"`. */
  noEndpoints: RouteStats | undefined;
};

/** An HTTP/1 session's answer from routing: an upstream connection, or why not. */
type H1RouteCallback = (err: ProxyHttpError | null, up?: PooledConnection, stats?: RouteStats) => void;

/**
 * Per HTTP/1 connection: the route its requests used last, by authority, and the
 * request waiting for a pooled connection (one at a time per connection), so a
 * request costs no key string, map lookup or callback closure.
 */
type H1Conn = {
  authority: string | undefined;
  route: Route | undefined;
  target: Target | undefined;
  cb: H1RouteCallback | undefined;
  acquired: (err: Error | null, up?: PooledConnection) => void;
};

/** Routes outbound traffic for one proxy. */
export class Outbound {
  readonly #ctx: ProxyContext;
  readonly #discovery: Discovery;
  readonly #routes = new Map<string, Route>();
  readonly #h2Waiting = new Map<string, Array<(err: Error | null, t?: H2Target) => void>>();
  readonly #h2Targets = new WeakMap<H2Connection, H2Target>();
  /** Multiplexed opaque-TCP connections by endpoint key, and the streams waiting for one to open. */
  readonly #muxes = new Map<string, MuxConnection>();
  readonly #muxWaiting = new Map<string, Array<(err: Error | null, m?: MuxConnection) => void>>();
  /** Endpoints whose proxy does not multiplex (an earlier release), until when not to ask again. */
  readonly #noMux = new Map<string, number>();

  constructor(ctx: ProxyContext, discovery: Discovery) {
    this.#ctx = ctx;
    this.#discovery = discovery;
    // Each opaque stream is a connection to its client: new ones must handshake with the
    // renewed certificate and be checked against the new trust anchors, so the shared
    // mesh connections take no more; established streams finish on them.
    ctx.mesh.onChange(() => {
      for (const key of [...this.#muxes.keys()]) this.#drainMux(key);
    });
  }

  /**
   * Handles a connection accepted on the outbound listener (`authority` undefined: an
   * HTTP proxy client), a target listener, or redirected by iptables (`authority` =
   * its original destination).
   */
  accept(socket: net.Socket | Duplex, authority: string | undefined, initial?: Buffer): void {
    const ctx = this.#ctx;
    if (authority !== undefined) {
      const port = normalizeAuthority(authority, 0)?.port ?? 0;
      if (ctx.config.opaquePorts.has(port)) {
        ctx.metrics.detected('outbound', 'skipped');
        this.#opaque(socket, authority, initial);
        return;
      }
      // Discovery may say the target is opaque: then skip detection too (server-speaks-first protocols).
      const route = this.#route(authority, 0, 'opaque');
      if (route !== undefined && route.handle.current() === undefined) {
        socket.pause();
        route.handle.whenKnown(() => {
          if (!socket.destroyed) this.#detectOrSkip(socket, authority, initial, route);
        });
        return;
      }
      if (route !== undefined) {
        this.#detectOrSkip(socket, authority, initial, route);
        return;
      }
    }
    this.#detect(socket, authority, initial);
  }

  #detectOrSkip(socket: Duplex, authority: string, initial: Buffer | undefined, route: Route): void {
    const d = route.handle.current();
    if (d !== undefined && d.endpoints.length > 0 && d.endpoints.every((e) => e.protocol === 'opaque')) {
      this.#ctx.metrics.detected('outbound', 'skipped');
      this.#opaque(socket, authority, initial);
      return;
    }
    this.#detect(socket, authority, initial);
  }

  #detect(socket: Duplex, authority: string | undefined, initial: Buffer | undefined): void {
    const ctx = this.#ctx;
    readDetect(socket, { timeoutMs: ctx.config.detectTimeoutMs, initial }, (d, buffered) => {
      ctx.metrics.detected('outbound', d.kind);
      ctx.log.debug('outbound detected', { protocol: d.kind, authority });
      if (d.kind === 'http1') this.#http1(socket, authority, buffered);
      else if (d.kind === 'h2') this.#h2(socket, authority, buffered);
      else if (authority !== undefined) this.#opaque(socket, authority, buffered);
      else {
        ctx.log.info('closing outbound connection without a target', { protocol: d.kind, hint: 'use an HTTP proxy request, CONNECT, or --outbound-target' });
        socket.destroy();
      }
    });
  }

  #http1(socket: Duplex, authority: string | undefined, initial: Buffer | undefined): void {
    const ctx = this.#ctx;
    const last: H1Conn = { authority: undefined, route: undefined, target: undefined, cb: undefined, acquired: () => {} };
    last.acquired = (err, up) => this.#acquiredH1(last, err, up);
    const session = new H1Session(socket, {
      maxHeadBytes: ctx.config.maxHeadBytes,
      dropRequestHeaders: H1_DROP_HEADERS,
      addRequestHeaders: undefined,
      originForm: authority === undefined,
      route: (head, owner, fresh, cb) => this.#routeH1(head, authority, last, owner, fresh, cb),
      ...(authority === undefined
        ? {
          onConnect: (target: string, s: Duplex, rest: Buffer | undefined) => {
            s.write('HTTP/1.1 200 Connection Established\r\n\r\n');
            ctx.live.delete(s);
            this.accept(s, target, rest);
          },
        }
        : {}),
      log: ctx.log,
    }, initial);
    trackAccepted(ctx, socket, ctx.metrics.tcp('outbound', 'src', 'no_identity'), () => session.drain());
    socket.resume();
  }

  #routeH1(head: RequestHead, fixed: string | undefined, last: H1Conn, owner: PoolOwner, fresh: boolean, cb: H1RouteCallback): void {
    let authority = fixed;
    const t = head.target;
    if (t.charCodeAt(0) !== 0x2f && (t.startsWith('http://') || t.startsWith('HTTP://'))) {
      const end = t.indexOf('/', 7);
      authority = t.slice(7, end < 0 ? t.length : end);
    } else if (authority === undefined) {
      authority = head.host;
    }
    if (authority === undefined) {
      cb(new ProxyHttpError(400, 'request names no target: send an absolute URL or a Host header'));
      return;
    }
    // A connection's requests nearly always name one authority: skip the key string and map lookup.
    let route = authority === last.authority ? last.route : undefined;
    if (route === undefined) {
      route = this.#route(authority, 80, 'http1');
      if (route === undefined) {
        cb(new ProxyHttpError(400, `cannot route to "${authority}"`));
        return;
      }
      last.authority = authority;
      last.route = route;
    }
    // The usual case, a known destination, goes straight on: no `#ready` closure per request.
    const d = route.handle.current();
    if (d !== undefined) {
      if (d !== route.dest) this.#rebuild(route, d);
      this.#acquireH1(route, authority, last, owner, fresh, cb);
      return;
    }
    const a = authority;
    const r = route;
    this.#ready(r, () => this.#acquireH1(r, a, last, owner, fresh, cb));
  }

  /** Picks an endpoint of a ready `route` and borrows a connection to it for one HTTP/1 request. */
  #acquireH1(route: Route, authority: string, conn: H1Conn, owner: PoolOwner, fresh: boolean, cb: H1RouteCallback): void {
    const target = this.#pick(route);
    if (target === undefined) {
      route.noEndpoints ??= this.#ctx.metrics.route('outbound', route.dest?.authority ?? authority, 'no_identity', undefined);
      cb(new ProxyHttpError(503, route.dest?.reason ?? `no endpoints for "${route.dest?.authority ?? authority}"`), undefined, route.noEndpoints);
      return;
    }
    conn.target = target;
    conn.cb = cb;
    this.#ctx.upstreams.acquire(target.key, target.open, owner, conn.acquired, fresh);
  }

  /** The pool's answer for the request `conn` is routing (see `#acquireH1`). */
  #acquiredH1(conn: H1Conn, err: Error | null, up: PooledConnection | undefined): void {
    const target = conn.target!;
    const cb = conn.cb!;
    conn.target = undefined;
    conn.cb = undefined;
    if (err !== null) {
      target.failedUntil = performance.now() + FAILED_ENDPOINT_BACKOFF_MS;
      const status = (err as Partial<ConnectFailure>).status ?? 502;
      cb(new ProxyHttpError(status, err.message, { cause: err }), undefined, target.stats);
      return;
    }
    cb(null, up, target.stats);
  }

  /** The route for `authority` and protocol; its targets are current once `#ready` calls back. */
  #route(authority: string, defaultPort: number, protocol: TransportProtocolName): Route | undefined {
    const cacheKey = `${protocol} ${authority}`;
    let r = this.#routes.get(cacheKey);
    if (r !== undefined) return r;
    const handle = this.#discovery.resolve(authority, defaultPort);
    if (handle === undefined) return undefined;
    r = { handle, dest: undefined, targets: [], protocol, noEndpoints: undefined };
    // Bounded: a proxy client naming endless authorities must not grow this forever.
    if (this.#routes.size > 10_000) this.#routes.clear();
    this.#routes.set(cacheKey, r);
    return r;
  }

  /** Calls `then` once `route` has a destination, its targets rebuilt if the set changed (synchronously when known). */
  #ready(route: Route, then: () => void): void {
    const d = route.handle.current();
    if (d !== undefined) {
      if (d !== route.dest) this.#rebuild(route, d);
      then();
      return;
    }
    route.handle.whenKnown((known) => {
      if (known !== route.dest) this.#rebuild(route, known);
      then();
    });
  }

  /** Rebuilds a route's targets for a new endpoint set; endpoints that stay keep their load and failure state. */
  #rebuild(route: Route, dest: Destination): void {
    const ctx = this.#ctx;
    const protocol = route.protocol;
    const old = new Map(route.targets.map((t) => [t.key, t]));
    route.targets = dest.endpoints.map((ep) => {
      const key = `${protocol}|${ep.host}:${ep.port}|${ep.identity ?? ''}|${ep.targetPort}`;
      const kept = old.get(key);
      if (kept !== undefined) {
        old.delete(key);
        return kept;
      }
      const stats = new EndpointLoad(ctx.metrics, dest.authority, ep.identity === undefined ? 'no_identity' : 'true', ep.identity);
      return {
        ep,
        key,
        open: ep.identity === undefined
          ? plainOpener(ctx, 'outbound', ep.host, ep.port, protocol === 'opaque')
          : meshOpener(ctx, ep.host, ep.port, ep.identity, protocol, ep.targetPort),
        stats,
        failedUntil: 0,
        cost: (now: number) => stats.cost(now),
      };
    });
    route.dest = dest;
    // A removed endpoint's multiplexed session takes no new streams; those in flight finish.
    for (const t of old.values()) this.#closeH2Session(t.key);
    // Its opaque streams finish on their mesh connection, which then closes.
    for (const t of old.values()) this.#drainMux(t.key);
    if (route.targets.length > 0 || old.size > 0) {
      ctx.log.debug('balancer updated', { authority: dest.authority, protocol, endpoints: route.targets.length, removed: old.size });
    }
  }

  #pick(route: Route): Target | undefined {
    return pickP2c(route.targets, performance.now());
  }

  #h2(socket: Duplex, authority: string | undefined, initial: Buffer | undefined): void {
    const ctx = this.#ctx;
    if (initial !== undefined) socket.unshift(initial);
    trackAccepted(ctx, socket, ctx.metrics.tcp('outbound', 'src', 'no_identity'), () => {});
    // Per connection: the route its streams used last (they nearly always name one
    // authority), so a stream costs no key string and map lookup.
    let lastAuthority = '';
    let lastRoute: Route | undefined;
    ctx.h2.serve(socket, {
      addHeaders: undefined,
      dropHeaders: H2_DROP_HEADERS,
      route: (a, cb) => {
        const name = authority ?? a;
        let route = name === lastAuthority ? lastRoute : undefined;
        if (route === undefined) {
          route = this.#route(name, 80, 'h2');
          if (route === undefined) {
            cb(new Error(`cannot route to "${name}"`), undefined, 400);
            return;
          }
          lastAuthority = name;
          lastRoute = route;
        }
        // The usual case, a known destination, goes straight on: no `#ready` closure per stream.
        const d = route.handle.current();
        if (d !== undefined) {
          if (d !== route.dest) this.#rebuild(route, d);
          this.#pickH2(route, name, cb);
          return;
        }
        const r = route;
        this.#ready(r, () => this.#pickH2(r, name, cb));
      },
    });
  }

  /** Picks an endpoint of a ready `route` for one HTTP/2 stream and hands over its session. */
  #pickH2(route: Route, authority: string, cb: (err: Error | null, target?: H2Target, status?: number, stats?: RouteStats) => void): void {
    const target = this.#pick(route);
    if (target === undefined || route.dest === undefined) {
      // Counted like HTTP/1's 503: the proxy answered, no endpoint was involved.
      route.noEndpoints ??= this.#ctx.metrics.route('outbound', route.dest?.authority ?? authority, 'no_identity', undefined);
      cb(new Error(route.dest?.reason ?? `no endpoints for "${route.dest?.authority ?? authority}"`), undefined, 503, route.noEndpoints);
      return;
    }
    const s = this.#ctx.h2Sessions.get(target.key);
    if (s !== undefined && s.usable) {
      cb(null, this.#h2Target(s, target));
      return;
    }
    this.#h2Session(target, route.dest, (err, t) => {
      if (err !== null) cb(err, undefined, (err as Partial<ConnectFailure>).status ?? 502, target.stats);
      else cb(null, t);
    });
  }

  /**
   * Closes the multiplexed session to a removed endpoint: GOAWAY, its streams in flight
   * finish. A session still opening (mesh connect in flight) is closed the moment it
   * opens, after the streams that waited for it were opened on it: they are served, and
   * any it cannot take yet go to another endpoint.
   */
  #closeH2Session(key: string): void {
    this.#ctx.h2Sessions.get(key)?.close();
    this.#h2Waiting.get(key)?.push(closeOpened);
  }

  /** The `H2Target` of a session and endpoint, made once per session. */
  #h2Target(upstream: H2Connection, target: Target): H2Target {
    let t = this.#h2Targets.get(upstream);
    if (t === undefined || t.stats !== target.stats) {
      t = { upstream, stats: target.stats };
      this.#h2Targets.set(upstream, t);
    }
    return t;
  }

  /**
   * The multiplexed session for `target`. A mesh session starts only after the
   * transport header's write has completed: node:http2 takes over the TLS stream's
   * native writes, and a JS write still in flight would complete into it.
   */
  #h2Session(target: Target, dest: Destination, cb: (err: Error | null, t?: H2Target) => void): void {
    const ctx = this.#ctx;
    const existing = ctx.h2Sessions.get(target.key);
    if (existing !== undefined && existing.usable) {
      cb(null, this.#h2Target(existing, target));
      return;
    }
    let waiting = this.#h2Waiting.get(target.key);
    if (waiting !== undefined) {
      waiting.push(cb);
      return;
    }
    waiting = [cb];
    this.#h2Waiting.set(target.key, waiting);
    const settle = (err: Error | null, s?: H2Connection): void => {
      const list = this.#h2Waiting.get(target.key) ?? [];
      this.#h2Waiting.delete(target.key);
      for (const w of list) {
        if (err !== null || s === undefined) w(err ?? new Error('no session'));
        else w(null, this.#h2Target(s, target));
      }
    };
    const { ep } = target;
    const start = (socket: Duplex): void => {
      const s = ctx.h2.connect(socket);
      ctx.h2Sessions.set(target.key, s);
      s.onGone(() => {
        if (ctx.h2Sessions.get(target.key) === s) ctx.h2Sessions.delete(target.key);
        // Gone before its first SETTINGS (none in time, refused, reset): the endpoint
        // failed like a connect, and is skipped while others are available.
        if (s.closed && !s.established) target.failedUntil = performance.now() + FAILED_ENDPOINT_BACKOFF_MS;
      });
      settle(null, s);
    };
    if (ep.identity === undefined) {
      start(openPlain(ctx, ep.host, ep.port));
      return;
    }
    openMesh(ctx, ep.host, ep.port, ep.identity, encodeTransportHeader({ protocol: 'h2', port: ep.targetPort }), (err, socket) => {
      if (err !== null || socket === undefined) {
        target.failedUntil = performance.now() + FAILED_ENDPOINT_BACKOFF_MS;
        settle(err ?? new Error('connect failed'));
        return;
      }
      start(socket);
    }, true);
  }

  #opaque(socket: Duplex, authority: string, initial: Buffer | undefined): void {
    const ctx = this.#ctx;
    socket.pause();
    const route = this.#route(authority, 0, 'opaque');
    if (route === undefined) {
      ctx.log.info('closing opaque connection to an invalid authority', { authority });
      socket.destroy();
      return;
    }
    this.#ready(route, () => {
      if (!socket.destroyed) this.#opaqueTo(socket, authority, initial, route);
    });
  }

  #opaqueTo(socket: Duplex, authority: string, initial: Buffer | undefined, route: Route): void {
    const ctx = this.#ctx;
    const target = this.#pick(route);
    if (target === undefined) {
      ctx.log.info('closing opaque connection without endpoints', { authority });
      socket.destroy();
      return;
    }
    trackAccepted(ctx, socket, ctx.metrics.tcp('outbound', 'src', 'no_identity'), () => {});
    socket.on('error', () => {});
    if (target.ep.identity !== undefined && ctx.config.opaqueMux && socket instanceof net.Socket) {
      const identity = target.ep.identity;
      const carry = (err: Error | null, m?: MuxConnection): void => {
        if (socket.destroyed) return;
        if (err !== null) {
          target.failedUntil = performance.now() + FAILED_ENDPOINT_BACKOFF_MS;
          ctx.log.debug('opaque connect failed', { authority, reason: err.message });
          socket.destroy();
        } else if (m === undefined) {
          this.#pipeOpaque(socket, initial, target, authority); // The far proxy does not multiplex.
        } else if (!m.usable) {
          this.#mux(target, identity, carry); // Filled up by the streams that waited with this one.
        } else {
          m.open(socket, initial);
        }
      };
      this.#mux(target, identity, carry);
      return;
    }
    this.#pipeOpaque(socket, initial, target, authority);
  }

  /** One mesh (or plain) connection for this opaque connection, piped. */
  #pipeOpaque(socket: Duplex, initial: Buffer | undefined, target: Target, authority: string): void {
    const ctx = this.#ctx;
    pipeWhenOpen(socket, initial, (cb) => target.open(cb), (err) => {
      target.failedUntil = performance.now() + FAILED_ENDPOINT_BACKOFF_MS;
      ctx.log.debug('opaque connect failed', { authority, reason: err?.message });
    });
  }

  /** Stops new streams on the endpoint's opaque mesh connection (open or opening); it closes with its last stream. */
  #drainMux(key: string): void {
    this.#muxes.get(key)?.drain();
    this.#muxes.delete(key);
    const waiting = this.#muxWaiting.get(key);
    // Streams already waiting for it still use it; it closes once they end.
    if (waiting !== undefined) waiting.push((err, m) => { if (err === null) m?.drain(); });
  }

  /**
   * The multiplexed opaque-TCP connection to `target` (a meshed endpoint): the open
   * one while it takes streams, else a new one (a full or draining one keeps serving
   * its streams until they end). Streams that come while it opens wait for it. No
   * connection and no error: the far proxy does not speak the multiplexed transport
   * (an earlier release), and it is not asked again for a while.
   */
  #mux(target: Target, identity: string, cb: (err: Error | null, m?: MuxConnection) => void): void {
    const ctx = this.#ctx;
    const key = target.key;
    const noMuxUntil = this.#noMux.get(key);
    if (noMuxUntil !== undefined) {
      if (performance.now() < noMuxUntil) {
        cb(null);
        return;
      }
      this.#noMux.delete(key);
    }
    const open = this.#muxes.get(key);
    if (open !== undefined && open.usable) {
      cb(null, open);
      return;
    }
    // A full one is replaced below: it takes no more streams and closes with its last.
    open?.drain();
    let waiting = this.#muxWaiting.get(key);
    if (waiting !== undefined) {
      waiting.push(cb);
      return;
    }
    waiting = [cb];
    this.#muxWaiting.set(key, waiting);
    const { ep } = target;
    const header = encodeTransportHeader({ protocol: 'mux', port: ep.targetPort });
    openMesh(ctx, ep.host, ep.port, identity, (alpn) => (alpn === MESH_ALPN_MUX ? header : undefined), (err, socket) => {
      const list = this.#muxWaiting.get(key) ?? [];
      this.#muxWaiting.delete(key);
      if (err !== null || socket === undefined) {
        for (const w of list) w(err ?? new Error('connect failed'));
        return;
      }
      if ((socket as { alpnProtocol?: string | false | null }).alpnProtocol !== MESH_ALPN_MUX) {
        socket.destroy();
        this.#noMux.set(key, performance.now() + NO_MUX_RETRY_MS);
        ctx.log.info('the far proxy does not multiplex opaque TCP: one mesh connection per connection', { host: ep.host, port: ep.port });
        for (const w of list) w(null);
        return;
      }
      (socket as net.Socket).setKeepAlive(true, MUX_KEEPALIVE_MS);
      const m: MuxConnection = new MuxConnection(socket, {
        role: 'client',
        // Before the far proxy's idle sweep would cut it, so a stream never opens on a connection being closed.
        idleMs: ctx.config.idleTimeoutMs / 2,
        livenessMs: ctx.config.connectTimeoutMs,
        onGoaway: () => {
          if (this.#muxes.get(key) === m) this.#muxes.delete(key);
          // The far proxy is draining: its listener refuses new connections, so the
          // balancer steers away as after a failed connect.
          target.failedUntil = performance.now() + FAILED_ENDPOINT_BACKOFF_MS;
        },
        onClose: (e) => {
          if (this.#muxes.get(key) === m) this.#muxes.delete(key);
          ctx.live.delete(socket);
          if (e === undefined) return;
          // A dead or broken peer: the balancer steers away, as after a connect failure.
          target.failedUntil = performance.now() + FAILED_ENDPOINT_BACKOFF_MS;
          ctx.log.info('multiplexed mesh connection failed', { host: ep.host, port: ep.port, reason: e.message });
        },
      });
      this.#muxes.set(key, m);
      // Draining: no new streams; the connection ends with its last stream (or is cut after the grace period).
      ctx.live.set(socket, () => m.drain());
      for (const w of list) w(null, m);
    });
  }
}

/** A waiter of a session whose endpoint was removed while it opened: closes it once open. */
function closeOpened(err: Error | null, t?: H2Target): void {
  if (err === null) t?.upstream.close();
}

/** Plain TCP for an HTTP/2 session, which needs its socket synchronously. */
function openPlain(ctx: ProxyContext, host: string, port: number): Duplex {
  const s = net.connect({ host, port, noDelay: true });
  const stats = ctx.metrics.tcp('outbound', 'dst', 'no_identity');
  s.once('connect', () => {
    stats.open();
    s.once('close', () => stats.close(s.bytesRead, s.bytesWritten));
  });
  return s;
}
