/**
 * Reusable upstream connections, keyed by endpoint (address, identity, protocol,
 * target port). HTTP/1 sessions borrow one per request and give it back when the
 * exchange is complete; a connection is only ever used by one borrower at a time.
 *
 * Each connection's socket listeners are attached once, at creation, and dispatch to
 * the current owner: borrowing is then two field writes, not listener churn.
 *
 *   open ──▶ owned ──release──▶ idle ──acquire──▶ owned ── … ──▶ destroyed
 *                                 └──(idle too long / peer closed)──▶ destroyed
 */
import type { Duplex } from 'node:stream';

/** The borrower of a pooled connection: receives its events while it owns it. */
export type PoolOwner = {
  onUpData(chunk: Buffer): void;
  onUpEnd(): void;
  onUpDrain(): void;
};

/** The pool's answer to `acquire`: a connection owned by the caller, or why none could be opened. */
type AcquireCallback = (err: Error | null, conn?: PooledConnection) => void;

/** Opens a connection ready to carry requests (connected, handshaken, header written). */
export type Opener = (cb: (err: Error | null, socket?: Duplex) => void) => void;

/** One upstream connection. */
export class PooledConnection {
  readonly socket: Duplex;
  readonly key: string;
  owner: PoolOwner | null = null;
  /** True after the connection has carried at least one exchange (a retry is safe on such a connection's early close). */
  reused = false;
  idleSince = 0;
  closed = false;
  readonly #pool: ConnectionPool;

  constructor(pool: ConnectionPool, key: string, socket: Duplex) {
    this.#pool = pool;
    this.key = key;
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      if (this.owner !== null) this.owner.onUpData(chunk);
      else socket.destroy(); // Unsolicited bytes on an idle connection: the peer is confused.
    });
    socket.on('end', () => socket.destroy());
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.#pool.forget(this);
      const o = this.owner;
      this.owner = null;
      o?.onUpEnd();
    });
    socket.on('drain', () => this.owner?.onUpDrain());
  }

  /** Returns the connection to the pool for the next request. */
  release(): void {
    this.owner = null;
    this.reused = true;
    this.#pool.park(this);
  }

  /** Closes the connection (it is not reusable). */
  destroy(): void {
    this.owner = null;
    this.socket.destroy();
  }
}

/** Idle connections per key. */
export class ConnectionPool {
  readonly #idle = new Map<string, PooledConnection[]>();
  readonly #idleMs: number;
  readonly #sweeper: NodeJS.Timeout;
  readonly #all = new Set<PooledConnection>();

  /** `idleMs`: how long an unused connection is kept (keep it below the peer's own idle timeout). */
  constructor(options: { idleMs: number }) {
    this.#idleMs = options.idleMs;
    // One sweep timer for the pool instead of a timer per parked connection: parking
    // happens on every request, sweeping once a second.
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(1000, options.idleMs));
    this.#sweeper.unref();
  }

  /**
   * Calls `cb` with an idle connection for `key` (synchronously) or a new one from
   * `open`; `fresh` skips idle ones (a retry after a stale connection).
   */
  acquire(key: string, open: Opener, owner: PoolOwner, cb: AcquireCallback, fresh = false): void {
    const idle = fresh ? undefined : this.#idle.get(key);
    while (idle !== undefined && idle.length > 0) {
      const c = idle.pop()!;
      if (c.closed) continue;
      c.owner = owner;
      cb(null, c);
      return;
    }
    this.#open(key, open, { owner, cb });
  }

  /**
   * Opens a new connection for `waiting`. The callback handed to `open` may outlive
   * the open by the socket's lifetime (an opener's listeners keep their closure's
   * scope alive), so it reaches the borrower only through `waiting`, emptied once
   * answered: a pooled connection must not keep the session that opened it, with its
   * closed client socket and read buffer, alive for as long as it is pooled.
   */
  #open(key: string, open: Opener, waiting: { owner: PoolOwner | null; cb: AcquireCallback | null }): void {
    open((err, socket) => {
      const { owner, cb } = waiting;
      waiting.owner = null;
      waiting.cb = null;
      if (cb === null || owner === null) {
        socket?.destroy(); // Answered twice: the opener is confused; nobody waits for this one.
        return;
      }
      if (err !== null || socket === undefined) {
        cb(err ?? new Error('connect failed'));
        return;
      }
      const c = new PooledConnection(this, key, socket);
      this.#all.add(c);
      c.owner = owner;
      cb(null, c);
    });
  }

  /** @internal Parks a released connection. */
  park(c: PooledConnection): void {
    if (c.closed) return;
    c.idleSince = performance.now();
    let list = this.#idle.get(c.key);
    if (list === undefined) {
      list = [];
      this.#idle.set(c.key, list);
    }
    list.push(c);
  }

  /** @internal Drops a closed connection. */
  forget(c: PooledConnection): void {
    this.#all.delete(c);
    const list = this.#idle.get(c.key);
    if (list === undefined) return;
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
  }

  #sweep(): void {
    const cutoff = performance.now() - this.#idleMs;
    for (const list of this.#idle.values()) {
      for (const c of list) if (c.owner === null && c.idleSince < cutoff) c.socket.destroy();
    }
  }

  /** Closes idle connections now (draining); busy ones finish their exchange first. */
  closeIdle(): void {
    for (const list of this.#idle.values()) for (const c of [...list]) c.socket.destroy();
  }

  /** Closes everything. */
  destroy(): void {
    clearInterval(this.#sweeper);
    for (const c of this.#all) c.socket.destroy();
  }
}
