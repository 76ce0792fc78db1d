/**
 * A gRPC client channel over node:http2: one TLS connection to one service,
 * opened at the first call and again after it breaks, carrying unary and
 * server-streaming calls (PROTOCOL-HTTP2.md: POST, `content-type: application/grpc`,
 * `te: trailers`, length-prefixed messages, `grpc-status`/`grpc-message` trailers).
 *
 * Why not @grpc/grpc-js: the sidecar makes two kinds of call, both with one
 * request message and hand-encoded protobuf; grpc-js's channel, resolver, load
 * balancer and subchannel machinery cost it several MB of memory at rest
 * (bench/README.md). The control plane's servers stay on grpc-js.
 *
 *   call ─▶ connection? ── none / broken ─▶ connect (TLS, name checked against serverName)
 *     │          └─ open ─▶ stream ─▶ messages… ─▶ trailers ─▶ onEnd(status)
 *     ├─ cancelled before any response headers (its deadline passed) ─▶ the next call
 *     │     dials a new connection; this one is pinged: answer ─▶ close once its
 *     │     streams end; no answer within keepaliveTimeoutMs ─▶ destroy
 *     └─ no call for idleTimeoutMs ─▶ close the connection (renewals are hours apart)
 *
 * No reconnect backoff of its own: a failed call ends UNAVAILABLE at once and the
 * caller's loop (identity's refresh, destination's watch) decides when to retry,
 * with its own backoff; the next call dials again.
 */
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { frameMessage, MessageReader } from './message-frames.ts';
import {
  GrpcCode, GrpcStatusError, grpcCodeOfHttpStatus, grpcCodeOfReset, statusOfTrailers, type GrpcStatus,
} from './status.ts';

/** Options of {@link GrpcChannel}. */
export interface GrpcChannelOptions {
  /** `host:port` to dial (`[v6]:port` for IPv6). */
  readonly addr: string;
  /**
   * The name the server's certificate must carry, sent as SNI and `:authority`:
   * we dial an address but verify a name, as Linkerd's proxy does.
   */
  readonly serverName: string;
  /** PEM bundle the server's certificate must chain to. */
  readonly trustAnchorsPem: string;
  /** Our private key, PEM, when the server wants a client certificate. */
  readonly keyPem?: string;
  /** Our certificate then intermediates, PEM, with `keyPem`. */
  readonly certChainPem?: string;
  /**
   * While calls are open, ping every this many ms (default: never). A stream can
   * sit idle for hours; a ping finds a peer that vanished without closing.
   */
  readonly keepaliveMs?: number;
  /**
   * How long a ping may go unanswered before the connection counts as dead, ms
   * (default 10 000): keepalive pings, and the ping that follows a call cancelled
   * before the server answered anything.
   */
  readonly keepaliveTimeoutMs?: number;
  /** Close the connection after this long without calls, ms (default 300 000). */
  readonly idleTimeoutMs?: number;
  /** Largest response message accepted, bytes (default 4 MiB, gRPC's default). */
  readonly maxMessageBytes?: number;
}

/** What a call tells its caller. */
export interface GrpcCallHandlers {
  /** One response message (protobuf bytes). */
  onMessage(message: Buffer): void;
  /** The call's end: called exactly once, last. */
  onEnd(status: GrpcStatus): void;
}

/** One call: the method and its one request message. */
export interface GrpcRequest {
  /** `/package.Service/Method`. */
  readonly path: string;
  /** The request message, protobuf bytes. */
  readonly message: Uint8Array;
  /** Sent as `grpc-timeout` so the server gives up too (default none); the caller times its own deadline. */
  readonly timeoutMs?: number;
}

/** A call in flight. */
export interface GrpcCall {
  /**
   * Ends the call (RST_STREAM CANCEL); `onEnd` hears CANCELLED unless it already
   * ended. Before any response headers (a deadline that passed), it also retires the
   * connection from new calls and pings it (see the file comment).
   */
  cancel(): void;
}

const DEFAULT_IDLE_TIMEOUT_MS = 300_000;
const DEFAULT_KEEPALIVE_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** One connection and what the channel tracks about it. */
interface Connection {
  readonly session: ClientHttp2Session;
  active: number;
  /** Why the connection failed, for the calls it takes down with it. */
  error: Error | undefined;
  idle: NodeJS.Timeout | undefined;
  keepalive: NodeJS.Timeout | undefined;
  /** Retired and pinged after a call it left unanswered (once is enough). */
  probing: boolean;
}

/** A gRPC channel to one service; see the file comment. */
export class GrpcChannel {
  readonly #opts: GrpcChannelOptions;
  #conn: Connection | undefined;
  #closed = false;

  constructor(opts: GrpcChannelOptions) {
    this.#opts = opts;
  }

  /** Starts a call; `handlers` hear its messages and its end. */
  call(request: GrpcRequest, handlers: GrpcCallHandlers): GrpcCall {
    let ended = false;
    const end = (status: GrpcStatus): void => {
      if (ended) return;
      ended = true;
      handlers.onEnd(status);
    };
    if (this.#closed) {
      queueMicrotask(() => end({ code: GrpcCode.UNAVAILABLE, details: 'the channel is closed' }));
      return { cancel: () => end({ code: GrpcCode.CANCELLED, details: 'cancelled by the client' }) };
    }
    let conn: Connection;
    let stream: ClientHttp2Stream;
    try {
      conn = this.#connection();
      stream = conn.session.request(this.#headers(request));
    } catch (err) {
      // A connection that is closing (GOAWAY) refuses new streams: the next call dials again.
      this.#drop();
      const details = `cannot open a stream to "${this.#opts.addr}": ${(err as Error).message}`;
      queueMicrotask(() => end({ code: GrpcCode.UNAVAILABLE, details }));
      return { cancel: () => end({ code: GrpcCode.CANCELLED, details: 'cancelled by the client' }) };
    }
    this.#began(conn);
    let answered = false;
    stream.once('response', () => {
      answered = true;
    });
    this.#watch(conn, stream, handlers.onMessage, (status) => {
      this.#finished(conn);
      end(status);
    });
    stream.end(frameMessage(request.message));
    return {
      cancel: () => {
        if (ended) return;
        end({ code: GrpcCode.CANCELLED, details: 'cancelled by the client' });
        if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
        // Silence until the caller gave up is how a black-holed connection looks (no
        // FIN, no RST). Reused, it would swallow every retry until the kernel gives up
        // (~15 min), and the retries would keep the idle close from firing.
        if (!answered) this.#probe(conn);
      },
    };
  }

  /** A unary call: resolves with the one response message, rejects with {@link GrpcStatusError}. */
  unary(request: GrpcRequest): { response: Promise<Buffer>; cancel(): void } {
    let call: GrpcCall | undefined;
    const response = new Promise<Buffer>((resolve, reject) => {
      const messages: Buffer[] = [];
      call = this.call(request, {
        onMessage: (m) => messages.push(m),
        onEnd: (status) => {
          if (status.code !== GrpcCode.OK) reject(new GrpcStatusError(status));
          else if (messages.length === 0) reject(new GrpcStatusError({ code: GrpcCode.UNIMPLEMENTED, details: 'the server sent no response message' }));
          else if (messages.length > 1) reject(new GrpcStatusError({ code: GrpcCode.INTERNAL, details: `the server sent ${messages.length} response messages to a unary call` }));
          else resolve(messages[0] as Buffer);
        },
      });
    });
    return { response, cancel: () => call?.cancel() };
  }

  /** Closes the channel: calls in flight finish, new ones fail UNAVAILABLE. */
  close(): void {
    this.#closed = true;
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn === undefined) return;
    clearTimeout(conn.idle);
    if (conn.active === 0) conn.session.destroy();
    else conn.session.close();
  }

  #headers(request: GrpcRequest): Record<string, string> {
    return {
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: request.path,
      [constants.HTTP2_HEADER_AUTHORITY]: this.#opts.serverName,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'weft-grpc-client/1',
      // grpc-timeout takes at most 8 digits: milliseconds cover ~27 hours.
      ...(request.timeoutMs === undefined ? {} : { 'grpc-timeout': `${Math.min(99_999_999, Math.max(1, Math.ceil(request.timeoutMs)))}m` }),
    };
  }

  /** The open connection, or a new one. */
  #connection(): Connection {
    const open = this.#conn;
    if (open !== undefined && !open.session.closed && !open.session.destroyed) return open;
    const o = this.#opts;
    const session = connect(`https://${o.addr}`, {
      ca: o.trustAnchorsPem,
      ...(o.keyPem === undefined ? {} : { key: o.keyPem }),
      ...(o.certChainPem === undefined ? {} : { cert: o.certChainPem }),
      servername: o.serverName,
      // Checked against the service's name, not the address dialled.
      checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(o.serverName, cert),
    });
    const conn: Connection = { session, active: 0, error: undefined, idle: undefined, keepalive: undefined, probing: false };
    session.on('error', (err) => {
      conn.error ??= err;
    });
    // After GOAWAY the connection takes no new streams; its open ones may finish.
    session.on('goaway', () => {
      if (this.#conn === conn) this.#conn = undefined;
    });
    session.on('close', () => {
      clearTimeout(conn.idle);
      clearInterval(conn.keepalive);
      if (this.#conn === conn) this.#conn = undefined;
    });
    if (o.keepaliveMs !== undefined) conn.keepalive = this.#keepalive(conn, o.keepaliveMs, o.keepaliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS);
    this.#conn = conn;
    return conn;
  }

  /** Pings while calls are open; a ping unanswered for `timeoutMs` destroys the connection, failing its calls UNAVAILABLE. */
  #keepalive(conn: Connection, everyMs: number, timeoutMs: number): NodeJS.Timeout {
    let waiting = false;
    const timer = setInterval(() => {
      if (waiting || conn.active === 0 || conn.session.connecting || conn.session.destroyed) return;
      waiting = true;
      const deadline = setTimeout(() => {
        conn.error ??= new Error(`no answer to a keepalive ping within ${timeoutMs} ms`);
        conn.session.destroy();
      }, timeoutMs);
      deadline.unref();
      const sent = conn.session.ping(() => {
        waiting = false;
        clearTimeout(deadline);
      });
      if (!sent) {
        waiting = false;
        clearTimeout(deadline);
      }
    }, everyMs);
    timer.unref();
    return timer;
  }

  /**
   * Retires `conn` after a call it left unanswered: new calls dial a new connection
   * at once (the retry must not wait on a ping), and a ping decides what becomes of
   * this one: answered, it closes once its streams end (a slow server, not a dead
   * link); unanswered within keepaliveTimeoutMs, it is destroyed, failing its calls
   * UNAVAILABLE. A connection still in its handshake counts the same: node sends the
   * ping once connected.
   */
  #probe(conn: Connection): void {
    const { session } = conn;
    if (this.#conn === conn) this.#conn = undefined;
    if (conn.probing || session.closed || session.destroyed) return;
    const timeoutMs = this.#opts.keepaliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS;
    conn.probing = true;
    const deadline = setTimeout(() => {
      if (session.destroyed) return;
      conn.error ??= new Error(`no answer to a ping within ${timeoutMs} ms after a call got no response`);
      session.destroy();
    }, timeoutMs);
    deadline.unref();
    // Only an answer clears the deadline: node cancels a ping at once while connecting.
    const answered = (err: Error | null): void => {
      if (err !== null) return;
      clearTimeout(deadline);
      if (!session.closed && !session.destroyed) session.close();
    };
    // false: too many pings in flight (cannot happen with one keepalive and one probe); let the idle close handle it.
    const ping = (): void => {
      if (!session.destroyed && session.ping(answered) === false) clearTimeout(deadline);
    };
    if (session.connecting) session.once('connect', ping);
    else ping();
  }

  /** A call started: the connection keeps the process alive and is not idle. */
  #began(conn: Connection): void {
    conn.active++;
    clearTimeout(conn.idle);
    conn.idle = undefined;
    conn.session.ref();
  }

  /** A call ended: an idle connection lets the process exit, and closes after idleTimeoutMs. */
  #finished(conn: Connection): void {
    conn.active--;
    if (conn.active > 0 || conn.session.destroyed) return;
    conn.session.unref();
    conn.idle = setTimeout(() => {
      if (conn.active === 0) conn.session.close();
    }, this.#opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    conn.idle.unref();
  }

  /** Forgets the current connection (it is closing); the next call dials again. */
  #drop(): void {
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn !== undefined && conn.active === 0) conn.session.destroy();
  }

  /** Reads one stream: messages to `onMessage`, then exactly one status to `onEnd`. */
  #watch(conn: Connection, stream: ClientHttp2Stream, onMessage: (m: Buffer) => void, onEnd: (s: GrpcStatus) => void): void {
    const reader = new MessageReader(this.#opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
    let status: GrpcStatus | undefined;
    let streamError: Error | undefined;
    const abort = (s: GrpcStatus): void => {
      status ??= s;
      if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
    };
    stream.on('response', (headers: IncomingHttpHeaders) => {
      const http = Number(headers[constants.HTTP2_HEADER_STATUS]);
      if (http !== 200) {
        abort({ code: grpcCodeOfHttpStatus(http), details: `the server answered HTTP ${http}, not gRPC` });
        return;
      }
      const type = String(headers['content-type'] ?? '');
      if (!type.startsWith('application/grpc')) {
        abort({ code: GrpcCode.UNKNOWN, details: `the server answered content-type "${type}", not application/grpc` });
        return;
      }
      // Trailers-only: an immediate refusal carries its status in the headers.
      const early = statusOfTrailers(headers);
      if (early !== undefined) status ??= early;
    });
    stream.on('data', (chunk: Buffer) => {
      if (status !== undefined) return;
      const out = reader.push(chunk);
      if (!Array.isArray(out)) {
        abort(out.kind === 'compressed'
          ? { code: GrpcCode.INTERNAL, details: 'the server sent a compressed message though none was accepted' }
          : { code: GrpcCode.RESOURCE_EXHAUSTED, details: `the server sent a message of ${out.length} bytes, over the limit of ${out.max}` });
        return;
      }
      for (const m of out) {
        if (status !== undefined) return;
        try {
          onMessage(m);
        } catch (err) {
          abort({ code: GrpcCode.INTERNAL, details: `cannot read the server's message: ${(err as Error).message}` });
        }
      }
    });
    stream.on('trailers', (trailers: IncomingHttpHeaders) => {
      status ??= statusOfTrailers(trailers) ?? { code: GrpcCode.UNKNOWN, details: 'the server ended the call without a grpc-status' };
    });
    stream.on('error', (err: Error) => {
      streamError ??= err;
    });
    stream.on('close', () => {
      if (status === undefined) {
        // A connection that failed or went away (Node resets its streams with CANCEL)
        // is UNAVAILABLE; a reset the server sent on a live connection says why by its code.
        // Node cancels a failed connection's streams before the session reports why; the
        // cancellation carries the reason as its cause.
        const failure = conn.error ?? (conn.session.destroyed ? streamError : undefined);
        const reason = failure?.cause instanceof Error ? failure.cause : failure;
        if (reason !== undefined) status = { code: GrpcCode.UNAVAILABLE, details: `connection to "${this.#opts.addr}" failed: ${reason.message}` };
        else if (conn.session.destroyed) status = { code: GrpcCode.UNAVAILABLE, details: `the connection to "${this.#opts.addr}" closed` };
        else if (stream.rstCode !== undefined && stream.rstCode !== constants.NGHTTP2_NO_ERROR) {
          status = { code: grpcCodeOfReset(stream.rstCode), details: `the server reset the stream (HTTP/2 error ${stream.rstCode})` };
        } else if (streamError !== undefined) status = { code: GrpcCode.UNAVAILABLE, details: `the stream to "${this.#opts.addr}" failed: ${streamError.message}` };
        else status = { code: GrpcCode.INTERNAL, details: 'the server ended the stream without a grpc-status' };
      }
      if (status.code === GrpcCode.OK && reader.buffered > 0) status = { code: GrpcCode.INTERNAL, details: 'the stream ended inside a message' };
      onEnd(status);
    });
  }
}
