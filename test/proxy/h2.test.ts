import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { listen, metrics, sample, startMesh } from './harness.ts';

/** An h2c application: unary echo with gRPC-style trailers, and a server-streaming route. */
function grpcLikeApp(): http2.Http2Server {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'x-client-id': String(headers['l5d-client-id'] ?? '') }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': headers[':path'] === '/fail' ? '13' : '0', 'grpc-message': 'done' }));
      if (headers[':path'] === '/stream') {
        for (let i = 0; i < 3; i++) stream.write(`msg${i};`);
        stream.end();
      } else {
        stream.end(Buffer.concat(chunks));
      }
    });
  });
  return server;
}

async function call(client: http2.ClientHttp2Session, path: string, body: string): Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = client.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    let data = '';
    req.on('response', (h) => { headers = h; });
    req.on('trailers', (tr) => { trailers = tr; });
    req.on('data', (c: Buffer) => { data += c.toString(); });
    req.on('end', () => resolve({ headers, trailers, body: data }));
    req.on('error', reject);
    req.end(body);
  });
}

test('HTTP/2 (gRPC-shaped) crosses the mesh as HTTP/2 with trailers and l5d-client-id', async (t) => {
  const app = grpcLikeApp();
  const appPort = await listen(t, app);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`grpc.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`grpc.test:${appPort}`],
  });
  const client = http2.connect(`http://127.0.0.1:${m.a.ports.targets[0]!}`);
  client.on('error', () => {});
  t.after(() => client.close());
  const unary = await call(client, '/echo', 'ping');
  assert.equal(unary.headers[':status'], 200);
  assert.equal(unary.body, 'ping');
  assert.equal(unary.headers['x-client-id'], m.aLeaf.identity);
  assert.equal(unary.trailers['grpc-status'], '0');
  assert.equal(unary.trailers['grpc-message'], 'done');
  const streamed = await call(client, '/stream', '');
  assert.equal(streamed.body, 'msg0;msg1;msg2;');
  assert.equal(streamed.trailers['grpc-status'], '0');
  const failed = await call(client, '/fail', 'x');
  assert.equal(failed.trailers['grpc-status'], '13');
  const am = await metrics(m.a);
  assert.equal(sample(am, 'request_total', 'direction="outbound"', 'tls="true"'), 3);
  assert.equal(sample(am, 'response_total', 'direction="outbound"', 'classification="failure"'), 1);
  assert.equal(sample(am, 'protocol_detect_total', 'outcome="h2"'), 1);
  assert.equal(sample(await metrics(m.b), 'request_total', 'direction="inbound"', 'tls="true"', `client_id="${m.aLeaf.identity}"`), 3);
});

test('A quiet HTTP/2 stream outlives both proxies\' idle timeout: connections with streams open are kept alive by PINGs', async (t) => {
  // A gRPC watch or long poll: the head and a first message, then nothing for longer
  // than the idle timeout. The client sends no PINGs of its own.
  const app = http2.createServer();
  app.on('stream', (stream) => {
    stream.respond({ ':status': 200 });
    stream.write('first;');
    const later = setTimeout(() => stream.end('late'), 2500);
    stream.on('close', () => clearTimeout(later));
  });
  const appPort = await listen(t, app);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`watch.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`watch.test:${appPort}`],
    a: { idleTimeoutMs: 1000 },
    b: { idleTimeoutMs: 1000 },
  });
  const client = http2.connect(`http://127.0.0.1:${m.a.ports.targets[0]!}`);
  client.on('error', () => {});
  t.after(() => client.close());
  const body = await new Promise<string>((resolve, reject) => {
    const req = client.request({ ':path': '/watch' });
    let data = '';
    req.on('data', (c: Buffer) => { data += c.toString(); });
    req.on('end', () => resolve(data));
    req.on('error', reject);
    req.end();
  });
  assert.equal(body, 'first;late');
});
