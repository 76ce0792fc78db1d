/**
 * The outbound side: connections from the local application to other workloads.
 *
 *   accept ─▶ (opaque port? skip) ─▶ detect ─┬─ http1 ─▶ H1Session ─▶ pool ─▶ mesh TLS / plain
 *                                            ├─ h2    ─▶ H2Proxy   ─▶ h2 session per endpoint
 *                                            └─ tls, opaque, timeout ─▶ pipe (needs a target)
 *
 * Without iptables the target is explicit: the outbound listener is an HTTP proxy
 * (absolute-form URLs and CONNECT), and each `--outbound-target` listener has a fixed
 * authority. With proxy-init, the original destination will fill the same role.
 */
import type http2 from 'node:http2';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { trackAccepted, type ProxyContext } from '../context.ts';
import { meshOpener, openMesh, plainOpener, type ConnectFailure } from '../connect.ts';
import { readDetect } from '../detect/index.ts';
import { H1Session, loadHttp2, ProxyHttpError, type H2Target, type RequestHead } from '../http/index.ts';
import type { RouteStats } from '../metrics/index.ts';
import { encodeTransportHeader, pipeSockets, type Opener, type PoolOwner, type PooledConnection, type TransportProtocolName } from '../tcp/index.ts';
import { normalizeAuthority, type Destination, type Endpoint, type StaticDiscovery } from './static-discovery.ts';

/** How long an endpoint that failed to connect is skipped when others are available. */
const FAILED_ENDPOINT_BACKOFF_MS = 1000;

type Target = {
  ep: Endpoint;
  key: string;
  open: Opener;
  stats: RouteStats;
  failedUntil: number;
};

type Route = { dest: Destination; targets: Target[] };

/** Routes outbound traffic for one proxy. */
export class Outbound {
  readonly #ctx: ProxyContext;
  readonly #discovery: StaticDiscovery;
  readonly #routes = new Map<string, Route>();
  readonly #h2Waiting = new Map<string, Array<(err: Error | null, t?: H2Target) => void>>();

  constructor(ctx: ProxyContext, discovery: StaticDiscovery) {
    this.#ctx = ctx;
    this.#discovery = discovery;
  }

  /** Handles a connection accepted on the outbound listener (`authority` undefined) or a target listener. */
  accept(socket: net.Socket | Duplex, authority: string | undefined, initial?: Buffer): void {
    const ctx = this.#ctx;
    if (authority !== undefined) {
      const port = normalizeAuthority(authority, 0)?.port ?? 0;
      if (ctx.config.opaquePorts.has(port)) {
        ctx.metrics.detected('outbound', 'skipped');
        this.#opaque(socket, authority, initial);
        return;
      }
    }
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
    const session = new H1Session(socket, {
      maxHeadBytes: ctx.config.maxHeadBytes,
      dropRequestHeaders: ['proxy-connection', 'l5d-client-id'],
      addRequestHeaders: undefined,
      originForm: authority === undefined,
      route: (head, owner, fresh, cb) => this.#routeH1(head, authority, owner, fresh, cb),
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

  #routeH1(head: RequestHead, fixed: string | undefined, owner: PoolOwner, fresh: boolean, cb: (err: ProxyHttpError | null, up?: PooledConnection, stats?: RouteStats) => void): void {
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
    const route = this.#route(authority, 80, 'http1');
    if (route === undefined) {
      cb(new ProxyHttpError(400, `cannot route to "${authority}"`));
      return;
    }
    const target = pick(route.targets);
    if (target === undefined) {
      cb(new ProxyHttpError(503, `no endpoints for "${route.dest.authority}"`));
      return;
    }
    this.#ctx.upstreams.acquire(target.key, target.open, owner, (err, up) => {
      if (err !== null) {
        target.failedUntil = performance.now() + FAILED_ENDPOINT_BACKOFF_MS;
        const status = (err as Partial<ConnectFailure>).status ?? 502;
        cb(new ProxyHttpError(status, err.message, { cause: err }), undefined, target.stats);
        return;
      }
      cb(null, up, target.stats);
    }, fresh);
  }

  /** The cached route for `authority` and protocol (endpoints with their openers and stats). */
  #route(authority: string, defaultPort: number, protocol: TransportProtocolName): Route | undefined {
    const cacheKey = `${protocol} ${authority}`;
    let r = this.#routes.get(cacheKey);
    if (r !== undefined) return r;
    const dest = this.#discovery.lookup(authority, defaultPort);
    if (dest === undefined) return undefined;
    const ctx = this.#ctx;
    r = {
      dest,
      targets: dest.endpoints.map((ep) => ({
        ep,
        key: `${protocol}|${ep.host}:${ep.port}|${ep.identity ?? ''}|${dest.port}`,
        open: ep.identity === undefined
          ? plainOpener(ctx, 'outbound', ep.host, ep.port)
          : meshOpener(ctx, ep.host, ep.port, ep.identity, protocol, dest.port),
        stats: ctx.metrics.route('outbound', dest.authority, ep.identity === undefined ? 'no_identity' : 'true', ep.identity),
        failedUntil: 0,
      })),
    };
    // Bounded: a proxy client naming endless authorities must not grow this forever.
    if (this.#routes.size > 10_000) this.#routes.clear();
    this.#routes.set(cacheKey, r);
    return r;
  }

  #h2(socket: Duplex, authority: string | undefined, initial: Buffer | undefined): void {
    const ctx = this.#ctx;
    if (initial !== undefined) socket.unshift(initial);
    trackAccepted(ctx, socket, ctx.metrics.tcp('outbound', 'src', 'no_identity'), () => {});
    ctx.h2.serve(socket, {
      addHeaders: undefined,
      dropHeaders: ['l5d-client-id'],
      route: (a, cb) => {
        const route = this.#route(authority ?? a, 80, 'h2');
        const target = route === undefined ? undefined : pick(route.targets);
        if (route === undefined || target === undefined) {
          cb(new Error(`no endpoints for "${authority ?? a}"`), undefined, 503);
          return;
        }
        this.#h2Session(target, route.dest, (err, t) => {
          if (err !== null) cb(err, undefined, (err as Partial<ConnectFailure>).status ?? 502);
          else cb(null, t);
        });
      },
    });
  }

  /**
   * The multiplexed session for `target`. A mesh session starts only after the
   * transport header's write has completed: node:http2 takes over the TLS stream's
   * native writes, and a JS write still in flight would complete into it.
   */
  #h2Session(target: Target, dest: Destination, cb: (err: Error | null, t?: H2Target) => void): void {
    const ctx = this.#ctx;
    const existing = ctx.h2Sessions.get(target.key);
    if (existing !== undefined && !existing.closed && !existing.destroyed) {
      cb(null, { session: existing, stats: target.stats });
      return;
    }
    let waiting = this.#h2Waiting.get(target.key);
    if (waiting !== undefined) {
      waiting.push(cb);
      return;
    }
    waiting = [cb];
    this.#h2Waiting.set(target.key, waiting);
    const settle = (err: Error | null, s?: http2.ClientHttp2Session): void => {
      const list = this.#h2Waiting.get(target.key) ?? [];
      this.#h2Waiting.delete(target.key);
      for (const w of list) {
        if (err !== null || s === undefined) w(err ?? new Error('no session'));
        else w(null, { session: s, stats: target.stats });
      }
    };
    const { ep } = target;
    const start = (socket: Duplex): void => {
      const s = loadHttp2().connect(`http://${dest.authority}`, { createConnection: () => socket });
      s.on('error', (err) => ctx.log.debug('h2 session error', { endpoint: `${ep.host}:${ep.port}`, reason: err.message }));
      const forget = (): void => {
        if (ctx.h2Sessions.get(target.key) === s) ctx.h2Sessions.delete(target.key);
      };
      s.on('close', forget);
      s.on('goaway', forget);
      ctx.h2Sessions.set(target.key, s);
      settle(null, s);
    };
    if (ep.identity === undefined) {
      start(openPlain(ctx, ep.host, ep.port));
      return;
    }
    openMesh(ctx, ep.host, ep.port, ep.identity, encodeTransportHeader({ protocol: 'h2', port: dest.port }), (err, socket) => {
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
    const target = route === undefined ? undefined : pick(route.targets);
    if (target === undefined) {
      ctx.log.info('closing opaque connection without endpoints', { authority });
      socket.destroy();
      return;
    }
    trackAccepted(ctx, socket, ctx.metrics.tcp('outbound', 'src', 'no_identity'), () => {});
    socket.on('error', () => {});
    target.open((err, up) => {
      if (err !== null || up === undefined) {
        target.failedUntil = performance.now() + FAILED_ENDPOINT_BACKOFF_MS;
        ctx.log.debug('opaque connect failed', { authority, reason: err?.message });
        socket.destroy();
        return;
      }
      if (socket.destroyed) {
        up.destroy();
        return;
      }
      pipeSockets(socket, up, initial);
    });
  }
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

/** Power of two choices among endpoints not recently failed (all, if every one failed). */
function pick(targets: Target[]): Target | undefined {
  if (targets.length <= 1) return targets[0];
  const now = performance.now();
  const a = targets[Math.floor(Math.random() * targets.length)]!;
  let b = targets[Math.floor(Math.random() * (targets.length - 1))]!;
  if (b === a) b = targets[targets.length - 1]!;
  if (a.failedUntil > now) return b;
  if (b.failedUntil > now) return a;
  return Math.random() < 0.5 ? a : b;
}
