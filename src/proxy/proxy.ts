/**
 * Starting and stopping a proxy: listeners, shared state, admin, graceful drain.
 *
 *   start ─▶ listening ─(POST /shutdown or stop())─▶ draining: listeners closed,
 *            idle connections closed, in-flight exchanges finish ─(all done or
 *            grace period over)─▶ stopped
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import { createAdminServer } from './admin/index.ts';
import type { OriginalDestination, ProxyConfig } from './config.ts';
import type { ProxyContext } from './context.ts';
import { detectionDecided } from './detect/index.ts';
import { H2Relay } from './h2/index.ts';
import { IdleSweeper } from './idle-sweeper.ts';
import { Inbound } from './inbound/index.ts';
import { Logger } from './log.ts';
import { ProxyMetrics } from './metrics/index.ts';
import { DestinationDiscovery, Outbound, StaticDiscovery, type Discovery } from './outbound/index.ts';
import { ConnectionPool } from './tcp/index.ts';
import { MeshTls } from './tls/index.ts';

/** Pending connections each listener may queue (see `listen`). */
const LISTEN_BACKLOG = 4096;

/** How long an idle pooled connection to a peer proxy is kept. */
const MESH_IDLE_MS = 30_000;
/**
 * How long an idle connection to the local application is kept: below Node's own
 * 5 s `keepAliveTimeout`, so the proxy closes first and never races a closing socket.
 */
const APP_IDLE_MS = 4_000;

/** A running proxy. */
export type RunningProxy = {
  /** Bound ports (useful with port 0 in tests). */
  ports: { inbound: number; outbound: number; admin: number; targets: number[] };
  metrics: ProxyMetrics;
  /** The identity this proxy presents. */
  identity(): string | undefined;
  /** Resolves when the proxy has stopped (after `stop()` or `POST /shutdown`). */
  stopped: Promise<void>;
  /** Drains and stops: in-flight exchanges get up to `graceMs` (default the config's). */
  stop(options?: { graceMs?: number }): Promise<void>;
};

/** Starts a proxy with `config`; resolves once every listener is bound. */
export async function startProxy(config: ProxyConfig, options: { logger?: Logger } = {}): Promise<RunningProxy> {
  const log = options.logger ?? new Logger(config.logLevel);
  const metrics = new ProxyMetrics();
  const mesh = new MeshTls(config.credentials, { multiplex: config.opaqueMux });
  metrics.tap.localIdentity = () => mesh.identity;
  const discovery: Discovery = config.destination !== undefined
    ? new DestinationDiscovery(config.destination, { log: log.child({ component: 'discovery' }), timeoutMs: config.discoveryTimeoutMs })
    : new StaticDiscovery(config.destinations);
  const ctx: ProxyContext = {
    config, log, metrics, mesh,
    upstreams: new ConnectionPool({ idleMs: MESH_IDLE_MS }),
    apps: new ConnectionPool({ idleMs: APP_IDLE_MS }),
    h2Sessions: new Map(),
    h2: new H2Relay(log, { maxHeaderListSize: config.maxHeadBytes, idleMs: config.idleTimeoutMs, settingsTimeoutMs: config.connectTimeoutMs }),
    live: new Map(),
    draining: false,
  };
  const updateExpiry = (): void => {
    if (mesh.expiry !== undefined) metrics.certExpiry(mesh.expiry);
  };
  updateExpiry();
  mesh.onChange(() => {
    updateExpiry();
    log.info('credentials changed; new connections use them', { identity: mesh.identity, reason: 'CredentialsRotated' });
  });

  const original = config.originalDestination;
  if (original !== undefined) log.info('transparent mode: connections go to their original destination', { reason: 'Transparent' });
  const inbound = new Inbound(ctx);
  const outbound = new Outbound(ctx, discovery);
  const servers: net.Server[] = [];
  const listen = async (server: net.Server | http.Server, host: string, port: number): Promise<number> => {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // A backlog past node's 511 (the kernel caps it at net.core.somaxconn): a burst of
      // connections waits in it instead of overflowing it, which resets some of them.
      server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    servers.push(server);
    return (server.address() as AddressInfo).port;
  };
  const idle = new IdleSweeper(config.idleTimeoutMs);
  const accepting = (handler: (s: net.Socket) => void): net.Server =>
    // allowHalfOpen: a client that sends its request and then its FIN (nc, HTTP/1.0
    // scripts, request-then-shutdown protocols) still waits for the answer; node would
    // otherwise end our side on its FIN, before the answer exists. The pipes and the
    // HTTP/1 session end it themselves once the answer is out.
    net.createServer({ noDelay: true, pauseOnConnect: false, allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      // Accepted while the listeners were closing: refused, like one a moment later.
      if (ctx.draining) {
        s.destroy();
        return;
      }
      idle.watch(s);
      // Tracked from accept, so a stop sees it: until a stage takes the connection over
      // (trackAccepted puts its own drain hook in place of this one) or detection has
      // decided (a mesh connection, which TLS takes over), it has not been served, and
      // a stop closes it rather than letting detection hand it to a stage afterwards.
      ctx.live.set(s, () => {
        if (!detectionDecided(s)) s.destroy();
      });
      s.once('close', () => ctx.live.delete(s));
      handler(s);
    });

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => { resolveStopped = r; });
  let stopping: Promise<void> | undefined;
  const stop = (o: { graceMs?: number } = {}): Promise<void> => {
    stopping ??= (async () => {
      ctx.draining = true;
      log.info('draining', { connections: ctx.live.size, reason: 'Shutdown' });
      for (const s of servers) s.close();
      ctx.h2.drain();
      for (const drain of ctx.live.values()) drain();
      ctx.upstreams.closeIdle();
      ctx.apps.closeIdle();
      const deadline = performance.now() + (o.graceMs ?? config.shutdownGraceMs);
      // Bounded wait for in-flight work; what remains after the grace period is cut.
      while (ctx.live.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const s of ctx.live.keys()) s.destroy();
      for (const s of ctx.h2Sessions.values()) s.destroy();
      ctx.upstreams.destroy();
      ctx.apps.destroy();
      mesh.close();
      discovery.close();
      idle.close();
      ctx.h2.close();
      for (const s of servers) (s as http.Server).closeAllConnections?.();
      log.info('stopped', { reason: 'Shutdown' });
      resolveStopped();
    })();
    return stopping;
  };

  const admin = createAdminServer({
    metrics: () => metrics.registry.render() + (config.credentials.metrics?.() ?? '') + processMetrics(),
    notReadyReasons: () => [...(mesh.ready ? [] : ['no certificate yet']), ...discovery.notReadyReasons()],
    shutdown: () => void stop(),
    tap: (socket) => metrics.tap.subscribe(socket),
  });
  const ports = {
    inbound: await listen(accepting((s) => inbound.accept(s, redirectedTo(original, s)?.port)), config.inbound.host, config.inbound.port),
    outbound: await listen(accepting((s) => outbound.accept(s, authorityOf(redirectedTo(original, s)))), config.outbound.host, config.outbound.port),
    admin: await listen(admin, config.admin.host, config.admin.port),
    targets: [] as number[],
  };
  for (const t of config.outboundTargets) {
    ports.targets.push(await listen(accepting((s) => outbound.accept(s, t.authority)), t.listen.host, t.listen.port));
  }
  log.info('proxy started', { identity: mesh.identity, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) });
  return { ports, metrics, identity: () => mesh.identity, stopped, stop };
}

/**
 * The original destination of a redirected connection, or undefined (not in
 * transparent mode, not redirected, or addressed to the listener itself: then the
 * explicit modes apply).
 */
function redirectedTo(original: OriginalDestination | undefined, s: net.Socket): { address: string; port: number } | undefined {
  if (original === undefined) return undefined;
  let d: { address: string; port: number };
  try {
    d = original(s);
  } catch {
    return undefined;
  }
  if (d.port === s.localPort && (d.address === s.localAddress || d.address === s.localAddress?.replace(/^::ffff:/, ''))) return undefined;
  return d;
}

function authorityOf(d: { address: string; port: number } | undefined): string | undefined {
  if (d === undefined) return undefined;
  return d.address.includes(':') ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`;
}

const startedAt = Date.now() / 1000;

/** Linkerd's (and Prometheus' standard) process metrics, plus the V8 heap: read at scrape time. */
function processMetrics(): string {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  return [
    '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.',
    '# TYPE process_cpu_seconds_total counter',
    `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
    '# HELP process_resident_memory_bytes Resident memory size in bytes.',
    '# TYPE process_resident_memory_bytes gauge',
    `process_resident_memory_bytes ${mem.rss}`,
    '# HELP process_start_time_seconds Time that the process started (in seconds since the UNIX epoch)',
    '# TYPE process_start_time_seconds gauge',
    `process_start_time_seconds ${Math.floor(startedAt)}`,
    '# HELP nodejs_heap_bytes V8 heap and off-heap memory by kind.',
    '# TYPE nodejs_heap_bytes gauge',
    `nodejs_heap_bytes{kind="used"} ${mem.heapUsed}`,
    `nodejs_heap_bytes{kind="total"} ${mem.heapTotal}`,
    `nodejs_heap_bytes{kind="external"} ${mem.external}`,
    `nodejs_heap_bytes{kind="array_buffers"} ${mem.arrayBuffers}`,
    '',
  ].join('\n');
}
