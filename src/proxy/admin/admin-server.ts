/**
 * The admin listener (:4191): `/metrics` (Prometheus text), `/ready`, `/live`,
 * `GET /tap` (newline-delimited JSON, one object per finished request, until the
 * client disconnects), and `POST /shutdown` from localhost only (graceful drain).
 *
 * A small HTTP/1.1 server on `node:net` rather than `node:http`: importing node:http
 * costs the proxy about 8 MB of resident memory (measured: tls alone 51 MB, tls + http
 * 60 MB), and the admin endpoints need one request head and one short answer.
 * Requests are served one at a time per connection (keep-alive honoured), heads are
 * bounded, request bodies are read and discarded.
 */
import net from 'node:net';
import { BodyFramer, headEnd, parseRequestHead } from '../http/index.ts';

/** What the admin endpoints report on and act upon. */
export type AdminHooks = {
  metrics(): string;
  /** Empty when ready; otherwise why not. */
  notReadyReasons(): string[];
  shutdown(): void;
  /** Streams tap lines to `socket` until it closes; returns the unsubscribe. */
  tap?(socket: net.Socket): () => void;
};

/** Largest admin request head; admin clients send a few hundred bytes. */
const MAX_HEAD_BYTES = 16 * 1024;
/** Admin connections idle this long are closed. */
const IDLE_MS = 60_000;

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 202: 'Accepted', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 431: 'Request Header Fields Too Large', 503: 'Service Unavailable',
};

function isLoopback(addr: string | undefined): boolean {
  return addr !== undefined && (addr.startsWith('127.') || addr === '::1' || addr.startsWith('::ffff:127.'));
}

/** The admin server: a `net.Server` that also closes its kept-alive connections on demand. */
export type AdminServer = net.Server & { closeAllConnections(): void };

type Answer = { status: number; body: string; type: string; after?: () => void; stream?: true };

function route(hooks: AdminHooks, method: string, target: string, remote: string | undefined): Answer {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const text = (status: number, body: string): Answer => ({ status, body, type: 'text/plain' });
  if (path === '/metrics' && (method === 'GET' || method === 'HEAD')) return { status: 200, body: hooks.metrics(), type: 'text/plain; version=0.0.4' };
  if (path === '/ready') {
    const why = hooks.notReadyReasons();
    return why.length === 0 ? text(200, 'ready\n') : text(503, `not ready: ${why.join('; ')}\n`);
  }
  if (path === '/live') return text(200, 'live\n');
  if (path === '/tap' && hooks.tap !== undefined) {
    if (method !== 'GET') return text(405, 'use GET\n');
    return { status: 200, body: '', type: 'application/x-ndjson', stream: true };
  }
  if (path === '/shutdown') {
    if (method !== 'POST') return text(405, 'use POST\n');
    if (!isLoopback(remote)) return text(403, 'shutdown is only accepted from localhost\n');
    return { ...text(202, 'shutting down\n'), after: () => hooks.shutdown() };
  }
  return text(404, 'not found\n');
}

/** Creates (does not start) the admin HTTP server. */
export function createAdminServer(hooks: AdminHooks): AdminServer {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    let pending: Buffer | undefined;
    const body = new BodyFramer();
    let inBody = false;
    let closed = false;
    let answer: { a: Answer; method: string; close: boolean } | undefined;
    const respond = (): void => {
      const { a, method, close } = answer!;
      answer = undefined;
      if (a.stream === true) {
        // A stream has no length: it ends with the connection, which serves nothing else.
        closed = true;
        socket.setTimeout(0);
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: ${a.type}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n`);
        const stop = hooks.tap!(socket);
        socket.on('close', stop);
        return;
      }
      const b = Buffer.from(a.body, 'utf8');
      const head = `HTTP/1.1 ${a.status} ${STATUS_TEXT[a.status] ?? 'OK'}\r\ncontent-type: ${a.type}\r\ncontent-length: ${b.length}\r\n`
        + `connection: ${close ? 'close' : 'keep-alive'}\r\n\r\n`;
      socket.write(method === 'HEAD' ? head : Buffer.concat([Buffer.from(head, 'latin1'), b]));
      if (close) {
        closed = true;
        socket.end();
      }
      a.after?.();
    };
    const onData = (chunk: Buffer): void => {
      let buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
      pending = undefined;
      while (!closed && buf.length > 0) {
        if (inBody) {
          const n = body.consume(buf, 0);
          if (n < 0) return void socket.destroy();
          buf = buf.subarray(n);
          if (!body.done) return;
          inBody = false;
          respond();
          continue;
        }
        const end = headEnd(buf);
        if (end < 0 || end > MAX_HEAD_BYTES) {
          if (buf.length > MAX_HEAD_BYTES || end > MAX_HEAD_BYTES) {
            answer = { a: { status: 431, body: 'request head too large\n', type: 'text/plain' }, method: 'GET', close: true };
            respond();
          } else pending = buf;
          return;
        }
        const h = parseRequestHead(buf, end, []);
        if ('error' in h) {
          answer = { a: { status: 400, body: 'malformed request\n', type: 'text/plain' }, method: 'GET', close: true };
          respond();
          return;
        }
        answer = { a: route(hooks, h.method, h.target, socket.remoteAddress), method: h.method, close: h.close || h.minor === 0 };
        buf = buf.subarray(end);
        body.reset(h.body, h.length);
        if (body.done) respond();
        else inBody = true;
      }
    };
    socket.on('data', onData);
  }) as AdminServer;
  server.closeAllConnections = () => {
    for (const s of sockets) s.destroy();
  };
  return server;
}
