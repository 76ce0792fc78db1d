/**
 * Closes accepted connections that moved no bytes for the idle timeout.
 *
 * Why not `socket.setTimeout`: node refreshes a socket's timer on every read and
 * every write (a timer-list reinsertion each time), which profiled at ~2.5 % of the
 * opaque TCP path's CPU (bench/README.md). Here nothing happens per read or write:
 * one sweep every quarter of the timeout (at most every second) compares each
 * connection's byte counters, kept by the native handle anyway, with the last sweep's.
 * A connection is closed between `idleMs` and `idleMs` plus one sweep interval after
 * its last byte. For a connection that TLS took over (the inbound mesh side), the
 * accepted socket's handle is the TCP stream under TLS, whose counters move with
 * every record.
 */
import type net from 'node:net';

type Counters = { bytesRead?: number; bytesWritten?: number };

/** Bytes moved so far, or -1 once the socket has no handle (closing: no more activity). */
function moved(s: net.Socket): number {
  const h = (s as unknown as { _handle?: Counters | null })._handle;
  return h == null ? -1 : (h.bytesRead ?? 0) + (h.bytesWritten ?? 0);
}

/** Watches accepted sockets and destroys those idle for `idleMs`. */
export class IdleSweeper {
  readonly #idleMs: number;
  readonly #watched = new Map<net.Socket, { moved: number; since: number }>();
  readonly #timer: NodeJS.Timeout | undefined;

  /** `idleMs` 0 (or less) turns the idle timeout off, as `socket.setTimeout(0)` does. */
  constructor(idleMs: number) {
    this.#idleMs = idleMs;
    if (idleMs <= 0) return;
    this.#timer = setInterval(() => this.#sweep(), Math.min(1000, Math.max(10, Math.floor(idleMs / 4))));
    this.#timer.unref();
  }

  /** Starts watching `s` until it closes. */
  watch(s: net.Socket): void {
    if (this.#timer === undefined) return;
    this.#watched.set(s, { moved: moved(s), since: performance.now() });
    s.once('close', () => this.#watched.delete(s));
  }

  /** Stops sweeping (the proxy stopped). */
  close(): void {
    clearInterval(this.#timer);
  }

  #sweep(): void {
    const now = performance.now();
    for (const [s, last] of this.#watched) {
      const m = moved(s);
      if (m !== last.moved) {
        last.moved = m;
        last.since = now;
      } else if (now - last.since >= this.#idleMs) {
        this.#watched.delete(s);
        s.destroy();
      }
    }
  }
}
