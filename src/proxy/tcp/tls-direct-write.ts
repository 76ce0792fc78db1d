/**
 * Writing to a TLS socket's native handle without the `Writable` machinery and
 * without a JavaScript completion callback per write, for the opaque pipe's mesh side.
 *
 * Why: every `socket.write()` on a TLS socket runs Writable's bookkeeping, creates a
 * write request, and completes through a callback into JavaScript (node's TLSWrap
 * finishes every write asynchronously, from a native `SetImmediate`, even when the
 * kernel took the encrypted record at once). Profiled on the opaque TCP benchmark
 * that path was ~10 % of a proxy's samples (bench/README.md). Here a write is one call
 * into the handle; TLSWrap encrypts the bytes before that call returns, so the
 * caller's buffer is free at once (a borrowed read view is fine).
 *
 * The rule that makes it safe: TLSWrap allows ONE write in flight per socket (a second
 * aborts the process). A write is in flight until its request object is disposed,
 * which `getAsyncId()` shows without a callback (it answers -1 once node has dropped
 * the native request). So:
 * - nothing in flight, nothing queued in the Writable: write now, keep no callback;
 * - still in flight (the same event-loop turn, before node's completion ran): copy the
 *   bytes, ask for the completion callback after all, and stop the reader until it
 *   comes; the completion writes the copies;
 * - the kernel could not take the whole record (libuv queued it): the same callback,
 *   so the reader waits for the socket (backpressure);
 * - anything else (Writable has queued data, the handshake has not finished, an
 *   unknown Node): `socket.write()`, whose queue then orders the bytes, and the next
 *   write is direct again once that queue is empty.
 * `end()` waits for a write in flight, so the TLS close_notify follows the data.
 *
 * It needs node's `WriteWrap` (`process.binding('stream_wrap')`) and a request object
 * whose `getAsyncId()` goes back to -1 when disposed; a unit test pins both on the
 * Node we ship, and `TlsDirectWriter.for` answers undefined (use `socket.write()`)
 * when either is missing.
 */
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';

type WriteReq = {
  handle: unknown;
  oncomplete?: ((status: number) => void) | undefined;
  getAsyncId(): number;
};
type TlsHandle = {
  writeBuffer?: (req: WriteReq, buf: Buffer) => number;
  /** The TCP handle under TLSWrap: its write queue says whether libuv kept the record. */
  _parent?: { writeQueueSize?: number } | null;
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

/** A request is in flight while node still holds its native half. */
const inFlight = (req: WriteReq): boolean => req.getAsyncId() !== -1;

/** Direct writes to one established TLS socket; see the file comment for the rules. */
export class TlsDirectWriter {
  readonly #socket: tls.TLSSocket;
  readonly #onWritable: () => void;
  /** The request of the last direct write; in flight until node disposes of it. */
  #last: WriteReq | null = null;
  /** Copies of bytes that arrived while `#last` was in flight. */
  #queued: Buffer[] = [];
  #waiting = false;
  #endRequested = false;

  private constructor(socket: tls.TLSSocket, onWritable: () => void) {
    this.#socket = socket;
    this.#onWritable = onWritable;
  }

  /**
   * A writer for `socket` (an established TLS socket) that calls `onWritable` after a
   * write that returned false has gone out; undefined when this Node cannot do it.
   */
  static for(socket: Duplex, onWritable: () => void): TlsDirectWriter | undefined {
    if (WriteWrap === undefined || (socket as { encrypted?: boolean }).encrypted !== true) return undefined;
    return new TlsDirectWriter(socket as tls.TLSSocket, onWritable);
  }

  /**
   * Writes `buf` (it may be a borrowed view: it is encrypted or copied before this
   * returns). True: keep producing; false: stop until `onWritable`.
   */
  write(buf: Buffer): boolean {
    const s = this.#socket;
    if (this.#last !== null && inFlight(this.#last)) {
      this.#queued.push(Buffer.from(buf));
      this.#awaitCompletion(this.#last);
      return false;
    }
    this.#last = null;
    const handle = (s as unknown as { _handle?: TlsHandle | null })._handle;
    const established = (s as unknown as { _secureEstablished?: boolean })._secureEstablished === true;
    if (!established || s.destroyed || !s.writable || s.writableLength > 0 || s.writableCorked > 0 || handle == null || typeof handle.writeBuffer !== 'function') {
      // Writable's queue orders these bytes behind what it holds; TLS encrypts a
      // write it can take at once, else the queue keeps its own copy.
      return s.write(s.writableLength > 0 ? Buffer.from(buf) : buf);
    }
    return this.#writeNow(handle as Required<Pick<TlsHandle, 'writeBuffer'>> & TlsHandle, buf);
  }

  /** Half-closes the socket once nothing written here is still in flight. */
  end(): void {
    if (this.#last !== null && inFlight(this.#last)) {
      this.#endRequested = true;
      this.#awaitCompletion(this.#last);
      return;
    }
    this.#socket.end();
  }

  #writeNow(handle: Required<Pick<TlsHandle, 'writeBuffer'>> & TlsHandle, buf: Buffer): boolean {
    const req = new WriteWrap!();
    req.handle = handle;
    const err = handle.writeBuffer(req, buf);
    // As socket.write() would: the idle timeout counts writes as activity.
    (this.#socket as unknown as { _unrefTimer?: () => void })._unrefTimer?.();
    if (err !== 0) {
      this.#socket.destroy(Object.assign(new Error(`write failed: ${err}`), { errno: err, syscall: 'write' }));
      return false;
    }
    if (!inFlight(req)) return true; // Already done (node completed it synchronously).
    this.#last = req;
    const queuedInLibuv = (handle._parent?.writeQueueSize ?? 0) > 0;
    if (!queuedInLibuv) return true;
    // The kernel did not take the whole record: wait for the socket before reading more.
    this.#awaitCompletion(req);
    return false;
  }

  /** Asks node to call back when `req` completes (it has not yet: completion is asynchronous). */
  #awaitCompletion(req: WriteReq): void {
    if (this.#waiting) return;
    this.#waiting = true;
    req.oncomplete = (status: number): void => {
      // node has released the write (a next one may start) but disposes of `req` only
      // after this returns, so forget it by hand.
      this.#waiting = false;
      this.#last = null;
      req.handle = null;
      const s = this.#socket;
      if (status < 0) {
        if (!s.destroyed) s.destroy(Object.assign(new Error(`write failed: ${status}`), { errno: status, syscall: 'write' }));
        return;
      }
      if (s.destroyed) return;
      const queued = this.#queued;
      this.#queued = [];
      const more = queued.length === 0 || this.write(queued.length === 1 ? queued[0]! : Buffer.concat(queued));
      if (this.#endRequested) {
        // After the flushed bytes: end() waits for them if they are in flight here.
        this.#endRequested = false;
        this.end();
        return;
      }
      // Not more: the next completion (or the Writable's 'drain') resumes the producer.
      if (more) this.#onWritable();
    };
  }
}
