/**
 * openTapStreams() against real sockets, with the timers mocked (no waiting): a
 * proxy admin port that accepts the connection and never answers must not hold
 * the tap open (regression: tap and top had no connect timeout and hung on such a
 * proxy); one that answered 200 and then stays quiet is an open stream, not a timeout.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { DEFAULT_TAP_CONNECT_TIMEOUT_MS, openTapStreams, type ScrapeTarget } from '../../src/viz/index.ts';
import { emojivotoInventory, PODS } from './helpers.ts';

const WEB = { kind: 'deployment', name: 'web', namespace: 'emojivoto' } as const;

/** Resolves once `cond` holds; fails after `ms` of polling on immediates (timers are mocked). */
async function until(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

test('openTapStreams() gives up on a proxy that accepts and never answers after the default connect timeout, naming it', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const ip = '127.0.0.171';
  const sockets = new Set<Socket>();
  const server = createServer((s) => { sockets.add(s); s.on('error', () => {}); });
  server.listen(0, ip);
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }));
  const errors: Array<{ target: ScrapeTarget; message: string }> = [];
  const streams = openTapStreams({
    inventory: emojivotoInventory({ web: ip }), resource: WEB, adminPort: (server.address() as { port: number }).port,
    onEvent: () => assert.fail('no events from a silent proxy'),
    onError: (target, err) => errors.push({ target, message: err.message }),
  });
  t.after(() => streams.close());
  await until(() => sockets.size === 1, 'the tap to connect');
  t.mock.timers.tick(DEFAULT_TAP_CONNECT_TIMEOUT_MS - 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(errors.length, 0, 'not before the timeout');
  t.mock.timers.tick(1);
  await until(() => errors.length > 0, 'the tap to give up');
  await streams.ready;
  assert.equal(DEFAULT_TAP_CONNECT_TIMEOUT_MS, 2_000);
  assert.deepEqual(errors.map((e) => [e.target.key, e.target.ip, e.message]), [[`emojivoto/${PODS.web}`, ip, 'no answer within 2000 ms']]);
});

test('openTapStreams() keeps a stream that answered 200 open past the connect timeout while no request passes', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const ip = '127.0.0.172';
  const responses: http.ServerResponse[] = [];
  const server = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/x-ndjson' }); res.flushHeaders(); responses.push(res); });
  server.listen(0, ip);
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const errors: string[] = [];
  const opened: string[] = [];
  const events: string[] = [];
  const streams = openTapStreams({
    inventory: emojivotoInventory({ web: ip }), resource: WEB, adminPort: (server.address() as { port: number }).port,
    onEvent: (e) => events.push(e.path ?? ''), onOpen: (target) => opened.push(target.key), onError: (_t, err) => errors.push(err.message),
  });
  t.after(() => streams.close());
  await streams.ready;
  assert.deepEqual(opened, [`emojivoto/${PODS.web}`]);
  t.mock.timers.tick(10 * DEFAULT_TAP_CONNECT_TIMEOUT_MS);
  // A tap line written long after the connect timeout still arrives: nothing closed the quiet stream.
  responses[0]?.write(`${JSON.stringify({ direction: 'inbound', method: 'GET', path: '/late', status: 200, ts: 1 })}\n`);
  await until(() => events.length > 0, 'the late tap line');
  assert.deepEqual(events, ['/late']);
  assert.deepEqual(errors, []);
});
