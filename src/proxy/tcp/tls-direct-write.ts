/**
 * Writing to a TLS socket's native handle without the `Writable` machinery and
 * without a JavaScript completion callback per write: the mesh side of opaque pipes
 * and of HTTP/1 sessions.
 *
 * Why: every `socket.write()` on a TLS socket runs Writable's bookkeeping, creates a
 * write request, and completes through a callback into JavaScript (node's TLSWrap
 * finishes every write asynchronously, from a native `SetImmediate`, even when the
 * kernel took the encrypted record at once). Profiled on the opaque TCP benchmark
 * that path was ~9 % of a proxy's samples (bench/README.md). Here a write is one call
 * into the handle; TLSWrap encrypts the bytes before that call returns, so the
 * caller's buffer is free at once (a borrowed read view is fine).
 *
 * The rule that makes it safe: TLSWrap allows ONE write in flight per socket (a
 * second one aborts the process). A write is in flight until node disposes of its
 * request object, which `getAsyncId()` shows without a callback (-1 once disposed).
 * - Nothing in flight, nothing queued in the Writable: write now, keep no callback.
 * - Still in flight (the same event-loop turn, before node's completion ran): copy
 *   the bytes, ask for the completion callback after all, and answer false; the
 *   completion writes the copies and then calls the producer's `whenWritable`.
 * - The kernel could not take the whole record (libuv queued it): the same, so the
 *   producer waits for the socket (backpressure).
 * - Writable holds data (or the socket is not established, or is corked): a copy
 *   goes through `socket.write()`, behind what the Writable holds.
 * Everything else that writes the socket (`socket.write()`, `end()`) still goes
 * through node's Writable: the writer wraps that socket's `_writeGeneric` and
 * `_final`, so a Writable write or a shutdown that comes while a direct write is in
 * flight (or bytes wait behind one) runs after them instead of reaching TLSWrap at
 * the wrong time; from then on the Writable holds data, so later direct writes queue
 * behind it. Order is the order of the calls, whichever API made them. One
 * writer per socket (`TlsDirectWriter.for` returns the same one), so a pooled
 * connection used by one session after another keeps one queue.
 *
 * It needs node's `WriteWrap` (`process.binding('stream_wrap')`) and request objects
 * whose `getAsyncId()` goes back to -1 when disposed; a unit test pins both on the
 * Node we ship, and `for` answers undefined (use `socket.write()`) when either is
 * missing.
 */
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { writeBorrowed, type BorrowedReader } from './borrowed-reader.ts';

type WriteReq = {
  handle: unknown;
  oncomplete?: ((status: number) => void) | undefined;
  getAsyncId(): number;
};
type TlsHandle = {
  writeBuffer(req: WriteReq, buf: Buffer): number;
  /** The TCP handle under TLSWrap: its write queue says whether libuv kept the record. */
  _parent?: { writeQueueSize?: number } | null;
};
/** Socket internals the writer wraps (net.Socket's Writable hooks). */
type Hooks = {
  _writeGeneric: (...args: unknown[]) => unknown;
  _final: (cb: (err?: Error | null) => void) => void;
};

/** node's WriteWrap constructor, when this Node exposes it and its requests report disposal. */
const WriteWrap: (new () => WriteReq) | undefined = (() => {
  try {
    const b = (process as unknown as { binding(name: string): { WriteWrap?: new () => WriteReq } }).binding('stream_wrap');
    const W = b.WriteWrap;
    if (typeof W !== 'function') return undefined;
    const probe = new W();
    return typeof probe.getAsyncId === 'function' && probe.getAsyncId() === -1 ? W : undefined;
  } catch {
    // process.binding is deprecated and may be disabled: callers use socket.write().
    return undefined;
  }
})();

/** What waits for the write in flight: bytes to write, or a deferred Writable write or shutdown. */
type Pending = Buffer | (() => void);

const writers = new WeakMap<Duplex, TlsDirectWriter>();

/**
 * The Writable holds something: queued bytes, a write in flight (even an empty one,
 * which `writableLength` does not count), or a cork.
 */
function writableBusy(s: tls.TLSSocket): boolean {
  const state = (s as unknown as { _writableState?: { writing?: boolean } })._writableState;
  return s.writableLength > 0 || s.writableCorked > 0 || state?.writing === true;
}

/** A copy of what Writable hands `_writeGeneric`: a Buffer or string, or (writev) an array of them or of `{ chunk, encoding }`. */
function ownedCopy(data: unknown): unknown {
  if (Buffer.isBuffer(data)) return Buffer.from(data);
  if (!Array.isArray(data)) return data; // A string: immutable.
  const copy: unknown[] = data.map((e: unknown) => {
    if (Buffer.isBuffer(e)) return Buffer.from(e);
    const c = e as { chunk?: unknown } | null;
    return c !== null && typeof c === 'object' && Buffer.isBuffer(c.chunk) ? { ...c, chunk: Buffer.from(c.chunk) } : e;
  });
  // writevGeneric reads this flag off the array.
  (copy as unknown as { allBuffers?: unknown }).allBuffers = (data as unknown as { allBuffers?: unknown }).allBuffers;
  return copy;
}

/** Direct writes to one TLS socket; see the file comment for the rules. */
export class TlsDirectWriter {
  readonly #socket: tls.TLSSocket;
  /** The request of the last direct write; in flight until node disposes of it. */
  #last: WriteReq | null = null;
  /** The request whose completion callback is armed. */
  #armed: WriteReq | null = null;
  /** In order: copies of bytes and deferred Writable calls that came while a write was in flight. */
  #pending: Pending[] = [];
  /** The producer told to stop, called once the writer can take more. */
  #whenWritable: (() => void) | null = null;
  #drainArmed = false;
  /** True while `#flush` runs what waited: the entry being run is in order by definition. */
  #flushing = false;

  private constructor(socket: tls.TLSSocket) {
    this.#socket = socket;
  }

  /**
   * The writer of `socket` (a TLS socket), created on first use; undefined when
   * `socket` is not TLS or this Node cannot do it (then use `socket.write()`).
   */
  static for(socket: Duplex): TlsDirectWriter | undefined {
    if (WriteWrap === undefined || (socket as { encrypted?: boolean }).encrypted !== true) return undefined;
    let w = writers.get(socket);
    if (w === undefined) {
      w = new TlsDirectWriter(socket as tls.TLSSocket);
      writers.set(socket, w);
      w.#guardWritable();
    }
    return w;
  }

  /**
   * Writes `buf` (it may be a borrowed view: it is encrypted or copied before this
   * returns). True: keep producing; false: stop until `whenWritable` is called.
   */
  write(buf: Buffer, whenWritable: () => void): boolean {
    const s = this.#socket;
    // Nothing to send (and an empty write must never take TLSWrap's one write slot).
    if (buf.length === 0) return true;
    if (!s.writable || writableBusy(s)) {
      // The Writable holds writes (its own, or one waiting behind a direct write), or
      // the socket has ended: these bytes go after them, through its queue, as a copy
      // (after end(), node reports the write-after-end as usual).
      if (s.write(Buffer.from(buf))) return true;
      this.#whenWritable = whenWritable;
      this.#armDrain();
      return false;
    }
    if (this.#busy()) {
      this.#pending.push(Buffer.from(buf));
      this.#whenWritable = whenWritable;
      this.#awaitCompletion();
      return false;
    }
    if (this.#writeOne(buf, false)) return true;
    this.#whenWritable = whenWritable;
    return false;
  }

  /** A direct write in flight, or something queued behind one. */
  #busy(): boolean {
    const last = this.#last;
    if (last !== null && last.getAsyncId() === -1) this.#last = null;
    return this.#last !== null || this.#pending.length > 0;
  }

  /**
   * Writes `buf` now, directly or behind the Writable's queue. `queued`: `buf` is a
   * copy that waited behind a direct write, so it comes before anything the Writable
   * holds now (a Writable write made meanwhile waits in `#pending` behind it). False
   * when the producer must wait: a direct write libuv queued (its completion is
   * armed) or a Writable over its high-water mark ('drain').
   */
  #writeOne(buf: Buffer, queued: boolean): boolean {
    const s = this.#socket;
    const handle = (s as unknown as { _handle?: TlsHandle | null })._handle;
    const established = (s as unknown as { _secureEstablished?: boolean })._secureEstablished === true;
    // A queued copy was written before any end() (which waits in `#pending` behind it).
    const behindWritable = !queued && (writableBusy(s) || !s.writable);
    if (!established || s.destroyed || behindWritable || handle == null || typeof handle.writeBuffer !== 'function') {
      // Behind the Writable's queue, which may keep the buffer: never a borrowed view.
      if (s.write(queued ? buf : Buffer.from(buf))) return true;
      this.#armDrain();
      return false;
    }
    const req = new WriteWrap!();
    req.handle = handle;
    const err = handle.writeBuffer(req, buf);
    // As socket.write() would: the idle accounting and timers see writes as activity.
    (s as unknown as { _unrefTimer?: () => void })._unrefTimer?.();
    if (err !== 0) {
      req.handle = null;
      s.destroy(Object.assign(new Error(`write failed: ${err}`), { errno: err, syscall: 'write' }));
      return false;
    }
    if (req.getAsyncId() === -1) {
      // TLSWrap never completes a successful write synchronously (it finishes from a
      // native immediate at the earliest): a request already disposed is a write the
      // kernel refused (EPIPE, ECONNRESET), reported to a callback nobody set. TLSWrap
      // keeps its write slot busy after that, so nothing more could be written either.
      req.handle = null;
      s.destroy(Object.assign(new Error('write failed: the peer is gone'), { code: 'EPIPE', syscall: 'write' }));
      return false;
    }
    this.#last = req;
    if ((handle._parent?.writeQueueSize ?? 0) === 0) return true;
    // The kernel did not take the whole record: the producer waits for the socket.
    this.#awaitCompletion();
    return false;
  }

  /** Asks node to call back when the write in flight completes (always later: completion is asynchronous). */
  #awaitCompletion(): void {
    const req = this.#last;
    if (req === null || this.#armed === req) return;
    this.#armed = req;
    req.oncomplete = (status: number): void => {
      // node has released the write (the next may start) but disposes of `req` only
      // after this returns, so forget it by hand.
      this.#armed = null;
      this.#last = null;
      req.handle = null;
      const s = this.#socket;
      if (status < 0) {
        this.#pending = [];
        if (!s.destroyed) s.destroy(Object.assign(new Error(`write failed: ${status}`), { errno: status, syscall: 'write' }));
        return;
      }
      this.#flush();
    };
  }

  /** Runs what waited, in order, until something is in flight again; then wakes the producer. */
  #flush(): void {
    this.#flushing = true;
    try {
      while (this.#pending.length > 0) {
        if (this.#last !== null) {
          this.#awaitCompletion();
          return;
        }
        const next = this.#pending.shift()!;
        if (typeof next === 'function') {
          next();
          continue;
        }
        // Bytes that waited side by side go out as one write (one completion to wait for).
        const parts = [next];
        while (this.#pending.length > 0 && typeof this.#pending[0] !== 'function') parts.push(this.#pending.shift() as Buffer);
        this.#writeOne(parts.length === 1 ? next : Buffer.concat(parts), true);
      }
    } finally {
      this.#flushing = false;
    }
    if (this.#last !== null) {
      // libuv kept the last record: its completion wakes the producer.
      this.#awaitCompletion();
      return;
    }
    this.#wake();
  }

  #wake(): void {
    const w = this.#whenWritable;
    this.#whenWritable = null;
    w?.();
  }

  #armDrain(): void {
    if (this.#drainArmed) return;
    this.#drainArmed = true;
    this.#socket.once('drain', () => {
      this.#drainArmed = false;
      if (!this.#busy()) this.#wake();
      else this.#awaitCompletion(); // The direct write in flight wakes the producer when it completes.
    });
  }

  /** Makes node's own writes and shutdown on this socket wait for a direct write in flight. */
  #guardWritable(): void {
    const s = this.#socket as unknown as Hooks;
    const writeGeneric = s._writeGeneric;
    const final = s._final;
    // While flushing, the entry being run is next in order; only a write in flight must be waited for.
    const mustWait = (): boolean => (this.#flushing ? this.#last !== null && this.#last.getAsyncId() !== -1 : this.#busy());
    s._writeGeneric = (...args: unknown[]): unknown => {
      if (!mustWait()) return writeGeneric.apply(s, args);
      // The proxy's callers count on a TLS write having encrypted their buffer when
      // write() returns (borrowed views, reused head buffers): a write made to wait
      // keeps a copy instead. args: (writev, data, encoding, cb).
      args[1] = ownedCopy(args[1]);
      this.#pending.push(() => writeGeneric.apply(s, args));
      this.#awaitCompletion();
      return undefined;
    };
    s._final = (cb: (err?: Error | null) => void): void => {
      if (!mustWait()) return final.call(s, cb);
      this.#pending.push(() => final.call(s, cb));
      this.#awaitCompletion();
    };
  }
}

/**
 * Writes `b` (a view `reader` may overwrite, or owned when `reader` is null) to
 * `sock`: through its `TlsDirectWriter` when `sock` is TLS, else as `writeBorrowed`
 * does. False: stop producing until `whenWritable` (a direct TLS write) or the
 * socket's 'drain' (a Writable write).
 */
export function writeOut(sock: Duplex, b: Buffer, reader: BorrowedReader | null | undefined, whenWritable: () => void): boolean {
  const w = TlsDirectWriter.for(sock);
  return w !== undefined ? w.write(b, whenWritable) : writeBorrowed(sock, b, reader);
}
