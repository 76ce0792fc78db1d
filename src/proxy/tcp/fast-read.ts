/**
 * Reading a socket without the `Readable` machinery: the socket's handle reads into
 * one buffer shared by every such socket in the process, and a callback sees each
 * chunk synchronously (node:net's documented `onread` option, applied to sockets that
 * already exist).
 *
 * Why: a default `net.Socket` read allocates a 64 KiB buffer per read (malloc, then a
 * realloc to the bytes read, then a V8 backing store the GC later frees) and pushes
 * it through `readableAddChunk` / `emit('data')` / `maybeReadMore`. Under the opaque
 * TCP benchmark malloc and V8's backing-store bookkeeping were ~20 % of a proxy's CPU
 * (perf, bench/README.md). With `onread` the read lands in the shared buffer and the
 * callback copies only the bytes read (a slice of Buffer's 8 KiB pool when small).
 *
 * `onread` is public only as a constructor option (net.Socket, tls.connect). Accepted
 * sockets, and TLS sockets wrapping an accepted socket, are created by node itself, so
 * this sets the same three fields the constructor would (found by their symbol
 * descriptions `kBuffer`, `kBufferCb`, `kBufferGen`) and calls the handle's
 * `useUserBuffer`, exactly what `initSocketHandle` in lib/net.js does for `onread`.
 * When any of that is missing (another Node version, a JS stream without a handle),
 * `readFast` returns false and the caller keeps using `data` events.
 *
 * Lifecycle of a fast-read socket:
 *
 *   readFast ─▶ reading ─(callback returns false)─▶ stopped ─(socket.resume())─▶ reading
 *                  └─(EOF)─▶ 'end' (as usual) ─▶ 'close'
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * Size of the shared read buffer: libuv reads at most this much per `read(2)`, the
 * same 64 KiB node suggests for its own per-read allocations, and TLS delivers at most
 * 16 KiB records, so one buffer serves both.
 */
const SHARED_READ_BYTES = 64 * 1024;

/**
 * One buffer for every fast-read socket: callbacks run synchronously on the one JS
 * thread and must not keep the view, so no two reads ever need it at once.
 */
const shared = Buffer.allocUnsafeSlow(SHARED_READ_BYTES);

/**
 * Called with each chunk read: `buf` holds `length` bytes from offset 0 and is
 * overwritten by the next read of any fast-read socket, so copy what must outlive the
 * call. Return false to stop reading (backpressure) until `socket.resume()`.
 */
export type FastReadCallback = (buf: Buffer, length: number) => boolean;

type Internals = { buffer: symbol; callback: symbol; generator: symbol };

/** The socket fields behind `onread`, looked up once on a probe socket. */
const internals: Internals | undefined = (() => {
  const probe = new net.Socket();
  const find = (name: string): symbol | undefined => Object.getOwnPropertySymbols(probe).find((s) => s.description === name);
  const buffer = find('kBuffer');
  const callback = find('kBufferCb');
  const generator = find('kBufferGen');
  probe.destroy();
  return buffer !== undefined && callback !== undefined && generator !== undefined ? { buffer, callback, generator } : undefined;
})();

type StreamHandle = { useUserBuffer?: (buf: Uint8Array) => void; reading?: boolean };

/** True when this Node exposes what `readFast` needs (the `onread` fields on net.Socket). */
export function fastReadSupported(): boolean {
  return internals !== undefined;
}

/**
 * Switches `socket` (a connected `net.Socket` or `tls.TLSSocket`) to fast reads and
 * starts reading; see the module comment. Bytes the socket had already buffered are
 * delivered first, through the same callback. 'end', 'close', 'error', idle timeouts
 * and `bytesRead` work as before; 'data' is no longer emitted. Returns false, touching
 * nothing, when the socket cannot be switched (then use 'data' events).
 */
export function readFast(socket: Duplex, onRead: FastReadCallback): boolean {
  if (internals === undefined || !(socket instanceof net.Socket) || socket.destroyed || socket.connecting) return false;
  const handle = (socket as unknown as { _handle?: StreamHandle | null })._handle;
  if (handle === undefined || handle === null || typeof handle.useUserBuffer !== 'function') return false;
  // Whatever the Readable already holds came from the old read path: hand it over first.
  let keepReading = true;
  if (socket.readableLength > 0) {
    const pending = socket.read() as Buffer | null;
    if (pending !== null && pending.length > 0) keepReading = onRead(pending, pending.length);
  }
  const fields = socket as unknown as Record<symbol, unknown>;
  fields[internals.buffer] = shared;
  fields[internals.generator] = null;
  fields[internals.callback] = (n: number, buf: Buffer): boolean => onRead(buf, n);
  handle.useUserBuffer(shared);
  if (keepReading) socket.resume();
  else socket.pause();
  return true;
}
