/**
 * An HTTP/1 proxy session for one accepted connection, built as a framing-aware
 * byte pipe rather than a server plus a client: it parses each request head (to
 * route and count it) and each response head (status, framing), then forwards bytes
 * as they arrived, tracking body boundaries so the upstream connection can go back to
 * the pool the moment an exchange ends. No IncomingMessage, no header objects, no
 * re-encoding: the per-request cost stays close to a plain socket pipe.
 *
 *        ┌──────── head ◀─────────────────────────────┐
 *        ▼                                            │
 *   await upstream ──▶ request body ──▶ request done ──┤ (both done: release upstream)
 *                          ╲── response head ──▶ response body ──▶ response done
 *   101 Switching Protocols / CONNECT: the session becomes a tunnel.
 *
 * Pipelined requests are held (bounded) until the previous exchange completes, so
 * responses stay in order without a queue.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.ts';
import type { RouteStats } from '../metrics/index.ts';
import { BorrowedReader, upstreamReader, writeOut, type PooledConnection, type PoolOwner } from '../tcp/index.ts';
import { BodyFramer } from './body-framer.ts';
import { closingResponseHead, headEnd, parseRequestHead, parseResponseHead, type RequestHead } from './h1-head.ts';
import { ProxyHttpError } from './proxy-error.ts';

/** What a session needs from its proxy (inbound or outbound). */
export type H1SessionOptions = {
  /** Largest request or response head accepted (431/502 beyond). */
  maxHeadBytes: number;
  /** Header names removed from requests before forwarding, lower-case. */
  dropRequestHeaders: readonly string[];
  /** Raw header lines added to every forwarded request (`l5d-client-id: …\r\n`), or undefined. */
  addRequestHeaders: Buffer | undefined;
  /** Rewrite absolute-form targets (`http://host/path`) to origin-form (proxy mode). */
  originForm: boolean;
  /**
   * Finds an upstream connection for `head` and calls `cb` (synchronously when a
   * pooled one is idle). `fresh` asks for a new connection (retry after a stale one).
   */
  route(head: RequestHead, owner: PoolOwner, fresh: boolean, cb: (err: ProxyHttpError | null, up?: PooledConnection, stats?: RouteStats) => void): void;
  /** Takes over the socket for a CONNECT request (outbound only). */
  onConnect?: (authority: string, socket: Duplex, rest: Buffer | undefined) => void;
  /** Called once when the session is over. */
  onClose?: () => void;
  log: Logger;
};

const ST_HEAD = 0;
const ST_WAIT_UP = 1;
const ST_REQ_BODY = 2;
const ST_REQ_DONE = 3;
const ST_TUNNEL = 4;
const ST_CLOSED = 5;

const RES_HEAD = 0;
const RES_BODY = 1;
const RES_DONE = 2;

/** A session's head copy buffer holds at least this much (most request heads fit). */
const HEAD_COPY_BYTES = 512;
const discard = (): void => {};

/**
 * True when the write just made to `sock` may still read the caller's buffer: a plain
 * socket whose kernel did not take it all. A TLS socket has encrypted it already.
 */
function keepsView(sock: Duplex): boolean {
  return sock.writableLength !== 0 && (sock as Duplex & { encrypted?: boolean }).encrypted !== true;
}

/** One accepted HTTP/1 connection being proxied. */
export class H1Session implements PoolOwner {
  readonly #down: Duplex;
  readonly #o: H1SessionOptions;
  #state = ST_HEAD;
  /** The client sent its FIN (half-close). */
  #downEnded = false;
  #pending: Buffer | undefined;
  #req: RequestHead | undefined;
  #reqHead: Buffer | undefined;
  /** Where a request head is copied when it must outlive its borrowed chunk (see #copyHead). */
  #headCopy: Buffer | undefined;
  /** Where a rewritten request head is built (see #writeHead). */
  #headOut: Buffer | undefined;
  /** Request and response bodies; a trailer section is bounded like a head. */
  readonly #reqFramer: BodyFramer;
  readonly #resFramer: BodyFramer;
  #resState = RES_HEAD;
  #resPending: Buffer | undefined;
  #resClose = false;
  #resBytesSent = false;
  #up: PooledConnection | undefined;
  /** Reads of the accepted socket into a reused buffer (undefined: the 'data' path). */
  readonly #downReader: BorrowedReader | undefined;
  /** The same for the upstream of the moment (null: the 'data' path). */
  #upReader: BorrowedReader | null = null;
  #stats: RouteStats | undefined;
  #started = 0;
  #pausedForUp = false;
  #pausedForDrain = false;
  #upPaused = false;
  #retried = false;
  /** request_total was counted for the request in flight (exactly once, whatever the attempts). */
  #counted = false;
  #draining = false;

  constructor(down: Duplex, options: H1SessionOptions, initial?: Buffer) {
    this.#down = down;
    this.#o = options;
    this.#reqFramer = new BodyFramer(options.maxHeadBytes);
    this.#resFramer = new BodyFramer(options.maxHeadBytes);
    // A CONNECT hands the socket, and the bytes after its head, to the opaque path, which
    // adopts it with its own reader; the session keeps the 'data' path so those bytes are owned.
    const adopted = options.onConnect === undefined ? BorrowedReader.adopt(down, this.#onDownData) : undefined;
    this.#downReader = adopted?.reader;
    if (adopted === undefined) down.on('data', this.#onDownData);
    down.on('drain', this.#onDownDrain);
    down.on('end', this.#onDownEnd);
    down.on('error', () => {});
    down.on('close', this.#onDownClose);
    if (initial !== undefined && initial.length > 0) this.#onDownData(initial);
    if (adopted !== undefined) for (const b of adopted.queued) this.#onDownData(b);
  }

  /** Stops after the exchange in flight (or now, when idle): graceful drain. */
  drain(): void {
    this.#draining = true;
    if (this.#state === ST_HEAD && this.#pending === undefined) this.#down.end();
  }

  readonly #onDownData = (chunk: Buffer): void => {
    this.#handleDown(chunk);
    if (this.#downReader !== undefined) this.#keepDown(chunk.buffer);
  };

  /**
   * After a borrowed chunk: copy what outlives the call (the next read overwrites it):
   * held bytes, and the request head while it may still be written (upstream not yet
   * there, or a replay on a fresh connection if the pooled one turns out stale).
   */
  #keepDown(mem: ArrayBufferLike): void {
    if (this.#pending !== undefined && this.#pending.buffer === mem) this.#pending = Buffer.from(this.#pending);
    const head = this.#reqHead;
    if (head !== undefined && head.buffer === mem && (this.#state === ST_WAIT_UP || (this.#resState === RES_HEAD && this.#req?.body === 'none' && !this.#retried))) {
      this.#reqHead = this.#copyHead(head);
    }
  }

  /**
   * Copies a request head into the session's own buffer, reused from one request to
   * the next (a keep-alive connection has one head in flight at a time). Why not a
   * fresh copy: nearly every request needs one (kept for a replay until the response
   * starts), and each was a slice of Node's 8 KiB buffer pool, whose slabs outlive
   * the young generation and are freed only by a mark-compact: ~50 bytes of malloc
   * garbage per request that grew glibc's arena under load (bench/README.md, item 36).
   */
  #copyHead(head: Buffer): Buffer {
    let c = this.#headCopy;
    if (c === undefined || c.length < head.length) {
      c = Buffer.allocUnsafe(Math.max(HEAD_COPY_BYTES, head.length));
      this.#headCopy = c;
    }
    head.copy(c);
    return c.subarray(0, head.length);
  }

  /** Writes client bytes upstream (see writeOut: a TLS upstream takes them directly). */
  #writeUp(sock: Duplex, b: Buffer): boolean {
    return writeOut(sock, b, this.#downReader, this.#onUpWritable);
  }

  /** A direct TLS write upstream that had to wait has gone out (as 'drain' for a Writable write). */
  readonly #onUpWritable = (): void => {
    this.onUpDrain();
  };

  #handleDown(chunk: Buffer): void {
    switch (this.#state) {
      case ST_HEAD:
        this.#pending = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk]);
        this.#parseHead();
        return;
      case ST_REQ_BODY:
        this.#forwardBody(chunk);
        return;
      case ST_WAIT_UP:
      case ST_REQ_DONE:
        // Pipelined bytes: hold them until the exchange in flight completes, bounded.
        this.#pending = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk]);
        if (this.#pending.length > this.#o.maxHeadBytes) this.#pauseDown();
        return;
      case ST_TUNNEL:
        if (this.#up !== undefined && !this.#writeUp(this.#up.socket, chunk)) this.#pauseDown(true);
        return;
      default:
        return;
    }
  }

  #pauseDown(forDrain = false): void {
    if (forDrain) this.#pausedForDrain = true;
    this.#down.pause();
  }

  #resumeDown(): void {
    if (!this.#pausedForDrain && !this.#pausedForUp) this.#down.resume();
  }

  #parseHead(): void {
    const buf = this.#pending!;
    const end = headEnd(buf);
    if (end < 0) {
      if (buf.length > this.#o.maxHeadBytes) this.#fail(new ProxyHttpError(431, 'request head too large'));
      return;
    }
    if (end > this.#o.maxHeadBytes) {
      this.#fail(new ProxyHttpError(431, 'request head too large'));
      return;
    }
    const head = parseRequestHead(buf, end, this.#o.dropRequestHeaders);
    if ('error' in head) {
      this.#fail(new ProxyHttpError(400, 'malformed request head'));
      return;
    }
    this.#pending = buf.length > end ? buf.subarray(end) : undefined;
    if (head.method === 'CONNECT' && this.#o.onConnect !== undefined) {
      this.#detach();
      this.#o.onConnect(head.target, this.#down, this.#pending);
      return;
    }
    this.#req = head;
    this.#reqHead = buf.subarray(0, end);
    this.#reqFramer.reset(head.body, head.length);
    this.#resState = RES_HEAD;
    this.#resBytesSent = false;
    this.#retried = false;
    this.#counted = false;
    this.#stats = undefined;
    this.#state = ST_WAIT_UP;
    this.#started = performance.now();
    this.#o.route(head, this, false, this.#onUpstream);
    if (this.#state === ST_WAIT_UP) {
      this.#pausedForUp = true;
      this.#down.pause();
    }
  }

  readonly #onUpstream = (err: ProxyHttpError | null, up?: PooledConnection, stats?: RouteStats): void => {
    if (this.#state === ST_CLOSED) {
      up?.release();
      return;
    }
    if (stats !== undefined) {
      // A retry may land on another endpoint: its load follows, the count does not.
      if (this.#counted && this.#stats !== undefined && this.#stats !== stats) this.#stats.moveTo(stats);
      this.#stats = stats;
    }
    if (!this.#counted && this.#stats !== undefined) {
      this.#counted = true;
      this.#stats.request();
    }
    if (err !== null || up === undefined) {
      this.#fail(err ?? new ProxyHttpError(502, 'no upstream'));
      return;
    }
    this.#up = up;
    this.#upReader = upstreamReader(up);
    this.#writeHead(up.socket);
    this.#state = ST_REQ_BODY;
    if (this.#reqFramer.done) {
      this.#requestComplete();
    } else if (this.#pending !== undefined) {
      const p = this.#pending;
      this.#pending = undefined;
      this.#forwardBody(p);
    }
    if (this.#state === ST_REQ_BODY && this.#downEnded) {
      // The client's FIN came while the upstream was opening, before the whole body.
      this.#destroy();
      return;
    }
    if (this.#pausedForUp) {
      this.#pausedForUp = false;
      this.#resumeDown();
    }
  };

  #writeHead(sock: Duplex): void {
    const head = this.#req!;
    const raw = this.#reqHead!;
    const add = this.#o.addRequestHeaders;
    const conn = head.connection;
    let origin: string | undefined;
    if (this.#o.originForm && head.target.charCodeAt(0) !== 0x2f /* / */ && head.target !== '*') {
      const slash = head.target.indexOf('/', head.target.indexOf('//') + 2);
      origin = slash < 0 ? '/' : head.target.slice(slash);
    }
    if (origin === undefined && head.drop === undefined && add === undefined && conn === undefined) {
      this.#writeUp(sock, raw);
      // A plain write the kernel did not take whole still points at the head: its
      // buffer is no longer the session's to reuse.
      if (raw.buffer === this.#headCopy?.buffer && keepsView(sock)) this.#headCopy = undefined;
      return;
    }
    // Rebuild into one buffer (one small copy is cheaper than a corked writev of
    // slices), the session's own, reused for the same reason as #copyHead's; unless
    // the Writable still queues earlier bytes: it would queue this buffer as it is.
    const line = origin === undefined ? undefined : `${head.method} ${origin} HTTP/1.${head.minor}`;
    const drop = head.drop;
    let size = (line === undefined ? head.lineEnd : line.length) + raw.length - head.lineEnd + (add?.length ?? 0) + (conn?.length ?? 0);
    if (drop !== undefined) for (let i = 0; i < drop.length; i += 2) size -= drop[i + 1]! - drop[i]!;
    const queued = sock.writableLength !== 0;
    let out = queued ? undefined : this.#headOut;
    if (out === undefined || out.length < size) {
      out = Buffer.allocUnsafe(Math.max(HEAD_COPY_BYTES, size));
      if (!queued) this.#headOut = out;
    }
    let off = line === undefined ? raw.copy(out, 0, 0, head.lineEnd) : out.write(line, 0, 'latin1');
    let from = head.lineEnd;
    if (drop !== undefined) {
      for (let i = 0; i < drop.length; i += 2) {
        off += raw.copy(out, off, from, drop[i]!);
        from = drop[i + 1]!;
      }
    }
    // `from` now points at a CRLF ending a line; the head ends with the blank line.
    off += raw.copy(out, off, from, raw.length - 2);
    if (conn !== undefined) off += out.write(conn, off, 'latin1');
    if (add !== undefined) off += add.copy(out, off);
    out[off++] = 0x0d;
    out[off++] = 0x0a;
    sock.write(out.subarray(0, off));
    if (out === this.#headOut && keepsView(sock)) this.#headOut = undefined;
  }

  #forwardBody(buf: Buffer): void {
    const n = this.#reqFramer.consume(buf, 0);
    if (n < 0) {
      // Like a malformed head: 400 unless the response has started (then the connection
      // is cut), and the upstream, mid-request, is not reused.
      this.#fail(new ProxyHttpError(400, `malformed request body (${this.#reqFramer.error})`));
      return;
    }
    if (n > 0 && !this.#writeUp(this.#up!.socket, n === buf.length ? buf : buf.subarray(0, n))) this.#pauseDown(true);
    if (this.#reqFramer.done) {
      if (n < buf.length) this.#pending = buf.subarray(n);
      this.#requestComplete();
    }
  }

  #requestComplete(): void {
    this.#state = ST_REQ_DONE;
    if (this.#resState === RES_DONE) this.#exchangeComplete();
  }

  /** Upstream bytes (PoolOwner). */
  onUpData(chunk: Buffer): void {
    this.#handleUp(chunk);
    // A partial response head outlives this borrowed chunk: copy it.
    if (this.#resPending !== undefined && this.#resPending.buffer === chunk.buffer) this.#resPending = Buffer.from(this.#resPending);
  }

  #handleUp(chunk: Buffer): void {
    if (this.#state === ST_TUNNEL) {
      this.#writeDown(chunk);
      return;
    }
    if (this.#resState === RES_BODY) {
      this.#forwardResponseBody(chunk, 0);
      return;
    }
    if (this.#resState === RES_DONE) {
      // Bytes after a complete response: the upstream is not speaking HTTP/1 correctly.
      this.#up?.destroy();
      return;
    }
    let buf = this.#resPending === undefined ? chunk : Buffer.concat([this.#resPending, chunk]);
    this.#resPending = undefined;
    for (;;) {
      const end = headEnd(buf);
      if (end < 0) {
        if (buf.length > this.#o.maxHeadBytes) this.#fail(new ProxyHttpError(502, 'response head too large'));
        else this.#resPending = buf;
        return;
      }
      const res = parseResponseHead(buf, end, this.#req!.method);
      if ('error' in res) {
        this.#fail(new ProxyHttpError(502, 'malformed response head'));
        return;
      }
      if (res.status === 101) {
        this.#writeDown(buf);
        this.#enterTunnel();
        return;
      }
      if (res.status < 200) {
        // 100 Continue, 103 Early Hints: forward and wait for the final response.
        this.#writeDown(buf.subarray(0, end));
        if (buf.length === end) return;
        buf = buf.subarray(end);
        continue;
      }
      this.#resFramer.reset(res.body, res.length);
      this.#resState = RES_BODY;
      const n = this.#resFramer.consume(buf, end);
      if (n < 0) {
        // Bad body framing in the bytes that came with the head: nothing went out yet,
        // so the client gets a 502 like a malformed head (counted as that 502).
        this.#fail(new ProxyHttpError(502, `malformed response body (${this.#resFramer.error})`));
        return;
      }
      this.#stats?.response(res.status, res.status >= 500, performance.now() - this.#started, this.#req!.method, this.#req!.target);
      this.#resClose = res.close;
      const done = this.#resFramer.done;
      // The session closes the client connection after this response when the client
      // asked, the upstream's close ends it too, the proxy is draining (shutdown, or the
      // client half-closed), or the whole response came with its head and either the
      // request body is still arriving (the upstream answered early, see
      // #responseComplete) or bytes follow it. Then the head says so, or a client that
      // pools connections sends its next request into one about to close ("socket hang
      // up"). What is decided only after the head went out cannot be said in it: a
      // response that ends, in a later read, before its request body did; bytes after a
      // response in a later read; a drain that starts during the body. Holding every head
      // back until its body ends to learn that would stall streaming responses.
      if ((res.close || this.#req!.close || this.#draining || (done && (this.#state !== ST_REQ_DONE || end + n < buf.length))) && !res.saysClose) {
        this.#resBytesSent = true;
        if (!writeOut(this.#down, closingResponseHead(buf, end), null, this.#onDownDrain)) this.#pauseUp();
        if (n > 0) this.#writeDown(buf.subarray(end, end + n));
      } else {
        this.#writeDown(end + n === buf.length ? buf : buf.subarray(0, end + n));
      }
      if (done) this.#responseComplete(end + n < buf.length);
      return;
    }
  }

  #forwardResponseBody(buf: Buffer, off: number): void {
    const n = this.#resFramer.consume(buf, off);
    if (n < 0) {
      // The head went out: the response is cut, its malformed rest never forwarded.
      this.#destroy();
      return;
    }
    if (n > 0) this.#writeDown(off === 0 && n === buf.length ? buf : buf.subarray(off, off + n));
    if (this.#resFramer.done) this.#responseComplete(off + n < buf.length);
  }

  #writeDown(b: Buffer): void {
    this.#resBytesSent = true;
    if (!writeOut(this.#down, b, this.#upReader, this.#onDownDrain)) this.#pauseUp();
  }

  #pauseUp(): void {
    this.#upPaused = true;
    this.#up?.socket.pause();
  }

  readonly #onDownDrain = (): void => {
    if (this.#upPaused) {
      this.#upPaused = false;
      this.#up?.socket.resume();
    }
  };

  /** Upstream can take more (PoolOwner). */
  onUpDrain(): void {
    if (this.#pausedForDrain) {
      this.#pausedForDrain = false;
      this.#resumeDown();
    }
  }

  #responseComplete(extra: boolean): void {
    this.#resState = RES_DONE;
    if (extra) this.#resClose = true;
    if (this.#state === ST_REQ_DONE) this.#exchangeComplete();
    else {
      // The upstream answered before the request body ended (an early 413, say):
      // the upstream connection is mid-request, so neither side can be reused.
      this.#up?.destroy();
      this.#up = undefined;
      this.#endDown();
    }
  }

  #exchangeComplete(): void {
    const up = this.#up!;
    this.#up = undefined;
    if (this.#upPaused) {
      this.#upPaused = false;
      up.socket.resume();
    }
    if (this.#resClose) up.destroy();
    else up.release();
    // A drain we waited for belongs to the upstream just let go (its 'drain' now goes
    // to the pool, not here): waiting on it would leave the client unread for good.
    this.#pausedForDrain = false;
    if (this.#resClose || this.#req!.close || this.#draining) {
      this.#endDown();
      return;
    }
    this.#state = ST_HEAD;
    this.#req = undefined;
    this.#reqHead = undefined;
    if (this.#pending !== undefined) this.#parseHead();
    if (this.#state === ST_HEAD) this.#resumeDown();
  }

  #enterTunnel(): void {
    this.#state = ST_TUNNEL;
    this.#stats = undefined;
    if (this.#pending !== undefined) {
      this.#up!.socket.write(this.#pending);
      this.#pending = undefined;
    }
    this.#pausedForUp = false;
    this.#resumeDown();
  }

  /** Upstream closed (PoolOwner). */
  onUpEnd(): void {
    const up = this.#up;
    this.#up = undefined;
    if (this.#state === ST_CLOSED) return;
    if (this.#state === ST_TUNNEL) {
      this.#endDown();
      return;
    }
    if (this.#resState === RES_BODY && this.#resFramer.untilClose) {
      this.#resState = RES_DONE;
      this.#endDown();
      return;
    }
    if (!this.#resBytesSent && this.#resPending === undefined && up?.reused === true && !this.#retried && this.#req?.body === 'none') {
      // A pooled connection the peer had already closed: replay the head on a new one.
      this.#retried = true;
      this.#state = ST_WAIT_UP;
      this.#o.route(this.#req, this, true, this.#onUpstream);
      return;
    }
    if (!this.#resBytesSent) this.#fail(new ProxyHttpError(502, 'connection closed by upstream'));
    else this.#destroy();
  }

  readonly #onDownEnd = (): void => {
    // The client half-closed (the listeners keep such sockets open, so that the
    // answer to a request followed by a FIN can still go back).
    this.#downEnded = true;
    // Our side already ended (an error answer, an early complete response): the
    // socket closes once that is out; destroying it now could cut the answer short.
    if (this.#down.writableEnded) return;
    switch (this.#state) {
      case ST_HEAD:
        // Between requests: close. A head the FIN cut short can never complete.
        if (this.#pending === undefined) this.#endDown();
        else this.#destroy();
        return;
      case ST_REQ_BODY:
        // The request body can never complete: the exchange is abandoned.
        this.#destroy();
        return;
      case ST_TUNNEL:
        this.#up?.socket.end(); // the FIN travels on; the upstream's ends the tunnel
        return;
      default:
        // A complete request (or one whose upstream is still being opened): answer
        // it, then close.
        this.#draining = true;
    }
  };

  readonly #onDownClose = (): void => {
    if (this.#state === ST_CLOSED) return;
    const inFlight = this.#state !== ST_HEAD;
    this.#state = ST_CLOSED;
    if (this.#up !== undefined) {
      if (inFlight) this.#up.destroy();
      else this.#up.release();
      this.#up = undefined;
    }
    this.#o.onClose?.();
  };

  /** Answers with a proxy error (`l5d-proxy-error`) when nothing was sent yet, then closes. */
  #fail(err: ProxyHttpError): void {
    if (this.#up !== undefined) {
      this.#up.destroy();
      this.#up = undefined;
    }
    if (this.#resBytesSent) {
      this.#destroy();
      return;
    }
    this.#stats?.response(err.status, true, performance.now() - this.#started, this.#req?.method, this.#req?.target);
    this.#o.log.debug('http error', { status: err.status, reason: err.message });
    this.#resBytesSent = true;
    this.#down.write(err.toResponse());
    this.#endDown();
  }

  #endDown(): void {
    this.#down.end();
    this.#pausedForUp = false;
    this.#pausedForDrain = false;
    this.#down.resume(); // Read and discard until the client closes its side.
    this.#down.removeListener('data', this.#onDownData);
    this.#downReader?.redirect(discard);
  }

  #destroy(): void {
    this.#up?.destroy();
    this.#up = undefined;
    this.#down.destroy();
  }

  #detach(): void {
    this.#state = ST_CLOSED;
    this.#down.removeListener('data', this.#onDownData);
    this.#down.removeListener('drain', this.#onDownDrain);
    this.#down.removeListener('end', this.#onDownEnd);
    this.#down.removeListener('close', this.#onDownClose);
  }
}
