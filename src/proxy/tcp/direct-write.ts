/**
 * Writing a buffer to a plain TCP socket's handle without the `Writable` machinery,
 * when nothing is queued in front of it.
 *
 * Why: `socket.write()` runs Writable's bookkeeping, makes a write request object per
 * call, refreshes timers, and defers its completion to a `process.nextTick` even when
 * the kernel took every byte at once (the common case for a proxy relaying small
 * messages on loopback or a LAN). Here a write the kernel takes whole costs one call
 * into the handle with a request object reused across writes; only a write that
 * would block leaves a pending request behind, and then the caller stops reading
 * until it completes (so nothing more than that one buffer is held).
 *
 * It needs node's `WriteWrap` and stream state (`process.binding('stream_wrap')`,
 * the binding lib/net.js itself uses), so it is guarded: when they are missing
 * (another Node, a policy that forbids `process.binding`), or the socket is TLS,
 * connecting, ending, corked or already has queued writes, `writeDirect` answers
 * `unavailable` and the caller uses `socket.write()`. TLS sockets are excluded on
 * purpose: their native write completes asynchronously and allows one write at a
 * time, which is what Writable's queue guarantees.
 */
import net from 'node:net';

type WriteReq = {
  handle: unknown;
  oncomplete: (status: number) => void;
  async: boolean;
  bytes: number;
  buffer: Buffer | null;
};
type StreamWrapBinding = {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
};
type Handle = { writeBuffer?: (req: WriteReq, buf: Buffer) => number };

const binding: StreamWrapBinding | undefined = (() => {
  try {
    const b = (process as unknown as { binding(name: string): Partial<StreamWrapBinding> }).binding('stream_wrap');
    if (typeof b.WriteWrap === 'function' && b.streamBaseState instanceof Int32Array && typeof b.kLastWriteWasAsync === 'number') return b as StreamWrapBinding;
  } catch {
    // process.binding is deprecated and may be disabled: fall back to socket.write().
  }
  return undefined;
})();

/** The request object lent to synchronous writes; replaced once a pending write keeps it. */
let spare: WriteReq | undefined;

/** True when this Node exposes what `writeDirect` needs. */
export function directWriteSupported(): boolean {
  return binding !== undefined;
}

/**
 * Writes `buf` to `socket` through its handle if that is safe now:
 * - `done`: the kernel took every byte;
 * - `pending`: part of it is queued in libuv, which keeps `buf` until `onComplete`
 *   (null, or the error, after which the socket is destroyed); write nothing more
 *   directly until then;
 * - `unavailable`: nothing was written; use `socket.write(buf)`.
 * Byte counters (`bytesWritten`), `end()` ordering (a shutdown waits for pending
 * writes) and the idle timeout (refreshed here) behave as with `socket.write()`.
 */
export function writeDirect(socket: net.Socket, buf: Buffer, onComplete: (err: Error | null) => void): 'done' | 'pending' | 'unavailable' {
  if (binding === undefined || (socket as { encrypted?: boolean }).encrypted === true) return 'unavailable';
  if (socket.connecting || socket.destroyed || !socket.writable || socket.writableLength > 0 || socket.writableCorked > 0) return 'unavailable';
  const handle = (socket as unknown as { _handle?: Handle | null })._handle;
  if (handle === undefined || handle === null || typeof handle.writeBuffer !== 'function') return 'unavailable';
  const req = spare ?? new binding.WriteWrap();
  spare = req;
  req.handle = handle;
  req.async = false;
  req.bytes = 0;
  req.buffer = null;
  const err = handle.writeBuffer(req, buf);
  (socket as unknown as { _unrefTimer?: () => void })._unrefTimer?.();
  if (err !== 0) {
    req.handle = null;
    socket.destroy(Object.assign(new Error(`write failed: ${err}`), { errno: err, syscall: 'write' }));
    return 'done';
  }
  if (binding.streamBaseState[binding.kLastWriteWasAsync] === 0) {
    // Done with the handle: the spare must not keep a closed socket's handle alive.
    req.handle = null;
    return 'done';
  }
  // libuv holds part of `buf` and completes through this request object: it is no
  // longer spare, and it keeps `buf` alive until then.
  spare = undefined;
  req.buffer = buf;
  req.oncomplete = (status: number): void => {
    req.buffer = null;
    if (status < 0) {
      const e = Object.assign(new Error(`write failed: ${status}`), { errno: status, syscall: 'write' });
      if (!socket.destroyed) socket.destroy(e);
      onComplete(e);
      return;
    }
    onComplete(null);
  };
  return 'pending';
}
