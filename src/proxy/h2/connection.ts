/**
 * One HTTP/2 connection as the relay sees it: frames read from a socket and checked
 * against the protocol's connection rules, flow-control windows in both directions,
 * HPACK state, and frames written in one batch per event-loop turn. It knows streams
 * only as `RelayStream`s and hands every stream event to its `StreamHandler` (the
 * relay), which joins a stream on this connection to one on another.
 *
 * A connection is a server to a downstream client (it accepts streams) or a client to
 * an upstream (it opens them). Both advertise the same windows: 1 MiB per stream and
 * 8 MiB for the connection, so a large message crosses a hop without waiting for a
 * WINDOW_UPDATE round trip. Credit goes back to a sender only when its bytes were
 * handed to the other side, so a slow reader slows its writer and the proxy holds at
 * most the windows it advertised.
 */
import type { Duplex } from 'node:stream';
import {
  CLIENT_PREFACE, DEFAULT_MAX_FRAME_SIZE, DEFAULT_WINDOW, ErrorCode, Flag, FRAME_HEADER_LENGTH, FrameType,
  goawayFrame, H2ConnectionError, MAX_WINDOW, pingAckFrame, pingFrame, rstStreamFrame, Setting, SETTINGS_ACK, settingsFrame,
  windowUpdateFrame, writeFrameHeader,
} from './frame.ts';
import { HeaderListTooLargeError, HpackDecoder, HpackEncoder } from './hpack.ts';
import type { RelayStream, StreamHalf } from './relay-stream.ts';

/** The receive window of each stream this proxy advertises. */
export const STREAM_WINDOW = 1 << 20;
/** The connection-level receive window this proxy opens to after the preface. */
export const CONNECTION_WINDOW = 8 << 20;
/** Streams a client may have open on one downstream connection. */
export const MAX_CONCURRENT_STREAMS = 1024;
/** Above this many bytes waiting to go out, no more DATA or new streams are queued until 'drain'. */
const CONGESTED_BYTES = 1 << 20;
/**
 * A peer that lets this many bytes of frames it provoked (PING and SETTINGS ACKs,
 * stream resets) pile up unread is cut off: a PING or SETTINGS flood.
 */
const FLOOD_BYTES = 1 << 20;
/** Client resets a connection may spend at once, and regains per second (rapid reset, CVE-2023-44487). */
const RESET_BURST = 1000;
const RESETS_PER_SECOND = 200;
/**
 * SETTINGS frames a peer may send at once, and regains per second. Each one is
 * acknowledged, and one that changes INITIAL_WINDOW_SIZE walks every open stream
 * (RFC 9113 §6.9.2): 17–20 µs with a thousand streams. Peers send one at the start and
 * a few later (grpc-go's BDP estimator raises the window some eight times per
 * connection); a peer that reads its ACKs escapes the flood rule below, so this bucket
 * bounds what a SETTINGS flood costs, as the reset budget bounds rapid reset.
 */
const SETTINGS_BURST = 100;
const SETTINGS_PER_SECOND = 10;
/**
 * Keepalive ticks (a third of the idle timeout each, see H2Relay) an upstream connection
 * with streams open may stay silent, pinged after the first, before it is taken for dead.
 */
const SILENT_TICKS = 3;
/** Bytes waiting in a socket past which the connection is cut, whatever they are. */
const BACKSTOP_BYTES = 16 << 20;
/**
 * The two PINGs that follow, one after the other, an upstream's first SETTINGS when
 * they put streams over its limit. Two: nghttp2 sends PING ACKs ahead of the resets it
 * queued before them, but not ahead of resets queued before a later PING.
 */
const LIMIT_PING = Buffer.from('weft-li1', 'latin1');
const LIMIT_PING_2 = Buffer.from('weft-li2', 'latin1');
/** The payload of the PINGs that keep a connection with quiet streams from looking idle. */
const KEEPALIVE_PING = Buffer.from('weft-ka!', 'latin1');
/** Streams opened on an upstream before its first SETTINGS tell its limit. */
const ASSUMED_MAX_CONCURRENT = 100;
/** How long a connection ended with GOAWAY may take to close before it is destroyed. */
const CLOSE_GRACE_MS = 1000;

/** What a connection reports; the relay implements it. */
export type StreamHandler = {
  /** A new stream from a downstream client: its decoded request header block. */
  onRequest(conn: H2Connection, id: number, fields: string[], endStream: boolean): void;
  /** A new stream whose header block exceeded the limit (decoded, then dropped). */
  onRequestTooLarge(conn: H2Connection, id: number, endStream: boolean): void;
  /** A header block on a known stream (response headers, or trailers either way); undefined when too large. */
  onHeaders(conn: H2Connection, stream: RelayStream, fields: string[] | undefined, endStream: boolean): void;
  /** DATA on a known stream, padding removed; flow control already accounted. */
  onData(conn: H2Connection, stream: RelayStream, payload: Buffer, endStream: boolean): void;
  /** The peer reset a known stream. */
  onReset(conn: H2Connection, stream: RelayStream, code: number): void;
  /** The peer broke a stream rule (RFC 9113 §5.4.2): reset the stream on `conn` with `code`. */
  onStreamError(conn: H2Connection, stream: RelayStream, code: number): void;
  /** The peer's MAX_CONCURRENT_STREAMS grew: streams waiting for this connection may start. */
  onCapacity(conn: H2Connection): void;
  /** Room to send on `conn` again, for `stream`. */
  pump(stream: RelayStream, conn: H2Connection): void;
  /** The peer sent GOAWAY: streams above `lastStreamId` were not processed. */
  onGoaway(conn: H2Connection, lastStreamId: number): void;
  /** The connection is gone: every stream still on it must end. */
  onClose(conn: H2Connection): void;
};

/** Which end of the connection this proxy is. */
export type Role = 'server' | 'client';

/** A bounded token bucket (stream resets, SETTINGS frames). */
type ResetBudget = { tokens: number; at: number };

/**
 * Takes one token from `r` (`burst` at most, `perSecond` regained), or throws the
 * ENHANCE_YOUR_CALM connection error saying `what` when none is left.
 */
function spend(r: ResetBudget, burst: number, perSecond: number, what: string): void {
  const now = performance.now();
  r.tokens = Math.min(burst, r.tokens + ((now - r.at) / 1000) * perSecond);
  r.at = now;
  if (r.tokens < 1) throw new H2ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, what);
  r.tokens -= 1;
}

/** The SETTINGS deadline of a client connection passed (a timer callback: no closure per connection). */
function settingsOverdue(c: H2Connection): void {
  c.abort(504, 'the upstream sent no HTTP/2 SETTINGS in time');
}

/** One HTTP/2 connection, server or client side. */
export class H2Connection {
  readonly socket: Duplex;
  readonly role: Role;
  /** Streams on this connection, by this connection's stream id. */
  readonly streams = new Map<number, RelayStream>();
  /** Streams waiting for this connection's flow-control window or socket. */
  readonly blocked = new Set<RelayStream>();
  /** Streams waiting to open (client side): for the peer's MAX_CONCURRENT_STREAMS, or a congested socket. */
  readonly waiting: RelayStream[] = [];
  /** The peer's SETTINGS that shape what we send. */
  peerInitialWindow = DEFAULT_WINDOW;
  peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  peerMaxConcurrent: number;
  /** How much DATA the peer lets us send on the connection. */
  sendWindow = DEFAULT_WINDOW;
  /** The highest stream id the peer opened (server side). */
  lastPeerStreamId = 0;
  /** No new streams: a GOAWAY was sent or received. */
  goingAway = false;
  /** The socket is gone or the connection failed. */
  closed = false;
  /**
   * Why the proxy gave up on the connection (no SETTINGS in time, silent with streams
   * open), and the status its unanswered requests get; undefined: the peer or the
   * socket ended it (502).
   */
  failure: { status: number; reason: string } | undefined = undefined;
  /** Bytes arrived since the last keepalive tick (`checkAlive`). */
  #heard = false;
  /** Keepalive ticks in a row without a byte from the peer while streams were open. */
  #silentTicks = 0;
  /** The deadline for an upstream's first SETTINGS (client side), until they come. */
  #settingsTimer: NodeJS.Timeout | undefined;
  /** `congested` said yes while a flush was pending: that flush arms the wake. */
  #congestedSeen = false;
  /** Reading stopped until the socket drains (a client that reads nothing). */
  #readPaused = false;
  /** Streams opened before the first SETTINGS that those SETTINGS put over the limit, until the PING after them comes back. */
  readonly #overLimit = new Set<number>();
  /** Bytes of provoked frames not yet sent (never more than what waits in the socket). */
  #provoked = 0;
  /** A wake of the blocked streams is scheduled (next turn or 'drain'). */
  #wakeArmed = false;
  /** Per-connection state of whoever serves it (the relay's options for a downstream connection). */
  context: unknown;

  readonly #handler: StreamHandler;
  readonly #decoder: HpackDecoder;
  readonly #encoder = new HpackEncoder();
  #recvWindow = DEFAULT_WINDOW;
  #recvCredit = 0;
  #nextStreamId = 1;
  #prefaceNeeded: boolean;
  #settingsSeen = false;
  #pending: Buffer | undefined;
  #block: { id: number; parts: Buffer[]; bytes: number; endStream: boolean } | undefined;
  readonly #maxBlockBytes: number;
  #out: Buffer[] = [];
  #outBytes = 0;
  #flushQueued = false;
  #resets: ResetBudget = { tokens: RESET_BURST, at: 0 };
  #settingsBudget: ResetBudget = { tokens: SETTINGS_BURST, at: 0 };
  readonly #gone: Array<() => void> = [];

  /** `context`: the serving side's per-connection state, set before the first frame is read. */
  constructor(socket: Duplex, role: Role, handler: StreamHandler, maxHeaderListSize: number, context?: unknown) {
    this.socket = socket;
    this.context = context;
    this.role = role;
    this.#handler = handler;
    this.#decoder = new HpackDecoder(maxHeaderListSize);
    // A block may be larger than the list it decodes to only by HPACK's overhead;
    // twice the list plus a frame bounds a CONTINUATION flood.
    this.#maxBlockBytes = 2 * maxHeaderListSize + DEFAULT_MAX_FRAME_SIZE;
    this.#prefaceNeeded = role === 'server';
    // Until an upstream's SETTINGS say otherwise, assume the common limit of 100 streams
    // rather than none: streams over an unknown lower limit would be refused.
    this.peerMaxConcurrent = role === 'client' ? ASSUMED_MAX_CONCURRENT : Number.POSITIVE_INFINITY;
    socket.on('data', (chunk: Buffer) => this.#onBytes(chunk));
    // HTTP/2 has no half-close of its own: a peer's FIN means it is gone.
    socket.on('end', () => socket.end());
    socket.on('error', noop);
    socket.on('close', () => this.#onSocketClose());
    // Detection may have paused the socket; a 'data' listener alone does not resume it then.
    socket.resume();
    if (role === 'client') this.#queue(CLIENT_PREFACE);
    const settings: Array<[number, number]> = [[Setting.INITIAL_WINDOW_SIZE, STREAM_WINDOW], [Setting.MAX_HEADER_LIST_SIZE, maxHeaderListSize]];
    if (role === 'server') settings.push([Setting.MAX_CONCURRENT_STREAMS, MAX_CONCURRENT_STREAMS]);
    else settings.push([Setting.ENABLE_PUSH, 0]);
    this.#queue(settingsFrame(settings));
    this.#queue(windowUpdateFrame(0, CONNECTION_WINDOW - DEFAULT_WINDOW));
    this.#recvWindow = CONNECTION_WINDOW;
  }

  /**
   * Names of the fields the block just decoded sent as never indexed (RFC 7541 §7.1.3:
   * an intermediary must forward them so). Read it in the handler call of that block.
   */
  get neverIndexed(): readonly string[] {
    return this.#decoder.neverIndexed;
  }

  /**
   * Whether more than `CONGESTED_BYTES` wait to go out (queued this turn or in the
   * socket): DATA waits for 'drain'. Checked per frame, so one turn that pumps many
   * streams cannot pile up more than that.
   */
  get congested(): boolean {
    if (this.#outBytes + this.socket.writableLength <= CONGESTED_BYTES) return false;
    // Someone waits: the flush of this turn's bytes wakes the blocked streams; with
    // nothing of ours queued, the socket's own 'drain' does (it is over its mark).
    if (this.#flushQueued) this.#congestedSeen = true;
    else this.#armWake(false);
    return true;
  }

  /** Pumps the blocked streams once there is room: on the next turn, or on 'drain'. */
  #armWake(writable: boolean): void {
    if (this.#wakeArmed) return;
    this.#wakeArmed = true;
    const wake = (): void => {
      this.#wakeArmed = false;
      this.#pumpBlocked();
    };
    if (writable) setImmediate(wake);
    else this.socket.once('drain', wake);
  }

  /** Whether the peer's first SETTINGS arrived: the HTTP/2 connection is established. */
  get established(): boolean {
    return this.#settingsSeen;
  }

  /**
   * Client side: gives the upstream `ms` to send its first SETTINGS (counted from now:
   * the TCP connect of a plain upstream included). Past it the connection is aborted
   * with 504: its streams never reached a working HTTP/2 server.
   */
  expectSettingsWithin(ms: number): void {
    if (ms > 0 && !this.#settingsSeen && !this.closed) {
      this.#settingsTimer = setTimeout(settingsOverdue, ms, this);
      this.#settingsTimer.unref();
    }
  }

  /**
   * One keepalive tick of an upstream connection (H2Relay's, every third of the idle
   * timeout). With streams open and nothing heard since the last tick, the upstream is
   * pinged (any answer is a byte); silent for `SILENT_TICKS` ticks in a row, about the
   * idle timeout, it is taken for dead and aborted with 504.
   */
  checkAlive(): void {
    if (this.closed) return;
    if (this.#heard || (this.streams.size === 0 && this.waiting.length === 0)) {
      this.#heard = false;
      this.#silentTicks = 0;
      return;
    }
    if (++this.#silentTicks >= SILENT_TICKS) {
      this.abort(504, 'the upstream answered nothing, not even a PING, for the idle timeout');
      return;
    }
    this.ping();
  }

  /**
   * Gives up on the connection at once: its streams end as the relay ends streams of a
   * lost connection, those without a response answered `status` with `reason`.
   */
  abort(status: number, reason: string): void {
    if (this.closed) return;
    this.failure = { status, reason };
    this.#close();
    this.socket.destroy();
  }

  /** Whether a new stream may be opened on this (client) connection now or soon. */
  get usable(): boolean {
    return !this.closed && !this.goingAway;
  }

  /** Calls `cb` once, when the connection stops taking new streams (GOAWAY either way, or closed). */
  onGone(cb: () => void): void {
    if (this.closed || this.goingAway) cb();
    else this.#gone.push(cb);
  }

  /** Whether the peer's MAX_CONCURRENT_STREAMS allows one more stream now (client side). */
  canOpen(): boolean {
    // A congested socket takes no new request heads either: they wait with the rest.
    return this.streams.size < this.peerMaxConcurrent && !this.congested;
  }

  /**
   * Whether request DATA may go out on stream `id` (client side): not before the
   * upstream's first SETTINGS, nor on a stream those SETTINGS put over its stream limit
   * (it will be refused): a refused stream is sent again only if none of its body went.
   */
  bodyAllowed(id: number): boolean {
    return this.#settingsSeen && !this.#overLimit.has(id);
  }

  /** Opens a stream for `stream` (client side): its id, in increasing order. */
  open(stream: RelayStream): number {
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    this.streams.set(id, stream);
    // Ids run out at 2^31: stop taking streams well before, so a new connection is made.
    if (this.#nextStreamId > 0x7fff_0000) this.#goAway(false);
    return id;
  }

  /**
   * Removes a finished stream: a stream waiting for the peer's limit may start in its
   * place; a connection going away closes with its last stream.
   */
  forget(id: number, stream: RelayStream): void {
    if (this.streams.get(id) === stream) this.streams.delete(id);
    if (this.#overLimit.size > 0) this.#overLimit.delete(id);
    this.blocked.delete(stream);
    if (this.waiting.length > 0) {
      const w = this.waiting.indexOf(stream);
      if (w !== -1) this.waiting.splice(w, 1);
      if (this.waiting.length > 0 && this.canOpen() && this.usable) this.#handler.onCapacity(this);
    }
    if (this.goingAway && this.streams.size === 0 && this.waiting.length === 0) this.#endGracefully();
  }

  /** Writes a header block (HEADERS, then CONTINUATION frames when it exceeds the peer's frame size). */
  writeHeaders(id: number, fields: readonly string[], endStream: boolean, neverIndexed?: readonly string[]): void {
    if (this.closed) return;
    const block = this.#encoder.encode(fields, neverIndexed);
    const max = this.peerMaxFrameSize;
    const endFlag = endStream ? Flag.END_STREAM : 0;
    if (block.length <= max) {
      const f = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + block.length);
      writeFrameHeader(f, 0, block.length, FrameType.HEADERS, endFlag | Flag.END_HEADERS, id);
      block.copy(f, FRAME_HEADER_LENGTH);
      this.#queue(f);
      return;
    }
    for (let at = 0; at < block.length; at += max) {
      const part = block.subarray(at, Math.min(at + max, block.length));
      const last = at + max >= block.length;
      const type = at === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
      const flags = (at === 0 ? endFlag : 0) | (last ? Flag.END_HEADERS : 0);
      const h = Buffer.allocUnsafe(FRAME_HEADER_LENGTH);
      writeFrameHeader(h, 0, part.length, type, flags, id);
      this.#queue(h);
      this.#queue(part);
    }
  }

  /** Writes one DATA frame (the caller has checked the windows and the frame size). */
  writeData(id: number, payload: Buffer, endStream: boolean): void {
    if (this.closed) return;
    const h = Buffer.allocUnsafe(FRAME_HEADER_LENGTH);
    writeFrameHeader(h, 0, payload.length, FrameType.DATA, endStream ? Flag.END_STREAM : 0, id);
    this.#queue(h);
    if (payload.length > 0) this.#queue(payload);
  }

  /** Resets stream `id`. */
  writeReset(id: number, code: number): void {
    if (this.closed) return;
    // A client's own resets and the stream errors it causes are its doing; an upstream
    // stream cancelled because its client left is not the upstream's.
    if (this.role === 'server') this.#queueProvoked(rstStreamFrame(id, code));
    else this.#queue(rstStreamFrame(id, code));
  }

  /**
   * Gives back credit for `n` bytes the peer sent on `half` (its stream `id`), now
   * handed on: WINDOW_UPDATE frames once half a window is owed, not per frame.
   */
  consumed(id: number, half: StreamHalf | undefined, n: number): void {
    if (this.closed) return;
    this.#recvCredit += n;
    if (this.#recvCredit >= CONNECTION_WINDOW / 2) {
      this.#queue(windowUpdateFrame(0, this.#recvCredit));
      this.#recvWindow += this.#recvCredit;
      this.#recvCredit = 0;
    }
    if (half === undefined || half.ended) return;
    half.credit += n;
    if (half.credit >= STREAM_WINDOW / 2) {
      this.#queue(windowUpdateFrame(id, half.credit));
      half.recvWindow += half.credit;
      half.credit = 0;
    }
  }

  /** Sends a PING: its ACK moves bytes on a connection whose streams are quiet (see H2Relay's keepalive). */
  ping(): void {
    if (!this.closed) this.#queue(pingFrame(KEEPALIVE_PING));
  }

  /**
   * Stops taking new streams: GOAWAY now, close once the streams in flight are done
   * (drain, or an upstream's endpoint removed). Streams still waiting to open on an
   * upstream never went out: the relay sends them elsewhere (as for a GOAWAY received).
   */
  close(): void {
    this.#goAway(true);
    if (this.role === 'client' && this.waiting.length > 0 && !this.closed) this.#handler.onGoaway(this, this.#nextStreamId - 2);
  }

  /** Ends the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }

  #goAway(send: boolean): void {
    if (this.closed) return;
    if (!this.goingAway) {
      this.goingAway = true;
      if (send) this.#queue(goawayFrame(this.lastPeerStreamId, ErrorCode.NO_ERROR));
      this.#notifyGone();
    }
    if (this.streams.size === 0 && this.waiting.length === 0) this.#endGracefully();
  }

  #endGracefully(): void {
    if (this.closed) return;
    this.flush();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  #notifyGone(): void {
    const cbs = this.#gone.splice(0);
    for (const cb of cbs) cb();
  }

  /** Queues a frame the peer's own frames called for, counted against `FLOOD_BYTES`. */
  #queueProvoked(b: Buffer): void {
    this.#provoked += b.length;
    this.#queue(b);
  }

  #queue(b: Buffer): void {
    this.#out.push(b);
    this.#outBytes += b.length;
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      process.nextTick(flushConnection, this);
    }
  }

  /** Writes what this turn queued as one buffer (one TLS record or syscall, not one per frame). */
  flush(): void {
    this.#flushQueued = false;
    if (this.#out.length === 0) return;
    const out = this.#out.length === 1 ? this.#out[0]! : Buffer.concat(this.#out, this.#outBytes);
    this.#out = [];
    this.#outBytes = 0;
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return;
    const writable = socket.write(out);
    if (this.#congestedSeen) {
      this.#congestedSeen = false;
      this.#armWake(writable);
    }
    // DATA and new streams stop at CONGESTED_BYTES (`congested`); what a peer that reads
    // nothing can still pile up is the frames it provokes. What is still waiting bounds
    // what is still owed to it.
    const waiting = socket.writableLength;
    this.#provoked = Math.min(this.#provoked, waiting);
    if (this.#provoked > FLOOD_BYTES || waiting > BACKSTOP_BYTES) {
      socket.destroy();
      return;
    }
    // A client that reads nothing would still make the proxy answer (400s, response
    // heads): its requests wait unread until its socket drains.
    if (this.role === 'server' && waiting > CONGESTED_BYTES && !this.#readPaused) {
      this.#readPaused = true;
      socket.pause();
      socket.once('drain', () => {
        this.#readPaused = false;
        socket.resume();
      });
    }
  }

  /**
   * Room again (window, socket, or the peer's first SETTINGS): pumps blocked streams
   * in the order they blocked (a stream that blocks again goes to the back), only
   * those with stream window left, and only while the connection has window and the
   * socket room, so a peer granting a byte at a time does not make every blocked
   * stream run per frame. Then streams waiting to open may start.
   */
  #pumpBlocked(): void {
    // Over a snapshot: a stream that blocks again is re-added, and a Set's iteration
    // would visit it again in the same loop.
    for (const s of [...this.blocked]) {
      if (this.sendWindow <= 0 || this.congested || !this.#settingsSeen) break;
      const half = s.down === this ? s.res : s.req;
      if (half.sendWindow <= 0 && half.queued > 0) continue; // its own WINDOW_UPDATE wakes it
      this.blocked.delete(s);
      this.#handler.pump(s, this);
    }
    if (this.waiting.length > 0 && this.canOpen() && this.usable) this.#handler.onCapacity(this);
  }

  #onSocketClose(): void {
    if (!this.closed) this.#close();
  }

  /** Marks the connection gone and ends every stream on it, once. */
  #close(): void {
    this.closed = true;
    clearTimeout(this.#settingsTimer);
    this.goingAway = true;
    this.#pending = undefined;
    this.#out = [];
    this.#notifyGone();
    this.#handler.onClose(this);
  }

  /** A connection error: GOAWAY with `code`, then the socket ends. */
  #fail(err: H2ConnectionError): void {
    if (this.closed) return;
    this.#queue(goawayFrame(this.lastPeerStreamId, err.code));
    this.flush();
    this.#close();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  #onBytes(chunk: Buffer): void {
    if (this.closed) return;
    this.#heard = true;
    let b = chunk;
    if (this.#pending !== undefined) {
      b = Buffer.concat([this.#pending, chunk]);
      this.#pending = undefined;
    }
    let at = 0;
    try {
      if (this.#prefaceNeeded) {
        if (b.length < CLIENT_PREFACE.length) {
          if (!CLIENT_PREFACE.subarray(0, b.length).equals(b)) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'not an HTTP/2 client preface');
          this.#pending = b;
          return;
        }
        if (!CLIENT_PREFACE.equals(b.subarray(0, CLIENT_PREFACE.length))) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'not an HTTP/2 client preface');
        this.#prefaceNeeded = false;
        at = CLIENT_PREFACE.length;
      }
      while (b.length - at >= FRAME_HEADER_LENGTH) {
        const length = (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
        // We never raise SETTINGS_MAX_FRAME_SIZE: 16 KiB is every frame's bound.
        if (length > DEFAULT_MAX_FRAME_SIZE) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `frame of ${length} bytes`);
        const end = at + FRAME_HEADER_LENGTH + length;
        if (end > b.length) break;
        const type = b[at + 3]!;
        const flags = b[at + 4]!;
        const id = b.readUInt32BE(at + 5) & 0x7fff_ffff;
        this.#frame(type, flags, id, b, at + FRAME_HEADER_LENGTH, end);
        if (this.closed) return;
        at = end;
      }
    } catch (err) {
      if (err instanceof H2ConnectionError) {
        this.#fail(err);
        return;
      }
      throw err;
    }
    // A partial frame waits for the rest; copied when small, so it does not keep its whole read alive.
    if (at < b.length) this.#pending = b.length - at < b.length / 2 ? Buffer.from(b.subarray(at)) : at === 0 ? b : b.subarray(at);
  }

  #frame(type: number, flags: number, id: number, b: Buffer, start: number, end: number): void {
    if (this.#block !== undefined && type !== FrameType.CONTINUATION) {
      throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'frame in the middle of a header block');
    }
    if (!this.#settingsSeen && (type !== FrameType.SETTINGS || (flags & Flag.ACK) !== 0)) {
      throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'the first frame must be SETTINGS');
    }
    switch (type) {
      case FrameType.DATA: this.#data(flags, id, b, start, end); return;
      case FrameType.HEADERS: this.#headers(flags, id, b, start, end); return;
      case FrameType.CONTINUATION: this.#continuation(flags, id, b, start, end); return;
      case FrameType.PRIORITY:
        if (id === 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PRIORITY on stream 0');
        if (end - start !== 5) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'PRIORITY of the wrong size');
        return;
      case FrameType.RST_STREAM: this.#rstStream(id, b, start, end); return;
      case FrameType.SETTINGS: this.#settings(flags, id, b, start, end); return;
      case FrameType.PUSH_PROMISE: throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PUSH_PROMISE, which this proxy disables');
      case FrameType.PING:
        if (id !== 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PING on a stream');
        if (end - start !== 8) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'PING of the wrong size');
        if ((flags & Flag.ACK) === 0) this.#queueProvoked(pingAckFrame(b.subarray(start, end)));
        else if (this.#overLimit.size > 0 && LIMIT_PING.equals(b.subarray(start, end))) this.#queue(pingFrame(LIMIT_PING_2));
        else if (this.#overLimit.size > 0 && LIMIT_PING_2.equals(b.subarray(start, end))) {
          this.#overLimit.clear();
          this.#pumpBlocked();
        }
        return;
      case FrameType.GOAWAY: {
        if (id !== 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'GOAWAY on a stream');
        if (end - start < 8) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'GOAWAY too short');
        const last = b.readUInt32BE(start) & 0x7fff_ffff;
        const wasGoing = this.goingAway;
        this.goingAway = true;
        if (!wasGoing) this.#notifyGone();
        this.#handler.onGoaway(this, last);
        if (this.streams.size === 0 && this.waiting.length === 0) this.#endGracefully();
        return;
      }
      case FrameType.WINDOW_UPDATE: this.#windowUpdate(id, b, start, end); return;
      default: return; // Unknown frame types are ignored (RFC 9113 §5.5).
    }
  }

  /** Whether `id` names a stream that was never opened. */
  #isIdle(id: number): boolean {
    if (this.role === 'server') return id > this.lastPeerStreamId;
    return (id & 1) === 0 || id >= this.#nextStreamId;
  }

  #data(flags: number, id: number, b: Buffer, start: number, end: number): void {
    if (id === 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'DATA on stream 0');
    const length = end - start;
    if (length > this.#recvWindow) throw new H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'DATA beyond the connection window');
    this.#recvWindow -= length;
    let s = start;
    let e = end;
    if ((flags & Flag.PADDED) !== 0) {
      if (length < 1) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'padded DATA without its pad length');
      const pad = b[s]!;
      s++;
      if (pad > e - s) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'padding longer than the frame');
      e -= pad;
    }
    const stream = this.streams.get(id);
    if (stream === undefined) {
      if (this.#isIdle(id)) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'DATA on an idle stream');
      // A stream that ended or was reset: frames in flight are dropped, their credit returned.
      this.consumed(id, undefined, length);
      return;
    }
    const half = stream.down === this ? stream.req : stream.res;
    if (half.ended) {
      this.consumed(id, undefined, length);
      this.#handler.onStreamError(this, stream, ErrorCode.STREAM_CLOSED);
      return;
    }
    if (length > half.recvWindow) {
      this.consumed(id, undefined, length);
      this.#handler.onStreamError(this, stream, ErrorCode.FLOW_CONTROL_ERROR);
      return;
    }
    half.recvWindow -= length;
    // Padding is never forwarded: its credit goes back at once.
    if (e - s < length) this.consumed(id, half, length - (e - s));
    this.#handler.onData(this, stream, b.subarray(s, e), (flags & Flag.END_STREAM) !== 0);
  }

  #headers(flags: number, id: number, b: Buffer, start: number, end: number): void {
    if (id === 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'HEADERS on stream 0');
    let s = start;
    let e = end;
    if ((flags & Flag.PADDED) !== 0) {
      if (e - s < 1) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'padded HEADERS without its pad length');
      const pad = b[s]!;
      s++;
      if (pad > e - s) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'padding longer than the frame');
      e -= pad;
    }
    if ((flags & Flag.PRIORITY) !== 0) {
      if (e - s < 5) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'HEADERS too short for its priority');
      s += 5;
    }
    const endStream = (flags & Flag.END_STREAM) !== 0;
    const fragment = b.subarray(s, e);
    if ((flags & Flag.END_HEADERS) !== 0) {
      this.#headerBlock(id, fragment, endStream);
      return;
    }
    this.#block = { id, parts: [fragment], bytes: fragment.length, endStream };
  }

  #continuation(flags: number, id: number, b: Buffer, start: number, end: number): void {
    const block = this.#block;
    if (block === undefined || block.id !== id) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'CONTINUATION without its HEADERS');
    block.parts.push(b.subarray(start, end));
    block.bytes += end - start;
    if (block.bytes > this.#maxBlockBytes) throw new H2ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, 'header block too large');
    if ((flags & Flag.END_HEADERS) === 0) return;
    this.#block = undefined;
    this.#headerBlock(id, Buffer.concat(block.parts, block.bytes), block.endStream);
  }

  #headerBlock(id: number, block: Buffer, endStream: boolean): void {
    // Every block is decoded, whatever becomes of its stream: the HPACK table must stay in step.
    let fields: string[] | undefined;
    try {
      fields = this.#decoder.decode(block);
    } catch (err) {
      if (!(err instanceof HeaderListTooLargeError)) throw new H2ConnectionError(ErrorCode.COMPRESSION_ERROR, (err as Error).message);
    }
    const stream = this.streams.get(id);
    if (stream !== undefined) {
      this.#handler.onHeaders(this, stream, fields, endStream);
      return;
    }
    if (this.role === 'client' || !this.#isIdle(id)) {
      if (this.#isIdle(id)) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'HEADERS on a stream this proxy did not open');
      // A new request on an id below one already used breaks RFC 9113 §5.1.1; trailers
      // still in flight for a stream that ended or was reset are dropped.
      if (this.role === 'server' && fields !== undefined && fields[0]?.charCodeAt(0) === 0x3a) {
        throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'a new stream with a lower id');
      }
      return;
    }
    if ((id & 1) === 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'a client stream with an even id');
    this.lastPeerStreamId = id;
    if (this.goingAway) {
      this.#queue(rstStreamFrame(id, ErrorCode.REFUSED_STREAM));
      return;
    }
    if (this.streams.size >= MAX_CONCURRENT_STREAMS) {
      this.#queue(rstStreamFrame(id, ErrorCode.REFUSED_STREAM));
      return;
    }
    if (fields === undefined) this.#handler.onRequestTooLarge(this, id, endStream);
    else this.#handler.onRequest(this, id, fields, endStream);
  }

  #rstStream(id: number, b: Buffer, start: number, end: number): void {
    if (id === 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'RST_STREAM on stream 0');
    if (end - start !== 4) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'RST_STREAM of the wrong size');
    if (this.#isIdle(id)) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'RST_STREAM on an idle stream');
    const stream = this.streams.get(id);
    if (stream === undefined) return;
    if (this.role === 'server') this.spendReset();
    this.#handler.onReset(this, stream, b.readUInt32BE(start));
  }

  /**
   * Counts one reset a client caused (its own RST_STREAM, or a stream error it
   * provoked); a client resetting streams faster than it could use them is attacking
   * the upstream and is cut off: throws the ENHANCE_YOUR_CALM connection error.
   */
  spendReset(): void {
    spend(this.#resets, RESET_BURST, RESETS_PER_SECOND, 'too many stream resets');
  }

  #settings(flags: number, id: number, b: Buffer, start: number, end: number): void {
    if (id !== 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if ((flags & Flag.ACK) !== 0) {
      if (end !== start) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload');
      return;
    }
    if ((end - start) % 6 !== 0) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS of the wrong size');
    spend(this.#settingsBudget, SETTINGS_BURST, SETTINGS_PER_SECOND, 'too many SETTINGS frames');
    // The first SETTINGS without a stream limit means none.
    const first = !this.#settingsSeen;
    if (first) clearTimeout(this.#settingsTimer);
    if (first && this.role === 'client') this.peerMaxConcurrent = Number.POSITIVE_INFINITY;
    const openBefore = first && this.role === 'client' ? [...this.streams.keys()] : [];
    this.#settingsSeen = true;
    let windowDelta = 0;
    for (let at = start; at < end; at += 6) {
      const key = b.readUInt16BE(at);
      const value = b.readUInt32BE(at + 2);
      switch (key) {
        case Setting.ENABLE_PUSH:
          if (value > 1) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'ENABLE_PUSH above 1');
          break;
        case Setting.MAX_CONCURRENT_STREAMS:
          this.peerMaxConcurrent = value;
          break;
        case Setting.INITIAL_WINDOW_SIZE:
          if (value > MAX_WINDOW) throw new H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'INITIAL_WINDOW_SIZE above 2^31-1');
          windowDelta += value - this.peerInitialWindow;
          this.peerInitialWindow = value;
          break;
        case Setting.MAX_FRAME_SIZE:
          if (value < DEFAULT_MAX_FRAME_SIZE || value > 0xff_ffff) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'MAX_FRAME_SIZE out of range');
          this.peerMaxFrameSize = value;
          break;
        case Setting.HEADER_TABLE_SIZE:
          // Our next block starts with the size update; it goes after the ACK queued below.
          this.#encoder.setMaxTableSize(value);
          break;
        default:
          break;
      }
    }
    this.#queueProvoked(SETTINGS_ACK);
    // The server takes the first streams up to its limit, in id order, and refuses the
    // rest at once, so its refusals come before the ACK of the second of two PINGs sent
    // in turn from now: then the streams it did not refuse (a lenient server) get their bodies.
    for (let i = this.peerMaxConcurrent; i < openBefore.length; i++) this.#overLimit.add(openBefore[i]!);
    if (this.#overLimit.size > 0) this.#queue(pingFrame(LIMIT_PING));
    if (windowDelta !== 0) {
      for (const stream of this.streams.values()) {
        const half = stream.down === this ? stream.res : stream.req;
        half.sendWindow += windowDelta;
        if (half.sendWindow > MAX_WINDOW) throw new H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'a stream window above 2^31-1');
        if (windowDelta > 0 && half.queued > 0) this.blocked.add(stream);
      }
      if (windowDelta > 0 && !first) this.#pumpBlocked();
    }
    // Request bodies held until an upstream's first SETTINGS go now; a raised
    // MAX_CONCURRENT_STREAMS lets waiting streams start.
    if (first) this.#pumpBlocked();
    else if (this.waiting.length > 0 && this.canOpen()) this.#handler.onCapacity(this);
  }

  #windowUpdate(id: number, b: Buffer, start: number, end: number): void {
    if (end - start !== 4) throw new H2ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'WINDOW_UPDATE of the wrong size');
    const increment = b.readUInt32BE(start) & 0x7fff_ffff;
    if (id === 0) {
      if (increment === 0) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'a WINDOW_UPDATE of 0');
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW) throw new H2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'the connection window above 2^31-1');
      this.#pumpBlocked();
      return;
    }
    const stream = this.streams.get(id);
    if (stream === undefined) {
      if (this.#isIdle(id)) throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE on an idle stream');
      return;
    }
    if (increment === 0) {
      this.#handler.onStreamError(this, stream, ErrorCode.PROTOCOL_ERROR);
      return;
    }
    const half = stream.down === this ? stream.res : stream.req;
    half.sendWindow += increment;
    if (half.sendWindow > MAX_WINDOW) {
      this.#handler.onStreamError(this, stream, ErrorCode.FLOW_CONTROL_ERROR);
      return;
    }
    this.#handler.pump(stream, this);
  }
}

function flushConnection(c: H2Connection): void {
  c.flush();
}

function noop(): void {}
