import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { Client, credentials, Metadata, Server, ServerCredentials, type ServiceError } from '@grpc/grpc-js';
import { loadLoops, metrics, request, sample, waitFor, type Load } from './harness.ts';
import { controlPlane } from './control-plane-fixture.ts';

/** An HTTP app on `host:port` (0: ephemeral) answering `name client-id`; `closeEvery`: every n-th response closes its connection. */
async function app(t: TestContext, host: string, name: string, port = 0, o: { closeEvery?: number } = {}): Promise<number> {
  let served = 0;
  const server = http.createServer((req, res) => {
    if (o.closeEvery !== undefined && ++served % o.closeEvery === 0) res.setHeader('connection', 'close');
    res.end(`${name} ${String(req.headers['l5d-client-id'] ?? '')}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as { port: number }).port;
}

const bytes = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };

/** A gRPC app (grpc-js) with a unary method answering the caller's l5d-client-id and a server-streaming one. */
async function grpcApp(t: TestContext, host: string): Promise<number> {
  const server = new Server();
  server.addService({
    Who: { path: '/weft.test.Echo/Who', requestStream: false, responseStream: false, requestSerialize: bytes.serialize, requestDeserialize: bytes.deserialize, responseSerialize: bytes.serialize, responseDeserialize: bytes.deserialize },
    Count: { path: '/weft.test.Echo/Count', requestStream: false, responseStream: true, requestSerialize: bytes.serialize, requestDeserialize: bytes.deserialize, responseSerialize: bytes.serialize, responseDeserialize: bytes.deserialize },
  }, {
    Who: (call: { metadata: Metadata }, cb: (err: null, v: Buffer) => void) => cb(null, Buffer.from(String(call.metadata.get('l5d-client-id')[0] ?? ''))),
    Count: (call: { write(b: Buffer): void; end(): void }) => {
      for (let i = 0; i < 3; i++) call.write(Buffer.from(String(i)));
      call.end();
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${host}:0`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  t.after(() => server.forceShutdown());
  return port;
}

/** GET through the outbound listener as an HTTP proxy. */
function viaProxy(port: number, url: string, agent?: http.Agent, headers?: http.OutgoingHttpHeaders): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return request({ port, path: url, ...(agent === undefined ? {} : { agent }), ...(headers === undefined ? {} : { headers }) });
}

test('HTTP/1 and gRPC cross two proxies with certificates from the identity service and endpoints from the destination service', async (t) => {
  const f = await controlPlane(t);
  const httpPort = await app(t, '127.0.0.2', 'api');
  const grpcPort = await grpcApp(t, '127.0.0.2');
  const b = await f.proxy('api', { config: { inbound: { host: '127.0.0.2', port: 0 }, inboundForwardHost: '127.0.0.2' } });
  await f.pod('api-0', 'api', '127.0.0.2', b.proxy.ports.inbound);
  await f.service('api', [{ name: 'http', port: 80, targetPort: httpPort }, { name: 'grpc', port: 9090, targetPort: grpcPort, appProtocol: 'kubernetes.io/h2c' }]);
  await f.endpoints('api', [{ pod: 'api-0', ip: '127.0.0.2' }], [{ name: 'http', port: httpPort }, { name: 'grpc', port: grpcPort }]);
  const a = await f.proxy('web', { config: { outboundTargets: [{ listen: { host: '127.0.0.1', port: 0 }, authority: 'api.shop.svc.cluster.local:9090' }] } });
  const out = a.proxy.ports.outbound;

  const full = await viaProxy(out, 'http://api.shop.svc.cluster.local/');
  assert.equal(full.status, 200, full.body);
  assert.equal(full.body, `api ${f.id('web')}`);
  // A short name resolves in the proxy's own namespace (the context token).
  const short = await viaProxy(out, 'http://api/');
  assert.equal(short.body, `api ${f.id('web')}`);

  const client = new Client(`127.0.0.1:${a.proxy.ports.targets[0]!}`, credentials.createInsecure());
  t.after(() => client.close());
  const who = await new Promise<Buffer>((resolve, reject) => client.makeUnaryRequest('/weft.test.Echo/Who', bytes.serialize, bytes.deserialize, Buffer.alloc(0), (err: ServiceError | null, v?: Buffer) => (err ? reject(err) : resolve(v!))));
  assert.equal(who.toString(), f.id('web'));
  const counted: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const s = client.makeServerStreamRequest('/weft.test.Echo/Count', bytes.serialize, bytes.deserialize, Buffer.alloc(0));
    s.on('data', (d: Buffer) => counted.push(d.toString()));
    s.on('error', reject);
    s.on('end', resolve);
  });
  assert.deepEqual(counted, ['0', '1', '2']);

  const am = await metrics(a.proxy);
  assert.equal(sample(am, 'request_total', 'direction="outbound"', 'tls="true"', `server_id="${f.id('api')}"`), 4);
  assert.equal(sample(am, 'request_total', 'tls="no_identity"'), 0);
  assert.ok(sample(am, 'identity_cert_expiration_timestamp_seconds') > Date.now() / 1000);
  assert.equal(sample(am, 'identity_cert_refresh_count', 'result="ok"'), 1);
  const bm = await metrics(b.proxy);
  assert.equal(sample(bm, 'request_total', 'direction="inbound"', 'tls="true"', `client_id="${f.id('web')}"`), 4);
  await waitFor(async () => (await request({ port: a.proxy.ports.admin, path: '/ready' })).status === 200, '/ready with a certificate and a destination connection');
});

test('A Service without endpoints answers 503 with l5d-proxy-error; an unknown name is forwarded as addressed', async (t) => {
  const f = await controlPlane(t);
  await f.service('empty', [{ name: 'http', port: 80, targetPort: 8080 }]);
  await f.endpoints('empty', [], []);
  const a = await f.proxy('web');
  const r = await viaProxy(a.proxy.ports.outbound, 'http://empty.shop.svc.cluster.local/');
  assert.equal(r.status, 503);
  assert.match(String(r.headers['l5d-proxy-error']), /no endpoints/);
  // Not a Service: the address itself, in plain text.
  const plainPort = await app(t, '127.0.0.1', 'outside');
  const direct = await viaProxy(a.proxy.ports.outbound, `http://127.0.0.1:${plainPort}/`);
  assert.equal(direct.body, 'outside ');
  const am = await metrics(a.proxy);
  assert.equal(sample(am, 'request_total', 'tls="no_identity"', `authority="127.0.0.1:${plainPort}"`), 1);
  assert.equal(sample(am, 'response_total', 'status_code="503"', 'classification="failure"'), 1);
});

/** Sends requests from `workers` loops until `stop()`; counts statuses and bodies. */
function load(port: number, url: string, workers: number, o: { closeEvery?: number } = {}): Load {
  const agent = new http.Agent({ keepAlive: true, maxSockets: workers });
  return loadLoops(workers, async (w, n) => {
    const close = o.closeEvery !== undefined && n % o.closeEvery === w % o.closeEvery;
    const r = await viaProxy(port, url, agent, close ? { connection: 'close' } : undefined);
    return { status: r.status, proxyError: r.headers['l5d-proxy-error'], body: r.body };
  }, () => agent.destroy());
}

test('Endpoints added and removed under load move the traffic without a failed request', async (t) => {
  const f = await controlPlane(t);
  const port = await app(t, '127.0.0.2', 'one');
  await app(t, '127.0.0.3', 'two', port);
  const b1 = await f.proxy('api', { name: 'api-0', config: { inbound: { host: '127.0.0.2', port: 0 }, inboundForwardHost: '127.0.0.2' } });
  const b2 = await f.proxy('api', { name: 'api-1', config: { inbound: { host: '127.0.0.3', port: 0 }, inboundForwardHost: '127.0.0.3' } });
  await f.pod('api-0', 'api', '127.0.0.2', b1.proxy.ports.inbound);
  await f.pod('api-1', 'api', '127.0.0.3', b2.proxy.ports.inbound);
  await f.service('api', [{ name: 'http', port: 80, targetPort: port }]);
  const ports = [{ name: 'http', port }];
  await f.endpoints('api', [{ pod: 'api-0', ip: '127.0.0.2' }], ports);
  const a = await f.proxy('web');
  const web = f.id('web');
  const l = load(a.proxy.ports.outbound, 'http://api.shop.svc.cluster.local/', 8);
  t.after(() => l.stop());
  await waitFor(() => (l.bodies.get(`one ${web}`) ?? 0) > 50, 'traffic to api-0');
  assert.equal(l.bodies.get(`two ${web}`), undefined);

  await f.endpoints('api', [{ pod: 'api-0', ip: '127.0.0.2' }, { pod: 'api-1', ip: '127.0.0.3' }], ports);
  await waitFor(() => (l.bodies.get(`two ${web}`) ?? 0) > 50, 'traffic to api-1 once added', 10_000);

  await f.endpoints('api', [{ pod: 'api-1', ip: '127.0.0.3' }], ports);
  // Wait until api-0 has stopped getting requests: its count holds still while api-1's grows.
  let before = -1;
  await waitFor(async () => {
    const one = l.bodies.get(`one ${web}`) ?? 0;
    const two = l.bodies.get(`two ${web}`) ?? 0;
    const still = one === before;
    before = one;
    if (!still) return false;
    const mark = two;
    await waitFor(() => (l.bodies.get(`two ${web}`) ?? 0) > mark + 100, 'more traffic to api-1');
    return (l.bodies.get(`one ${web}`) ?? 0) === one;
  }, 'traffic to leave api-0', 10_000);

  await f.endpoints('api', [{ pod: 'api-0', ip: '127.0.0.2' }], ports);
  const oneMark = l.bodies.get(`one ${web}`) ?? 0;
  await waitFor(() => (l.bodies.get(`one ${web}`) ?? 0) > oneMark + 50, 'traffic back on api-0', 10_000);
  await l.stop();
  assert.deepEqual(l.failures, [], `${l.failures.length} of ${l.total()} requests failed`);
  assert.ok(l.total() > 300);
});

test('Certificates renewed every few seconds under load fail no request', async (t) => {
  // Workload certificates live 4 s; the identity clients renew at 70% (about every 2.5 s).
  const f = await controlPlane(t, { issuanceLifetimeMs: 4000 });
  const policy = { minMs: 200 };
  // Every fifth response closes the application's connection, and with it the mesh
  // connection that carried it (the proxies pool theirs across client connections), so
  // new mesh connections keep being made on fresh certificates.
  const port = await app(t, '127.0.0.2', 'api', 0, { closeEvery: 5 });
  const b = await f.proxy('api', { policy, config: { inbound: { host: '127.0.0.2', port: 0 }, inboundForwardHost: '127.0.0.2' } });
  await f.pod('api-0', 'api', '127.0.0.2', b.proxy.ports.inbound);
  await f.service('api', [{ name: 'http', port: 80, targetPort: port }]);
  await f.endpoints('api', [{ pod: 'api-0', ip: '127.0.0.2' }], [{ name: 'http', port }]);
  const a = await f.proxy('web', { policy });
  const firstA = a.identity.current()!.validUntil.getTime();
  const firstB = b.identity.current()!.validUntil.getTime();
  // Every third request closes its client connection: the proxy closes it, not the mesh connection.
  const l = load(a.proxy.ports.outbound, 'http://api.shop.svc.cluster.local/', 6, { closeEvery: 3 });
  t.after(() => l.stop());
  const refreshes = async (p: typeof a): Promise<number> => sample(await metrics(p.proxy), 'identity_cert_refresh_count', 'result="ok"');
  await waitFor(async () => (await refreshes(a)) >= 4 && (await refreshes(b)) >= 4, 'three renewals of each proxy', 20_000);
  await l.stop();
  assert.deepEqual(l.failures, [], `${l.failures.length} of ${l.total()} requests failed`);
  assert.ok(l.total() > 200, `only ${l.total()} requests`);
  assert.ok(a.identity.current()!.validUntil.getTime() > firstA);
  assert.ok(b.identity.current()!.validUntil.getTime() > firstB);
  const am = await metrics(a.proxy);
  assert.ok(sample(am, 'identity_cert_expiration_timestamp_seconds') >= Math.floor(firstA / 1000));
  assert.equal(sample(am, 'identity_cert_refresh_count', 'result="failure"'), 0);
  assert.equal(sample(am, 'response_total', 'direction="outbound"', 'classification="failure"'), 0);
  assert.ok(sample(await metrics(b.proxy), 'tcp_open_total', 'direction="inbound"', 'peer="src"', 'tls="true"') > 10, 'new mesh connections were made during the renewals');
});

test('A port the Service marks opaque skips detection and crosses the mesh as opaque TCP', async (t) => {
  const f = await controlPlane(t);
  // A server-speaks-first protocol: with detection, the client would wait for the detect timeout.
  const banner = net.createServer((s) => {
    s.on('error', () => {});
    s.write('HELLO\n');
    s.on('data', (d: Buffer) => s.write(d));
  });
  await new Promise<void>((r) => banner.listen(0, '127.0.0.2', r));
  t.after(() => banner.close());
  const port = (banner.address() as net.AddressInfo).port;
  const b = await f.proxy('db', { config: { inbound: { host: '127.0.0.2', port: 0 }, inboundForwardHost: '127.0.0.2' } });
  await f.pod('db-0', 'db', '127.0.0.2', b.proxy.ports.inbound);
  await f.service('db', [{ name: 'tcp', port: 7000, targetPort: port }], undefined, { 'weft.dev/opaque-ports': '7000' });
  await f.endpoints('db', [{ pod: 'db-0', ip: '127.0.0.2' }], [{ name: 'tcp', port }]);
  const a = await f.proxy('web', { config: { outboundTargets: [{ listen: { host: '127.0.0.1', port: 0 }, authority: 'db.shop.svc.cluster.local:7000' }] } });
  const sock = net.connect(a.proxy.ports.targets[0]!, '127.0.0.1');
  t.after(() => sock.destroy());
  let got = '';
  sock.on('data', (d: Buffer) => { got += d.toString(); });
  await waitFor(() => got === 'HELLO\n', 'the banner without waiting for detection', 2000);
  sock.write('ping');
  await waitFor(() => got === 'HELLO\nping', 'the echo');
  const am = await metrics(a.proxy);
  assert.equal(sample(am, 'protocol_detect_total', 'direction="outbound"', 'outcome="skipped"'), 1);
  assert.equal(sample(am, 'tcp_open_total', 'direction="outbound"', 'peer="dst"', 'tls="true"', `server_id="${f.id('db')}"`), 1);
});
