/**
 * HTTP/2 (and so gRPC) proxying by relaying frames: each accepted HTTP/2 connection is
 * read frame by frame; each request stream is routed on its own (gRPC clients keep one
 * connection for hours, so balancing per connection would pin them) and opened on the
 * chosen upstream's multiplexed connection under a stream id of that connection.
 * Header blocks are decoded (HPACK), checked, filtered and re-encoded; DATA payloads
 * are forwarded as they came, only their 9-byte frame header rewritten; windows are
 * kept per stream and per connection on both sides.
 *
 * This replaces a proxy built on node:http2's objects, which cost four `Http2Stream`s
 * (Readable/Writable state, events, header objects) per request and hop: the relay
 * makes one small `RelayStream` record per request. docs/proxy.md "How HTTP/2 and gRPC
 * are proxied" says what it checks and why; bench/README.md what it measured.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.ts';
import type { RouteStats } from '../metrics/index.ts';
import { TCHAR } from '../tchar.ts';
import { H2Connection, type StreamHandler } from './connection.ts';
import { ErrorCode } from './frame.ts';
import { RelayStream, type StreamHalf } from './relay-stream.ts';

/** Where a stream goes: the upstream connection (client side) and the stats to count it in. */
export type H2Target = { upstream: H2Connection; stats: RouteStats | undefined };

/** Per-connection behaviour of an `H2Relay`. */
export type H2ConnectionOptions = {
  /**
   * Picks the upstream for a stream (`authority` from :authority, else host). An Error
   * answers `status` (502 by default) with `l5d-proxy-error`, counted in `stats` when given.
   */
  route(authority: string, cb: (err: Error | null, target?: H2Target, status?: number, stats?: RouteStats) => void): void;
  /** Extra request headers (inbound: `l5d-client-id`). */
  addHeaders: Record<string, string> | undefined;
  /** Request header names removed before forwarding. */
  dropHeaders: readonly string[];
};

/** A downstream connection's options, with its extra headers as a flat array. */
type ServeState = { o: H2ConnectionOptions; add: string[] };

const EMPTY = Buffer.alloc(0);
const NO_NAMES: readonly string[] = [];

/** Field-name bytes HTTP/2 allows: a token, in lower case (RFC 9113 §8.2.1). */
const NAME_BYTE: Uint8Array = (() => {
  const t = TCHAR.slice();
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 0;
  return t;
})();

/**
 * A field value a strict HTTP/2 server refuses: NUL, CR or LF anywhere, whitespace at
 * either end (RFC 9113 §8.2.1), or another control byte but HTAB (RFC 9110 §5.5, as
 * nghttp2 checks).
 */
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]|^[\t ]|[\t ]$/;

/** Request pseudo-headers, as bits of what a header block carried. */
const PSEUDO_METHOD = 1;
const PSEUDO_PATH = 2;
const PSEUDO_SCHEME = 4;
const PSEUDO_AUTHORITY = 8;

/** A request target a server reads one way only: `/` then visible bytes (no space, no control), or `*`. */
const PATH = /^\/[^\x00-\x20\x7f]*$/;

/**
 * What is wrong with a request's pseudo-headers (RFC 9113 §8.3.1), or undefined:
 * a token method; CONNECT with `:authority` and without `:scheme` and `:path`; other
 * methods with `:scheme` and a `:path` that is a path (or `*` for OPTIONS).
 */
function checkRequestTarget(seen: number, method: string, scheme: string, path: string, authority: string): string | undefined {
  if ((seen & PSEUDO_METHOD) === 0 || !validToken(method)) return 'no valid :method';
  if (method === 'CONNECT') {
    if ((seen & (PSEUDO_SCHEME | PSEUDO_PATH)) !== 0 || authority === '') return 'CONNECT takes :authority only';
    return undefined;
  }
  if (scheme === '' || !validToken(scheme)) return 'no valid :scheme';
  if (!PATH.test(path) && !(path === '*' && method === 'OPTIONS')) return 'no valid :path';
  return undefined;
}

/** Whether two authorities name the same origin: case aside, and the scheme's default port aside (RFC 9110 §4.2.3). */
function sameAuthority(a: string, b: string, scheme: string): boolean {
  if (a === b) return true;
  const port = scheme === 'https' ? ':443' : ':80';
  const norm = (x: string): string => {
    const l = x.toLowerCase();
    return l.endsWith(port) ? l.slice(0, -port.length) : l;
  };
  return norm(a) === norm(b);
}

/** Whether `s` is non-empty and made only of the bytes `table` marks with 1. */
function allOf(s: string, table: Uint8Array): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || table[c] !== 1) return false;
  }
  return true;
}

/** Whether `s` is a token (RFC 9110 §5.6.2), in any case. */
function validToken(s: string): boolean {
  return allOf(s, TCHAR);
}

/** A response status: three digits, the first 1–9. */
const STATUS = /^[1-9]\d\d$/;

/** Whether `name` is a valid regular field name: a token in lower case. */
function validName(name: string): boolean {
  return allOf(name, NAME_BYTE);
}

/**
 * Whether a header name must not be forwarded: the connection-specific headers HTTP/2
 * forbids (RFC 9113 §8.2.2), dropped rather than refused, as a lenient proxy does. A
 * switch on the length first: most names are rejected with one comparison.
 */
function isHopHeader(name: string): boolean {
  switch (name.length) {
    case 7: return name === 'upgrade';
    case 10: return name === 'connection' || name === 'keep-alive';
    case 14: return name === 'http2-settings';
    case 16: return name === 'proxy-connection';
    case 17: return name === 'transfer-encoding';
    default: return false;
  }
}

/** A message the proxy puts in `l5d-proxy-error`: one line of visible text. */
function errorValue(message: string): string {
  const v = message.replace(/[^\x20-\x7e]+/g, ' ').trim();
  return v === '' ? 'proxy error' : v;
}

/**
 * A response header block or a trailer block, checked and with connection-specific
 * fields left out, or the reason it is malformed. `pseudo` is the one pseudo-header
 * allowed (`:status` in a response head; none in trailers).
 */
function forwardable(fields: string[], pseudo: string | undefined, drop: readonly string[] = NO_NAMES): string[] | string {
  let out = fields;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (BAD_VALUE.test(fields[i + 1]!)) return `a bad value in field "${name}"`;
    if (name.charCodeAt(0) === 0x3a) {
      if (name !== pseudo || i !== 0) return `pseudo-header "${name}" out of place`;
      continue;
    }
    if (!validName(name)) return `a bad field name "${name}"`;
    if (isHopHeader(name) || (drop.length > 0 && drop.includes(name))) {
      if (out === fields) out = fields.slice(0, i);
      continue;
    }
    if (out !== fields) out.push(name, fields[i + 1]!);
  }
  return out;
}

/** Adds the never-indexed field names of the block `conn` just decoded to `stream`'s. */
function noteNeverIndexed(stream: RelayStream, conn: H2Connection): void {
  const names = conn.neverIndexed;
  if (names.length > 0) (stream.neverIndexed ??= []).push(...names);
}

/**
 * The next DATA payload of `half`, up to `max` bytes, taken off its queue. Pieces are
 * joined to fill the frame: a window that opens a little at a time (a client crediting
 * each frame as it reads) would otherwise cut frames at every window edge and never
 * join them again, and frames (and throughput) would shrink. One piece that fits is
 * sent as it came, without a copy.
 */
function takeFrame(half: StreamHalf, max: number): Buffer {
  const q = half.queue;
  const first = q[0]!;
  if (first.length >= max) {
    if (first.length === max) q.shift();
    else q[0] = first.subarray(max);
    return first.subarray(0, max);
  }
  if (q.length === 1) return q.shift()!;
  const size = Math.min(max, half.queued);
  const frame = Buffer.allocUnsafe(size);
  let at = 0;
  while (at < size) {
    const b = q[0]!;
    const take = Math.min(b.length, size - at);
    b.copy(frame, at, 0, take);
    at += take;
    if (take === b.length) q.shift();
    else q[0] = b.subarray(take);
  }
  return frame;
}

/** Options of an `H2Relay`. */
export type H2RelayOptions = {
  /** Largest decoded header block accepted (431 for a request beyond it). */
  maxHeaderListSize: number;
  /**
   * The proxy's idle timeout (default 0: off), which closes accepted connections that
   * moved no byte. A gRPC watch or long poll can be quiet longer than that with its
   * stream open, and its client's own PINGs end at the first proxy: so every third of
   * it, each downstream connection with streams open gets a PING, whose ACK is the
   * activity. Upstream connections are not swept; on the same tick each one with
   * streams open and nothing heard is pinged, and one silent for the whole timeout is
   * given up (504).
   */
  idleMs?: number;
  /** How long an upstream may take to send its first SETTINGS (default 0: no limit); the connect timeout. */
  settingsTimeoutMs?: number;
};

/** Relays the HTTP/2 connections handed to it after detection. */
export class H2Relay implements StreamHandler {
  readonly #log: Logger;
  readonly #maxHeaderListSize: number;
  readonly #settingsTimeoutMs: number;
  readonly #downs = new Set<H2Connection>();
  readonly #ups = new Set<H2Connection>();
  readonly #keepalive: NodeJS.Timeout | undefined;
  /** `drain()` was called: a connection served from now on is told to go away at once. */
  #draining = false;

  /** See `H2RelayOptions`. */
  constructor(log: Logger, o: H2RelayOptions) {
    this.#log = log;
    this.#maxHeaderListSize = o.maxHeaderListSize;
    this.#settingsTimeoutMs = o.settingsTimeoutMs ?? 0;
    const idleMs = o.idleMs ?? 0;
    if (idleMs > 0) {
      this.#keepalive = setInterval(() => {
        for (const c of this.#downs) if (c.streams.size > 0) c.ping();
        for (const c of this.#ups) c.checkAlive();
      }, Math.max(250, Math.floor(idleMs / 3)));
      this.#keepalive.unref();
    }
  }

  /** Stops the keepalive (the proxy stopped). */
  close(): void {
    clearInterval(this.#keepalive);
  }

  /** Serves `socket` as an HTTP/2 server (any bytes already read must have been unshifted back). */
  serve(socket: Duplex, options: H2ConnectionOptions): void {
    const add: string[] = [];
    if (options.addHeaders !== undefined) for (const k in options.addHeaders) add.push(k, options.addHeaders[k]!);
    const conn = new H2Connection(socket, 'server', this, this.#maxHeaderListSize, { o: options, add } satisfies ServeState);
    this.#downs.add(conn);
    // Detected after the drain began (a mesh handshake that was still running): GOAWAY
    // with last stream 0, so the client sends its requests elsewhere.
    if (this.#draining) conn.close();
  }

  /**
   * A client connection over `socket` (an upstream), streams opened on it by `route`'s
   * targets. It must send its SETTINGS within the settings timeout.
   */
  connect(socket: Duplex): H2Connection {
    const conn = new H2Connection(socket, 'client', this, this.#maxHeaderListSize);
    conn.expectSettingsWithin(this.#settingsTimeoutMs);
    this.#ups.add(conn);
    return conn;
  }

  /** Asks every downstream connection to finish: GOAWAY, in-flight streams complete. */
  drain(): void {
    this.#draining = true;
    for (const c of this.#downs) c.close();
  }

  onRequest(conn: H2Connection, id: number, fields: string[], endStream: boolean): void {
    const started = performance.now();
    const st = conn.context as ServeState;
    const drop = st.o.dropHeaders;
    const out: string[] = [];
    let method = '';
    let path = '';
    let scheme = '';
    let authority = '';
    let host = '';
    let contentLength = -1;
    let regular = false;
    let seen = 0;
    let problem: string | undefined;
    for (let i = 0; i < fields.length && problem === undefined; i += 2) {
      const name = fields[i]!;
      const value = fields[i + 1]!;
      if (BAD_VALUE.test(value)) {
        problem = `a bad value in field "${name}"`;
        break;
      }
      if (name.charCodeAt(0) === 0x3a) {
        let bit = 0;
        switch (name) {
          case ':method': bit = PSEUDO_METHOD; method = value; break;
          case ':path': bit = PSEUDO_PATH; path = value; break;
          case ':scheme': bit = PSEUDO_SCHEME; scheme = value; break;
          case ':authority': bit = PSEUDO_AUTHORITY; authority = value; break;
          default: problem = `unknown pseudo-header "${name}"`;
        }
        if (regular) problem = `pseudo-header "${name}" after a regular field`;
        else if ((seen & bit) !== 0) problem = `two "${name}"`;
        seen |= bit;
        out.push(name, value);
        continue;
      }
      regular = true;
      if (!validName(name)) {
        problem = `a bad field name "${name}"`;
        break;
      }
      if (isHopHeader(name) || drop.includes(name)) continue;
      if (name === 'te') {
        if (value !== 'trailers') continue;
      } else if (name === 'host') {
        host = value;
      } else if (name === 'content-length') {
        if (!/^\d{1,15}$/.test(value) || (contentLength !== -1 && Number(value) !== contentLength)) problem = 'a bad content-length';
        else contentLength = Number(value);
      }
      out.push(name, value);
    }
    problem ??= checkRequestTarget(seen, method, scheme, path, authority);
    // Routing reads :authority; an application may read host: they must agree (RFC 9113 §8.3.1).
    if (problem === undefined && host !== '' && authority !== '' && !sameAuthority(host, authority, scheme)) problem = 'host differs from :authority';
    if (problem === undefined && endStream && contentLength > 0) problem = 'a body shorter than its content-length';
    if (problem !== undefined) {
      // Malformed (RFC 9113 §8.1.1): never forwarded; the client learns why.
      conn.writeHeaders(id, [':status', '400', 'l5d-proxy-error', errorValue(`malformed request: ${problem}`)], true);
      if (!endStream) conn.writeReset(id, ErrorCode.NO_ERROR);
      return;
    }
    for (let i = 0; i < st.add.length; i++) out.push(st.add[i]!);
    const stream = new RelayStream(conn, id, method, path, started);
    stream.requestFields = out;
    noteNeverIndexed(stream, conn);
    stream.contentLength = contentLength;
    stream.req.ended = endStream;
    stream.res.sendWindow = conn.peerInitialWindow;
    conn.streams.set(id, stream);
    stream.authority = authority !== '' ? authority : host;
    this.#route(stream);
  }

  /** Picks the upstream for `stream` (again, for a retry) and opens it there. */
  #route(stream: RelayStream): void {
    (stream.down.context as ServeState).o.route(stream.authority, (err, target, status, stats) => {
      if (stream.done) return;
      const counted = err !== null || target === undefined ? stats : target.stats;
      // Counted once per request; a retry on another endpoint moves its load, not its count.
      if (stream.stats === undefined) counted?.request();
      else if (counted !== undefined && counted !== stream.stats) stream.stats.moveTo(counted);
      stream.stats = counted ?? stream.stats;
      if (err !== null || target === undefined) {
        this.#respond(stream, status ?? 502, err?.message ?? 'no upstream');
        this.#finish(stream);
        return;
      }
      this.#open(stream, target.upstream);
    });
  }

  /**
   * Whether `stream` may go to another upstream connection: the upstream never took it
   * (REFUSED_STREAM, above a GOAWAY's last stream id, still waiting for a slot; RFC 9113
   * §8.7) and nothing of its body went out, so nothing is lost by sending it again. Once.
   */
  #retryable(stream: RelayStream): boolean {
    return !stream.responded && !stream.bodySent && !stream.retried && !stream.downReset && stream.requestFields !== undefined;
  }

  #retry(stream: RelayStream): void {
    this.#log.debug('h2 stream retried on a new upstream connection', { authority: stream.authority });
    stream.retried = true;
    const up = stream.up;
    const id = stream.upId;
    stream.up = undefined;
    stream.upId = 0;
    up?.forget(id, stream);
    stream.req.endSent = false;
    this.#route(stream);
  }

  onRequestTooLarge(conn: H2Connection, id: number, endStream: boolean): void {
    conn.writeHeaders(id, [':status', '431', 'l5d-proxy-error', `request headers larger than ${this.#maxHeaderListSize} bytes`], true);
    if (!endStream) conn.writeReset(id, ErrorCode.NO_ERROR);
  }

  /** Opens `stream` on `up`, or queues it there while the peer's stream limit is reached. */
  #open(stream: RelayStream, up: H2Connection): void {
    if (!up.usable) {
      this.#respond(stream, 502, 'the upstream connection is closing');
      this.#finish(stream);
      return;
    }
    stream.up = up;
    if (up.canOpen()) this.#startUp(stream, up);
    else up.waiting.push(stream);
  }

  #startUp(stream: RelayStream, up: H2Connection): void {
    const id = up.open(stream);
    stream.upId = id;
    stream.req.sendWindow = up.peerInitialWindow;
    const fields = stream.requestFields!;
    const req = stream.req;
    const endNow = req.ended && req.queued === 0 && req.trailers === undefined;
    up.writeHeaders(id, fields, endNow, stream.neverIndexed);
    if (endNow) req.endSent = true;
    else if (req.queued > 0 || req.ended) this.pump(stream, up);
  }

  onCapacity(conn: H2Connection): void {
    while (conn.waiting.length > 0 && conn.canOpen() && conn.usable) this.#startUp(conn.waiting.shift()!, conn);
  }

  onHeaders(conn: H2Connection, stream: RelayStream, fields: string[] | undefined, endStream: boolean): void {
    noteNeverIndexed(stream, conn);
    if (conn === stream.down) {
      // More headers from the client on an open stream: its trailers.
      // The names dropped from the head (`l5d-client-id`) are dropped here too: an
      // application reading trailers must not take a client's word for its identity.
      const trailers = fields === undefined ? 'trailers too large' : forwardable(fields, undefined, (conn.context as ServeState).o.dropHeaders);
      if (typeof trailers === 'string' || !endStream || stream.req.ended) {
        this.onStreamError(conn, stream, ErrorCode.PROTOCOL_ERROR);
        return;
      }
      if (stream.contentLength !== -1 && stream.bodyBytes !== stream.contentLength) {
        this.#malformedBody(stream);
        return;
      }
      stream.req.trailers = trailers;
      stream.req.ended = true;
      if (stream.upId > 0) this.pump(stream, stream.up!);
      return;
    }
    if (fields === undefined) {
      this.#upstreamError(stream, 'response headers too large');
      return;
    }
    if (!stream.responded) {
      const head = forwardable(fields, ':status');
      const status = fields[0] === ':status' && STATUS.test(fields[1]!) ? Number(fields[1]) : Number.NaN;
      if (typeof head === 'string' || Number.isNaN(status)) {
        this.#upstreamError(stream, typeof head === 'string' ? `malformed response: ${head}` : 'malformed response: no :status');
        return;
      }
      if (status < 200) {
        // 100 Continue and friends go through; 101 has no meaning in HTTP/2.
        if (status === 101 || endStream) this.#upstreamError(stream, 'malformed informational response');
        else stream.down.writeHeaders(stream.downId, head, false, stream.neverIndexed);
        return;
      }
      stream.status = status;
      stream.latency = performance.now() - stream.started;
      stream.responded = true;
      stream.requestFields = undefined;
      for (let i = 2; i < fields.length; i += 2) {
        if (fields[i] === 'grpc-status') stream.grpcStatus = fields[i + 1];
      }
      if (stream.downReset) return;
      stream.down.writeHeaders(stream.downId, head, endStream, stream.neverIndexed);
      if (endStream) {
        stream.res.ended = true;
        stream.res.endSent = true;
        this.#finish(stream);
      }
      return;
    }
    const trailers = forwardable(fields, undefined);
    if (typeof trailers === 'string' || !endStream || stream.res.ended) {
      this.onStreamError(conn, stream, ErrorCode.PROTOCOL_ERROR);
      return;
    }
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i] === 'grpc-status') stream.grpcStatus = fields[i + 1];
    }
    stream.res.trailers = trailers;
    stream.res.ended = true;
    this.pump(stream, stream.down);
  }

  onData(conn: H2Connection, stream: RelayStream, payload: Buffer, endStream: boolean): void {
    const n = payload.length;
    if (conn === stream.down) {
      const req = stream.req;
      if (stream.contentLength !== -1) {
        stream.bodyBytes += n;
        if (stream.bodyBytes > stream.contentLength || (endStream && stream.bodyBytes !== stream.contentLength)) {
          conn.consumed(stream.downId, undefined, n);
          this.#malformedBody(stream);
          return;
        }
      }
      if (n > 0) req.push(payload);
      if (endStream) req.ended = true;
      if (stream.upClosed) this.#discard(stream);
      else if (stream.upId > 0) this.pump(stream, stream.up!);
      else req.hold(); // Not routed yet: it waits.
      return;
    }
    if (!stream.responded) {
      conn.consumed(stream.upId, undefined, n);
      this.onStreamError(conn, stream, ErrorCode.PROTOCOL_ERROR);
      return;
    }
    const res = stream.res;
    if (n > 0) res.push(payload);
    if (endStream) res.ended = true;
    this.pump(stream, stream.down);
  }

  /**
   * Sends what `stream` has queued towards `target` as far as the windows and the
   * socket allow, then END_STREAM (on the last DATA frame, or with trailers); credit
   * goes back to the source for every byte sent on.
   */
  pump(stream: RelayStream, target: H2Connection): void {
    if (stream.done) return;
    const toDown = target === stream.down;
    if (toDown ? stream.downReset || !stream.responded : stream.upId <= 0 || stream.upClosed) return;
    const half = toDown ? stream.res : stream.req;
    if (half.endSent) return;
    if (!toDown && half.queued > 0 && !target.bodyAllowed(stream.upId)) {
      // No request body before the upstream's first SETTINGS: a stream over a limit it
      // has not told yet gets REFUSED_STREAM, and is sent again only if no body went out.
      target.blocked.add(stream);
      half.hold();
      return;
    }
    const source = toDown ? stream.up! : stream.down;
    const targetId = toDown ? stream.downId : stream.upId;
    const sourceId = toDown ? stream.upId : stream.downId;
    while (half.queued > 0) {
      const allow = Math.min(half.sendWindow, target.sendWindow, target.peerMaxFrameSize);
      if (allow <= 0 || target.congested) {
        target.blocked.add(stream);
        half.hold();
        return;
      }
      const piece = takeFrame(half, allow);
      const n = piece.length;
      if (!toDown) stream.bodySent = true;
      half.queued -= n;
      half.sendWindow -= n;
      target.sendWindow -= n;
      const last = half.queued === 0 && half.ended && half.trailers === undefined;
      target.writeData(targetId, piece, last);
      if (last) half.endSent = true;
      source.consumed(sourceId, half, n);
    }
    if (half.ended && !half.endSent) {
      if (half.trailers !== undefined) target.writeHeaders(targetId, half.trailers, true, stream.neverIndexed);
      else target.writeData(targetId, EMPTY, true);
      half.endSent = true;
    }
    // A response complete downstream ends the exchange, also while the client still
    // sends: #finish tells it to stop (RST_STREAM NO_ERROR) and cancels the upstream's
    // stream, so neither is held open by a body nobody will read.
    if (stream.res.endSent) this.#finish(stream);
  }

  onReset(conn: H2Connection, stream: RelayStream, code: number): void {
    if (conn === stream.down) {
      // The client gave up (CANCEL, usually): the upstream stream is cancelled with it.
      stream.downReset = true;
      this.#finish(stream);
      return;
    }
    if (code === ErrorCode.REFUSED_STREAM && this.#retryable(stream)) {
      this.#retry(stream);
      return;
    }
    // RST_STREAM(NO_ERROR) after a response head ends that response: node:http2 servers
    // close a finished stream so, sometimes before their END_STREAM went out, and
    // clients take it as the end. What is queued still goes down, then END_STREAM.
    if (code === ErrorCode.NO_ERROR && stream.responded) stream.res.ended = true;
    this.#upstreamEnded(stream, code, `the upstream reset the stream (code ${code})`);
  }

  onStreamError(conn: H2Connection, stream: RelayStream, code: number): void {
    if (conn === stream.down) {
      // A client that makes the proxy reset its streams (bad frames: "MadeYouReset")
      // cancels upstream work as surely as one that resets them itself: same budget.
      conn.spendReset();
      conn.writeReset(stream.downId, code);
      stream.downReset = true;
      this.#finish(stream);
      return;
    }
    conn.writeReset(stream.upId, code);
    this.#upstreamEnded(stream, ErrorCode.INTERNAL_ERROR, 'the upstream broke HTTP/2 on the stream');
  }

  onGoaway(conn: H2Connection, lastStreamId: number): void {
    if (conn.role === 'server') return;
    // Streams the upstream did not take were never processed.
    for (const stream of [...conn.streams.values(), ...conn.waiting]) {
      if (stream.upId !== 0 && stream.upId <= lastStreamId) continue;
      if (this.#retryable(stream)) this.#retry(stream);
      else this.#upstreamEnded(stream, ErrorCode.REFUSED_STREAM, 'the upstream went away before taking the request');
    }
  }

  onClose(conn: H2Connection): void {
    if (conn.role === 'server') {
      this.#downs.delete(conn);
      for (const stream of [...conn.streams.values()]) {
        stream.downReset = true;
        this.#finish(stream);
      }
      return;
    }
    this.#ups.delete(conn);
    // Streams still waiting for a slot never reached it and may go elsewhere; those it
    // had may have been processed, unless it never sent its SETTINGS: then it never was
    // an HTTP/2 server to us, and none of their bodies went out (`bodyAllowed`).
    const unprocessed = conn.established ? conn.waiting.slice() : [...conn.streams.values(), ...conn.waiting];
    for (const stream of unprocessed) {
      if (this.#retryable(stream)) this.#retry(stream);
    }
    const status = conn.failure?.status ?? 502;
    const reason = conn.failure?.reason ?? 'the upstream connection closed';
    for (const stream of [...conn.streams.values(), ...conn.waiting]) this.#upstreamEnded(stream, ErrorCode.CANCEL, reason, status);
  }

  /**
   * The client's body does not match its content-length (RFC 9113 §8.1.1: malformed).
   * The upstream's stream is cancelled; the client gets 400 with `l5d-proxy-error` when
   * no response has started, else a reset.
   */
  #malformedBody(stream: RelayStream): void {
    stream.down.spendReset();
    if (stream.responded) {
      this.onStreamError(stream.down, stream, ErrorCode.PROTOCOL_ERROR);
      return;
    }
    this.#respond(stream, 400, 'malformed request: a body that does not match its content-length');
    this.#finish(stream);
  }

  /** The upstream broke a rule on `stream`: reset it there, 502 (or a reset) downstream. */
  #upstreamError(stream: RelayStream, reason: string): void {
    this.#log.debug('h2 upstream stream error', { reason });
    stream.up?.writeReset(stream.upId, ErrorCode.PROTOCOL_ERROR);
    this.#upstreamEnded(stream, ErrorCode.INTERNAL_ERROR, reason);
  }

  /**
   * The upstream stream is gone (reset, refused, its connection lost). Before a
   * response the client gets `status` (502) with `l5d-proxy-error`; after a complete response,
   * what is queued still goes down; in the middle of one, the client's stream is reset.
   */
  #upstreamEnded(stream: RelayStream, code: number, reason: string, status = 502): void {
    if (stream.done || stream.upClosed) return;
    stream.upClosed = true;
    stream.up?.forget(stream.upId, stream);
    this.#discard(stream);
    stream.req.endSent = true;
    if (!stream.responded) {
      this.#respond(stream, status, reason);
      this.#finish(stream);
    } else if (stream.res.ended) {
      this.pump(stream, stream.down);
    } else {
      if (!stream.downReset) stream.down.writeReset(stream.downId, code === ErrorCode.NO_ERROR ? ErrorCode.CANCEL : code);
      stream.downReset = true;
      this.#finish(stream);
    }
  }

  /** Drops the request bytes queued for an upstream stream that is gone, returning their credit. */
  #discard(stream: RelayStream): void {
    const req = stream.req;
    if (req.queued > 0) stream.down.consumed(stream.downId, undefined, req.queued);
    req.clear();
  }

  /** Answers `stream` from the proxy: `status` with `l5d-proxy-error`. */
  #respond(stream: RelayStream, status: number, message: string): void {
    if (stream.responded || stream.downReset) return;
    stream.down.writeHeaders(stream.downId, [':status', String(status), 'l5d-proxy-error', errorValue(message)], true);
    stream.status = status;
    stream.responded = true;
    stream.res.ended = true;
    stream.res.endSent = true;
  }

  /** Ends `stream` on both connections, once, and counts it. */
  #finish(stream: RelayStream): void {
    if (stream.done) return;
    stream.done = true;
    const { down, up } = stream;
    // A client still sending a body nobody will read is told to stop.
    if (!stream.downReset && !stream.req.ended) down.writeReset(stream.downId, ErrorCode.NO_ERROR);
    down.forget(stream.downId, stream);
    // Bytes still queued either way were never sent on: their connection-level credit
    // goes back now (stream credit does not matter on a closed stream).
    const { req, res } = stream;
    if (req.queued > 0) down.consumed(stream.downId, undefined, req.queued);
    if (res.queued > 0) up?.consumed(stream.upId, undefined, res.queued);
    req.clear();
    res.clear();
    if (up !== undefined && !stream.upClosed) {
      if (stream.upId > 0 && !(res.ended && req.endSent)) up.writeReset(stream.upId, ErrorCode.CANCEL);
      up.forget(stream.upId, stream);
    }
    const status = stream.status === 0 ? 502 : stream.status;
    const failure = status >= 500 || (stream.grpcStatus !== undefined && stream.grpcStatus !== '0');
    stream.stats?.response(status, failure, stream.latency === 0 ? performance.now() - stream.started : stream.latency, stream.method, stream.path);
  }
}
