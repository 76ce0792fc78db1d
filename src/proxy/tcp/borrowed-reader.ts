/**
 * Reads a socket into one reused buffer per socket instead of Node's Readable path:
 * the one way the proxy reads its sockets (opaque pipes and HTTP/1 sessions alike).
 *
 * Why: a `'data'` listener costs, per read, a 64 KiB allocation shrunk to the bytes
 * read, a new ArrayBuffer and Buffer, the Readable push machinery and a
 * `process.nextTick` (maybeReadMore); under the benchmarks malloc and V8's
 * backing-store bookkeeping alone were ~20 % of a proxy's CPU (bench/README.md).
 * net's `onread` option avoids all of it: libuv reads into a buffer the caller owns
 * and a plain callback gets the byte count.
 *
 * `onread` is public only as a constructor option (net.Socket, tls.connect). Accepted
 * sockets, and TLS sockets wrapping an accepted socket, are created by node itself, so
 * `adopt` sets the same three fields the constructor would (found by their symbol
 * descriptions `kBuffer`, `kBufferCb`, `kBufferGen` on a probe socket) and calls the
 * handle's `useUserBuffer`, exactly what `initSocketHandle` in lib/net.js does. When
 * any of that is missing (another Node, a JS stream without a handle), `adopt`
 * answers undefined and the caller keeps using `'data'` events; `supported()` says
 * whether this Node has the fields at all (a unit test pins it to true).
 *
 * The price is a lifetime rule: a chunk handed to `onData` is a view into memory the
 * next read overwrites, and a TLS socket may deliver several records in one go, even
 * after `onData` asked to stop. So the consumer finishes with the view during the
 * call, copies what it keeps, or calls `retain()` when a write queued the view (see
 * `writeBorrowed`), so the next read goes into fresh memory.
 *
 *   libuv read ──▶ buf[0…n) ──▶ onData(view) ──▶ written through ── next read reuses buf
 *                                            ├─▶ queued: retain() ── next read into a new buf
 *                                            └─▶ returns false: reading stops until socket.resume()
 *   socket 'close' ──▶ buf (unless retained) goes to a small spare list for the next adopt
 *
 * Why the spare list: a buffer is 16 KiB of glibc's main arena, and a closed socket's
 * would otherwise be freed only when V8 collects the socket, by then promoted, so at
 * the next mark-compact, seconds later. Meanwhile the next connections allocate
 * theirs further up the arena, and the holes the late frees leave are split by
 * smaller allocations: under connection churn the arena grew by megabytes per round
 * (bench/README.md, item 36). Reusing the buffers keeps a busy proxy at one buffer
 * per open socket plus at most `SPARE_BUFFERS` idle ones, none allocated per
 * connection.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { PooledConnection } from './pool.ts';

/** Bytes per read: one TLS record's worth of plaintext, so a TLS read never splits. */
export const BORROWED_READ_BYTES = 16 * 1024;

/**
 * Called with each chunk read, a view valid only during the call. Returning false
 * stops reading (backpressure) until `socket.resume()`; anything else keeps reading.
 */
export type BorrowedDataHandler = (chunk: Buffer) => boolean | void;

/** Closed sockets' buffers kept for reuse: enough for a burst of 64 connections to reconnect without a malloc. */
const SPARE_BUFFERS = 64;
const spare: Buffer[] = [];

/** A read buffer: a closed socket's, or new memory. */
function takeBuffer(): Buffer {
  return spare.pop() ?? Buffer.allocUnsafeSlow(BORROWED_READ_BYTES);
}

type OnreadFields = { buffer: symbol; callback: symbol; generator: symbol };

/** The symbols net.Socket keeps its `onread` option under, or null when this Node has none. */
const fields: OnreadFields | null = (() => {
  const probe = new net.Socket({ onread: { buffer: () => Buffer.alloc(1), callback: () => true } });
  const syms = Object.getOwnPropertySymbols(probe);
  const find = (d: string): symbol | undefined => syms.find((s) => s.description === d);
  const buffer = find('kBuffer');
  const callback = find('kBufferCb');
  const generator = find('kBufferGen');
  probe.destroy();
  return buffer !== undefined && callback !== undefined && generator !== undefined ? { buffer, callback, generator } : null;
})();

type Handle = { useUserBuffer?: (b: Uint8Array) => void; reading?: boolean };

/** One socket read into a reused buffer. */
export class BorrowedReader {
  #buf: Buffer;
  #retained = false;
  #onData: BorrowedDataHandler;

  private constructor(onData: BorrowedDataHandler) {
    this.#buf = takeBuffer();
    this.#onData = onData;
  }

  /** Spare buffers right now (tests: a closed socket's buffer is kept, a retained one is not). */
  static spareBuffers(): number {
    return spare.length;
  }

  /** True when this Node has the socket fields `adopt` needs (else every socket keeps the 'data' path). */
  static supported(): boolean {
    return fields !== null;
  }

  /**
   * Switches `socket` (a connected net.Socket or TLSSocket, in 'data' mode or already
   * read by another reader) to borrowed reads; bytes already queued in its Readable
   * buffer are returned, in order, for the caller to process first (they are owned,
   * not views). Reading continues if the socket was flowing; `socket.resume()` starts
   * it otherwise. Returns undefined (nothing changed) when the socket cannot be
   * switched: not a native stream, still connecting, or an unknown Node.
   */
  static adopt(socket: Duplex, onData: BorrowedDataHandler): { reader: BorrowedReader; queued: Buffer[] } | undefined {
    const f = fields;
    const s = socket as Duplex & Record<symbol, unknown> & { _handle?: Handle | null; connecting?: boolean };
    const handle = s._handle;
    if (f === null || !(socket instanceof net.Socket) || s.connecting === true || handle == null || typeof handle.useUserBuffer !== 'function') return undefined;
    // A socket already in onread mode is taken over the same way: the handle's newest
    // buffer listener is the one that reads.
    // read() emits 'data' for what it returns: listeners are detached meanwhile, or bytes
    // queued here would reach them and the caller both. They stay attached afterwards
    // (a socket that was flowing stays flowing) but hear nothing: reads go to `onData`.
    const listeners = socket.rawListeners('data') as Array<(chunk: Buffer) => void>;
    for (const l of listeners) socket.removeListener('data', l);
    const queued: Buffer[] = [];
    for (let b = socket.read() as Buffer | null; b !== null; b = socket.read() as Buffer | null) queued.push(b);
    for (const l of listeners) socket.on('data', l);
    const r = new BorrowedReader(onData);
    s[f.buffer] = r.#buf;
    s[f.generator] = r.#next;
    s[f.callback] = r.#onRead;
    handle.useUserBuffer(r.#buf);
    socket.on('close', r.#release);
    return { reader: r, queued };
  }

  /**
   * The socket closed: no read can land in the buffer any more, and chunks were views
   * valid only during their call, so the buffer is free for the next socket; unless a
   * write still holds the last chunk (`retain()`), then it is left to the GC.
   */
  readonly #release = (): void => {
    if (!this.#retained && spare.length < SPARE_BUFFERS) spare.push(this.#buf);
    // Should anything read again, it must not land in a buffer another socket now owns.
    this.#retained = true;
  };

  readonly #onRead = (n: number, buf: Buffer): boolean => this.#onData(buf.subarray(0, n)) !== false;

  /** Where the next read goes: the same buffer, unless the last chunk is still referenced. */
  readonly #next = (): Buffer => {
    if (this.#retained) {
      this.#retained = false;
      this.#buf = takeBuffer();
    }
    return this.#buf;
  };

  /** The chunk just handed out stays referenced (a queued write): the next read must not overwrite it. */
  retain(): void {
    this.#retained = true;
  }

  /** Sends further reads to `onData` instead (a no-op handler discards them). */
  redirect(onData: BorrowedDataHandler): void {
    this.#onData = onData;
  }
}

/**
 * Writes `b`, which may be a view into `reader`'s buffer, so that the next read cannot
 * corrupt it, and returns `sock.write`'s answer. Behind another write the Writable
 * would queue the view itself: write a copy. Otherwise the bytes go to the native
 * stream now; a TLS socket has encrypted them before write() returns (TLSWrap copies
 * what SSL_write could not take; it reports every write as pending but holds no
 * plaintext), while a plain socket that could not write everything keeps pointing at
 * the view: the reader then moves to fresh memory. With no reader, `b` is owned.
 */
export function writeBorrowed(sock: Duplex, b: Buffer, reader: BorrowedReader | null | undefined): boolean {
  if (reader == null) return sock.write(b);
  if (sock.writableLength !== 0) return sock.write(Buffer.from(b));
  const ok = sock.write(b);
  if (sock.writableLength !== 0 && (sock as Duplex & { encrypted?: boolean }).encrypted !== true) reader.retain();
  return ok;
}

/** The borrowed reader of each pooled upstream connection, created at its first HTTP/1 use. */
const upstreamReaders = new WeakMap<PooledConnection, BorrowedReader | null>();

/**
 * The reader of pooled upstream connection `up`, handing each chunk to its owner of
 * the moment (as the pool's own 'data' listener, which then never fires, would); null
 * when the socket keeps the 'data' path.
 */
export function upstreamReader(up: PooledConnection): BorrowedReader | null {
  let r = upstreamReaders.get(up);
  if (r !== undefined) return r;
  const dispatch = (chunk: Buffer): void => {
    const o = up.owner;
    if (o !== null) o.onUpData(chunk);
    else up.socket.destroy(); // Unsolicited bytes on an idle connection: the peer is confused.
  };
  const a = BorrowedReader.adopt(up.socket, dispatch);
  r = a?.reader ?? null;
  upstreamReaders.set(up, r);
  if (a !== undefined) for (const b of a.queued) dispatch(b);
  return r;
}
