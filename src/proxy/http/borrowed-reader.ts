/**
 * Reads a socket into one reused buffer per socket instead of Node's Readable path.
 *
 * Why: a `'data'` listener costs, per read, a 64 KB allocation shrunk to the bytes
 * read, a new ArrayBuffer and Buffer, the Readable push machinery and a
 * `process.nextTick` (maybeReadMore). An HTTP/1 exchange reads twice per hop, so that
 * was a large part of the proxy's per-request CPU. net's `onread` option avoids all
 * of it: libuv reads into a buffer the caller owns and a plain callback gets the byte
 * count. Sockets the proxy did not create (accepted ones, server-side TLS) get the
 * same mode through the socket's own `onread` fields, found on a probe socket.
 *
 * The price is a lifetime rule: a chunk handed to `onData` is a view into memory the
 * next read overwrites. The consumer either finishes with it during the call, copies
 * what it keeps, or calls `retain()` when a write queued the view (the socket's
 * `writableLength` is then non-zero), so the next read goes into fresh memory.
 *
 *   libuv read ──▶ buf[0…n) ──▶ onData(view) ──▶ written through ── next read reuses buf
 *                                            └─▶ queued: retain() ── next read into a new buf
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { PooledConnection } from '../tcp/index.ts';

/** Bytes per read: one TLS record's worth of plaintext, so a TLS read never splits. */
export const BORROWED_READ_BYTES = 16 * 1024;

type OnreadFields = { buffer: symbol; callback: symbol; generator: symbol };

let fields: OnreadFields | null | undefined;

/** The symbols net.Socket keeps its `onread` option under, or null when this Node has none. */
function onreadFields(): OnreadFields | null {
  if (fields !== undefined) return fields;
  const probe = new net.Socket({ onread: { buffer: () => Buffer.alloc(1), callback: () => true } });
  const syms = Object.getOwnPropertySymbols(probe);
  const find = (d: string): symbol | undefined => syms.find((s) => s.description === d);
  const buffer = find('kBuffer');
  const callback = find('kBufferCb');
  const generator = find('kBufferGen');
  probe.destroy();
  fields = buffer !== undefined && callback !== undefined && generator !== undefined ? { buffer, callback, generator } : null;
  return fields;
}

type Handle = { useUserBuffer?: (b: Uint8Array) => void; reading?: boolean };

/** One socket read into a reused buffer. */
export class BorrowedReader {
  #buf: Buffer;
  #retained = false;
  #onData: (chunk: Buffer) => void;

  private constructor(onData: (chunk: Buffer) => void) {
    this.#buf = Buffer.allocUnsafeSlow(BORROWED_READ_BYTES);
    this.#onData = onData;
  }

  /**
   * Switches `socket` (a connected net.Socket or TLSSocket) to borrowed reads; bytes
   * already queued in its Readable buffer are returned, in order, for the caller to
   * process first. Returns undefined (nothing changed) when the socket cannot be
   * switched: not a native stream, still connecting, or an unknown Node.
   */
  static adopt(socket: Duplex, onData: (chunk: Buffer) => void): { reader: BorrowedReader; queued: Buffer[] } | undefined {
    const f = onreadFields();
    const s = socket as Duplex & Record<symbol, unknown> & { _handle?: Handle | null; connecting?: boolean };
    const handle = s._handle;
    if (f === null || !(socket instanceof net.Socket) || s.connecting === true || handle == null || typeof handle.useUserBuffer !== 'function') return undefined;
    // A socket already in onread mode (the TCP stage's readFast) is taken over the same way:
    // the handle's newest buffer listener is the one that reads.
    const queued: Buffer[] = [];
    for (let b = socket.read() as Buffer | null; b !== null; b = socket.read() as Buffer | null) queued.push(b);
    const r = new BorrowedReader(onData);
    s[f.buffer] = r.#buf;
    s[f.generator] = r.#next;
    s[f.callback] = r.#onRead;
    handle.useUserBuffer(r.#buf);
    return { reader: r, queued };
  }

  readonly #onRead = (n: number, buf: Buffer): void => {
    this.#onData(buf.subarray(0, n));
  };

  /** Where the next read goes: the same buffer, unless the last chunk is still referenced. */
  readonly #next = (): Buffer => {
    if (this.#retained) {
      this.#retained = false;
      this.#buf = Buffer.allocUnsafeSlow(BORROWED_READ_BYTES);
    }
    return this.#buf;
  };

  /** The chunk just handed out stays referenced (a queued write): the next read must not overwrite it. */
  retain(): void {
    this.#retained = true;
  }

  /** Sends further reads to `onData` instead (a no-op handler discards them). */
  redirect(onData: (chunk: Buffer) => void): void {
    this.#onData = onData;
  }
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
