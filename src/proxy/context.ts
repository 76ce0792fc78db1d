/**
 * What the inbound and outbound stages share inside one proxy process.
 */
import type { Duplex } from 'node:stream';
import type { ProxyConfig } from './config.ts';
import type { Logger } from './log.ts';
import type { ProxyMetrics } from './metrics/index.ts';
import type { MeshTls } from './tls/index.ts';
import type { ConnectionPool } from './tcp/index.ts';
import type { H2Connection, H2Relay } from './h2/index.ts';

/** Shared state of a running proxy. */
export type ProxyContext = {
  config: ProxyConfig;
  log: Logger;
  metrics: ProxyMetrics;
  mesh: MeshTls;
  /** Outbound connections to peers (mesh or plain). */
  upstreams: ConnectionPool;
  /** Inbound connections to the local application. */
  apps: ConnectionPool;
  /** Multiplexed HTTP/2 client connections by endpoint key. */
  h2Sessions: Map<string, H2Connection>;
  h2: H2Relay;
  /** Accepted connections, with a graceful-stop hook, for draining. */
  live: Map<Duplex, () => void>;
  /** True once /shutdown was requested. */
  draining: boolean;
};

/** Counts an accepted connection in `tcp_*` metrics and tracks it for draining. */
export function trackAccepted(ctx: ProxyContext, socket: Duplex & { bytesRead?: number; bytesWritten?: number }, stats: { open(): void; close(r: number, w: number): void }, drain: () => void): void {
  stats.open();
  ctx.live.set(socket, drain);
  socket.once('close', () => {
    ctx.live.delete(socket);
    stats.close(socket.bytesRead ?? 0, socket.bytesWritten ?? 0);
  });
}
