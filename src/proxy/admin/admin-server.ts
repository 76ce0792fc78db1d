/**
 * The admin listener (:4191): `/metrics` (Prometheus text), `/ready`, `/live`, and
 * `POST /shutdown` from localhost only (graceful drain).
 */
import http from 'node:http';

/** What the admin endpoints report on and act upon. */
export type AdminHooks = {
  metrics(): string;
  /** Empty when ready; otherwise why not. */
  notReadyReasons(): string[];
  shutdown(): void;
};

function isLoopback(addr: string | undefined): boolean {
  return addr !== undefined && (addr.startsWith('127.') || addr === '::1' || addr.startsWith('::ffff:127.'));
}

/** Creates (does not start) the admin HTTP server. */
export function createAdminServer(hooks: AdminHooks): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, type = 'text/plain'): void => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (path === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      reply(200, hooks.metrics(), 'text/plain; version=0.0.4');
    } else if (path === '/ready') {
      const why = hooks.notReadyReasons();
      reply(why.length === 0 ? 200 : 503, why.length === 0 ? 'ready\n' : `not ready: ${why.join('; ')}\n`);
    } else if (path === '/live') {
      reply(200, 'live\n');
    } else if (path === '/shutdown') {
      if (req.method !== 'POST') reply(405, 'use POST\n');
      else if (!isLoopback(req.socket.remoteAddress)) reply(403, 'shutdown is only accepted from localhost\n');
      else {
        reply(202, 'shutting down\n');
        hooks.shutdown();
      }
    } else {
      reply(404, 'not found\n');
    }
  });
}
