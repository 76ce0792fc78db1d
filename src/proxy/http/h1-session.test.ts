import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { collect, tcpPair, waitFor } from '../../../test/proxy/sockets.ts';
import { Logger } from '../log.ts';
import { ConnectionPool, PooledConnection } from '../tcp/index.ts';
import { H1Session } from './h1-session.ts';

/**
 * A session on the accepted end of a half-open-capable loopback pair, routing every
 * request to one upstream connection whose far end (`origin`) the test answers on.
 */
async function session(t: TestContext): Promise<{ client: net.Socket; origin: net.Socket; s: H1Session; received: () => string }> {
  const [client, accepted] = await tcpPair(t, { allowHalfOpen: true });
  const [upSocket, origin] = await tcpPair(t);
  const pool = new ConnectionPool({ idleMs: 60_000 });
  const up = new PooledConnection(pool, 'origin', upSocket);
  const fromClient = collect(origin);
  const s = new H1Session(accepted, {
    maxHeadBytes: 64 * 1024, dropRequestHeaders: [], addRequestHeaders: undefined, originForm: false, log: new Logger('off'),
    route: (_head, owner, _fresh, cb) => { up.owner = owner; cb(null, up); },
  });
  return { client, origin, s, received: () => fromClient.bytes().toString('latin1') };
}

test('A session that starts draining before the response head arrives sends that head with Connection: close, then ends the connection', async (t) => {
  const { client, origin, s, received } = await session(t);
  const got = collect(client);
  client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await waitFor(() => received().endsWith('\r\n\r\n'), 'the request at the origin');
  s.drain();
  origin.write('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok');
  await waitFor(() => got.ended(), 'the session to end the client connection');
  assert.equal(got.bytes().toString('latin1'), 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
});

test('A client that half-closes after its request gets the response, its head saying Connection: close, then the end', async (t) => {
  const { client, origin, received } = await session(t);
  const got = collect(client);
  client.end('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await waitFor(() => received().endsWith('\r\n\r\n'), 'the request at the origin');
  origin.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  await waitFor(() => got.ended(), 'the session to end the client connection');
  assert.equal(got.bytes().toString('latin1'), 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
});

test('A response that the upstream sends whole before the request body ended says Connection: close; one cut across reads cannot', async (t) => {
  const { client, origin, received } = await session(t);
  const got = collect(client);
  client.write('POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789');
  await waitFor(() => received().endsWith('0123456789'), 'the request head and the first body bytes at the origin');
  origin.write('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\n\r\nbig');
  await waitFor(() => got.ended(), 'the session to end the client connection');
  assert.equal(got.bytes().toString('latin1'), 'HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbig');
  // The head alone first: whether its body ends before the request's is not known yet,
  // so the head goes out as it came; the connection is still ended, not reused.
  const late = await session(t);
  const lateGot = collect(late.client);
  late.client.write('POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789');
  await waitFor(() => late.received().endsWith('0123456789'), 'the second request at the origin');
  late.origin.write('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\n\r\n');
  await waitFor(() => lateGot.bytes().length > 0, 'the response head at the client');
  late.origin.write('big');
  await waitFor(() => lateGot.ended(), 'the session to end the second client connection');
  assert.equal(lateGot.bytes().toString('latin1'), 'HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\n\r\nbig');
});

test('A malformed chunked request body gets 400 with l5d-proxy-error naming the fault, and the upstream connection is closed', async (t) => {
  const { client, origin, received } = await session(t);
  const got = collect(client);
  const originEnded = collect(origin);
  client.write('POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n');
  await waitFor(() => received().endsWith('\r\n\r\n'), 'the request head at the origin');
  client.write('3\r\nabc\r\n0\r\nx-sum : 1\r\n\r\n');
  await waitFor(() => got.ended(), 'the session to end the client connection');
  assert.match(got.bytes().toString('latin1'), /^HTTP\/1\.1 400 Bad Request\r\nl5d-proxy-error: malformed request body \(malformed trailer line\)\r\n/);
  await waitFor(() => originEnded.ended(), 'the upstream connection to close');
  assert.ok(!received().includes('x-sum'), 'the malformed trailers were not forwarded');
});
