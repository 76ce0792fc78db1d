/**
 * HTTP/2 (and so gRPC) proxying with node:http2: each accepted connection becomes a
 * server session; each stream is forwarded on a multiplexed client session to the
 * upstream chosen for that request, headers, body and trailers intact. HTTP/2 stays
 * HTTP/2 end to end.
 *
 * This is the slower path (node:http2 objects per stream); HTTP/1, the common case,
 * goes through `H1Session` instead. What keeps it as cheap as node:http2 allows
 * (measured in bench/README.md): headers travel as node's raw `[name, value, …]`
 * arrays (no header object built or copied by us), bodies are relayed with 'data'
 * listeners and explicit backpressure instead of `Readable.pipe()` (whose listener
 * set-up and tear-down per stream showed in the profile), a request that ended with
 * its headers is sent with END_STREAM and no body plumbing, and a response waits for
 * trailers only when trailers are possible (gRPC, or a client that sent
 * `te: trailers`): otherwise the last DATA frame carries END_STREAM.
 */
import type http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.ts';
import type { RouteStats } from '../metrics/index.ts';

/**
 * node:http2, loaded on first use: it adds about 5 MB of resident memory, which a
 * proxy that never sees HTTP/2 should not pay.
 */
export function loadHttp2(): typeof http2 {
  return process.getBuiltinModule('node:http2');
}

/**
 * Settings of every session this proxy opens or accepts. The stream window
 * (1 MiB instead of 64 KiB) lets a large message cross a hop without waiting for a
 * WINDOW_UPDATE round trip; backpressure still holds because the relay pauses the
 * reading side when the writing side's buffer is full.
 */
export const H2_SESSION_SETTINGS: http2.Settings = { initialWindowSize: 1 << 20 };
/** The connection-level receive window (RFC 9113 §6.9.2 starts it at 64 KiB whatever the settings say). */
export const H2_CONNECTION_WINDOW = 8 << 20;

/** RST_STREAM code CANCEL (RFC 9113 §7). */
const NGHTTP2_CANCEL = 0x8;
/** The END_STREAM flag of a HEADERS frame. */
const NGHTTP2_FLAG_END_STREAM = 0x1;

/**
 * Whether a header name must not be forwarded: the connection-specific headers HTTP/2
 * forbids (RFC 9113 §8.2.2). A switch on the length first: most names are rejected
 * with one comparison.
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

/** Where a stream goes: a client session to its upstream and the stats to count it in. */
export type H2Target = { session: http2.ClientHttp2Session; stats: RouteStats | undefined };

/** Per-connection behaviour of an `H2Proxy`. */
export type H2ConnectionOptions = {
  /**
   * Picks the upstream for a stream (`authority` from :authority). An Error answers
   * `status` (502 by default) with `l5d-proxy-error`, counted in `stats` when given.
   */
  route(authority: string, cb: (err: Error | null, target?: H2Target, status?: number, stats?: RouteStats) => void): void;
  /** Extra request headers (inbound: `l5d-client-id`). */
  addHeaders: Record<string, string> | undefined;
  /** Request header names removed before forwarding. */
  dropHeaders: readonly string[];
};

/** Per-connection state, built once per session: the options and their headers as a raw array. */
type SessionState = { o: H2ConnectionOptions; add: string[] };

/** Serves HTTP/2 connections handed to it after detection. */
export class H2Proxy {
  #server: http2.Http2Server | undefined;
  readonly #log: Logger;
  #next: SessionState | undefined;
  readonly #sessions = new Set<http2.ServerHttp2Session>();

  constructor(log: Logger) {
    this.#log = log;
  }

  #ensureServer(): http2.Http2Server {
    if (this.#server !== undefined) return this.#server;
    const server = loadHttp2().createServer({ maxSessionMemory: 16, settings: H2_SESSION_SETTINGS });
    this.#server = server;
    server.on('session', (s: http2.ServerHttp2Session) => {
      // 'session' fires synchronously inside emit('connection'): bind its options.
      // Streams are taken from the session itself (the server's 'stream' event is
      // the same event re-emitted), with the options at hand: no lookup per stream.
      const st = this.#next;
      this.#sessions.add(s);
      s.on('close', () => this.#sessions.delete(s));
      s.on('error', noop);
      s.on('connect', () => setConnectionWindow(s));
      s.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, raw: string[]) => {
        stream.on('error', noop);
        if (st === undefined) stream.close(NGHTTP2_CANCEL);
        else this.#onStream(stream, headers, raw, st);
      });
    });
    return server;
  }

  /** Serves `socket` (any bytes already read must have been unshifted back). */
  serve(socket: Duplex, options: H2ConnectionOptions): void {
    const add: string[] = [];
    if (options.addHeaders !== undefined) for (const k in options.addHeaders) add.push(k, options.addHeaders[k]!);
    this.#next = { o: options, add };
    // HTTP/2 has no half-close of its own: a peer's FIN means it is gone. The
    // listeners keep half-open sockets (for HTTP/1 and opaque clients); here our side
    // ends with it, as node does for a socket that does not allow half-open.
    socket.once('end', () => socket.end());
    this.#ensureServer().emit('connection', socket);
    this.#next = undefined;
  }

  /** Asks every session to finish: GOAWAY, in-flight streams complete. */
  drain(): void {
    for (const s of this.#sessions) s.close();
  }

  #onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, raw: string[], st: SessionState): void {
    const started = performance.now();
    const a = headers[':authority'];
    st.o.route(typeof a === 'string' ? a : '', (err, target, status, stats) => {
      if (err !== null || target === undefined) {
        const code = status ?? 502;
        if (stats !== undefined) {
          stats.request();
          stats.response(code, true, performance.now() - started, headers[':method'] as string, headers[':path'] as string);
        }
        if (!stream.destroyed && !stream.headersSent) {
          stream.respond({ ':status': code, 'l5d-proxy-error': err?.message ?? 'no upstream' }, { endStream: true });
        }
        return;
      }
      this.#forward(stream, headers, raw, st, target, started);
    });
  }

  #forward(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, raw: string[], st: SessionState, target: H2Target, started: number): void {
    const drop = st.o.dropHeaders;
    const out: string[] = [];
    let trailersAccepted = false;
    for (let i = 0; i < raw.length; i += 2) {
      const k = raw[i]!;
      if (isHopHeader(k) || drop.includes(k)) continue;
      if (k === 'te') {
        if (raw[i + 1] !== 'trailers') continue;
        trailersAccepted = true;
      }
      out.push(k, raw[i + 1]!);
    }
    for (let i = 0; i < st.add.length; i++) out.push(st.add[i]!);
    const stats = target.stats;
    const method = headers[':method'] as string;
    const path = headers[':path'] as string;
    stats?.request();
    const endRequest = stream.endAfterHeaders;
    let req: http2.ClientHttp2Stream;
    try {
      req = target.session.request(out, { endStream: endRequest });
    } catch (err) {
      stats?.response(502, true, performance.now() - started, method, path);
      if (!stream.destroyed) stream.respond({ ':status': 502, 'l5d-proxy-error': (err as Error).message }, { endStream: true });
      return;
    }
    if (!endRequest) relay(stream, req);
    let status = 0;
    let grpcStatus: string | undefined;
    let latency = 0;
    let trailers: http2.IncomingHttpHeaders | undefined;
    req.on('response', (h, flags, rawRes: string[]) => {
      status = Number(h[':status']);
      latency = performance.now() - started;
      const g = h['grpc-status'];
      if (typeof g === 'string') grpcStatus = g;
      if (stream.destroyed) return;
      let res = rawRes;
      for (let i = 0; i < rawRes.length; i += 2) {
        if (isHopHeader(rawRes[i]!)) {
          res = [];
          for (let j = 0; j < rawRes.length; j += 2) if (!isHopHeader(rawRes[j]!)) res.push(rawRes[j]!, rawRes[j + 1]!);
          break;
        }
      }
      // END_STREAM on the headers (a gRPC trailers-only response): end the same way.
      if ((flags & NGHTTP2_FLAG_END_STREAM) !== 0) {
        stream.respond(res, { endStream: true });
        return;
      }
      // Trailers are possible only where someone reads them: a gRPC response, or a
      // client that said `te: trailers`. Elsewhere END_STREAM rides on the last DATA
      // frame, without a trailer block and its 'wantTrailers' round.
      const ct = h['content-type'];
      const waitForTrailers = trailersAccepted || (typeof ct === 'string' && ct.startsWith('application/grpc'));
      if (waitForTrailers) {
        req.on('trailers', (t) => {
          trailers = t;
          const tg = t['grpc-status'];
          if (typeof tg === 'string') grpcStatus = tg;
        });
        stream.on('wantTrailers', () => {
          // No trailers upstream: end the stream with an empty trailer block. `close()`
          // would end it with RST_STREAM, which strict clients (h2load) count as an error.
          stream.sendTrailers(trailers ?? {});
        });
      }
      stream.respond(res, { waitForTrailers });
      relay(req, stream);
    });
    req.on('error', (err) => {
      this.#log.debug('h2 upstream stream error', { reason: err.message });
      if (!stream.destroyed && !stream.headersSent) {
        status = 502;
        stream.respond({ ':status': 502, 'l5d-proxy-error': err.message }, { endStream: true });
      } else stream.close(NGHTTP2_CANCEL);
    });
    stream.on('close', () => {
      if (!req.closed) req.close(NGHTTP2_CANCEL);
      if (status === 0) status = 502;
      const failure = status >= 500 || (grpcStatus !== undefined && grpcStatus !== '0');
      stats?.response(status, failure, latency === 0 ? performance.now() - started : latency, method, path);
    });
  }
}

function noop(): void {}

/**
 * Relays `from`'s body into `to` and ends `to` when `from` ends: 'data' listeners with
 * explicit backpressure (pause `from` while `to`'s buffer is full), the work
 * `Readable.pipe()` does without its per-stream bookkeeping.
 */
function relay(from: http2.Http2Stream, to: http2.Http2Stream): void {
  let waiting = false;
  const resume = (): void => {
    waiting = false;
    from.resume();
  };
  from.on('data', (chunk: Buffer) => {
    if (to.destroyed) return;
    if (!to.write(chunk) && !waiting) {
      waiting = true;
      from.pause();
      to.once('drain', resume);
    }
  });
  from.on('end', () => {
    if (!to.destroyed) to.end();
  });
}

/** Raises a session's connection-level receive window once its SETTINGS exchange is done. */
export function setConnectionWindow(s: http2.Http2Session): void {
  try {
    s.setLocalWindowSize(H2_CONNECTION_WINDOW);
  } catch {
    // The session closed before its settings were acknowledged: nothing to widen.
  }
}

/**
 * A client session to `authority` (over `socket` when given: a mesh TLS connection),
 * with the proxy's session settings and connection window.
 */
export function connectH2(authority: string, socket?: Duplex): http2.ClientHttp2Session {
  const s = loadHttp2().connect(`http://${authority}`, socket === undefined
    ? { settings: H2_SESSION_SETTINGS }
    : { settings: H2_SESSION_SETTINGS, createConnection: () => socket });
  s.once('connect', () => setConnectionWindow(s));
  return s;
}
