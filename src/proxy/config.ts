/**
 * The proxy's configuration, resolved from flags and environment by `weft proxy`
 * (src/cli/proxy.ts); every field has a default so tests only set what they test.
 */
import type net from 'node:net';
import type { DestinationClient } from '../destination/client.ts';
import type { CredentialsProvider } from './tls/index.ts';
import type { LogLevel } from './log.ts';

/** Where a redirected connection was going (SO_ORIGINAL_DST); throws for a connection that was not redirected. */
export type OriginalDestination = (socket: net.Socket) => { address: string; port: number };

/** A listening address. */
export type ListenAddress = { host: string; port: number };

/** An extra outbound listener whose connections all go to `authority`. */
export type OutboundTarget = { listen: ListenAddress; authority: string };

/** Everything `startProxy` needs. */
export type ProxyConfig = {
  /** Inbound listener (default 0.0.0.0:4143). */
  inbound: ListenAddress;
  /** Outbound listener, an HTTP proxy (default 127.0.0.1:4140). */
  outbound: ListenAddress;
  /** Admin listener: /metrics, /ready, /live, /shutdown (default 0.0.0.0:4191). */
  admin: ListenAddress;
  /** Extra outbound listeners with a fixed target (default none). */
  outboundTargets: readonly OutboundTarget[];
  /** Where inbound traffic without a transport header goes (plain clients): port on `inboundForwardHost`, or undefined to refuse it. */
  inboundForwardPort: number | undefined;
  /** Host the inbound proxy forwards to (default 127.0.0.1). */
  inboundForwardHost: string;
  /** Target ports that skip protocol detection (default 25, 587, 3306, 4444, 5432, 6379, 9300, 11211). */
  opaquePorts: ReadonlySet<number>;
  /** Static discovery entries, `AUTHORITY=HOST:PORT[#IDENTITY][,…]` (default none); unused with `destination`. */
  destinations: readonly string[];
  /** The destination service's client (src/destination): live discovery instead of the static table (default none). */
  destination: DestinationClient | undefined;
  /** How long a request waits for discovery's first answer about an authority (default 5000 ms). */
  discoveryTimeoutMs: number;
  /**
   * Transparent mode (default off): how to read a connection's original destination
   * (src/proxy-init's `originalDestination`). Outbound connections then go where they
   * were going; inbound plain-text ones to 127.0.0.1:<original port>. Connections that
   * were not redirected fall back to the explicit modes.
   */
  originalDestination: OriginalDestination | undefined;
  /** How long detection waits for a client's first bytes (default 10000 ms). */
  detectTimeoutMs: number;
  /**
   * Opaque TCP to meshed endpoints shares one mesh connection per endpoint and port
   * (src/proxy/tcp/mux.ts) instead of one each (default true).
   */
  opaqueMux: boolean;
  /** Connect (and mesh handshake) timeout (default 3000 ms). */
  connectTimeoutMs: number;
  /** Idle accepted connections are closed after this (default 300000 ms). */
  idleTimeoutMs: number;
  /** Largest HTTP/1 head accepted (default 65536 bytes). */
  maxHeadBytes: number;
  /** How long `/shutdown` lets in-flight requests finish (default 30000 ms). */
  shutdownGraceMs: number;
  /** Where the workload certificate comes from. */
  credentials: CredentialsProvider;
  /** Log level (default info). */
  logLevel: LogLevel;
};

/** Ports that skip detection unless configured otherwise: server-speaks-first protocols (SMTP, MySQL, …) and common caches/brokers. */
export const DEFAULT_OPAQUE_PORTS: readonly number[] = [25, 587, 3306, 4444, 5432, 6379, 9300, 11211];

/** The defaults of every field except `credentials`. */
export const PROXY_DEFAULTS: Omit<ProxyConfig, 'credentials'> = {
  inbound: { host: '0.0.0.0', port: 4143 },
  outbound: { host: '127.0.0.1', port: 4140 },
  admin: { host: '0.0.0.0', port: 4191 },
  outboundTargets: [],
  inboundForwardPort: undefined,
  inboundForwardHost: '127.0.0.1',
  opaquePorts: new Set(DEFAULT_OPAQUE_PORTS),
  destinations: [],
  destination: undefined,
  discoveryTimeoutMs: 5_000,
  originalDestination: undefined,
  detectTimeoutMs: 10_000,
  opaqueMux: true,
  connectTimeoutMs: 3_000,
  idleTimeoutMs: 300_000,
  maxHeadBytes: 64 * 1024,
  shutdownGraceMs: 30_000,
  logLevel: 'info',
};
