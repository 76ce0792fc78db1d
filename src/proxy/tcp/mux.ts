/**
 * Many opaque TCP connections over one mesh TLS connection between two proxies
 * (transport protocol `mux`; frames in mux-frame.ts).
 *
 * Why: with one TLS connection per TCP connection, every message a hop relays costs
 * a TLS read or write of its own on the mesh side: a call through node's TLSWrap
 * and a loopback or LAN syscall, half of the hop's system calls and most of the
 * gap to HAProxy (bench/README.md). Over one connection, the messages of every
 * stream that arrived in one event-loop turn leave as one TLS write (flushed from
 * `setImmediate`, after the turn's reads), and one TLS read brings many. Istio's
 * HBONE tunnels TCP the same way (over HTTP/2 CONNECT); this framing is smaller
 * because both ends are weft and need no HTTP.
 *
 *   client socket ─read─▶ DATA frame ─┐                          ┌─▶ write ─▶ app socket
 *   client socket ─read─▶ DATA frame ─┼─ one TLS write per turn ─┼─▶ write ─▶ app socket
 *   client socket ─read─▶ DATA frame ─┘                          └─▶ write ─▶ app socket
 *
 * Per stream, each direction has a window (`MUX_STREAM_WINDOW`): a sender stops
 * reading its socket when the window is used up and resumes on CREDIT, which the
 * receiver sends as it writes bytes out. So a slow reader on one stream holds at most
 * a window in the proxy and never stalls the others, and the connection's reads
 * never stop for one stream. When the TLS socket itself is backed up, every stream
 * stops reading until it drains.
 *
 * Stream lifecycle (both ends alike):
 *   OPEN ─▶ DATA… ─▶ FIN each way ─▶ the local socket closes ─▶ forgotten
 *   local socket fails or closes early ─▶ RST ─▶ the peer destroys its socket
 *   connection closes ─▶ every stream's socket is destroyed
 */
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { BorrowedReader } from './borrowed-reader.ts';
import { writeDirect } from './direct-write.ts';
import { controlFrameBytes, MUX_CREDIT_THRESHOLD, MUX_HEADER_BYTES, MUX_MAX_EARLY_BYTES, MUX_MAX_STREAMS, MUX_SERVER_MAX_STREAMS, MUX_STREAM_WINDOW, MuxFrame, MuxReset, writeMuxHeader } from './mux-frame.ts';
import { sourceEnded } from './pipe.ts';
import { TlsDirectWriter } from './tls-direct-write.ts';

/** Largest DATA payload this side sends: one read's worth, so a frame always fits the output buffer. */
const MAX_DATA_FRAME = 16 * 1024;
/** The output buffer one turn's frames are gathered in: it starts at this size and grows. */
const OUT_BYTES = 64 * 1024;
/**
 * Up to this size the buffer grows instead of being flushed mid-turn: a flush while
 * the turn's first write is still in TLSWrap would look like a backed-up socket and
 * stop every stream (a reviewer counted 2,860 such stops per 256 MB of bulk at 64 KiB).
 */
const OUT_MAX_BYTES = 1024 * 1024;
/** A grown output buffer goes back to `OUT_BYTES` after this many small flushes in a row. */
const SHRINK_AFTER_SMALL_TURNS = 256;
/** Bytes of answers (PONG, refusals) queued while the socket is backed up before the peer is cut. */
const UNREAD_MAX_BYTES = 1024 * 1024;
/** Streams that may end before their application connection is made, per second (OPEN+RST churn, refused ports). */
const CHURN_PER_SECOND = 1000;
/** Largest window a peer may grant (a larger sum is a broken peer). */
const MAX_WINDOW = 2 ** 31 - 1;

/** One TCP connection carried by a `MuxConnection`. */
export class MuxStream {
  readonly id: number;
  /** The local end: the client's accepted socket, or the server's connection to the application. */
  sock: net.Socket | null = null;
  /** Bytes this side may still send. */
  sendWindow = MUX_STREAM_WINDOW;
  /** Bytes the peer may still send. */
  recvWindow = MUX_STREAM_WINDOW;
  /** Read from the local socket, not yet sent (no window, or the connection is backed up). */
  held: Buffer[] = [];
  /** The local socket ended: FIN goes out after `held`. */
  finPending = false;
  finSent = false;
  finRecv = false;
  rstRecv = false;
  /** The local socket closed. */
  sockClosed = false;
  /** Written out since the last CREDIT. */
  consumed = 0;
  /** DATA that came before the local socket existed (server side, still connecting): owned copies. */
  early: Buffer[] | null = null;
  /** Lengths of writes queued in the socket's Writable, oldest first (the slow path). */
  slowLens: number[] | null = null;
  /** Bytes of a direct write libuv still holds (0: none). */
  directPending = 0;
  /** DATA bytes received, and sent: the stream's byte counts. */
  bytesIn = 0;
  bytesOut = 0;
  readonly onDirect: (err: Error | null) => void;
  readonly onSlow: (err?: Error | null) => void;

  constructor(id: number, mux: MuxConnection) {
    this.id = id;
    this.onDirect = (err) => {
      const n = this.directPending;
      this.directPending = 0;
      if (err === null) mux.consumed(this, n);
    };
    this.onSlow = (err) => {
      const n = this.slowLens?.shift() ?? 0;
      if (this.slowLens?.length === 0) this.slowLens = null;
      if (err == null) mux.consumed(this, n);
    };
  }
}

/** What a `MuxConnection` tells its owner. */
export type MuxOptions = {
  role: 'client' | 'server';
  /** Server: the peer opened `stream`; the owner connects it (`attach`) or refuses it (`refuse`). */
  onOpen?: (stream: MuxStream) => void;
  /** Client: an empty connection closes after this long. 0: never. */
  idleMs?: number;
  /**
   * Client: when a stream opens and nothing came from the peer for a while, a PING
   * must be answered (by anything) within this long, or the connection is given up
   * (`onClose` with an error). 0: never.
   */
  livenessMs?: number;
  /** Client: the peer takes no new streams (GOAWAY, or a stream refused); open them elsewhere. */
  onGoaway?: () => void;
  /** A stream is gone (its bytes are final). */
  onStreamClosed?: (stream: MuxStream) => void;
  /** The connection is gone (closed, failed, or a protocol error, then `err`). */
  onClose?: (err: Error | undefined) => void;
  /** Bytes already read from the socket (after the transport header): the first frames. */
  initial?: Buffer | undefined;
};

/** One mesh TLS connection carrying many opaque TCP streams. */
export class MuxConnection {
  readonly socket: Duplex;
  readonly #o: MuxOptions;
  readonly #streams = new Map<number, MuxStream>();
  /** Client: the id of the next stream. Server: the highest id the peer opened. */
  #lastId = 0;
  #out = Buffer.allocUnsafe(OUT_BYTES);
  #off = 0;
  /** Flushes in a row that used at most half of a usual-size buffer (see flush). */
  #smallTurns = 0;
  #flushQueued = false;
  /** The TLS socket holds writes the kernel has not taken: streams stop reading. */
  #congested = false;
  readonly #blocked = new Set<MuxStream>();
  readonly #writer: TlsDirectWriter | undefined;
  readonly #reader: BorrowedReader | undefined;
  /** A frame header (and control payload) split across reads. */
  readonly #part = Buffer.alloc(MUX_HEADER_BYTES + 4);
  #partLen = 0;
  /** The DATA payload being read: its stream (undefined: discard) and bytes left. */
  #dataStream: MuxStream | undefined;
  #dataLeft = 0;
  #closed = false;
  #draining = false;
  /** Bytes of answers queued while the socket was backed up. */
  #unreadBytes = 0;
  /** Server: streams whose application connection is being made (RST does not end the connect). */
  #connecting = 0;
  /** Bytes kept for streams not attached yet. */
  #earlyBytes = 0;
  /** Budget of streams that may end before their application connection is made. */
  #churnTokens = CHURN_PER_SECOND;
  #churnAt = 0;
  /** Something was read since the last liveness PING went out, and how many went out. */
  #heard = true;
  #pingSeq = 0;
  #livenessTimer: NodeJS.Timeout | undefined;
  #error: Error | undefined;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(socket: Duplex, options: MuxOptions) {
    this.socket = socket;
    this.#o = options;
    this.#writer = TlsDirectWriter.for(socket);
    socket.on('error', (err: Error) => { this.#error ??= err; });
    socket.once('close', () => this.#onClose());
    // The peer sends no more frames: its streams can neither end nor get credit.
    socket.once('end', () => socket.destroy());
    const adopted = BorrowedReader.adopt(socket, this.#onChunk);
    this.#reader = adopted?.reader;
    if (options.initial !== undefined) this.#onChunk(options.initial);
    if (adopted === undefined) {
      socket.on('data', (b: Buffer) => { this.#onChunk(b); });
    } else {
      for (const b of adopted.queued) this.#onChunk(b);
    }
    socket.resume();
    this.#armIdle();
  }

  /** Streams open now. */
  get streams(): number {
    return this.#streams.size;
  }

  /** Whether a new stream may be opened on this (client) connection. */
  get usable(): boolean {
    return !this.#closed && !this.#draining && this.#streams.size < MUX_MAX_STREAMS && this.#lastId < MAX_WINDOW;
  }

  /** Client: carries `sock` (paused, connected) as a new stream; `initial` (bytes already read from it) goes first. */
  open(sock: net.Socket, initial?: Buffer): MuxStream {
    const st = new MuxStream(++this.#lastId, this);
    this.#streams.set(st.id, st);
    this.#disarmIdle();
    this.#frame(MuxFrame.open, st.id);
    this.#probe();
    if (initial !== undefined && initial.length > 0) this.#onLocalData(st, initial);
    this.attach(st, sock);
    return st;
  }

  /** Joins `stream` to its local socket (server: once the application connection is up). */
  attach(st: MuxStream, sock: net.Socket): void {
    if (this.#o.role === 'server') this.#connecting--;
    if (st.rstRecv || st.sockClosed || this.#closed) {
      sock.destroy();
      return;
    }
    st.sock = sock;
    sock.on('error', () => {});
    sock.once('end', () => this.#localEnd(st));
    sock.once('close', () => this.#localClose(st));
    if (st.early !== null) {
      for (const b of st.early) {
        this.#earlyBytes -= b.length;
        this.#writeLocal(st, sock, b, false);
      }
      st.early = null;
    }
    if (st.finRecv) sock.end();
    const adopted = BorrowedReader.adopt(sock, (view) => this.#onLocalData(st, view));
    if (adopted === undefined) {
      sock.on('data', (b: Buffer) => {
        if (!this.#onLocalData(st, b)) sock.pause();
      });
    } else {
      for (const b of adopted.queued) this.#onLocalData(st, b);
    }
    // The FIN may have come before the stream existed (during detection, or with the
    // last bytes): its 'end' is gone or never comes from a socket that no longer reads.
    if (sourceEnded(sock)) this.#localEnd(st);
    else if (st.held.length === 0) sock.resume();
  }

  /** Server: the stream's application connection failed; the client's socket is reset. */
  refuse(st: MuxStream): void {
    this.#connecting--;
    this.#dropEarly(st);
    if (st.sockClosed) return; // Already ended (reset by the peer, or over the early-bytes cap), and counted then.
    this.#spendChurn();
    st.sockClosed = true;
    this.#forget(st, MuxReset.connectFailed);
  }

  #dropEarly(st: MuxStream): void {
    if (st.early === null) return;
    for (const b of st.early) this.#earlyBytes -= b.length;
    st.early = null;
  }

  /** Spends one token of the churn budget (a stream that ended before its application connection was made). */
  #spendChurn(): void {
    this.#refillChurn();
    this.#churnTokens--;
  }

  #refillChurn(): void {
    const now = performance.now();
    this.#churnTokens = Math.min(CHURN_PER_SECOND, this.#churnTokens + ((now - this.#churnAt) / 1000) * CHURN_PER_SECOND);
    this.#churnAt = now;
  }

  /**
   * Client: checks the peer still answers, on every stream open: a PING, unless one is
   * still unanswered (it covers this stream too), and the deadline moves. One timer per
   * connection; nothing read by the deadline, and the connection is given up (its
   * streams reset, the endpoint marked failed by the owner).
   */
  #probe(): void {
    const ms = this.#o.livenessMs ?? 0;
    if (ms <= 0 || (this.#livenessTimer !== undefined && !this.#heard)) return;
    this.#heard = false;
    this.#pingSeq++;
    this.#frame(MuxFrame.ping, 0);
    if (this.#livenessTimer !== undefined) {
      this.#livenessTimer.refresh();
      return;
    }
    this.#livenessTimer = setTimeout(() => {
      if (this.#heard) {
        this.#livenessTimer = undefined;
        return;
      }
      // Decided after this turn's reads: node runs expired timers before it reads the
      // sockets, so after a stall the answer may be waiting unread.
      const seq = this.#pingSeq;
      setImmediate(() => {
        if (seq !== this.#pingSeq) return; // A newer PING went out meanwhile: the refreshed timer decides.
        this.#livenessTimer = undefined;
        if (!this.#heard && !this.#closed) this.#fail(`the far proxy did not answer within ${ms} ms`);
      });
    }, ms);
    this.#livenessTimer.unref();
  }

  /** Takes no new streams; closes once the last one has ended. */
  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    // The client opens its next streams elsewhere instead of having them refused.
    if (this.#o.role === 'server' && !this.#closed) this.#frame(MuxFrame.goaway, 0);
    if (this.#streams.size === 0) this.#end();
  }

  /** Ends the connection after the frames gathered so far (the last stream's FIN or RST among them). */
  #end(): void {
    this.flush();
    this.socket.end();
  }

  /** Closes the connection now: every stream's socket is destroyed. */
  destroy(): void {
    this.socket.destroy();
  }

  // ── sending ──────────────────────────────────────────────────────────────

  /** Bytes read from a stream's local socket: returns false to stop reading it. */
  #onLocalData(st: MuxStream, view: Buffer): boolean {
    if (this.#closed || st.sockClosed) return true;
    if (st.held.length === 0 && !this.#congested) {
      const n = Math.min(view.length, st.sendWindow);
      if (n > 0) this.#data(st, view, 0, n);
      if (n === view.length) return true;
      st.held.push(Buffer.from(view.subarray(n)));
    } else {
      st.held.push(Buffer.from(view));
    }
    if (this.#congested) this.#blocked.add(st);
    return false;
  }

  /** Sends what `st` holds as far as its window and the connection allow, then its FIN, or reads on. */
  #pump(st: MuxStream): void {
    while (st.held.length > 0 && st.sendWindow > 0 && !this.#congested && !this.#closed) {
      const b = st.held[0]!;
      const n = Math.min(b.length, st.sendWindow);
      this.#data(st, b, 0, n);
      if (n === b.length) st.held.shift();
      else st.held[0] = b.subarray(n);
    }
    if (st.held.length > 0) {
      if (this.#congested) this.#blocked.add(st);
      return;
    }
    if (st.finPending) this.#sendFin(st);
    else if (st.sock !== null && !st.sockClosed) st.sock.resume();
    if (st.sockClosed) this.#forget(st, MuxReset.closed);
  }

  #data(st: MuxStream, src: Buffer, start: number, end: number): void {
    st.sendWindow -= end - start;
    st.bytesOut += end - start;
    for (let i = start; i < end; i += MAX_DATA_FRAME) {
      const n = Math.min(MAX_DATA_FRAME, end - i);
      const at = this.#reserve(MUX_HEADER_BYTES + n);
      writeMuxHeader(this.#out, at, st.id, MuxFrame.data, n);
      src.copy(this.#out, at + MUX_HEADER_BYTES, i, i + n);
    }
  }

  #frame(type: number, id: number, value?: number): void {
    // Answers the peer provokes (PONG, refusals) while it reads nothing: bounded.
    if (this.#congested && (type === MuxFrame.pong || (type === MuxFrame.rst && value !== MuxReset.closed))) {
      this.#unreadBytes += value === undefined ? MUX_HEADER_BYTES : MUX_HEADER_BYTES + 4;
      if (this.#unreadBytes > UNREAD_MAX_BYTES) {
        this.#fail('the far proxy reads nothing of what it asks for');
        return;
      }
    }
    const at = this.#reserve(value === undefined ? MUX_HEADER_BYTES : MUX_HEADER_BYTES + 4);
    writeMuxHeader(this.#out, at, id, type, value === undefined ? 0 : 4);
    if (value !== undefined) this.#out.writeUInt32BE(value, at + MUX_HEADER_BYTES);
  }

  /** Room for `n` bytes in the output buffer (grown, or flushed once at its largest); returns where they go. */
  #reserve(n: number): number {
    if (this.#off + n > this.#out.length) {
      if (this.#out.length < OUT_MAX_BYTES) {
        const grown = Buffer.allocUnsafe(Math.min(OUT_MAX_BYTES, this.#out.length * 2));
        this.#out.copy(grown, 0, 0, this.#off);
        this.#out = grown;
      } else {
        this.flush();
      }
    }
    const at = this.#off;
    this.#off += n;
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      setImmediate(flushMux, this);
    }
    return at;
  }

  /** Writes the gathered frames: one TLS write for everything this turn produced. */
  flush(): void {
    this.#flushQueued = false;
    if (this.#off === 0) return;
    const chunk = this.#out.subarray(0, this.#off);
    this.#off = 0;
    // A buffer grown by a burst goes back to its usual size once turns have been small
    // for a while (not after one: bulk traffic would grow it again at once).
    if (this.#out.length > OUT_BYTES) {
      this.#smallTurns = chunk.length <= OUT_BYTES / 2 ? this.#smallTurns + 1 : 0;
      if (this.#smallTurns >= SHRINK_AFTER_SMALL_TURNS) {
        this.#smallTurns = 0;
        this.#out = Buffer.allocUnsafe(OUT_BYTES);
      }
    }
    if (this.#closed || !this.socket.writable) return;
    // The writer encrypts (or copies) before it returns, so the buffer is free again.
    const w = this.#writer;
    if (w !== undefined) {
      if (!w.write(chunk, this.#onWritable)) this.#congested = true;
    } else if (!this.socket.write(Buffer.from(chunk))) {
      this.#congested = true;
      this.socket.once('drain', this.#onWritable);
    }
  }

  readonly #onWritable = (): void => {
    this.#congested = false;
    this.#unreadBytes = 0;
    const blocked = [...this.#blocked];
    this.#blocked.clear();
    for (const st of blocked) this.#pump(st);
  };

  #sendFin(st: MuxStream): void {
    if (st.finSent) return;
    st.finSent = true;
    this.#frame(MuxFrame.fin, st.id);
  }

  /** The local socket sent its FIN. */
  #localEnd(st: MuxStream): void {
    if (st.finPending) return;
    st.finPending = true;
    if (st.held.length === 0) this.#sendFin(st);
  }

  /** The local socket closed: the stream ends once what it holds is sent (a clean close), else at once. */
  #localClose(st: MuxStream): void {
    st.sockClosed = true;
    if (st.held.length > 0 && st.finPending && !this.#closed) return; // #pump forgets it after the FIN
    st.held = [];
    this.#forget(st, MuxReset.closed);
  }

  /** Removes `st`; tells the peer to reset its end unless both FINs went by or the peer reset it. */
  #forget(st: MuxStream, code: number): void {
    if (this.#streams.get(st.id) !== st) return;
    this.#streams.delete(st.id);
    this.#blocked.delete(st);
    this.#dropEarly(st);
    this.#o.onStreamClosed?.(st);
    if (!this.#closed && !st.rstRecv && !(st.finSent && st.finRecv)) this.#frame(MuxFrame.rst, st.id, code);
    if (this.#streams.size === 0) {
      if (this.#draining && !this.#closed) this.#end();
      else this.#armIdle();
    }
  }

  // ── receiving ────────────────────────────────────────────────────────────

  /** Bytes written out to a local socket: the peer may send as many more. */
  consumed(st: MuxStream, n: number): void {
    st.consumed += n;
    if (st.consumed < MUX_CREDIT_THRESHOLD || st.finRecv || this.#streams.get(st.id) !== st) return;
    st.recvWindow += st.consumed;
    this.#frame(MuxFrame.credit, st.id, st.consumed);
    st.consumed = 0;
  }

  /** A read from the TLS socket (a view valid during the call). */
  readonly #onChunk = (b: Buffer): boolean => {
    this.#heard = true;
    const n = b.length;
    let i = 0;
    while (i < n && !this.#closed) {
      if (this.#dataLeft > 0) {
        const take = Math.min(this.#dataLeft, n - i);
        this.#dataLeft -= take;
        const st = this.#dataStream;
        if (st !== undefined) this.#deliver(st, b.subarray(i, i + take));
        i += take;
        continue;
      }
      if (this.#partLen === 0 && n - i >= MUX_HEADER_BYTES + 4) {
        i += this.#dispatch(b, i);
        continue;
      }
      // A header split across reads: gather it (at most 12 bytes).
      i += this.#gather(b, i);
      const want = this.#partLen < MUX_HEADER_BYTES ? MUX_HEADER_BYTES : frameBytes(this.#part[4]!);
      if (this.#partLen < want) continue;
      this.#partLen = 0;
      this.#dispatch(this.#part, 0);
    }
    return true;
  };

  /** Copies the next header bytes of `b` from `i` into the partial header; returns how many. */
  #gather(b: Buffer, i: number): number {
    let used = 0;
    const take = (want: number): void => {
      const k = Math.min(want - this.#partLen, b.length - i - used);
      if (k <= 0) return;
      b.copy(this.#part, this.#partLen, i + used, i + used + k);
      this.#partLen += k;
      used += k;
    };
    if (this.#partLen < MUX_HEADER_BYTES) take(MUX_HEADER_BYTES);
    if (this.#partLen >= MUX_HEADER_BYTES) take(frameBytes(this.#part[4]!));
    return used;
  }

  /** Handles the frame whose header starts at `h[at]` (control payload included); returns the bytes it took. */
  #dispatch(h: Buffer, at: number): number {
    const id = h.readUInt32BE(at);
    const type = h[at + 4]!;
    const len = (h[at + 5]! << 16) | (h[at + 6]! << 8) | h[at + 7]!;
    const server = this.#o.role === 'server';
    if (type === MuxFrame.ping || type === MuxFrame.pong || type === MuxFrame.goaway) {
      if (id !== 0 || len !== 0) return this.#fail(`connection frame ${type} on stream ${id} with length ${len}`);
      if (type === MuxFrame.ping) this.#frame(MuxFrame.pong, 0);
      else if (type === MuxFrame.goaway && !server) this.#goneAway();
      return MUX_HEADER_BYTES;
    }
    if (id === 0 || (id > this.#lastId && !(server && type === MuxFrame.open))) return this.#fail(`frame for stream ${id}, which was never opened`);
    if (type === MuxFrame.data) {
      const st = this.#streams.get(id);
      if (st !== undefined) {
        if (st.finRecv) return this.#fail(`DATA after FIN on stream ${id}`);
        st.recvWindow -= len;
        st.bytesIn += len;
        if (st.recvWindow < 0) return this.#fail(`DATA beyond the window on stream ${id}`);
      }
      this.#dataStream = st;
      this.#dataLeft = len;
      return MUX_HEADER_BYTES;
    }
    const bytes = controlFrameBytes(type);
    if (bytes < 0) return this.#fail(`unknown frame type ${type}`);
    if (len !== bytes - MUX_HEADER_BYTES) return this.#fail(`frame type ${type} with length ${len}`);
    const st = this.#streams.get(id);
    if (type === MuxFrame.open) {
      if (!server || id <= this.#lastId) return this.#fail(`OPEN of stream ${id} out of order`);
      this.#lastId = id;
      if (this.#draining || this.#streams.size >= MUX_SERVER_MAX_STREAMS || this.#connecting >= MUX_SERVER_MAX_STREAMS) {
        this.#frame(MuxFrame.rst, id, MuxReset.refused);
        return bytes;
      }
      // Over the churn budget (an application port refusing while its clients retry, or
      // OPEN+RST churn): refused at once, without a connect, until the budget refills.
      // The streams that carry bytes are not touched.
      this.#refillChurn();
      if (this.#churnTokens < 0) {
        this.#frame(MuxFrame.rst, id, MuxReset.connectFailed);
        return bytes;
      }
      const s = new MuxStream(id, this);
      this.#streams.set(id, s);
      this.#connecting++;
      this.#disarmIdle();
      this.#o.onOpen?.(s);
      return bytes;
    }
    if (st === undefined) return bytes; // A stream this side already forgot (the frames crossed).
    if (type === MuxFrame.fin) {
      st.finRecv = true;
      if (st.sock !== null && !st.sockClosed) st.sock.end();
      else if (st.sockClosed && st.finSent) this.#forget(st, MuxReset.closed);
    } else if (type === MuxFrame.rst) {
      st.rstRecv = true;
      st.held = [];
      const s = st.sock;
      // Refused by the server (draining, or full): open the next streams elsewhere.
      if (!server && h.readUInt32BE(at + MUX_HEADER_BYTES) === MuxReset.refused) this.#goneAway();
      if (s === null) {
        if (server) this.#spendChurn();
        st.sockClosed = true;
        this.#forget(st, MuxReset.closed);
      } else if (s.writableEnded && !s.writableFinished) {
        s.once('finish', () => s.destroy());
      } else {
        s.destroy();
      }
    } else {
      const n = h.readUInt32BE(at + MUX_HEADER_BYTES);
      st.sendWindow += n;
      if (st.sendWindow > MAX_WINDOW) return this.#fail(`CREDIT overflow on stream ${id}`);
      if (st.held.length > 0) this.#pump(st);
    }
    return bytes;
  }

  /** DATA for `st`: to its local socket, or kept until that exists. */
  #deliver(st: MuxStream, view: Buffer): void {
    if (st.sockClosed) return;
    const s = st.sock;
    if (s === null) {
      // Past the cap (an application too slow to accept), the stream whose bytes cross
      // it is reset, as if its connect had failed; the connection and its other streams
      // go on (pausing the connection's reads would stall them all, PINGs included).
      if (this.#earlyBytes + view.length > MUX_MAX_EARLY_BYTES) {
        st.sockClosed = true;
        this.#forget(st, MuxReset.connectFailed);
        return;
      }
      (st.early ??= []).push(Buffer.from(view));
      this.#earlyBytes += view.length;
      return;
    }
    this.#writeLocal(st, s, view, true);
  }

  /**
   * Writes to a stream's socket: straight to its handle while nothing is queued (the
   * common case), else through its Writable (a copy when `borrowed`); credit follows
   * each write's completion.
   */
  #writeLocal(st: MuxStream, s: net.Socket, b: Buffer, borrowed: boolean): void {
    if (st.slowLens === null && st.directPending === 0) {
      const r = writeDirect(s, b, st.onDirect);
      if (r === 'done') {
        this.consumed(st, b.length);
        return;
      }
      if (r === 'pending') {
        // libuv keeps the view until the write completes: the next read must go elsewhere.
        if (borrowed) this.#reader?.retain();
        st.directPending = b.length;
        return;
      }
    }
    (st.slowLens ??= []).push(b.length);
    s.write(borrowed ? Buffer.from(b) : b, st.onSlow);
  }

  /** A protocol error: the connection is closed (every stream reset). Returns a count that ends the read loop. */
  #fail(reason: string): number {
    this.#error ??= new Error(`Close the mesh connection: ${reason}`);
    this.socket.destroy();
    this.#closed = true;
    return Number.MAX_SAFE_INTEGER;
  }

  #onClose(): void {
    this.#closed = true;
    this.#disarmIdle();
    if (this.#livenessTimer !== undefined) clearTimeout(this.#livenessTimer);
    for (const st of this.#streams.values()) {
      st.sockClosed = true;
      st.sock?.destroy();
      this.#o.onStreamClosed?.(st);
    }
    this.#streams.clear();
    this.#blocked.clear();
    this.#o.onClose?.(this.#error);
  }

  /** Client: the peer takes no new streams; this connection ends with its last one. */
  #goneAway(): void {
    if (this.#draining) return;
    this.#o.onGoaway?.();
    this.drain();
  }

  #armIdle(): void {
    const ms = this.#o.idleMs ?? 0;
    if (ms <= 0 || this.#closed || this.#idleTimer !== undefined) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#streams.size === 0) this.drain();
    }, ms);
    this.#idleTimer.unref();
  }

  #disarmIdle(): void {
    if (this.#idleTimer === undefined) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}

/** Header bytes (plus control payload) of a frame of `type`: DATA and unknown types have 8. */
function frameBytes(type: number): number {
  const b = controlFrameBytes(type);
  return b < 0 ? MUX_HEADER_BYTES : b;
}

function flushMux(m: MuxConnection): void {
  m.flush();
}
