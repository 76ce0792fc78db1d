/**
 * src/grpc-client against a real gRPC server (@grpc/grpc-js, as the control plane
 * runs), over TLS with openssl-made certificates.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { constants, createSecureServer } from 'node:http2';
import { createServer, connect as netConnect, type Server as NetServer, type Socket } from 'node:net';
import {
  Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, type ServiceDefinition,
} from '@grpc/grpc-js';
import { GrpcChannel, GrpcCode, GrpcStatusError, type GrpcChannelOptions, type GrpcStatus } from '../../src/grpc-client/index.ts';
import { TestPki, type LeafFiles } from '../../test/proxy/pki-fixture.ts';

const raw = { requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b };
const SERVICE: ServiceDefinition = {
  Unary: { path: '/test.T/Unary', requestStream: false, responseStream: false, ...raw },
  Watch: { path: '/test.T/Watch', requestStream: false, responseStream: true, ...raw },
};

/** What the server saw of the last call. */
interface Seen { deadline?: number; cancelled: boolean; authority?: string }

/** A TLS gRPC server: Unary answers "echo:<request>" or the status the request names; Watch streams what the request asks. */
async function grpcServer(t: TestContext, pki: TestPki, opts: { clientCert?: boolean } = {}): Promise<{ addr: string; server: LeafFiles; seen: Seen }> {
  const leaf = pki.leaf('server');
  const seen: Seen = { cancelled: false };
  const server = new Server();
  server.addService(SERVICE, {
    Unary(call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) {
      const deadline = call.getDeadline();
      seen.deadline = deadline instanceof Date ? deadline.getTime() : Number(deadline);
      seen.authority = call.getHost();
      const req = call.request.toString();
      if (req.startsWith('fail:')) cb({ code: Number(req.split(':')[1]), details: req.split(':').slice(2).join(':') });
      else cb(null, Buffer.from(`echo:${req}`));
    },
    Watch(call: ServerWritableStream<Buffer, Buffer>) {
      call.on('cancelled', () => { seen.cancelled = true; });
      const req = call.request.toString();
      if (req === 'three') {
        call.write(Buffer.from('one'));
        call.write(Buffer.alloc(100_000, 0x61));
        call.write(Buffer.from('three'));
        call.end();
      } else if (req === 'one-then-fail') {
        call.write(Buffer.from('one'));
        call.emit('error', { code: status.INVALID_ARGUMENT, details: 'Send a better request' });
      } else {
        call.write(Buffer.from('hello')); // then stays open
      }
    },
  });
  const creds = ServerCredentials.createSsl(opts.clientCert === true ? readFileSync(pki.caCert) : null,
    [{ private_key: readFileSync(leaf.keyFile), cert_chain: readFileSync(leaf.certFile) }], opts.clientCert === true);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err === null ? resolve(p) : reject(err))));
  t.after(() => server.forceShutdown());
  return { addr: `127.0.0.1:${port}`, server: leaf, seen };
}

/** A TCP relay in front of `target` that counts connections and can stop forwarding on the open ones (a peer that vanished without closing). */
async function relay(t: TestContext, target: string): Promise<{ addr: string; connections: () => number; open: () => number; freeze: () => void }> {
  const [host, port] = target.split(':') as [string, string];
  const sockets = new Set<Socket>();
  let count = 0;
  const frozen = new WeakSet<Socket>();
  const server: NetServer = createServer((down) => {
    count++;
    const up = netConnect(Number(port), host);
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => { sockets.delete(s); (s === down ? up : down).destroy(); });
    }
    down.on('data', (b) => { if (!frozen.has(down)) up.write(b); });
    up.on('data', (b) => { if (!frozen.has(up)) down.write(b); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const { port: p } = server.address() as { port: number };
  return { addr: `127.0.0.1:${p}`, connections: () => count, open: () => sockets.size / 2, freeze: () => { for (const s of sockets) frozen.add(s); } };
}

function channel(t: TestContext, opts: GrpcChannelOptions): GrpcChannel {
  const c = new GrpcChannel(opts);
  t.after(() => c.close());
  return c;
}

/** Polls `check` until true (bounded), never sleeping a fixed time for a result. */
async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs a server stream to its end. */
function stream(c: GrpcChannel, request: string): { messages: Buffer[]; ended: Promise<GrpcStatus>; cancel: () => void } {
  const messages: Buffer[] = [];
  let cancel = (): void => undefined;
  const ended = new Promise<GrpcStatus>((resolve) => {
    cancel = c.call({ path: '/test.T/Watch', message: Buffer.from(request) }, { onMessage: (m) => messages.push(m), onEnd: resolve }).cancel;
  });
  return { messages, ended, cancel: () => cancel() };
}

test('a unary call over TLS returns the one response message, with the server name as authority and grpc-timeout as deadline', async (t) => {
  const pki = new TestPki('grpc-unary');
  t.after(() => pki.remove());
  const { addr, server, seen } = await grpcServer(t, pki);
  const c = channel(t, { addr, serverName: server.identity, trustAnchorsPem: readFileSync(pki.caCert, 'utf8') });
  const before = Date.now();
  const answer = await c.unary({ path: '/test.T/Unary', message: Buffer.from('ping'), timeoutMs: 5000 }).response;
  assert.equal(answer.toString(), 'echo:ping');
  assert.equal(seen.authority, server.identity);
  assert.ok(seen.deadline !== undefined && seen.deadline >= before + 4000 && seen.deadline <= Date.now() + 5000, `deadline ${seen.deadline}`);
  // A second call reuses the connection.
  assert.equal((await c.unary({ path: '/test.T/Unary', message: Buffer.from('again') }).response).toString(), 'echo:again');
});

test('a refusal arrives as its gRPC code with its message decoded; an unknown method is UNIMPLEMENTED', async (t) => {
  const pki = new TestPki('grpc-refusal');
  t.after(() => pki.remove());
  const { addr, server } = await grpcServer(t, pki);
  const c = channel(t, { addr, serverName: server.identity, trustAnchorsPem: readFileSync(pki.caCert, 'utf8') });
  const err = await c.unary({ path: '/test.T/Unary', message: Buffer.from('fail:7:identity "wéb" may not: 100% sure') }).response.catch((e: unknown) => e);
  assert.ok(err instanceof GrpcStatusError);
  assert.equal(err.grpcCode, status.PERMISSION_DENIED);
  assert.equal(err.details, 'identity "wéb" may not: 100% sure');
  const missing = await c.unary({ path: '/test.T/Nope', message: Buffer.from('x') }).response.catch((e: unknown) => e);
  assert.ok(missing instanceof GrpcStatusError);
  assert.equal(missing.grpcCode, status.UNIMPLEMENTED);
});

test('a server stream delivers every message in order, including one spread over many DATA frames, then OK', async (t) => {
  const pki = new TestPki('grpc-stream');
  t.after(() => pki.remove());
  const { addr, server } = await grpcServer(t, pki);
  const c = channel(t, { addr, serverName: server.identity, trustAnchorsPem: readFileSync(pki.caCert, 'utf8') });
  const s = stream(c, 'three');
  assert.equal((await s.ended).code, GrpcCode.OK);
  assert.deepEqual(s.messages.map((m) => m.length), [3, 100_000, 5]);
  assert.equal(s.messages[2]?.toString(), 'three');
  const failing = stream(c, 'one-then-fail');
  const end = await failing.ended;
  assert.equal(end.code, status.INVALID_ARGUMENT, end.details);
  assert.equal(failing.messages.length, 1);
});

test('cancel() ends a stream CANCELLED and the server sees the cancellation', async (t) => {
  const pki = new TestPki('grpc-cancel');
  t.after(() => pki.remove());
  const { addr, server, seen } = await grpcServer(t, pki);
  const c = channel(t, { addr, serverName: server.identity, trustAnchorsPem: readFileSync(pki.caCert, 'utf8') });
  const s = stream(c, 'open');
  await waitFor('the first message', () => s.messages.length === 1);
  s.cancel();
  assert.equal((await s.ended).code, GrpcCode.CANCELLED);
  await waitFor('the server to see the cancellation', () => seen.cancelled);
});

test('an unreachable service, a server certificate for another name and an unknown CA end UNAVAILABLE with the reason', async (t) => {
  const pki = new TestPki('grpc-unreachable');
  t.after(() => pki.remove());
  const { addr, server } = await grpcServer(t, pki);
  const anchors = readFileSync(pki.caCert, 'utf8');
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const deadPort = (closed.address() as { port: number }).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const other = new TestPki('grpc-other');
  t.after(() => other.remove());
  const cases: Array<[string, GrpcChannelOptions, RegExp]> = [
    ['nothing listens', { addr: `127.0.0.1:${deadPort}`, serverName: server.identity, trustAnchorsPem: anchors }, /ECONNREFUSED/],
    ['another name', { addr, serverName: 'someone.else.serviceaccount.identity.weft.cluster.local', trustAnchorsPem: anchors }, /someone\.else/],
    ['another CA', { addr, serverName: server.identity, trustAnchorsPem: readFileSync(other.caCert, 'utf8') }, /certificate/i],
  ];
  for (const [name, opts, reason] of cases) {
    const err = await channel(t, opts).unary({ path: '/test.T/Unary', message: Buffer.from('x') }).response.catch((e: unknown) => e);
    assert.ok(err instanceof GrpcStatusError, name);
    assert.equal(err.grpcCode, status.UNAVAILABLE, `${name}: ${err.message}`);
    assert.match(err.details, reason, name);
  }
});

test('a client certificate is presented when given, for a server that requires one', async (t) => {
  const pki = new TestPki('grpc-mtls');
  t.after(() => pki.remove());
  const { addr, server } = await grpcServer(t, pki, { clientCert: true });
  const anchors = readFileSync(pki.caCert, 'utf8');
  const bare = await channel(t, { addr, serverName: server.identity, trustAnchorsPem: anchors }).unary({ path: '/test.T/Unary', message: Buffer.from('x') }).response.catch((e: unknown) => e);
  assert.ok(bare instanceof GrpcStatusError && bare.grpcCode === status.UNAVAILABLE, String(bare));
  const me = pki.leaf('client');
  const c = channel(t, { addr, serverName: server.identity, trustAnchorsPem: anchors, keyPem: readFileSync(me.keyFile, 'utf8'), certChainPem: readFileSync(me.certFile, 'utf8') });
  assert.equal((await c.unary({ path: '/test.T/Unary', message: Buffer.from('me') }).response).toString(), 'echo:me');
});

test('keepalive pings end a stream UNAVAILABLE when the peer stops answering without closing', async (t) => {
  const pki = new TestPki('grpc-keepalive');
  t.after(() => pki.remove());
  const { addr, server } = await grpcServer(t, pki);
  const r = await relay(t, addr);
  const c = channel(t, { addr: r.addr, serverName: server.identity, trustAnchorsPem: readFileSync(pki.caCert, 'utf8'), keepaliveMs: 50, keepaliveTimeoutMs: 200 });
  const s = stream(c, 'open');
  await waitFor('the first message', () => s.messages.length === 1);
  r.freeze();
  const end = await s.ended;
  assert.equal(end.code, GrpcCode.UNAVAILABLE);
  assert.match(end.details, /keepalive ping/);
  // The next call dials a new connection.
  const again = stream(c, 'three');
  await again.ended;
  assert.equal(r.connections(), 2);
});

test('an idle connection closes after idleTimeoutMs and the next call dials again', async (t) => {
  const pki = new TestPki('grpc-idle');
  t.after(() => pki.remove());
  const { addr, server } = await grpcServer(t, pki);
  const r = await relay(t, addr);
  const c = channel(t, { addr: r.addr, serverName: server.identity, trustAnchorsPem: readFileSync(pki.caCert, 'utf8'), idleTimeoutMs: 50 });
  assert.equal((await c.unary({ path: '/test.T/Unary', message: Buffer.from('a') }).response).toString(), 'echo:a');
  await waitFor('the idle connection to close', () => r.open() === 0);
  assert.equal((await c.unary({ path: '/test.T/Unary', message: Buffer.from('b') }).response).toString(), 'echo:b');
  assert.equal(r.connections(), 2);
  // A closed channel refuses new calls.
  c.close();
  const err = await c.unary({ path: '/test.T/Unary', message: Buffer.from('c') }).response.catch((e: unknown) => e);
  assert.ok(err instanceof GrpcStatusError && err.grpcCode === GrpcCode.UNAVAILABLE && /closed/.test(err.details));
});

test('a stream the server resets ends with its reset code as gRPC status; a connection that drops ends UNAVAILABLE; a non-gRPC answer says so', async (t) => {
  const pki = new TestPki('grpc-reset');
  t.after(() => pki.remove());
  const leaf = pki.leaf('server');
  // A bare HTTP/2 server, to misbehave in ways a gRPC server does not.
  const server = createSecureServer({ key: readFileSync(leaf.keyFile), cert: readFileSync(leaf.certFile) });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    if (headers[':path'] === '/calm') stream.close(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    else if (headers[':path'] === '/refused') stream.close(constants.NGHTTP2_REFUSED_STREAM);
    else if (headers[':path'] === '/drop') stream.session?.socket.destroy();
    else if (headers[':path'] === '/html') stream.respond({ ':status': 200, 'content-type': 'text/html' }, { endStream: true });
    else stream.respond({ ':status': 503 }, { endStream: true });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const addr = `127.0.0.1:${(server.address() as { port: number }).port}`;
  const c = channel(t, { addr, serverName: leaf.identity, trustAnchorsPem: readFileSync(pki.caCert, 'utf8') });
  const cases: Array<[string, number, RegExp]> = [
    ['/calm', GrpcCode.RESOURCE_EXHAUSTED, /reset the stream/],
    ['/refused', GrpcCode.UNAVAILABLE, /reset the stream/],
    ['/drop', GrpcCode.UNAVAILABLE, /closed|failed/],
    ['/html', GrpcCode.UNKNOWN, /content-type "text\/html"/],
    ['/busy', GrpcCode.UNAVAILABLE, /HTTP 503/],
  ];
  for (const [path, code, details] of cases) {
    const err = await c.unary({ path, message: Buffer.from('x') }).response.catch((e: unknown) => e);
    assert.ok(err instanceof GrpcStatusError, path);
    assert.equal(err.grpcCode, code, `${path}: ${err.message}`);
    assert.match(err.details, details, path);
  }
});

/** A unary call's answer as text; cancelled after `ms` so a call that never ends fails the test instead of hanging it. */
async function answerWithin(c: GrpcChannel, path: string, message: string, ms = 5000): Promise<string> {
  const call = c.unary({ path, message: Buffer.from(message) });
  const timer = setTimeout(() => call.cancel(), ms);
  try {
    return (await call.response).toString();
  } finally {
    clearTimeout(timer);
  }
}

/** Starts a unary call and cancels it at once, as a caller whose deadline passed without an answer does. */
async function abandoned(c: GrpcChannel, path: string): Promise<unknown> {
  const call = c.unary({ path, message: Buffer.from('x'), timeoutMs: 1000 });
  call.cancel();
  return call.response.catch((e: unknown) => e);
}

test('after a call dies at its deadline on a connection that stopped answering, the next call dials a new connection and the silent one is destroyed', async (t) => {
  const pki = new TestPki('grpc-blackhole');
  t.after(() => pki.remove());
  const { addr, server } = await grpcServer(t, pki);
  const r = await relay(t, addr);
  // No keepalive, as the identity client's channel: only the abandoned call's ping can tell.
  const c = channel(t, { addr: r.addr, serverName: server.identity, trustAnchorsPem: readFileSync(pki.caCert, 'utf8'), keepaliveTimeoutMs: 200 });
  assert.equal((await c.unary({ path: '/test.T/Unary', message: Buffer.from('a') }).response).toString(), 'echo:a');
  r.freeze();
  const err = await abandoned(c, '/test.T/Unary');
  assert.ok(err instanceof GrpcStatusError && err.grpcCode === GrpcCode.CANCELLED);
  assert.equal(await answerWithin(c, '/test.T/Unary', 'b'), 'echo:b');
  assert.equal(r.connections(), 2);
  await waitFor('the silent connection to be destroyed', () => r.open() === 1);
});

test('a call abandoned on a connection still in its TLS handshake (a listener that accepts and never answers) makes the next call dial again', async (t) => {
  const pki = new TestPki('grpc-silent');
  t.after(() => pki.remove());
  const held = new Set<Socket>();
  let accepted = 0;
  const listener = createServer((s) => {
    accepted++;
    held.add(s);
    s.resume(); // reads the ClientHello and never answers; reading is how it sees the client close
    s.on('error', () => undefined);
    s.on('close', () => held.delete(s));
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of held) s.destroy();
    listener.close();
  });
  const addr = `127.0.0.1:${(listener.address() as { port: number }).port}`;
  const c = channel(t, { addr, serverName: 'identity.weft.test', trustAnchorsPem: readFileSync(pki.caCert, 'utf8'), keepaliveTimeoutMs: 200 });
  const first = c.unary({ path: '/test.T/Unary', message: Buffer.from('a'), timeoutMs: 1000 });
  await waitFor('the listener to accept', () => accepted === 1);
  first.cancel();
  await first.response.catch(() => undefined);
  const second = c.unary({ path: '/test.T/Unary', message: Buffer.from('b'), timeoutMs: 1000 });
  await waitFor('a second connection', () => accepted === 2);
  second.cancel();
  await second.response.catch(() => undefined);
  // Neither handshake ever finished: both connections are destroyed after the ping's timeout.
  await waitFor('the client to close both connections', () => held.size === 0);
});

test('a call abandoned before any answer on a live connection moves new calls to a new connection; the old one finishes its calls, then closes', async (t) => {
  const pki = new TestPki('grpc-slow');
  t.after(() => pki.remove());
  const leaf = pki.leaf('server');
  // A bare HTTP/2 server that holds /hold and /slow until told, and answers /ok at once.
  const server = createSecureServer({ key: readFileSync(leaf.keyFile), cert: readFileSync(leaf.certFile) });
  const sessions: Array<{ closed: boolean }> = [];
  const held: Array<() => void> = [];
  let slowSeen = false;
  server.on('session', (session) => {
    const s = { closed: false };
    sessions.push(s);
    session.on('close', () => { s.closed = true; });
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const answer = (): void => {
      if (stream.closed) return;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.from([0, 0, 0, 0, 2, 0x6f, 0x6b]));
    };
    if (headers[':path'] === '/ok') answer();
    else if (headers[':path'] === '/hold') held.push(answer);
    else slowSeen = true;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const addr = `127.0.0.1:${(server.address() as { port: number }).port}`;
  const c = channel(t, { addr, serverName: leaf.identity, trustAnchorsPem: readFileSync(pki.caCert, 'utf8') });
  const hold = c.unary({ path: '/hold', message: Buffer.from('x') });
  await waitFor('the server to hold the first call', () => held.length === 1);
  const slow = c.unary({ path: '/slow', message: Buffer.from('x') });
  await waitFor('the server to see the slow call', () => slowSeen);
  slow.cancel();
  await slow.response.catch(() => undefined);
  assert.equal(await answerWithin(c, '/ok', 'x'), 'ok');
  assert.equal(sessions.length, 2);
  // The old connection answered the ping: its held call still completes, then it closes.
  held[0]?.();
  assert.equal((await hold.response).toString(), 'ok');
  await waitFor('the old connection to close', () => sessions[0]?.closed === true);
  assert.equal(sessions[1]?.closed, false);
});
