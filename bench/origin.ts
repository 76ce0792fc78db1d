/**
 * The benchmark's origin, one process for every scenario (so it costs the same in
 * each): `PORT` or `h1:PORT` is an HTTP/1.1 server answering `ok`; `h2:PORT` is a
 * cleartext HTTP/2 server (prior knowledge) answering `ok`, or, for a request with
 * `content-type: application/grpc`, one gRPC message and `grpc-status: 0` trailers.
 *
 *   node bench/origin.ts h1:9000 h1:9001 h2:9002
 */
import http from 'node:http';
import http2 from 'node:http2';

/** A gRPC response message: 5-byte prefix (uncompressed, length 2) then the payload. */
const GRPC_MESSAGE = Buffer.from([0, 0, 0, 0, 2, 0x6f, 0x6b]);

for (const spec of process.argv.slice(2)) {
  const [kind, port] = spec.includes(':') ? spec.split(':') as [string, string] : ['h1', spec];
  if (kind === 'h2') {
    const server = http2.createServer({ peerMaxConcurrentStreams: 1000 });
    server.on('stream', (stream, headers) => {
      stream.on('error', () => {});
      const grpc = headers['content-type'] === 'application/grpc';
      // Drain the request body; answer once it has ended.
      stream.resume();
      const answer = (): void => {
        if (stream.destroyed) return;
        if (!grpc) {
          stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': 2 });
          stream.end('ok');
          return;
        }
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(GRPC_MESSAGE);
      };
      if (stream.readableEnded) answer();
      else stream.once('end', answer);
    });
    server.listen(Number(port), '127.0.0.1');
    continue;
  }
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
    res.end('ok');
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(port), '127.0.0.1');
}
process.on('SIGTERM', () => process.exit(0));
