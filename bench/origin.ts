/**
 * The benchmark's origin: a tiny Node HTTP server answering `ok` on every port
 * given on the command line (one process, so it costs the same in every scenario).
 */
import http from 'node:http';

for (const p of process.argv.slice(2)) {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
    res.end('ok');
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(p), '127.0.0.1');
}
process.on('SIGTERM', () => process.exit(0));
