import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http2 from 'node:http2';
import { Readable } from 'node:stream';
import { listen, loadLoops, metrics, sample, startMesh, waitFor, type Load } from './harness.ts';
import { controlPlane } from './control-plane-fixture.ts';

type Reply = { headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders | undefined; body: Buffer };

/** One request on `client`; resolves at the end of the response (or rejects on a stream error). */
function call(client: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer | string | Readable): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = client.request({ ':method': body === undefined ? 'GET' : 'POST', ...headers }, { endStream: body === undefined });
    let h: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    req.on('response', (x) => { h = x; });
    req.on('trailers', (x) => { trailers = x; });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ headers: h, trailers, body: Buffer.concat(chunks) }));
    req.on('error', reject);
    if (body instanceof Readable) body.pipe(req);
    else if (body !== undefined) req.end(body);
  });
}

/** An h2c client session closed after the test. */
function connect(t: TestContext, port: number): http2.ClientHttp2Session {
  const client = http2.connect(`http://127.0.0.1:${port}`);
  client.on('error', () => {});
  t.after(() => client.destroy());
  return client;
}

/**
 * An h2c app: `/echo` answers the request body (a digest header says what it got),
 * `/big?n` answers n bytes, `/trailers` a body and trailers, `/only` a gRPC
 * trailers-only error (END_STREAM on the response headers), anything else its name.
 */
function app(name: string): http2.Http2Server {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const path = String(headers[':path']);
    stream.on('error', () => {});
    if (path === '/only') {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'not found' }, { endStream: true });
      return;
    }
    if (path === '/trailers') {
      stream.respond({ ':status': 200 }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc' }));
      stream.end('with trailers');
      return;
    }
    if (path.startsWith('/big?')) {
      // Written in 64 KiB pieces with backpressure, as a streaming server would.
      stream.respond({ ':status': 200 });
      Readable.from((function* pieces() {
        for (let left = Number(path.slice(5)); left > 0; left -= 65536) yield Buffer.alloc(Math.min(left, 65536), 'x');
      })()).pipe(stream);
      return;
    }
    if (path === '/echo') {
      // Streams the body back as it arrives; its digest follows in the trailers.
      const hash = createHash('sha256');
      stream.respond({ ':status': 200 }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-sha256': hash.digest('hex') }));
      stream.on('data', (c: Buffer) => hash.update(c));
      stream.pipe(stream);
      return;
    }
    stream.respond({ ':status': 200, 'x-client-id': String(headers['l5d-client-id'] ?? '') });
    stream.end(name);
  });
  return server;
}

test('HTTP/2 bodies larger than every flow-control window cross the mesh intact in both directions', async (t) => {
  const appPort = await listen(t, app('one'));
  const m = await startMesh(t, { destinations: (bIn, bId) => [`h2.test:${appPort}=127.0.0.1:${bIn}#${bId}`], targets: [`h2.test:${appPort}`] });
  const client = connect(t, m.a.ports.targets[0]!);
  const up = Buffer.alloc(12 << 20);
  for (let i = 0; i < up.length; i += 4096) up.writeUInt32BE(i, i);
  const digest = createHash('sha256').update(up).digest('hex');
  // Sent in 64 KiB pieces: one 12 MiB write would exceed the test client's own session memory.
  const pieces = Readable.from((function* split() {
    for (let i = 0; i < up.length; i += 65536) yield up.subarray(i, i + 65536);
  })());
  const [echo, big] = await Promise.all([call(client, { ':path': '/echo', te: 'trailers' }, pieces), call(client, { ':path': '/big?' + String(10 << 20) })]);
  assert.equal(echo.headers[':status'], 200);
  assert.equal(echo.trailers?.['x-sha256'], digest);
  assert.equal(createHash('sha256').update(echo.body).digest('hex'), digest);
  assert.equal(big.body.length, 10 << 20);
});

test('HTTP/2 trailers reach a client that sent te: trailers; a gRPC trailers-only answer stays one HEADERS frame', async (t) => {
  const appPort = await listen(t, app('one'));
  const m = await startMesh(t, { destinations: (bIn, bId) => [`h2.test:${appPort}=127.0.0.1:${bIn}#${bId}`], targets: [`h2.test:${appPort}`] });
  const client = connect(t, m.a.ports.targets[0]!);
  const withTe = await call(client, { ':path': '/trailers', te: 'trailers' });
  assert.equal(withTe.body.toString(), 'with trailers');
  assert.equal(withTe.trailers?.['x-checksum'], 'abc');
  // Without te: trailers the body still arrives whole and the stream ends cleanly.
  const withoutTe = await call(client, { ':path': '/trailers' });
  assert.equal(withoutTe.body.toString(), 'with trailers');
  const only = await call(client, { ':path': '/only', 'content-type': 'application/grpc', te: 'trailers' }, Buffer.from([0, 0, 0, 0, 0]));
  assert.equal(only.headers['grpc-status'], '5');
  assert.equal(only.headers['grpc-message'], 'not found');
  assert.equal(only.body.length, 0);
  // A client that gives up on a stream resets only that stream.
  const req = client.request({ ':path': '/big?' + String(4 << 20) }, { endStream: true });
  req.on('error', () => {});
  await new Promise<void>((resolve) => req.once('response', () => resolve()));
  req.close(http2.constants.NGHTTP2_CANCEL);
  const after = await call(client, { ':path': '/' });
  assert.equal(after.body.toString(), 'one');
  const am = await metrics(m.a);
  assert.equal(sample(am, 'response_total', 'direction="outbound"', 'status_code="200"', 'classification="failure"'), 1, 'the trailers-only grpc-status 5 is a failure');
  assert.equal(sample(await metrics(m.b), 'request_total', 'direction="inbound"', 'tls="true"', `client_id="${m.aLeaf.identity}"`), 5);
});

/** `workers` loops of requests on one client session until `stop()`; counts bodies and failures. */
function load(client: http2.ClientHttp2Session, workers: number): Load {
  return loadLoops(workers, async () => {
    const r = await call(client, { ':path': '/' });
    return { status: Number(r.headers[':status']), proxyError: r.headers['l5d-proxy-error'], body: r.body.toString() };
  });
}

test('HTTP/2 requests on one client connection are balanced per request and follow endpoint changes under load', async (t) => {
  const f = await controlPlane(t);
  const one = app('one');
  await new Promise<void>((r) => one.listen(0, '127.0.0.2', r));
  const port = (one.address() as { port: number }).port;
  t.after(() => one.close());
  const two = app('two');
  await new Promise<void>((r) => two.listen(port, '127.0.0.3', r));
  t.after(() => two.close());
  const b1 = await f.proxy('api', { name: 'api-0', config: { inbound: { host: '127.0.0.2', port: 0 }, inboundForwardHost: '127.0.0.2' } });
  const b2 = await f.proxy('api', { name: 'api-1', config: { inbound: { host: '127.0.0.3', port: 0 }, inboundForwardHost: '127.0.0.3' } });
  await f.pod('api-0', 'api', '127.0.0.2', b1.proxy.ports.inbound);
  await f.pod('api-1', 'api', '127.0.0.3', b2.proxy.ports.inbound);
  await f.service('api', [{ name: 'grpc', port: 9090, targetPort: port, appProtocol: 'kubernetes.io/h2c' }]);
  const ports = [{ name: 'grpc', port }];
  await f.endpoints('api', [{ pod: 'api-0', ip: '127.0.0.2' }, { pod: 'api-1', ip: '127.0.0.3' }], ports);
  await f.service('empty', [{ name: 'grpc', port: 9090, targetPort: port, appProtocol: 'kubernetes.io/h2c' }]);
  await f.endpoints('empty', [], []);
  const local = { host: '127.0.0.1', port: 0 };
  const a = await f.proxy('web', { config: { outboundTargets: [{ listen: local, authority: 'api.shop.svc.cluster.local:9090' }, { listen: local, authority: 'empty.shop.svc.cluster.local:9090' }] } });
  const web = f.id('web');

  const empty = await call(connect(t, a.proxy.ports.targets[1]!), { ':path': '/' });
  assert.equal(empty.headers[':status'], 503);
  assert.match(String(empty.headers['l5d-proxy-error']), /no endpoints/);

  // One client connection, many requests: both endpoints answer (per-request balancing).
  const client = connect(t, a.proxy.ports.targets[0]!);
  const l = load(client, 8);
  t.after(() => l.stop());
  await waitFor(() => (l.bodies.get('one') ?? 0) > 50 && (l.bodies.get('two') ?? 0) > 50, 'traffic on both endpoints over one connection', 10_000);

  await f.endpoints('api', [{ pod: 'api-1', ip: '127.0.0.3' }], ports);
  let before = -1;
  await waitFor(async () => {
    const n1 = l.bodies.get('one') ?? 0;
    const still = n1 === before;
    before = n1;
    if (!still) return false;
    const mark = l.bodies.get('two') ?? 0;
    await waitFor(() => (l.bodies.get('two') ?? 0) > mark + 100, 'more traffic to api-1');
    return (l.bodies.get('one') ?? 0) === n1;
  }, 'traffic to leave api-0', 10_000);

  await f.endpoints('api', [{ pod: 'api-0', ip: '127.0.0.2' }], ports);
  const oneMark = l.bodies.get('one') ?? 0;
  await waitFor(() => (l.bodies.get('one') ?? 0) > oneMark + 50, 'traffic back on api-0', 10_000);
  await l.stop();
  assert.deepEqual(l.failures, [], `${l.failures.length} of ${l.total()} requests failed`);
  const am = await metrics(a.proxy);
  assert.equal(sample(am, 'response_total', 'direction="outbound"', 'tls="true"', `server_id="${f.id('api')}"`, 'classification="failure"'), 0);
  assert.equal(sample(am, 'response_total', 'direction="outbound"', 'status_code="503"', 'classification="failure"'), 1);
  const inbound = sample(await metrics(b1.proxy), 'request_total', 'direction="inbound"', `client_id="${web}"`)
    + sample(await metrics(b2.proxy), 'request_total', 'direction="inbound"', `client_id="${web}"`);
  assert.equal(inbound, l.total());
});

test('Certificates renewed every few seconds under HTTP/2 load fail no request', async (t) => {
  const f = await controlPlane(t, { issuanceLifetimeMs: 4000 });
  const policy = { minMs: 200 };
  const one = app('api');
  await new Promise<void>((r) => one.listen(0, '127.0.0.2', r));
  const port = (one.address() as { port: number }).port;
  t.after(() => one.close());
  const b = await f.proxy('api', { policy, config: { inbound: { host: '127.0.0.2', port: 0 }, inboundForwardHost: '127.0.0.2' } });
  await f.pod('api-0', 'api', '127.0.0.2', b.proxy.ports.inbound);
  await f.service('api', [{ name: 'grpc', port: 9090, targetPort: port, appProtocol: 'kubernetes.io/h2c' }]);
  await f.endpoints('api', [{ pod: 'api-0', ip: '127.0.0.2' }], [{ name: 'grpc', port }]);
  const a = await f.proxy('web', { policy, config: { outboundTargets: [{ listen: { host: '127.0.0.1', port: 0 }, authority: 'api.shop.svc.cluster.local:9090' }] } });
  // New client connections keep arriving while the certificates turn over.
  const loads: ReturnType<typeof load>[] = [];
  t.after(() => Promise.all(loads.map((l) => l.stop())));
  const refreshes = async (p: typeof a): Promise<number> => sample(await metrics(p.proxy), 'identity_cert_refresh_count', 'result="ok"');
  loads.push(load(connect(t, a.proxy.ports.targets[0]!), 4));
  await waitFor(async () => {
    if (loads.length < 20) loads.push(load(connect(t, a.proxy.ports.targets[0]!), 1));
    return (await refreshes(a)) >= 4 && (await refreshes(b)) >= 4;
  }, 'three renewals of each proxy', 20_000);
  await Promise.all(loads.map((l) => l.stop()));
  const failures = loads.flatMap((l) => l.failures);
  const total = loads.reduce((s, l) => s + l.total(), 0);
  assert.deepEqual(failures, [], `${failures.length} of ${total} requests failed`);
  assert.ok(total > 200, `only ${total} requests`);
  assert.equal(sample(await metrics(a.proxy), 'response_total', 'direction="outbound"', 'classification="failure"'), 0);
});
