/**
 * Lifecycle edges of the frame-level HTTP/2 relay (src/proxy/h2/): upstream
 * connections that never become, or stop being, working HTTP/2 servers; a session
 * still opening when discovery removes its endpoint; connections still in protocol
 * detection when the proxy stops; and SETTINGS floods. Two real proxies (harness.ts),
 * raw HTTP/2 peers (h2-raw.ts) where a peer must misbehave, real sockets throughout.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import type { DestinationClient, DestinationView, DestinationWatch, Endpoint } from '../../src/destination/index.ts';
import { listen, metrics, sample, startMesh, waitFor } from './harness.ts';
import { E, F, RawH2, rawH2Server, S, T, type Frame } from './h2-raw.ts';

/** A TCP server that accepts and reads, and never writes a byte: an upstream that is not (or no longer) an HTTP/2 server. */
async function silentServer(t: TestContext): Promise<{ port: number; accepted: () => number }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.resume();
  });
  const port = await listen(t, server);
  t.after(() => {
    for (const s of sockets) s.destroy();
  });
  return { port, accepted: () => sockets.length };
}

/** An h2c application answering every request 200 with its path. */
async function okApp(t: TestContext): Promise<number> {
  const app = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  app.on('session', (s) => {
    sessions.add(s);
    s.on('error', () => {});
    s.on('close', () => sessions.delete(s));
  });
  app.on('stream', (s, h) => {
    s.on('error', () => {});
    s.respond({ ':status': 200 });
    s.end(`ok ${String(h[':path'])}`);
  });
  t.after(() => {
    for (const s of sessions) s.destroy();
  });
  return listen(t, app);
}

/** A GET on a fresh stream of `c`, and what came back. */
async function get(c: RawH2, path: string, timeoutMs = 5000): Promise<{ status: number; proxyError: string | undefined; body: string }> {
  const id = c.nextId();
  c.request(id, { path });
  const r = await c.response(id, timeoutMs);
  return { status: r.status, proxyError: r.header('l5d-proxy-error'), body: r.body.toString() };
}

test('An upstream that never sends its SETTINGS is given up at the connect timeout: the request is tried once more on a new session, then answered 504 with l5d-proxy-error', async (t) => {
  const silent = await silentServer(t);
  const m = await startMesh(t, {
    destinations: () => [`silent.test:${silent.port}=127.0.0.1:${silent.port}`],
    targets: [`silent.test:${silent.port}`],
    a: { connectTimeoutMs: 300, idleTimeoutMs: 60_000 },
  });
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const r = await get(c, '/first');
  assert.equal(r.status, 504, c.describe());
  assert.match(r.proxyError ?? '', /SETTINGS/);
  assert.equal(silent.accepted(), 2, 'the retry went to a new session, not the dead one');
  // The dead session is not reused: the next request opens new ones.
  const again = await get(c, '/second');
  assert.equal(again.status, 504, c.describe());
  assert.equal(silent.accepted(), 4);
  c.destroy();
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections') === 0, 'A to hold no connection');
});

test('An endpoint whose upstream never sends SETTINGS counts as failed: its request goes to the other endpoint, which takes the next ones', async (t) => {
  const silent = await silentServer(t);
  const appPort = await okApp(t);
  const m = await startMesh(t, {
    destinations: () => [`pair.test:${appPort}=127.0.0.1:${silent.port},127.0.0.1:${appPort}`],
    targets: [`pair.test:${appPort}`],
    a: { connectTimeoutMs: 300, idleTimeoutMs: 60_000 },
  });
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  // Each request picks one of the two at random until one lands on the silent endpoint.
  for (let i = 0; i < 40 && silent.accepted() === 0; i++) {
    const r = await get(c, `/pick-${i}`);
    assert.equal(r.status, 200, `request ${i}: ${r.proxyError ?? ''}`);
  }
  assert.equal(silent.accepted(), 1, 'a request landed on the silent endpoint');
  // Skipped for a second now: the next requests all go to the app, none to a new silent session.
  for (let i = 0; i < 10; i++) {
    const r = await get(c, `/after-${i}`);
    assert.equal(r.status, 200, `request ${i} after: ${r.proxyError ?? ''}`);
    assert.equal(r.body, `ok /after-${i}`);
  }
  assert.equal(silent.accepted(), 1, 'the failed endpoint was skipped');
  c.destroy();
});

test('An upstream that goes silent with a stream open is pinged, then given up after the idle timeout with 504; the next request gets a new session', async (t) => {
  const up = await rawH2Server(t, () => {});
  const m = await startMesh(t, {
    destinations: () => [`quiet.test:${up.port}=127.0.0.1:${up.port}`],
    targets: [`quiet.test:${up.port}`],
    a: { idleTimeoutMs: 900 },
  });
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const r = await get(c, '/hangs', 8000);
  assert.equal(r.status, 504, c.describe());
  assert.match(r.proxyError ?? '', /PING/);
  const first = up.connections[0]!;
  assert.ok(first.frames.some((f) => f.type === T.PING && (f.flags & F.ACK) === 0), 'the upstream was pinged first');
  await first.waitClosed('A to close the silent session');
  // A new session for the next request, which this upstream also never answers.
  const next = c.nextId();
  c.request(next, { path: '/next' });
  await waitFor(() => up.connections.length === 2 && up.connections[1]!.frames.some((f) => f.type === T.HEADERS), 'the next request on a new session');
  c.destroy();
});

test('A quiet upstream that answers PINGs keeps its stream open past the idle timeout', async (t) => {
  let held: { conn: RawH2; id: number } | undefined;
  const up = await rawH2Server(t, (conn) => conn.listeners.push((f: Frame) => {
    if (f.type === T.PING && (f.flags & F.ACK) === 0) conn.ping(f.payload, true);
    if (f.type === T.HEADERS) held = { conn, id: f.streamId };
  }));
  const m = await startMesh(t, {
    destinations: () => [`slow.test:${up.port}=127.0.0.1:${up.port}`],
    targets: [`slow.test:${up.port}`],
    a: { idleTimeoutMs: 900 },
  });
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const id = c.nextId();
  c.request(id, { path: '/long-poll' });
  await waitFor(() => held !== undefined, 'the request at the upstream');
  // Pinged every other tick of 300 ms while quiet: three PINGs span more than the 900 ms idle timeout.
  await waitFor(() => held!.conn.frames.filter((f) => f.type === T.PING && (f.flags & F.ACK) === 0).length >= 3, 'three keepalive PINGs', 8000);
  assert.equal(c.frames.some((f) => f.streamId === id), false, 'nothing came back on the stream yet');
  held!.conn.headers(held!.id, [':status', '200'], { endStream: true });
  const r = await c.response(id);
  assert.equal(r.status, 200, c.describe());
  assert.equal(held!.conn.closed, false, 'the session stays');
  c.destroy();
});

/**
 * A destination client behind the production interface whose answers the test sets:
 * every authority resolves to `endpoints()`, and `update()` tells every watch at once.
 */
function fakeDestination(endpoints: () => Endpoint[]): { client: DestinationClient; update(): void } {
  const watches = new Set<(v: DestinationView) => void>();
  const view = (authority: string): DestinationView => authority.endsWith('.invalid:4143')
    ? { kind: 'no_endpoints', exists: false }
    : { kind: 'endpoints', endpoints: endpoints() };
  const client: DestinationClient = {
    watch(authority, onUpdate) {
      const listener = (v: DestinationView): void => onUpdate?.(v);
      watches.add(listener);
      queueMicrotask(() => listener(view(authority)));
      const w: DestinationWatch = {
        authority,
        current: () => view(authority),
        whenReady: async () => view(authority),
        connected: () => true,
        lastError: () => undefined,
        close: () => watches.delete(listener),
        async *[Symbol.asyncIterator]() {
          yield view(authority);
        },
      };
      return w;
    },
    close() {
      watches.clear();
    },
  };
  return { client, update: () => { for (const w of watches) w(view('')); } };
}

test('A session still opening when discovery removes its endpoint is closed once it opens: its request is served, the new endpoint takes the next', async (t) => {
  const appPort = await okApp(t);
  // In front of B's inbound: holds each connection until the gate opens (a mesh connect still in flight).
  const front = new Set<net.Socket>();
  let gateOpen = false;
  let bInbound = 0;
  let bIdentity = '';
  const held: Array<() => void> = [];
  const gate = net.createServer((s) => {
    front.add(s);
    s.on('error', () => {});
    s.on('close', () => front.delete(s));
    s.pause();
    const pipe = (): void => {
      const u = net.connect(bInbound, '127.0.0.1');
      u.on('error', () => s.destroy());
      s.on('close', () => u.destroy());
      u.on('close', () => s.destroy());
      s.pipe(u).pipe(s);
      s.resume();
    };
    if (gateOpen) pipe();
    else held.push(pipe);
  });
  const frontPort = await listen(t, gate);
  t.after(() => {
    for (const s of front) s.destroy();
  });
  let inboundPort = frontPort;
  const ep = (): Endpoint[] => [{ ip: '127.0.0.1', port: appPort, weight: 1, identity: bIdentity, protocol: 'unknown', inboundPort, labels: {} }];
  const dst = fakeDestination(ep);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => {
      bInbound = bIn;
      bIdentity = bId;
      return [];
    },
    a: { destination: dst.client, outboundTargets: [{ listen: { host: '127.0.0.1', port: 0 }, authority: `api.test:${appPort}` }] },
  });
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const first = c.nextId();
  c.request(first, { path: '/first' });
  await waitFor(() => held.length === 1, 'A to start its mesh connect to the first endpoint');
  // The endpoint moves (same proxy B, now dialled directly) while that connect is in flight.
  inboundPort = bInbound;
  dst.update();
  const second = await get(c, '/second');
  assert.equal(second.status, 200, second.proxyError);
  assert.equal(second.body, 'ok /second');
  gateOpen = true;
  for (const p of held.splice(0)) p();
  const r = await c.response(first);
  assert.equal(r.status, 200, c.describe());
  assert.equal(r.body.toString(), 'ok /first');
  await waitFor(() => front.size === 0, 'A to close the session to the removed endpoint');
  const third = await get(c, '/third');
  assert.equal(third.status, 200, third.proxyError);
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections', 'peer="dst"') === 1, 'one session left, to the current endpoint');
  c.destroy();
});

test('Closing a removed endpoint\'s session sends the requests still waiting for one of its stream slots to the new endpoint; its open stream finishes', async (t) => {
  const appPort = await okApp(t);
  let held: { conn: RawH2; id: number } | undefined;
  // The old endpoint takes one stream at a time and holds it.
  const up = await rawH2Server(t, (conn) => conn.listeners.push((f: Frame) => {
    if (f.type === T.HEADERS) held = { conn, id: f.streamId };
  }), { settings: [[S.MAX_CONCURRENT_STREAMS, 1]] });
  let port = up.port;
  const dst = fakeDestination(() => [{ ip: '127.0.0.1', port, weight: 1, identity: undefined, protocol: 'unknown', inboundPort: undefined, labels: {} }]);
  const m = await startMesh(t, {
    destinations: () => [],
    a: { destination: dst.client, outboundTargets: [{ listen: { host: '127.0.0.1', port: 0 }, authority: `svc.test:${appPort}` }] },
  });
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const first = c.nextId();
  c.request(first, { path: '/first' });
  await waitFor(() => held !== undefined, 'the first request at the old endpoint');
  const second = c.nextId();
  c.request(second, { path: '/second' });
  // A answers a PING after the frames before it: by then the second request waits for a slot.
  c.ping(Buffer.from('waiting!'));
  await c.until((f) => f.type === T.PING && (f.flags & F.ACK) !== 0, 'the PING ACK');
  // The endpoint is replaced; the next request rebuilds the balancer, which closes the old session.
  port = appPort;
  dst.update();
  const third = await get(c, '/third');
  assert.equal(third.status, 200, third.proxyError);
  const r2 = await c.response(second);
  assert.equal(r2.status, 200, c.describe());
  assert.equal(r2.body.toString(), 'ok /second', 'the waiting request went to the new endpoint');
  assert.equal(held!.conn.frames.filter((f) => f.type === T.HEADERS).length, 1, 'it never reached the old one');
  held!.conn.headers(held!.id, [':status', '200'], { endStream: true });
  const r1 = await c.response(first);
  assert.equal(r1.status, 200, c.describe());
  await held!.conn.waitClosed('A to close the old session once its stream is done');
  c.destroy();
});

test('A connection still in protocol detection when the proxy stops is closed by the time stop resolves, never served, and tcp_open_connections returns to 0', async (t) => {
  const appPort = await okApp(t);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`app.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`app.test:${appPort}`],
  });
  const open = async (first: string): Promise<{ closed: () => boolean; got: () => number; socket: net.Socket }> => {
    const s = net.connect(m.a.ports.targets[0]!, '127.0.0.1');
    t.after(() => s.destroy());
    let closed = false;
    let got = 0;
    s.on('error', () => {});
    s.on('data', (d: Buffer) => { got += d.length; });
    s.on('close', () => { closed = true; });
    await new Promise((r) => s.once('connect', r));
    s.write(first);
    return { closed: () => closed, got: () => got, socket: s };
  };
  // Half a request line, and half an HTTP/2 preface: detection is still reading both.
  const h1 = await open('GET /late HT');
  const h2 = await open('PRI * HTTP/2.0\r\n');
  // A round trip to A's admin port: A has accepted both and read their first bytes by
  // then (same process, several event-loop turns); detection has not decided either.
  assert.equal(sample(await metrics(m.a), 'protocol_detect_total'), 0);
  const stopping = m.a.stop({ graceMs: 5000 });
  // The rest arrives while A drains: detection must not hand either to a stage now.
  h1.socket.write('TP/1.1\r\nhost: app.test\r\n\r\n');
  h2.socket.write('\r\nSM\r\n\r\n');
  const t0 = performance.now();
  await stopping;
  assert.ok(performance.now() - t0 < 4000, 'stop did not wait out its grace period for them');
  await waitFor(() => h1.closed() && h2.closed(), 'both connections to be closed');
  assert.equal(h1.got() + h2.got(), 0, 'neither was served');
  assert.equal(sample(m.a.metrics.registry.render(), 'tcp_open_connections'), 0);
});

test('A SETTINGS flood is cut off with ENHANCE_YOUR_CALM past its budget, even from a client that reads every ACK; a few SETTINGS are fine', async (t) => {
  const appPort = await okApp(t);
  const m = await startMesh(t, { destinations: () => [], forwardPort: appPort });
  const c = await RawH2.connect(t, m.b.ports.inbound);
  // A peer changing its window now and then (grpc-go's BDP estimator does) is served as ever.
  for (let i = 0; i < 20; i++) c.settings([[S.INITIAL_WINDOW_SIZE, (1 << 20) + i]]);
  assert.equal((await get(c, '/after-twenty')).status, 200, c.describe());
  // Each frame toggles INITIAL_WINDOW_SIZE, which walks every open stream.
  for (let i = 0; i < 500 && !c.closed; i++) c.settings([[S.INITIAL_WINDOW_SIZE, (1 << 20) + (i % 2)]]);
  const goaway = await c.goawayFrame();
  assert.equal(goaway.code, E.ENHANCE_YOUR_CALM);
  const acks = c.frames.filter((f) => f.type === T.SETTINGS && (f.flags & F.ACK) !== 0).length;
  assert.ok(acks < 200, `the flood was cut within its budget (${acks} ACKs)`);
  await c.waitClosed('B to close the flooding connection');
});
