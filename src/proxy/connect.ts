/**
 * Opening upstream connections: plain TCP, or mesh TLS followed by the transport
 * header. Both count `tcp_*{peer="dst"}` and honour the connect timeout.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { ProxyContext } from './context.ts';
import type { Direction } from './metrics/index.ts';
import { encodeTransportHeader, type Opener, type TransportProtocolName } from './tcp/index.ts';

/** Why an upstream could not be opened; decides the HTTP status the client sees. */
export type ConnectFailure = Error & { status: number };

function failure(message: string, status: number, cause?: unknown): ConnectFailure {
  return Object.assign(new Error(message, { cause }), { status });
}

/**
 * Opens plain TCP to `host:port`. `halfOpen`: the socket stays writable after the
 * peer's FIN (opaque connections: an application that answers and half-closes first
 * still receives what its client sends afterwards; node would otherwise end our side).
 */
export function plainOpener(ctx: ProxyContext, direction: Direction, host: string, port: number, halfOpen = false): Opener {
  return (cb) => {
    const sock = net.connect({ host, port, noDelay: true, allowHalfOpen: halfOpen });
    const timer = setTimeout(() => sock.destroy(failure(`connect to "${host}:${port}" timed out`, 504)), ctx.config.connectTimeoutMs);
    const onErr = (err: Error): void => {
      clearTimeout(timer);
      cb('status' in err ? err : failure(`connect to "${host}:${port}" failed: ${err.message}`, 503, err));
    };
    sock.once('error', onErr);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeListener('error', onErr);
      countDst(ctx, direction, sock, undefined);
      cb(null, sock);
    });
  };
}

/** Opens mesh TLS to `host:port` expecting `identity`, then writes the transport header. */
export function meshOpener(ctx: ProxyContext, host: string, port: number, identity: string, protocol: TransportProtocolName, targetPort: number): Opener {
  const header = encodeTransportHeader({ protocol, port: targetPort });
  return (cb) => {
    const sock = openMesh(ctx, host, port, identity, header, cb);
    // Opaque: the far side's FIN must not end ours (its client may still be sending).
    if (protocol === 'opaque') sock.allowHalfOpen = true;
  };
}

/**
 * Starts mesh TLS and returns the socket at once; the header is written the moment
 * the handshake completes, before anything else (a function picks it from the ALPN
 * protocol the server chose; when it answers undefined, nothing is written).
 * `afterHeaderFlushed`: call back only once that write has completed (required
 * before node:http2 takes the socket over).
 */
export function openMesh(ctx: ProxyContext, host: string, port: number, identity: string, header: Buffer | ((alpn: string | false | null) => Buffer | undefined), cb?: (err: Error | null, socket?: Duplex) => void, afterHeaderFlushed = false): Duplex {
  let sock;
  try {
    sock = ctx.mesh.connect(host, port, identity);
  } catch (err) {
    const s = new net.Socket();
    // Nobody listens on this placeholder: without a listener, destroy(err) would be an uncaught 'error' that ends the proxy.
    s.on('error', () => {});
    queueMicrotask(() => {
      cb?.(failure((err as Error).message, 503, err));
      s.destroy(err as Error);
    });
    return s;
  }
  sock.setNoDelay(true);
  const timer = setTimeout(() => sock.destroy(failure(`connect to "${host}:${port}" timed out`, 504)), ctx.config.connectTimeoutMs);
  const onErr = (err: Error & { code?: string }): void => {
    clearTimeout(timer);
    ctx.log.debug('mesh connect failed', { host, port, identity, reason: err.message });
    if ('status' in err) cb?.(err);
    else if (err.code === 'ECONNREFUSED' || err.code === 'EHOSTUNREACH') cb?.(failure(`connect to "${host}:${port}" failed: ${err.message}`, 503, err));
    else cb?.(failure(`mesh TLS with "${identity}" at "${host}:${port}" failed: ${err.message}`, 502, err));
  };
  sock.once('error', onErr);
  sock.once('secureConnect', () => {
    clearTimeout(timer);
    sock.removeListener('error', onErr);
    // A module-level no-op: a closure made here would keep `cb` (and its session) alive for the socket's life.
    sock.on('error', ignoreError);
    countDst(ctx, 'outbound', sock, identity);
    // A header chosen by what the server agreed to (ALPN); none: the caller decides.
    const h = typeof header === 'function' ? header(sock.alpnProtocol) : header;
    if (h === undefined) {
      cb?.(null, sock);
      return;
    }
    if (afterHeaderFlushed) {
      sock.write(h, (err) => cb?.(err ?? null, err ? undefined : sock));
      return;
    }
    sock.write(h);
    cb?.(null, sock);
  });
  return sock;
}

/** Errors after the handshake reach whoever owns the socket then (its 'close' ends it). */
function ignoreError(): void {}

function countDst(ctx: ProxyContext, direction: Direction, sock: net.Socket, identity: string | undefined): void {
  const stats = ctx.metrics.tcp(direction, 'dst', identity === undefined ? 'no_identity' : 'true', identity);
  stats.open();
  sock.once('close', () => stats.close(sock.bytesRead, sock.bytesWritten));
}
