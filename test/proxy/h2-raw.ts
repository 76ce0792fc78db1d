/**
 * A raw HTTP/2 peer for protocol-edge tests: it writes exactly the frames a test asks
 * for (malformed, padded, unknown, abusive) and records every frame it receives, so a
 * test asserts on the wire rather than on what a library chose to show. Header blocks
 * are encoded and decoded with the proxy's own HPACK codec (the decoder keeps the
 * peer's dynamic table in step, so blocks are decoded in arrival order).
 *
 * A `RawH2` is either end: `RawH2.connect` is a client (it writes the preface), and
 * `rawH2Server` hands each accepted connection over as a server-side `RawH2`. Every
 * wait is bounded and names what it waited for.
 */
import type { TestContext } from 'node:test';
import net from 'node:net';
// The codec is not behind a door (src/proxy/h2/index.ts exports the relay only), and the
// lint rule admits only one-level doors; these tests speak HPACK with it directly.
// eslint-disable-next-line no-restricted-imports
import { HpackDecoder, HpackEncoder } from '../../src/proxy/h2/hpack.ts';

/** Frame types (RFC 9113 §6), spelled here rather than imported: the tests check the relay's. */
export const T = {
  DATA: 0x0, HEADERS: 0x1, PRIORITY: 0x2, RST_STREAM: 0x3, SETTINGS: 0x4, PUSH_PROMISE: 0x5,
  PING: 0x6, GOAWAY: 0x7, WINDOW_UPDATE: 0x8, CONTINUATION: 0x9,
} as const;

/** Frame flags (RFC 9113 §6). */
export const F = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

/** Error codes (RFC 9113 §7). */
export const E = {
  NO_ERROR: 0x0, PROTOCOL_ERROR: 0x1, INTERNAL_ERROR: 0x2, FLOW_CONTROL_ERROR: 0x3, STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6, REFUSED_STREAM: 0x7, CANCEL: 0x8, COMPRESSION_ERROR: 0x9, ENHANCE_YOUR_CALM: 0xb,
} as const;

/** SETTINGS identifiers (RFC 9113 §6.5.2). */
export const S = { HEADER_TABLE_SIZE: 0x1, ENABLE_PUSH: 0x2, MAX_CONCURRENT_STREAMS: 0x3, INITIAL_WINDOW_SIZE: 0x4, MAX_FRAME_SIZE: 0x5, MAX_HEADER_LIST_SIZE: 0x6 } as const;

/** The client connection preface (RFC 9113 §3.4). */
export const PREFACE: Buffer = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * A received frame. A header block (HEADERS and its CONTINUATIONs) is reported once,
 * as its HEADERS frame with `fields` decoded and the flags of the HEADERS frame plus
 * END_HEADERS; DATA whose stream has a sink carries an empty payload (the sink got it).
 */
export type Frame = { type: number; flags: number; streamId: number; payload: Buffer; fields?: string[] };

/** What one stream brought back: its header blocks in order, its DATA, and how it ended. */
export type RawResponse = {
  /** Every header block (1xx heads, the final head, trailers), as flat name/value lists. */
  blocks: string[][];
  /** The final head's :status (0 if none came). */
  status: number;
  body: Buffer;
  /** The RST_STREAM code, if the stream was reset. */
  reset: number | undefined;
  /** The value of `name` in the final head. */
  header(name: string): string | undefined;
};

/** A frame's bytes. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.allocUnsafe(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return Buffer.concat([h, payload]);
}

/** `[name, value]` pairs of a flat field list, for readable assertions. */
export function pairs(fields: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < fields.length; i += 2) out.push([fields[i]!, fields[i + 1]!]);
  return out;
}

/** Options of a raw peer. */
export type RawOptions = {
  /** SETTINGS sent first (default none: an empty SETTINGS frame). */
  settings?: ReadonlyArray<readonly [number, number]>;
  /**
   * Give credit back for the DATA received (default true), as nghttp2 does: once half
   * a window is owed. Off, the peer's windows only shrink: a reader that stopped.
   */
  autoWindow?: boolean;
  /** Give credit back for every DATA frame at once instead (a legal, chattier reader). */
  creditEachFrame?: boolean;
};

/** The frame size every peer accepts (RFC 9113 §4.2). */
const MAX_FRAME = 16_384;

/** The windows every peer starts with (RFC 9113 §6.9.2). */
const DEFAULT_WINDOW = 65_535;

/** One raw HTTP/2 connection, client or server side. */
export class RawH2 {
  readonly socket: net.Socket;
  /** Every frame received, in order. */
  readonly frames: Frame[] = [];
  /** Client side: the next stream id `nextId()` hands out. */
  #nextId = 1;
  /** Whether credit goes back for DATA received (see `RawOptions`); a test may turn it on later. */
  autoWindow: boolean;
  readonly #creditEachFrame: boolean;
  /** The stream window this peer advertised, and credit owed on the connection and per stream. */
  readonly #streamWindow: number;
  #connectionOwed = 0;
  readonly #streamOwed = new Map<number, number>();
  /** The HPACK encoder of this connection's header blocks (it indexes; the proxy never lowers the 4096-byte default table size, so no size update is needed). */
  readonly encoder = new HpackEncoder();
  readonly #decoder = new HpackDecoder(1 << 20);
  readonly #sinks = new Map<number, (chunk: Buffer) => void>();
  readonly #waiters = new Set<() => void>();
  #pending: Buffer = Buffer.alloc(0);
  #prefaceLeft: number;
  #block: { frame: Frame; parts: Buffer[] } | undefined;
  #closed = false;
  /** A decoding failure of ours (the test then fails on it rather than hanging). */
  error: Error | undefined;
  /** Called with every frame as it is recorded (a raw server answers from here). */
  readonly listeners: Array<(f: Frame) => void> = [];

  constructor(socket: net.Socket, role: 'client' | 'server', o: RawOptions = {}) {
    this.socket = socket;
    // Small frames (WINDOW_UPDATE, PING) go out at once, as HTTP/2 stacks send them.
    socket.setNoDelay(true);
    this.autoWindow = o.autoWindow ?? true;
    this.#creditEachFrame = o.creditEachFrame ?? false;
    this.#streamWindow = o.settings?.find(([k]) => k === S.INITIAL_WINDOW_SIZE)?.[1] ?? DEFAULT_WINDOW;
    this.#prefaceLeft = role === 'server' ? PREFACE.length : 0;
    socket.on('data', (c: Buffer) => this.#onBytes(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    if (role === 'client') socket.write(PREFACE);
    this.settings(o.settings ?? []);
  }

  /** A client connection to 127.0.0.1:`port`, destroyed after the test. */
  static async connect(t: TestContext, port: number, o: RawOptions = {}): Promise<RawH2> {
    const socket = net.connect(port, '127.0.0.1');
    t.after(() => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawH2(socket, 'client', o);
  }

  /** Whether the socket has closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** A fresh client stream id (1, 3, 5, …). */
  nextId(): number {
    const id = this.#nextId;
    this.#nextId += 2;
    return id;
  }

  /** Writes raw bytes. */
  raw(b: Buffer): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    return this.socket.write(b);
  }

  /** Writes one frame. */
  send(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): boolean {
    return this.raw(frame(type, flags, streamId, payload));
  }

  /** SETTINGS with `[id, value]` pairs. */
  settings(settings: ReadonlyArray<readonly [number, number]>): void {
    const p = Buffer.alloc(6 * settings.length);
    settings.forEach(([id, v], i) => {
      p.writeUInt16BE(id, 6 * i);
      p.writeUInt32BE(v, 6 * i + 2);
    });
    this.send(T.SETTINGS, 0, 0, p);
  }

  /** An HPACK block for `fields` (flat `[name, value, …]`, written as given: upper case, CR/LF and all). */
  block(fields: readonly string[]): Buffer {
    return this.encoder.encode(fields);
  }

  /**
   * HEADERS for `fields` on `id` (then CONTINUATION frames for a block larger than a
   * frame). `pad` adds that many padding bytes (PADDED), `priority` a priority section
   * (PRIORITY flag); `endHeaders` false leaves the block open for CONTINUATION frames.
   */
  headers(id: number, fields: readonly string[], o: { endStream?: boolean; endHeaders?: boolean; pad?: number; priority?: boolean } = {}): void {
    let payload = this.block(fields);
    let flags = (o.endStream === true ? F.END_STREAM : 0) | (o.endHeaders === false ? 0 : F.END_HEADERS);
    if (o.priority === true) {
      const p = Buffer.alloc(5);
      p.writeUInt32BE(0x8000_0000, 0); // exclusive, on stream 0
      p[4] = 200;
      payload = Buffer.concat([p, payload]);
      flags |= F.PRIORITY;
    }
    if (o.pad !== undefined) {
      payload = Buffer.concat([Buffer.from([o.pad]), payload, Buffer.alloc(o.pad)]);
      flags |= F.PADDED;
    }
    if (payload.length <= MAX_FRAME || (flags & F.END_HEADERS) === 0) {
      this.send(T.HEADERS, flags, id, payload);
      return;
    }
    // Larger than a frame: HEADERS, then CONTINUATION frames, the last with END_HEADERS.
    this.send(T.HEADERS, flags & ~F.END_HEADERS, id, payload.subarray(0, MAX_FRAME));
    for (let at = MAX_FRAME; at < payload.length; at += MAX_FRAME) {
      this.send(T.CONTINUATION, at + MAX_FRAME >= payload.length ? F.END_HEADERS : 0, id, payload.subarray(at, at + MAX_FRAME));
    }
  }

  /** A request head: `:method`, `:scheme` http, `:path`, `:authority`, then `extra`. */
  request(id: number, o: { method?: string; path?: string; authority?: string; extra?: readonly string[]; endStream?: boolean }): void {
    this.headers(id, [':method', o.method ?? 'GET', ':scheme', 'http', ':path', o.path ?? '/', ':authority', o.authority ?? 'raw.test', ...(o.extra ?? [])], { endStream: o.endStream ?? true });
  }

  /** DATA on `id`; `pad` adds that many padding bytes. */
  data(id: number, payload: Buffer | string, o: { endStream?: boolean; pad?: number } = {}): boolean {
    let p = typeof payload === 'string' ? Buffer.from(payload) : payload;
    let flags = o.endStream === true ? F.END_STREAM : 0;
    if (o.pad !== undefined) {
      p = Buffer.concat([Buffer.from([o.pad]), p, Buffer.alloc(o.pad)]);
      flags |= F.PADDED;
    }
    return this.send(T.DATA, flags, id, p);
  }

  /** RST_STREAM on `id` with `code`. */
  reset(id: number, code: number): void {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(code);
    this.send(T.RST_STREAM, 0, id, p);
  }

  /** PING with an 8-byte payload (ACK flag when `ack`). */
  ping(payload: Buffer, ack = false): void {
    this.send(T.PING, ack ? F.ACK : 0, 0, payload);
  }

  /** WINDOW_UPDATE of `increment` on `id` (0: the connection). */
  windowUpdate(id: number, increment: number): void {
    const p = Buffer.alloc(4);
    p.writeUInt32BE(increment);
    this.send(T.WINDOW_UPDATE, 0, id, p);
  }

  /** GOAWAY naming `lastStreamId` the last stream processed. */
  goaway(lastStreamId: number, code: number): void {
    const p = Buffer.alloc(8);
    p.writeUInt32BE(lastStreamId, 0);
    p.writeUInt32BE(code, 4);
    this.send(T.GOAWAY, 0, 0, p);
  }

  /** DATA on `id` goes to `sink` instead of `frames` (the frame is still recorded, empty). */
  sink(id: number, sink: (chunk: Buffer) => void): void {
    this.#sinks.set(id, sink);
  }

  /**
   * The first received frame (from index `from`) that `match` accepts, waiting for
   * it up to `timeoutMs`; fails naming `what` (and the frames seen) otherwise.
   */
  async until(match: (f: Frame) => boolean, what: string, timeoutMs = 5000, from = 0): Promise<Frame> {
    // Each frame is looked at once: a long transfer wakes this for every chunk.
    let i = from;
    const find = (): Frame | undefined => {
      for (; i < this.frames.length; i++) if (match(this.frames[i]!)) return this.frames[i];
      return undefined;
    };
    return this.#wait(find, what, timeoutMs);
  }

  /** The GOAWAY the peer sent (waits for it). */
  async goawayFrame(timeoutMs = 5000): Promise<{ lastStreamId: number; code: number }> {
    const f = await this.until((x) => x.type === T.GOAWAY, 'a GOAWAY', timeoutMs);
    return { lastStreamId: f.payload.readUInt32BE(0) & 0x7fff_ffff, code: f.payload.readUInt32BE(4) };
  }

  /** Waits for the socket to close (the peer ended the connection). */
  async waitClosed(what: string, timeoutMs = 5000): Promise<void> {
    await this.#wait(() => (this.#closed ? true : undefined), what, timeoutMs);
  }

  /** Waits until stream `id` ended (END_STREAM or RST_STREAM) and returns what it brought. */
  async response(id: number, timeoutMs = 5000): Promise<RawResponse> {
    await this.until((f) => f.streamId === id && (f.type === T.RST_STREAM || ((f.type === T.DATA || f.type === T.HEADERS) && (f.flags & F.END_STREAM) !== 0)), `the end of stream ${id}`, timeoutMs);
    return this.collect(id);
  }

  /** What stream `id` brought so far. */
  collect(id: number): RawResponse {
    const blocks: string[][] = [];
    const body: Buffer[] = [];
    let reset: number | undefined;
    for (const f of this.frames) {
      if (f.streamId !== id) continue;
      if (f.type === T.HEADERS) blocks.push(f.fields ?? []);
      else if (f.type === T.DATA) body.push(f.payload);
      else if (f.type === T.RST_STREAM) reset = f.payload.readUInt32BE(0);
    }
    const head = blocks.find((b) => b[0] === ':status' && !/^1\d\d$/.test(b[1] ?? '')) ?? [];
    return {
      blocks, reset,
      status: Number(head[1] ?? 0),
      body: Buffer.concat(body),
      header: (name) => {
        for (let i = 2; i < head.length; i += 2) if (head[i] === name) return head[i + 1];
        return undefined;
      },
    };
  }

  /** Closes the connection. */
  destroy(): void {
    this.socket.destroy();
  }

  async #wait<V>(find: () => V | undefined, what: string, timeoutMs: number): Promise<V> {
    const now = find();
    if (now !== undefined) return now;
    return new Promise<V>((resolve, reject) => {
      const check = (): void => {
        if (this.error !== undefined) return done(this.error);
        const v = find();
        if (v !== undefined) return done(undefined, v);
        if (this.#closed) done(new Error(`the connection closed before ${what}; frames seen: ${this.describe()}`));
      };
      const timer = setTimeout(() => done(new Error(`timed out waiting for ${what}; frames seen: ${this.describe()}`)), timeoutMs);
      const done = (err: Error | undefined, v?: V): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (err !== undefined) reject(err);
        else resolve(v as V);
      };
      this.#waiters.add(check);
    });
  }

  /** The last frames received, one short word each, for failure messages. */
  describe(): string {
    const names = Object.fromEntries(Object.entries(T).map(([k, v]) => [v, k]));
    return this.frames.slice(-12).map((f) => {
      let s = `${names[f.type] ?? `type${f.type}`}(${f.streamId},flags=${f.flags}`;
      if (f.type === T.GOAWAY || f.type === T.RST_STREAM) s += `,code=${f.payload.readUInt32BE(f.type === T.GOAWAY ? 4 : 0)}`;
      if (f.fields !== undefined) s += `,${JSON.stringify(f.fields)}`;
      return s + ')';
    }).join(' ');
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  #onBytes(chunk: Buffer): void {
    let b = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    if (this.#prefaceLeft > 0) {
      const n = Math.min(this.#prefaceLeft, b.length);
      this.#prefaceLeft -= n;
      b = b.subarray(n);
    }
    let at = 0;
    while (b.length - at >= 9) {
      const length = b.readUIntBE(at, 3);
      if (b.length - at < 9 + length) break;
      const f: Frame = { type: b[at + 3]!, flags: b[at + 4]!, streamId: b.readUInt32BE(at + 5) & 0x7fff_ffff, payload: b.subarray(at + 9, at + 9 + length) };
      at += 9 + length;
      try {
        this.#frame(f);
      } catch (err) {
        this.error = err as Error;
      }
    }
    // A copy: the rest of a large chunk is not kept alive by a small pending tail.
    this.#pending = at === b.length ? Buffer.alloc(0) : Buffer.from(b.subarray(at));
    this.#wake();
  }

  #frame(f: Frame): void {
    if (f.type === T.CONTINUATION && this.#block !== undefined) {
      this.#block.parts.push(f.payload);
      if ((f.flags & F.END_HEADERS) === 0) return;
      const { frame: head, parts } = this.#block;
      this.#block = undefined;
      head.flags |= F.END_HEADERS;
      head.fields = this.#decoder.decode(Buffer.concat(parts));
      this.#record(head);
      return;
    }
    if (f.type === T.HEADERS) {
      let s = 0;
      let e = f.payload.length;
      if ((f.flags & F.PADDED) !== 0) {
        e -= f.payload[0]!;
        s = 1;
      }
      if ((f.flags & F.PRIORITY) !== 0) s += 5;
      const fragment = f.payload.subarray(s, e);
      if ((f.flags & F.END_HEADERS) === 0) {
        this.#block = { frame: f, parts: [fragment] };
        return;
      }
      f.fields = this.#decoder.decode(fragment);
    } else if (f.type === T.DATA) {
      const n = f.payload.length;
      if ((f.flags & F.PADDED) !== 0) f.payload = f.payload.subarray(1, n - f.payload[0]!);
      if (n > 0) this.#owe(f.streamId, n, (f.flags & F.END_STREAM) !== 0);
      const sink = this.#sinks.get(f.streamId);
      if (sink !== undefined) {
        sink(f.payload);
        f.payload = Buffer.alloc(0);
      } else {
        f.payload = Buffer.from(f.payload);
      }
    } else if (f.type === T.SETTINGS && (f.flags & F.ACK) === 0) {
      this.send(T.SETTINGS, F.ACK, 0);
    }
    if (f.type !== T.DATA) f.payload = Buffer.from(f.payload);
    this.#record(f);
  }

  /** Counts `n` bytes received on `id`; gives the credit back as the options say. */
  #owe(id: number, n: number, ended: boolean): void {
    this.#connectionOwed += n;
    const owed = ended ? 0 : (this.#streamOwed.get(id) ?? 0) + n;
    if (ended) this.#streamOwed.delete(id);
    else this.#streamOwed.set(id, owed);
    if (this.autoWindow) this.flushCredit(this.#creditEachFrame ? 1 : DEFAULT_WINDOW / 2, this.#creditEachFrame ? 1 : this.#streamWindow / 2);
  }

  /**
   * Sends WINDOW_UPDATE for the credit owed: on the connection once `connMin` bytes are
   * owed, on each open stream once `streamMin` are (1 and 1: everything owed now).
   */
  flushCredit(connMin = 1, streamMin = 1): void {
    if (this.#connectionOwed >= connMin && this.#connectionOwed > 0) {
      this.windowUpdate(0, this.#connectionOwed);
      this.#connectionOwed = 0;
    }
    for (const [id, owed] of this.#streamOwed) {
      if (owed < streamMin || owed === 0) continue;
      this.windowUpdate(id, owed);
      this.#streamOwed.set(id, 0);
    }
  }

  #record(f: Frame): void {
    this.frames.push(f);
    for (const l of this.listeners) l(f);
  }
}

/** A raw h2c server on 127.0.0.1 (ephemeral port): each accepted connection goes to `onConnection`. */
export async function rawH2Server(t: TestContext, onConnection: (c: RawH2) => void, o: RawOptions = {}): Promise<{ port: number; connections: RawH2[] }> {
  const connections: RawH2[] = [];
  const server = net.createServer((socket) => {
    const c = new RawH2(socket, 'server', o);
    connections.push(c);
    onConnection(c);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const c of connections) c.destroy();
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, connections };
}
