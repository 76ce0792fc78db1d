/**
 * HTTP/2 (and so gRPC) proxying with node:http2: each accepted connection becomes a
 * server session; each stream is forwarded on a multiplexed client session to the
 * chosen upstream, headers, body and trailers intact. HTTP/2 stays HTTP/2 end to end.
 *
 * This is the slow path (node:http2 objects per stream); HTTP/1, the common case,
 * goes through `H1Session` instead.
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

const HTTP2_HEADER_AUTHORITY = ':authority';
const HTTP2_HEADER_METHOD = ':method';
const HTTP2_HEADER_PATH = ':path';
const HTTP2_HEADER_STATUS = ':status';
/** RST_STREAM code CANCEL (RFC 9113 §7). */
const NGHTTP2_CANCEL = 0x8;
/** The END_STREAM flag of a HEADERS frame. */
const NGHTTP2_FLAG_END_STREAM = 0x1;

/** Headers HTTP/2 forbids or that only describe one hop (RFC 9113 §8.2.2). */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings']);

/** Where a stream goes: a client session to its upstream and the stats to count it in. */
export type H2Target = { session: http2.ClientHttp2Session; stats: RouteStats | undefined };

/** Per-connection behaviour of an `H2Proxy`. */
export type H2ConnectionOptions = {
  /** Picks the upstream for a stream (`authority` from :authority); an Error answers 502/503. */
  route(authority: string, cb: (err: Error | null, target?: H2Target, status?: number) => void): void;
  /** Extra request headers (inbound: `l5d-client-id`). */
  addHeaders: Record<string, string> | undefined;
  /** Request header names removed before forwarding. */
  dropHeaders: readonly string[];
};

/** Serves HTTP/2 connections handed to it after detection. */
export class H2Proxy {
  #server: http2.Http2Server | undefined;
  readonly #log: Logger;
  #next: H2ConnectionOptions | undefined;
  readonly #bySession = new WeakMap<http2.Http2Session, H2ConnectionOptions>();
  readonly #sessions = new Set<http2.ServerHttp2Session>();

  constructor(log: Logger) {
    this.#log = log;
  }

  #ensureServer(): http2.Http2Server {
    if (this.#server !== undefined) return this.#server;
    const server = loadHttp2().createServer({ maxSessionMemory: 16 });
    this.#server = server;
    server.on('session', (s: http2.ServerHttp2Session) => {
      // 'session' fires synchronously inside emit('connection'): bind its options.
      if (this.#next !== undefined) this.#bySession.set(s, this.#next);
      this.#sessions.add(s);
      s.on('close', () => this.#sessions.delete(s));
      s.on('error', () => {});
    });
    server.on('stream', (stream, headers) => this.#onStream(stream, headers));
    return server;
  }

  /** Serves `socket` (any bytes already read must have been unshifted back). */
  serve(socket: Duplex, options: H2ConnectionOptions): void {
    this.#next = options;
    this.#ensureServer().emit('connection', socket);
    this.#next = undefined;
  }

  /** Asks every session to finish: GOAWAY, in-flight streams complete. */
  drain(): void {
    for (const s of this.#sessions) s.close();
  }

  #onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const o = this.#bySession.get(stream.session!);
    stream.on('error', () => {});
    if (o === undefined) {
      stream.close(NGHTTP2_CANCEL);
      return;
    }
    const started = performance.now();
    const a = headers[HTTP2_HEADER_AUTHORITY];
    const authority = typeof a === 'string' ? a : '';
    o.route(authority, (err, target, status) => {
      if (err !== null || target === undefined) {
        if (!stream.destroyed && !stream.headersSent) {
          stream.respond({ [HTTP2_HEADER_STATUS]: status ?? 502, 'l5d-proxy-error': err?.message ?? 'no upstream' }, { endStream: true });
        }
        return;
      }
      this.#forward(stream, headers, o, target, started);
    });
  }

  #forward(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, o: H2ConnectionOptions, target: H2Target, started: number): void {
    const out: http2.OutgoingHttpHeaders = {};
    for (const k in headers) {
      if (HOP_HEADERS.has(k) || o.dropHeaders.includes(k)) continue;
      if (k === 'te' && headers[k] !== 'trailers') continue;
      out[k] = headers[k];
    }
    if (o.addHeaders !== undefined) Object.assign(out, o.addHeaders);
    const stats = target.stats;
    stats?.request();
    let req: http2.ClientHttp2Stream;
    try {
      req = target.session.request(out, { endStream: stream.readableEnded });
    } catch (err) {
      stats?.response(502, true, performance.now() - started, headers[HTTP2_HEADER_METHOD] as string, headers[HTTP2_HEADER_PATH] as string);
      if (!stream.destroyed) stream.respond({ [HTTP2_HEADER_STATUS]: 502, 'l5d-proxy-error': (err as Error).message }, { endStream: true });
      return;
    }
    let status = 0;
    let grpcStatus: string | undefined;
    let latency = 0;
    let trailers: http2.IncomingHttpHeaders | undefined;
    stream.pipe(req);
    req.on('response', (h, flags) => {
      status = Number(h[HTTP2_HEADER_STATUS]);
      latency = performance.now() - started;
      if (typeof h['grpc-status'] === 'string') grpcStatus = h['grpc-status'];
      const resHeaders: http2.OutgoingHttpHeaders = {};
      for (const k in h) if (!HOP_HEADERS.has(k)) resHeaders[k] = h[k];
      if (stream.destroyed) return;
      // END_STREAM on the headers (a gRPC trailers-only response): end the same way.
      if ((flags & NGHTTP2_FLAG_END_STREAM) !== 0) {
        stream.respond(resHeaders, { endStream: true });
        return;
      }
      stream.respond(resHeaders, { waitForTrailers: true });
      req.pipe(stream);
    });
    req.on('trailers', (t) => {
      trailers = t;
      if (typeof t['grpc-status'] === 'string') grpcStatus = t['grpc-status'];
    });
    stream.on('wantTrailers', () => {
      const t: http2.OutgoingHttpHeaders = {};
      let any = false;
      if (trailers !== undefined) for (const k in trailers) { if (!k.startsWith(':')) { t[k] = trailers[k]; any = true; } }
      // No trailers upstream: end the stream with an empty trailer block. `close()`
      // would end it with RST_STREAM, which strict clients (h2load) count as an error.
      stream.sendTrailers(any ? t : {});
    });
    req.on('error', (err) => {
      this.#log.debug('h2 upstream stream error', { reason: err.message });
      if (!stream.destroyed && !stream.headersSent) {
        status = 502;
        stream.respond({ [HTTP2_HEADER_STATUS]: 502, 'l5d-proxy-error': err.message }, { endStream: true });
      } else stream.close(NGHTTP2_CANCEL);
    });
    stream.on('close', () => {
      if (!req.closed) req.close(NGHTTP2_CANCEL);
      if (status === 0) status = 502;
      const failure = status >= 500 || (grpcStatus !== undefined && grpcStatus !== '0');
      stats?.response(status, failure, latency === 0 ? performance.now() - started : latency, headers[HTTP2_HEADER_METHOD] as string, headers[HTTP2_HEADER_PATH] as string);
    });
  }
}
