/**
 * Protocol edges of the frame-level HTTP/2 relay (src/proxy/h2/), on the wire: a raw
 * client (h2-raw.ts) writes exactly the frames each case needs, through two real
 * proxies (client → A → mTLS → B → an h2c app that records what it saw) or through A
 * alone to a raw upstream where the upstream must misbehave. Every test ends with the
 * app holding no stream and both proxies no connection (`settle`).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import { listen, metrics, sample, startMesh, waitFor, type Mesh } from './harness.ts';
import { E, F, frame, pairs, RawH2, rawH2Server, S, T, type Frame } from './h2-raw.ts';

/** What the application saw of one stream. */
type AppStream = {
  path: string;
  headers: http2.IncomingHttpHeaders;
  /** The request's fields as they came, flat `[name, value, …]`. */
  raw: string[];
  body: Buffer;
  /** The readable side ended (node also ends it when the stream is reset: see `complete`). */
  ended: boolean;
  aborted: boolean;
  closed: boolean;
  trailers: http2.IncomingHttpHeaders | undefined;
};

/** Whether the app got a whole request: its body ended and the stream was not reset. */
function complete(s: AppStream): boolean {
  return s.ended && !s.aborted;
}

type App = { port: number; streams: AppStream[]; open(): number; written(): number };

/** The large response of the flow-control test: 200 × 1 MiB of random bytes. */
const BIG_CHUNK = randomBytes(1 << 20);
const BIG_CHUNKS = 200;

/**
 * An h2c application recording every stream. `/reset-before` resets the stream
 * unanswered, `/reset-after` after its response head and a first DATA, `/big` answers
 * 200 MiB with backpressure; anything else echoes the request body once it ended (a
 * 100 first when the request expects it), with the l5d-client-id it saw.
 */
async function startApp(t: TestContext): Promise<App> {
  const streams: AppStream[] = [];
  let written = 0;
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('error', () => {});
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers, _flags, rawHeaders) => {
    const rec: AppStream = { path: String(headers[':path']), headers, raw: [...rawHeaders], body: Buffer.alloc(0), ended: false, aborted: false, closed: false, trailers: undefined };
    streams.push(rec);
    stream.on('error', () => {});
    stream.on('aborted', () => { rec.aborted = true; });
    stream.on('close', () => { rec.closed = true; });
    stream.on('trailers', (h) => { rec.trailers = h; });
    if (rec.path === '/reset-before') {
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    if (rec.path === '/reset-after') {
      stream.respond({ ':status': 200 });
      // destroy, not close: close() ends the writable side first, so an END_STREAM would precede the reset.
      stream.write('partial', () => stream.destroy(new Error('the app gave up')));
      return;
    }
    if (rec.path === '/big') {
      stream.respond({ ':status': 200 });
      let i = 0;
      const pump = (): void => {
        while (i < BIG_CHUNKS) {
          i++;
          written += BIG_CHUNK.length;
          if (!stream.write(BIG_CHUNK)) {
            stream.once('drain', pump);
            return;
          }
        }
        stream.end();
      };
      pump();
      return;
    }
    if (headers['expect'] === '100-continue') stream.additionalHeaders({ ':status': 100 });
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      rec.ended = true;
      // node ends the readable side of a reset stream too; that is no complete request.
      if (stream.aborted || stream.destroyed) return;
      rec.body = Buffer.concat(chunks);
      try {
        stream.respond({ ':status': 200, 'x-client-id': String(headers['l5d-client-id'] ?? '') });
        stream.end(rec.body);
      } catch {
        // Reset meanwhile: there is nobody to answer.
      }
    });
  });
  const port = await listen(t, server);
  t.after(() => {
    for (const s of sessions) s.destroy();
  });
  return { port, streams, open: () => streams.filter((s) => !s.closed).length, written: () => written };
}

/** Client → A (outbound target) → mTLS → B (inbound) → `app`. B closes an idle mesh connection after 1 s. */
async function mesh(t: TestContext, app: App): Promise<Mesh> {
  return startMesh(t, {
    destinations: (bIn, bId) => [`h2.test:${app.port}=127.0.0.1:${bIn}#${bId}`],
    targets: [`h2.test:${app.port}`],
    b: { idleTimeoutMs: 1000 },
  });
}

/**
 * The end of every test: the clients leave; the app is left with no stream open and
 * both proxies with no connection open (the mesh connection ends by B's idle timeout).
 */
async function settle(m: Mesh, clients: RawH2[], app?: App): Promise<void> {
  for (const c of clients) c.destroy();
  if (app !== undefined) await waitFor(() => app.open() === 0, 'the app to have no stream open');
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections', 'peer="src"') === 0, 'A to close the client connections');
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections') === 0 && sample(await metrics(m.b), 'tcp_open_connections') === 0,
    'tcp_open_connections to return to 0 on both proxies', 8000);
}

/** An echo request that must come back 200 with `body`: the connection still works. */
async function echoWorks(c: RawH2, body: string): Promise<void> {
  const id = c.nextId();
  c.request(id, { method: 'POST', path: '/echo', endStream: false });
  c.data(id, body, { endStream: true });
  const r = await c.response(id);
  assert.equal(r.status, 200, `the echo after: ${c.describe()}`);
  assert.equal(r.body.toString(), body);
}

const isGoaway = (f: Frame): boolean => f.type === T.GOAWAY;

test('Malformed HTTP/2 requests get 400 with l5d-proxy-error and never reach the app', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const base = [':method', 'GET', ':scheme', 'http', ':authority', 'h2.test'];
  const cases: Array<[string, string[], boolean]> = [
    ['an upper-case field name', [...base, ':path', '/upper', 'X-Upper', 'v'], true],
    ['CR/LF in a value', [...base, ':path', '/crlf', 'x-split', 'a\r\nx-injected: b'], true],
    ['a lone LF in a value', [...base, ':path', '/lf', 'x-split', 'a\nb'], true],
    ['no :path', [...base], true],
    ['an unknown pseudo-header', [...base, ':path', '/pseudo', ':protocol-x', 'y'], true],
    ['a pseudo-header after a regular field', [...base, 'x-a', 'b', ':path', '/late'], true],
    ['content-length 5 on a request without a body', [...base.slice(0, 1), 'POST', ...base.slice(2), ':path', '/cl', 'content-length', '5'], true],
  ];
  for (const [what, fields, endStream] of cases) {
    const id = c.nextId();
    c.headers(id, fields, { endStream });
    const r = await c.response(id);
    assert.equal(r.status, 400, `${what}: ${c.describe()}`);
    assert.match(r.header('l5d-proxy-error') ?? '', /malformed request/, what);
  }
  // Streams are opened upstream in order: once this one arrived, none of the above can.
  await echoWorks(c, 'after the malformed ones');
  assert.deepEqual(app.streams.map((s) => s.path), ['/echo'], 'only the well-formed request reached the app');
  await settle(m, [c], app);
});

test('A request whose body does not match its content-length gets 400 with l5d-proxy-error and never completes at the app', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  for (const [what, declared, body] of [['shorter', '10', 'hello'], ['longer', '3', 'hello']] as const) {
    const id = c.nextId();
    c.request(id, { method: 'POST', path: `/cl-${what}`, endStream: false, extra: ['content-length', declared] });
    c.data(id, body, { endStream: true });
    const r = await c.response(id);
    assert.equal(r.status, 400, `a body ${what} than its content-length: ${c.describe()}`);
    assert.match(r.header('l5d-proxy-error') ?? '', /content-length/, what);
  }
  await echoWorks(c, 'still fine');
  assert.deepEqual(app.streams.filter(complete).map((s) => s.path), ['/echo'], 'no mismatched request completed at the app');
  await settle(m, [c], app);
});

test('A client-sent l5d-client-id never reaches the app; the inbound proxy\'s does', async (t) => {
  const app = await startApp(t);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`h2.test:${app.port}=127.0.0.1:${bIn}#${bId}`],
    targets: [`h2.test:${app.port}`],
    forwardPort: app.port,
    b: { idleTimeoutMs: 1000 },
  });
  const spoof = ['l5d-client-id', 'admin.spoofed.serviceaccount.identity.weft.cluster.local'];
  // Through the mesh: A drops it, B adds the verified identity.
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const id = c.nextId();
  c.request(id, { path: '/meshed', extra: [...spoof, 'x-keep', 'kept', ...spoof] });
  const r = await c.response(id);
  assert.equal(r.status, 200, c.describe());
  assert.equal(r.header('x-client-id'), m.aLeaf.identity);
  // A plain client straight to B's inbound: no identity, so no l5d-client-id at all.
  const plain = await RawH2.connect(t, m.b.ports.inbound);
  const pid = plain.nextId();
  plain.request(pid, { path: '/plain', extra: spoof });
  const pr = await plain.response(pid);
  assert.equal(pr.status, 200, plain.describe());
  const seen = (path: string): Array<[string, string]> => pairs(app.streams.find((s) => s.path === path)?.raw ?? []).filter(([k]) => k === 'l5d-client-id');
  // Nor in request trailers, where an application reading them would find it.
  const tid = c.nextId();
  c.request(tid, { method: 'POST', path: '/trailer-spoof', endStream: false, extra: ['te', 'trailers'] });
  c.data(tid, 'body');
  c.headers(tid, [...spoof, 'x-checksum', 'abc'], { endStream: true });
  assert.equal((await c.response(tid)).status, 200, c.describe());
  const trailers = app.streams.find((s) => s.path === '/trailer-spoof')?.trailers;
  assert.equal(trailers?.['x-checksum'], 'abc');
  assert.equal(trailers?.['l5d-client-id'], undefined, 'a client-sent l5d-client-id in trailers reached the app');
  assert.deepEqual(seen('/meshed'), [['l5d-client-id', m.aLeaf.identity]]);
  assert.deepEqual(seen('/plain'), []);
  assert.equal(app.streams.find((s) => s.path === '/meshed')?.headers['x-keep'], 'kept');
  await settle(m, [c, plain], app);
});

test('A client that resets a stream mid-body resets the app\'s stream; the connection goes on', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const id = c.nextId();
  c.request(id, { method: 'POST', path: '/slow', endStream: false });
  c.data(id, 'first half of the body');
  await waitFor(() => app.streams.some((s) => s.path === '/slow'), 'the request to reach the app');
  const rec = app.streams.find((s) => s.path === '/slow')!;
  c.reset(id, E.CANCEL);
  await waitFor(() => rec.closed, 'the app\'s stream to be reset');
  assert.equal(complete(rec), false, 'the app never saw the body end');
  assert.equal(rec.aborted, true, 'the app\'s stream was aborted');
  assert.equal(app.open(), 0);
  await echoWorks(c, 'next request on the same connection');
  await echoWorks(c, 'and the one after');
  await settle(m, [c], app);
});

test('An app that resets a stream before responding gives 502 with l5d-proxy-error; after its head, a reset', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const before = c.nextId();
  c.request(before, { path: '/reset-before' });
  const r = await c.response(before);
  assert.equal(r.status, 502, c.describe());
  assert.match(r.header('l5d-proxy-error') ?? '', /reset/);
  const after = c.nextId();
  c.request(after, { path: '/reset-after' });
  const a = await c.response(after);
  assert.equal(a.status, 200, 'the response head came through');
  assert.notEqual(a.reset, undefined, `then the stream was reset: ${c.describe()}`);
  assert.equal(c.frames.some((f) => f.streamId === after && f.type !== T.RST_STREAM && (f.flags & F.END_STREAM) !== 0), false, 'no END_STREAM: the client cannot take the partial body for a whole one');
  await echoWorks(c, 'the connection still works');
  await settle(m, [c], app);
});

test('An upstream GOAWAY below streams in flight: one never sent on is retried on a new upstream connection, one whose body went out gets 502', async (t) => {
  let served = 0;
  const up = await rawH2Server(t, (conn) => {
    const first = served++ === 0;
    const heads: number[] = [];
    conn.listeners.push((f) => {
      if (!first) {
        if (f.type !== T.HEADERS) return;
        conn.headers(f.streamId, [':status', '200'], { endStream: false });
        conn.data(f.streamId, 'fresh connection', { endStream: true });
        return;
      }
      if (f.type === T.HEADERS) heads.push(f.streamId);
      // The first connection takes three streams (the third with its whole body), then
      // says it processed only the first (RFC 9113 §6.8: the others may be retried).
      if (f.type === T.DATA && (f.flags & F.END_STREAM) !== 0 && heads.length === 3) {
        conn.goaway(heads[0]!, E.NO_ERROR);
        conn.headers(heads[0]!, [':status', '200'], { endStream: false });
        conn.data(heads[0]!, 'before goaway', { endStream: true });
      }
    });
  });
  const m = await startMesh(t, { destinations: () => [`raw.test:${up.port}=127.0.0.1:${up.port}`], targets: [`raw.test:${up.port}`] });
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const s1 = c.nextId();
  const s2 = c.nextId();
  const s3 = c.nextId();
  c.request(s1, { path: '/one' });
  c.request(s2, { path: '/two' });
  c.request(s3, { method: 'POST', path: '/three', endStream: false });
  c.data(s3, 'a body the upstream may have read', { endStream: true });
  const r1 = await c.response(s1);
  const r2 = await c.response(s2);
  const r3 = await c.response(s3);
  assert.equal(r1.status, 200, c.describe());
  assert.equal(r1.body.toString(), 'before goaway');
  assert.equal(r2.status, 200, c.describe());
  assert.equal(r2.body.toString(), 'fresh connection', 'a GET the upstream never took went to a new connection');
  assert.equal(r3.status, 502, c.describe());
  assert.notEqual(r3.header('l5d-proxy-error'), undefined);
  const s4 = c.nextId();
  c.request(s4, { path: '/four' });
  const r4 = await c.response(s4);
  assert.equal(r4.status, 200, c.describe());
  assert.equal(r4.body.toString(), 'fresh connection');
  assert.equal(up.connections.length, 2, 'a second upstream connection was made');
  // Its streams done, the connection that went away is closed by the proxy.
  await up.connections[0]!.waitClosed('the proxy to close the upstream connection that went away');
  for (const u of up.connections) u.destroy();
  await settle(m, [c]);
});

/** Only A, its outbound target sending to a raw h2c upstream on `port` (plain text: no identity). */
async function outboundOnly(t: TestContext, port: number): Promise<Mesh> {
  return startMesh(t, { destinations: () => [`raw.test:${port}=127.0.0.1:${port}`], targets: [`raw.test:${port}`] });
}

/** The path of a request header block. */
function pathOf(f: Frame): string {
  const fields = f.fields ?? [];
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === ':path') return fields[i + 1]!;
  return '';
}

test('A malformed response head from the upstream gives the client 502 with l5d-proxy-error', async (t) => {
  const heads: Record<string, string[]> = {
    '/upper': [':status', '200', 'X-Upper', 'v'],
    '/crlf': [':status', '200', 'x-split', 'a\r\nx-injected: b'],
    '/no-status': ['x-only', 'regular'],
    '/two-status': [':status', '200', ':status', '204'],
    '/request-pseudo': [':status', '200', ':path', '/'],
    '/informational-end': [':status', '100'],
    '/data-first': [':status', '200'],
    '/fine': [':status', '200', 'x-fine', 'yes'],
  };
  const up = await rawH2Server(t, (conn) => conn.listeners.push((f) => {
    if (f.type !== T.HEADERS) return;
    // DATA before any response head (RFC 9113 §8.1: a response starts with HEADERS).
    if (pathOf(f) === '/data-first') conn.data(f.streamId, 'body before head');
    conn.headers(f.streamId, heads[pathOf(f)] ?? [':status', '404'], { endStream: true });
  }));
  const m = await outboundOnly(t, up.port);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  for (const path of Object.keys(heads)) {
    const id = c.nextId();
    c.request(id, { path });
    const r = await c.response(id);
    if (path === '/fine') {
      assert.equal(r.status, 200, c.describe());
      assert.equal(r.header('x-fine'), 'yes');
      continue;
    }
    assert.equal(r.status, 502, `${path}: ${c.describe()}`);
    assert.match(r.header('l5d-proxy-error') ?? '', /malformed|broke HTTP\/2/, path);
  }
  for (const u of up.connections) u.destroy();
  await settle(m, [c]);
});

test('An upstream answering before the request body ended (then RST_STREAM NO_ERROR) gives the client its whole response', async (t) => {
  const up = await rawH2Server(t, (conn) => conn.listeners.push((f) => {
    if (f.type !== T.HEADERS) return;
    if (pathOf(f) !== '/early') {
      conn.headers(f.streamId, [':status', '200'], { endStream: true });
      return;
    }
    // RFC 9113 §8.1: a complete response, then "stop sending the request".
    conn.headers(f.streamId, [':status', '413'], { endStream: false });
    conn.data(f.streamId, 'too large, stop', { endStream: true });
    conn.reset(f.streamId, E.NO_ERROR);
  }));
  const m = await outboundOnly(t, up.port);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const id = c.nextId();
  c.request(id, { method: 'POST', path: '/early', endStream: false });
  c.data(id, 'the first part of a long upload');
  const end = await c.until((f) => f.streamId === id && (f.type === T.RST_STREAM || (f.flags & F.END_STREAM) !== 0), 'the end of the early response');
  const r = c.collect(id);
  assert.notEqual(end.type, T.RST_STREAM, `the response ended with END_STREAM, not a reset: ${c.describe()}`);
  assert.equal(r.status, 413);
  assert.equal(r.body.toString(), 'too large, stop');
  // Whatever the client still sends on it is dropped; the connection goes on.
  c.data(id, 'more', { endStream: true });
  const next = c.nextId();
  c.request(next, { path: '/next' });
  assert.equal((await c.response(next)).status, 200, c.describe());
  for (const u of up.connections) u.destroy();
  await settle(m, [c]);
});

test('An upstream limiting its concurrent streams to 1 gets one stream at a time; the others wait and succeed', async (t) => {
  let open = 0;
  let most = 0;
  const pending: Array<{ conn: RawH2; id: number }> = [];
  const up = await rawH2Server(t, (conn) => conn.listeners.push((f) => {
    if (f.type !== T.HEADERS) return;
    open++;
    most = Math.max(most, open);
    if (pathOf(f) === '/warm') answer(conn, f.streamId);
    else pending.push({ conn, id: f.streamId });
  }), { settings: [[S.MAX_CONCURRENT_STREAMS, 1]] });
  function answer(conn: RawH2, id: number): void {
    open--;
    conn.headers(id, [':status', '200'], { endStream: false });
    conn.data(id, `stream ${id}`, { endStream: true });
  }
  const m = await outboundOnly(t, up.port);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  // One request first, so the proxy knows the limit before it opens more.
  const warm = c.nextId();
  c.request(warm, { path: '/warm' });
  assert.equal((await c.response(warm)).status, 200, c.describe());
  const ids = [c.nextId(), c.nextId(), c.nextId()];
  for (const id of ids) c.request(id, { path: `/queued-${id}` });
  for (let i = 0; i < ids.length; i++) {
    await waitFor(() => pending.length > 0, `queued request ${i + 1} to reach the upstream`);
    assert.equal(open, 1, 'one stream open upstream at a time');
    const p = pending.shift()!;
    answer(p.conn, p.id);
  }
  for (const id of ids) assert.equal((await c.response(id)).status, 200, c.describe());
  assert.equal(most, 1, `the upstream saw ${most} streams open at once`);
  for (const u of up.connections) u.destroy();
  await settle(m, [c]);
});

test('An upstream PUSH_PROMISE (push disabled) ends that upstream connection; its stream gets 502 and the next request works', async (t) => {
  const up = await rawH2Server(t, (conn) => conn.listeners.push((f) => {
    if (f.type !== T.HEADERS) return;
    if (pathOf(f) === '/push') {
      const promised = Buffer.alloc(4);
      promised.writeUInt32BE(2);
      conn.send(T.PUSH_PROMISE, F.END_HEADERS, f.streamId, Buffer.concat([promised, conn.block([':method', 'GET', ':scheme', 'http', ':path', '/pushed', ':authority', 'raw.test'])]));
      return;
    }
    conn.headers(f.streamId, [':status', '200'], { endStream: true });
  }));
  const m = await outboundOnly(t, up.port);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const id = c.nextId();
  c.request(id, { path: '/push' });
  const r = await c.response(id);
  assert.equal(r.status, 502, c.describe());
  assert.notEqual(r.header('l5d-proxy-error'), undefined);
  const g = await up.connections[0]!.goawayFrame();
  assert.equal(g.code, E.PROTOCOL_ERROR);
  await up.connections[0]!.waitClosed('the proxy to close the pushing connection');
  const next = c.nextId();
  c.request(next, { path: '/after' });
  assert.equal((await c.response(next)).status, 200, c.describe());
  assert.equal(up.connections.length, 2);
  for (const u of up.connections) u.destroy();
  await settle(m, [c]);
});

test('A client that advertises a stream window of 0 gets its response body once it raises the window by SETTINGS', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!, { settings: [[S.INITIAL_WINDOW_SIZE, 0]] });
  const id = c.nextId();
  const body = 'x'.repeat(100_000);
  c.request(id, { method: 'POST', path: '/echo', endStream: false });
  for (let at = 0; at < body.length; at += 16_384) c.data(id, body.slice(at, at + 16_384), { endStream: at + 16_384 >= body.length });
  await c.until((f) => f.streamId === id && f.type === T.HEADERS, 'the response head (HEADERS are not flow-controlled)');
  assert.equal(c.collect(id).body.length, 0, 'no DATA into a window of 0');
  // Raising SETTINGS_INITIAL_WINDOW_SIZE opens every stream's window by the difference (RFC 9113 §6.9.2).
  c.settings([[S.INITIAL_WINDOW_SIZE, 65_535]]);
  const r = await c.response(id);
  assert.equal(r.body.toString(), body);
  await settle(m, [c], app);
});

test('A client that sends beyond its stream window gets RST_STREAM FLOW_CONTROL_ERROR; beyond the connection window, GOAWAY', async (t) => {
  // An upstream that grants no stream window: the proxy can hand nothing on, so the
  // client's windows are exactly what the proxy advertised (1 MiB per stream, 8 MiB in all).
  const up = await rawH2Server(t, (conn) => conn.listeners.push((f) => {
    if (f.type === T.HEADERS && pathOf(f) === '/warm') conn.headers(f.streamId, [':status', '200'], { endStream: true });
  }), { settings: [[S.INITIAL_WINDOW_SIZE, 0]] });
  const m = await outboundOnly(t, up.port);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const warm = c.nextId();
  c.request(warm, { path: '/warm' });
  assert.equal((await c.response(warm)).status, 200, c.describe());
  const piece = Buffer.alloc(16_384, 0x61);
  const fill = (id: number): void => {
    for (let i = 0; i < 64; i++) c.data(id, piece);
  };
  const over = c.nextId();
  c.request(over, { method: 'POST', path: '/hold', endStream: false });
  fill(over);
  c.data(over, 'x');
  const rst = await c.until((f) => f.streamId === over && f.type === T.RST_STREAM, 'the reset of the stream that overran its window');
  assert.equal(rst.payload.readUInt32BE(0), E.FLOW_CONTROL_ERROR);
  assert.equal(c.frames.some(isGoaway), false, 'a stream error, not a connection error');
  // Its bytes were dropped and credited back; 8 more full streams fill the connection window.
  for (let i = 0; i < 8; i++) {
    const id = c.nextId();
    c.request(id, { method: 'POST', path: '/hold', endStream: false });
    fill(id);
  }
  const last = c.nextId();
  c.request(last, { method: 'POST', path: '/hold', endStream: false });
  c.data(last, 'x');
  const g = await c.goawayFrame();
  assert.equal(g.code, E.FLOW_CONTROL_ERROR, c.describe());
  await c.waitClosed('the proxy to close the connection');
  for (const u of up.connections) u.destroy();
  await settle(m, [c]);
});

test('Stream ids out of order get GOAWAY PROTOCOL_ERROR: an even id, and a new request on a lower id', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const even = await RawH2.connect(t, m.a.ports.targets[0]!);
  even.request(2, { path: '/even' });
  assert.equal((await even.goawayFrame()).code, E.PROTOCOL_ERROR, even.describe());
  await even.waitClosed('the proxy to close the connection');
  // RFC 9113 §5.1.1: a new stream's id must exceed every id the client used before.
  const lower = await RawH2.connect(t, m.a.ports.targets[0]!);
  lower.request(5, { path: '/five' });
  assert.equal((await lower.response(5)).status, 200, lower.describe());
  lower.request(3, { path: '/three' });
  const g = await lower.goawayFrame();
  assert.equal(g.code, E.PROTOCOL_ERROR);
  assert.equal(g.lastStreamId, 5);
  assert.deepEqual(app.streams.map((s) => s.path), ['/five']);
  await settle(m, [even, lower], app);
});

test('Request trailers without END_STREAM reset the stream with PROTOCOL_ERROR; the connection goes on', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const id = c.nextId();
  c.request(id, { method: 'POST', path: '/slow', endStream: false });
  c.data(id, 'body');
  c.headers(id, ['x-trailer', 'not the end'], { endStream: false });
  const rst = await c.until((f) => f.streamId === id && f.type === T.RST_STREAM, 'the reset');
  assert.equal(rst.payload.readUInt32BE(0), E.PROTOCOL_ERROR);
  await waitFor(() => app.open() === 0, 'the app\'s stream to be reset too');
  assert.equal(app.streams.some(complete), false);
  await echoWorks(c, 'the connection still works');
  await settle(m, [c], app);
});

test('A client opening more streams than MAX_CONCURRENT_STREAMS (1024) gets REFUSED_STREAM for the excess', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const settings = await c.until((f) => f.type === T.SETTINGS && (f.flags & F.ACK) === 0, 'the proxy\'s SETTINGS');
  let limit = 0;
  for (let at = 0; at + 6 <= settings.payload.length; at += 6) if (settings.payload.readUInt16BE(at) === S.MAX_CONCURRENT_STREAMS) limit = settings.payload.readUInt32BE(at + 2);
  assert.equal(limit, 1024);
  const ids: number[] = [];
  const parts: Buffer[] = [];
  for (let i = 0; i <= limit; i++) {
    const id = c.nextId();
    ids.push(id);
    parts.push(frame(T.HEADERS, F.END_HEADERS, id, c.block([':method', 'POST', ':scheme', 'http', ':path', '/slow', ':authority', 'h2.test'])));
  }
  c.raw(Buffer.concat(parts));
  const excess = ids[limit]!;
  const rst = await c.until((f) => f.streamId === excess && f.type === T.RST_STREAM, 'the refusal of the stream over the limit');
  assert.equal(rst.payload.readUInt32BE(0), E.REFUSED_STREAM);
  assert.equal(c.frames.some((f) => f.type === T.RST_STREAM && f.streamId !== excess), false, 'the streams within the limit stay open');
  // Ending the open ones frees the slots: a new stream is taken again.
  for (const id of ids.slice(0, limit)) c.data(id, '', { endStream: true });
  await waitFor(() => app.streams.filter(complete).length === limit, `the ${limit} requests to complete at the app`, 20_000);
  // The proxy frees a slot when the answer has come back through both proxies, which
  // can be after the app saw the last request end: wait for the answers too.
  for (const id of ids.slice(0, limit)) assert.equal((await c.response(id, 20_000)).status, 200);
  await echoWorks(c, 'a stream after the others ended');
  await settle(m, [c], app);
});

test('A 40 KB request head split over CONTINUATION frames arrives intact; one over 64 KiB gets 431', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const big = 'v'.repeat(10_000);
  const fields = [':method', 'GET', ':scheme', 'http', ':path', '/large-head', ':authority', 'h2.test', 'x-a', big, 'x-b', big, 'x-c', big, 'x-d', big];
  const block = c.block(fields);
  const id = c.nextId();
  for (let at = 0; at < block.length; at += 16_384) {
    const first = at === 0;
    const last = at + 16_384 >= block.length;
    c.send(first ? T.HEADERS : T.CONTINUATION, (first ? F.END_STREAM : 0) | (last ? F.END_HEADERS : 0), id, block.subarray(at, at + 16_384));
  }
  assert.equal((await c.response(id)).status, 200, c.describe());
  const seen = app.streams.find((s) => s.path === '/large-head');
  assert.equal(seen?.headers['x-d'], big);
  const tooBig = c.nextId();
  c.request(tooBig, { path: '/too-large', extra: ['x-a', 'w'.repeat(40_000), 'x-b', 'w'.repeat(40_000)] });
  const r = await c.response(tooBig);
  assert.equal(r.status, 431, c.describe());
  assert.notEqual(r.header('l5d-proxy-error'), undefined);
  await echoWorks(c, 'the HPACK state is still in step');
  assert.deepEqual(app.streams.map((s) => s.path), ['/large-head', '/echo']);
  await settle(m, [c], app);
});

test('A WINDOW_UPDATE past 2^31-1 resets the stream (FLOW_CONTROL_ERROR); on the connection it gets GOAWAY', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const id = c.nextId();
  c.request(id, { method: 'POST', path: '/slow', endStream: false });
  c.windowUpdate(id, 0x7fff_ffff);
  const rst = await c.until((f) => f.streamId === id && f.type === T.RST_STREAM, 'the reset of the overflowing stream');
  assert.equal(rst.payload.readUInt32BE(0), E.FLOW_CONTROL_ERROR);
  await echoWorks(c, 'the connection goes on');
  c.windowUpdate(0, 0x7fff_ffff);
  assert.equal((await c.goawayFrame()).code, E.FLOW_CONTROL_ERROR);
  await c.waitClosed('the proxy to close the connection');
  await settle(m, [c], app);
});

test('A PING flood from a client that reads nothing is cut off before the proxy buffers more than a few MB', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  await c.until((f) => f.type === T.SETTINGS, 'the proxy\'s SETTINGS');
  // The client stops reading: every PING ACK the proxy owes piles up on its side.
  c.socket.pause();
  const rssBefore = process.memoryUsage.rss();
  const batch = Buffer.concat(Array.from({ length: 4096 }, () => frame(T.PING, 0, 0, Buffer.alloc(8, 7))));
  let sent = 0;
  while (!c.closed && sent < 256 << 20) {
    if (!c.raw(batch)) {
      await Promise.race([new Promise((r) => c.socket.once('drain', r)), c.waitClosed('the close', 10_000).catch(() => {})]);
    }
    sent += batch.length;
  }
  await c.waitClosed('the proxy to cut the flooding client off', 10_000);
  const grown = process.memoryUsage.rss() - rssBefore;
  assert.ok(sent < 256 << 20, 'the proxy kept reading PINGs without being able to answer them');
  assert.ok(grown < 64 << 20, `the process grew by ${(grown / 1048576).toFixed(1)} MB under the flood`);
  await settle(m, [c], app);
});

test('A client that vanishes with streams open leaves no stream open at the app', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  for (let i = 0; i < 10; i++) {
    const id = c.nextId();
    c.request(id, { method: 'POST', path: `/slow-${i}`, endStream: false });
    c.data(id, 'part of a body');
  }
  await waitFor(() => app.streams.length === 10, 'the 10 requests to reach the app');
  c.socket.end();
  await waitFor(() => app.open() === 0, 'the app\'s streams to be reset');
  assert.equal(app.streams.some(complete), false);
  await settle(m, [c], app);
});

test('An upstream connection lost mid-response resets a stream that had its head and answers 502 to one that had not', async (t) => {
  const streams: Array<{ conn: RawH2; id: number; path: string }> = [];
  const up = await rawH2Server(t, (conn) => conn.listeners.push((f) => {
    if (f.type !== T.HEADERS) return;
    streams.push({ conn, id: f.streamId, path: pathOf(f) });
    if (pathOf(f) === '/after') conn.headers(f.streamId, [':status', '200'], { endStream: true });
    if (pathOf(f) === '/headed') {
      conn.headers(f.streamId, [':status', '200'], { endStream: false });
      conn.data(f.streamId, 'the first part');
    }
  }));
  const m = await outboundOnly(t, up.port);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const headed = c.nextId();
  const waiting = c.nextId();
  c.request(headed, { path: '/headed' });
  c.request(waiting, { path: '/waiting' });
  await c.until((f) => f.streamId === headed && f.type === T.DATA, 'the first part of the response');
  await waitFor(() => streams.length === 2, 'both requests at the upstream');
  up.connections[0]!.destroy();
  const a = await c.response(headed);
  const b = await c.response(waiting);
  assert.equal(a.status, 200);
  assert.notEqual(a.reset, undefined, `the stream with a head was reset: ${c.describe()}`);
  assert.equal(b.status, 502, c.describe());
  assert.match(b.header('l5d-proxy-error') ?? '', /closed/);
  const next = c.nextId();
  c.request(next, { path: '/after' });
  assert.equal((await c.response(next)).status, 200, c.describe());
  for (const u of up.connections) u.destroy();
  await settle(m, [c]);
});

test('An upstream that shrinks its stream window by SETTINGS mid-upload gets no DATA beyond it, and the whole body', async (t) => {
  const body = randomBytes(300_000);
  let acked = false;
  let largest = 0;
  let got = Buffer.alloc(0);
  const up = await rawH2Server(t, (conn) => conn.listeners.push((f) => {
    if (f.type === T.SETTINGS && (f.flags & F.ACK) !== 0 && largest === -1) acked = true;
    if (f.type === T.HEADERS && pathOf(f) === '/warm') conn.headers(f.streamId, [':status', '200'], { endStream: true });
    if (f.type === T.HEADERS && pathOf(f) === '/upload') {
      // RFC 9113 §6.9.2: a smaller INITIAL_WINDOW_SIZE shrinks open streams' windows (below 0 even).
      largest = -1;
      conn.settings([[S.INITIAL_WINDOW_SIZE, 1000]]);
    }
    if (f.type === T.DATA) {
      got = Buffer.concat([got, f.payload]);
      // Credit goes back for every frame at once: after the ACK, no frame may exceed 1000 bytes.
      if (acked) largest = Math.max(largest, f.payload.length);
      if ((f.flags & F.END_STREAM) !== 0) {
        conn.headers(f.streamId, [':status', '200'], { endStream: false });
        conn.data(f.streamId, createHash('sha256').update(got).digest('hex'), { endStream: true });
      }
    }
  }), { creditEachFrame: true });
  const m = await outboundOnly(t, up.port);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const warm = c.nextId();
  c.request(warm, { path: '/warm' });
  assert.equal((await c.response(warm)).status, 200, c.describe());
  const id = c.nextId();
  c.request(id, { method: 'POST', path: '/upload', endStream: false });
  for (let at = 0; at < body.length; at += 16_384) c.data(id, body.subarray(at, at + 16_384), { endStream: at + 16_384 >= body.length });
  const r = await c.response(id, 20_000);
  assert.equal(r.status, 200, c.describe());
  assert.equal(r.body.toString(), createHash('sha256').update(body).digest('hex'), 'the body arrived whole and in order');
  assert.ok(acked, 'the proxy acknowledged the new SETTINGS');
  assert.ok(largest <= 1000, `a DATA frame of ${largest} bytes into a window of 1000`);
  for (const u of up.connections) u.destroy();
  await settle(m, [c]);
});

test('A client that shrinks its stream window by SETTINGS mid-response gets no DATA beyond it, and the whole body', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!, { creditEachFrame: true });
  await c.until((f) => f.type === T.SETTINGS && (f.flags & F.ACK) !== 0, 'the ACK of the first SETTINGS');
  const body = randomBytes(300_000);
  const id = c.nextId();
  c.request(id, { method: 'POST', path: '/echo', endStream: false });
  for (let at = 0; at < body.length; at += 16_384) c.data(id, body.subarray(at, at + 16_384), { endStream: at + 16_384 >= body.length });
  await c.until((f) => f.streamId === id && f.type === T.HEADERS, 'the response head');
  const from = c.frames.length;
  c.settings([[S.INITIAL_WINDOW_SIZE, 1000]]);
  const ack = await c.until((f) => f.type === T.SETTINGS && (f.flags & F.ACK) !== 0, 'the ACK of the smaller window', 5000, from);
  const r = await c.response(id, 20_000);
  assert.ok(r.body.equals(body), `the body arrived whole (${r.body.length} of ${body.length} bytes)`);
  const after = c.frames.slice(c.frames.indexOf(ack)).filter((f) => f.type === T.DATA && f.streamId === id);
  const largest = Math.max(0, ...after.map((f) => f.payload.length));
  assert.ok(largest <= 1000, `a DATA frame of ${largest} bytes into a window of 1000`);
  await settle(m, [c], app);
});

test('A client that stops reading a 200 MiB response makes the proxies hold only their windows, then gets every byte', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!, { autoWindow: false });
  await echoWorks(c, 'warm up the mesh connection');
  const rssBefore = process.memoryUsage.rss();
  const id = c.nextId();
  const hash = createHash('sha256');
  let received = 0;
  c.sink(id, (chunk) => {
    hash.update(chunk);
    received += chunk.length;
  });
  c.request(id, { path: '/big' });
  await c.until((f) => f.streamId === id && f.type === T.HEADERS, 'the response head');
  // The app writes until every window on the way is full; then nothing moves.
  let last = -1;
  let still = 0;
  await waitFor(() => {
    const w = app.written();
    still = w === last ? still + 1 : 0;
    last = w;
    return still >= 5;
  }, 'the app\'s writes to stall', 20_000);
  const held = process.memoryUsage.rss() - rssBefore;
  assert.ok(received <= 65_535, `the client got ${received} bytes, more than the window it advertised`);
  assert.ok(app.written() < 32 << 20, `the app wrote ${app.written()} bytes to a client that reads nothing`);
  assert.ok(held < 20 << 20, `the process grew by ${(held / 1048576).toFixed(1)} MB while the client read nothing`);
  // The client reads again: credit for what it has, then for everything as it comes.
  c.autoWindow = true;
  c.flushCredit();
  const r = await c.response(id, 120_000);
  assert.equal(r.reset, undefined, c.describe());
  assert.equal(received, BIG_CHUNKS * BIG_CHUNK.length);
  const want = createHash('sha256');
  for (let i = 0; i < BIG_CHUNKS; i++) want.update(BIG_CHUNK);
  assert.equal(hash.digest('hex'), want.digest('hex'), 'every byte intact');
  await settle(m, [c], app);
});

test('A client that returns credit for every DATA frame still gets full-sized DATA frames', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  // Legal and common enough: WINDOW_UPDATE for each frame as it is read. A relay that
  // sends whatever each update allows, at once, splits frames at every window edge and
  // never joins them again: frames shrink and throughput collapses with them.
  const c = await RawH2.connect(t, m.a.ports.targets[0]!, { creditEachFrame: true });
  const id = c.nextId();
  let received = 0;
  let frames = 0;
  c.sink(id, (chunk) => {
    received += chunk.length;
    if (chunk.length > 0) frames++;
  });
  c.request(id, { path: '/big' });
  const started = performance.now();
  await waitFor(() => received >= 32 << 20 || c.collect(id).reset !== undefined, 'the first 32 MiB', 60_000);
  const seconds = (performance.now() - started) / 1000;
  c.reset(id, E.CANCEL);
  const average = received / frames;
  assert.ok(average >= 4096, `DATA frames averaged ${average.toFixed(0)} bytes (${frames} frames, ${(received / 1048576 / seconds).toFixed(1)} MiB/s)`);
  await settle(m, [c], app);
});

test('Padding, PRIORITY frames, unknown frame types and PING leave requests working', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const ping = Buffer.from('weft-png');
  c.ping(ping);
  const ack = await c.until((f) => f.type === T.PING && (f.flags & F.ACK) !== 0, 'the PING ACK');
  assert.deepEqual(ack.payload, ping);
  const unknown = (streamId: number): boolean => c.send(0xfa, 0xff, streamId, Buffer.from('ignore me'));
  const priority = (streamId: number): boolean => c.send(T.PRIORITY, 0, streamId, Buffer.from([0, 0, 0, 0, 16]));
  unknown(0);
  priority(9); // an idle stream may be prioritised (RFC 9113 §5.1)
  const id = c.nextId();
  c.headers(id, [':method', 'POST', ':scheme', 'http', ':path', '/echo', ':authority', 'h2.test'], { endStream: false, pad: 20, priority: true });
  priority(id);
  unknown(id);
  c.data(id, 'hello ', { pad: 30 });
  c.data(id, '', { pad: 0 });
  c.data(id, 'world', { pad: 255, endStream: true });
  const r = await c.response(id);
  assert.equal(r.status, 200, c.describe());
  assert.equal(r.body.toString(), 'hello world', 'padding is never forwarded');
  const get = c.nextId();
  c.headers(get, [':method', 'GET', ':scheme', 'http', ':path', '/padded-get', ':authority', 'h2.test'], { endStream: true, pad: 7 });
  assert.equal((await c.response(get)).status, 200, c.describe());
  const ping2 = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);
  c.ping(ping2);
  const ack2 = await c.until((f) => f.type === T.PING && (f.flags & F.ACK) !== 0 && f.payload.equals(ping2), 'the second PING ACK');
  assert.deepEqual(ack2.payload, ping2);
  assert.equal(c.frames.some(isGoaway), false, c.describe());
  assert.deepEqual(app.streams.map((s) => s.path), ['/echo', '/padded-get']);
  await settle(m, [c], app);
});

test('A header block continued without end gets GOAWAY and the connection closes', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const block = c.block([':method', 'GET', ':scheme', 'http', ':path', '/flood', ':authority', 'h2.test']);
  c.send(T.HEADERS, F.END_STREAM, 1, block);
  const junk = Buffer.alloc(16_384, 0x41);
  // Up to 64 MiB of CONTINUATION, with backpressure, until the proxy gives up.
  for (let i = 0; i < 4096 && !c.closed && !c.frames.some(isGoaway); i++) {
    if (!c.send(T.CONTINUATION, 0, 1, junk)) {
      await Promise.race([new Promise((r) => c.socket.once('drain', r)), c.waitClosed('the close', 5000).catch(() => {})]);
    }
  }
  const g = await c.goawayFrame();
  assert.ok(g.code === E.ENHANCE_YOUR_CALM || g.code === E.PROTOCOL_ERROR || g.code === E.FRAME_SIZE_ERROR, `GOAWAY code ${g.code}`);
  await c.waitClosed('the proxy to close the connection');
  assert.deepEqual(app.streams, [], 'nothing reached the app');
  await settle(m, [c], app);
});

test('5000 rapid HEADERS and RST_STREAM pairs get GOAWAY ENHANCE_YOUR_CALM and leave no stream open at the app', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  await echoWorks(c, 'warm up the mesh connection');
  const rst = Buffer.alloc(4);
  rst.writeUInt32BE(E.CANCEL);
  const parts: Buffer[] = [];
  for (let i = 0; i < 5000; i++) {
    const id = c.nextId();
    const block = c.block([':method', 'GET', ':scheme', 'http', ':path', '/rapid', ':authority', 'h2.test']);
    parts.push(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, id, block), frame(T.RST_STREAM, 0, id, rst));
  }
  c.raw(Buffer.concat(parts));
  const g = await c.goawayFrame(10_000);
  assert.equal(g.code, E.ENHANCE_YOUR_CALM);
  await c.waitClosed('the proxy to close the connection', 10_000);
  await waitFor(() => app.open() === 0, `the app to have no stream open (${app.open()} of ${app.streams.length})`, 10_000);
  // Other clients are not hurt: a new connection works.
  const other = await RawH2.connect(t, m.a.ports.targets[0]!);
  await echoWorks(other, 'a well-behaved client');
  await settle(m, [c, other], app);
});

test('5000 streams the client makes the proxy reset (WINDOW_UPDATE of 0) get GOAWAY ENHANCE_YOUR_CALM', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  await echoWorks(c, 'warm up the mesh connection');
  // "MadeYouReset": each stream opened upstream, then a stream error the proxy answers
  // with RST_STREAM; cancelled upstream work as costly as a client's own resets.
  const zero = Buffer.alloc(4);
  const parts: Buffer[] = [];
  for (let i = 0; i < 5000; i++) {
    const id = c.nextId();
    parts.push(frame(T.HEADERS, F.END_HEADERS, id, c.block([':method', 'POST', ':scheme', 'http', ':path', '/made-you-reset', ':authority', 'h2.test'])), frame(T.WINDOW_UPDATE, 0, id, zero));
  }
  c.raw(Buffer.concat(parts));
  const g = await c.goawayFrame(10_000);
  assert.equal(g.code, E.ENHANCE_YOUR_CALM, c.describe());
  await c.waitClosed('the proxy to close the connection', 10_000);
  await waitFor(() => app.open() === 0, `the app to have no stream open (${app.open()} of ${app.streams.length})`, 10_000);
  await settle(m, [c], app);
});

test('A frame larger than 16384 bytes gets GOAWAY FRAME_SIZE_ERROR', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const id = c.nextId();
  c.request(id, { method: 'POST', path: '/oversize', endStream: false });
  c.data(id, Buffer.alloc(16_385, 0x62), { endStream: true });
  const g = await c.goawayFrame();
  assert.equal(g.code, E.FRAME_SIZE_ERROR);
  await c.waitClosed('the proxy to close the connection');
  await waitFor(() => app.streams.every((s) => !complete(s)), 'no complete request at the app');
  await settle(m, [c], app);
});

test('A request with expect: 100-continue gets the app\'s 100, then its 200', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const id = c.nextId();
  c.request(id, { method: 'POST', path: '/continue', endStream: false, extra: ['expect', '100-continue', 'content-length', '4'] });
  const cont = await c.until((f) => f.streamId === id && f.type === T.HEADERS, 'the 100 Continue');
  assert.deepEqual(cont.fields?.slice(0, 2), [':status', '100']);
  assert.equal(cont.flags & F.END_STREAM, 0);
  c.data(id, 'body', { endStream: true });
  const r = await c.response(id);
  assert.deepEqual(r.blocks.map((b) => b[1]), ['100', '200']);
  assert.equal(r.body.toString(), 'body');
  await settle(m, [c], app);
});

test('Request trailers reach the app intact', async (t) => {
  const app = await startApp(t);
  const m = await mesh(t, app);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const id = c.nextId();
  c.request(id, { method: 'POST', path: '/trailers', endStream: false, extra: ['te', 'trailers', 'content-type', 'application/grpc'] });
  c.data(id, 'payload');
  c.headers(id, ['x-checksum', 'sha256:0123abcd', 'grpc-status', '0', 'x-empty', ''], { endStream: true });
  const r = await c.response(id);
  assert.equal(r.status, 200, c.describe());
  const rec = app.streams.find((s) => s.path === '/trailers');
  assert.equal(rec?.body.toString(), 'payload');
  assert.equal(rec?.trailers?.['x-checksum'], 'sha256:0123abcd');
  assert.equal(rec?.trailers?.['grpc-status'], '0');
  assert.equal(rec?.trailers?.['x-empty'], '');
  await settle(m, [c], app);
});

test('Streams an application refuses (REFUSED_STREAM: over a limit the proxy did not know yet) are sent again and succeed', async (t) => {
  // The limit comes in the application's SETTINGS, after the proxy may already have
  // opened more streams: those get REFUSED_STREAM, never processed, so safe to resend.
  const app = http2.createServer({ settings: { maxConcurrentStreams: 1 } });
  let served = 0;
  app.on('stream', (s) => {
    s.on('error', () => {});
    setTimeout(() => {
      served++;
      s.respond({ ':status': 200 });
      s.end('ok');
    }, 50);
  });
  const appPort = await listen(t, app);
  const m = await startMesh(t, { destinations: () => [], forwardPort: appPort });
  const client = http2.connect(`http://127.0.0.1:${m.b.ports.inbound}`);
  client.on('error', () => {});
  t.after(() => client.destroy());
  const get = (path: string): Promise<string> => new Promise((resolve) => {
    const req = client.request({ ':path': path, ':authority': 'app.test' });
    let status = '';
    req.on('response', (h) => { status = `${h[':status']} ${h['l5d-proxy-error'] ?? ''}`.trim(); });
    req.resume();
    req.on('end', () => resolve(status));
    req.on('error', (e) => resolve(`error ${e.message}`));
    req.end();
  });
  assert.deepEqual(await Promise.all([get('/1'), get('/2'), get('/3')]), ['200', '200', '200']);
  assert.equal(served, 3);
});

test('POSTs an application refuses before the proxy knew its limit are sent again: no body goes out before its SETTINGS', async (t) => {
  const app = http2.createServer({ settings: { maxConcurrentStreams: 1 } });
  const seen: string[] = [];
  app.on('stream', (s, h) => {
    s.on('error', () => {});
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => {
      seen.push(`${h[':path']} ${Buffer.concat(chunks).length}`);
      s.respond({ ':status': 200 });
      s.end('ok');
    });
  });
  const appPort = await listen(t, app);
  const m = await startMesh(t, { destinations: () => [], forwardPort: appPort });
  const client = http2.connect(`http://127.0.0.1:${m.b.ports.inbound}`);
  client.on('error', () => {});
  t.after(() => client.destroy());
  const post = (path: string): Promise<string> => new Promise((resolve) => {
    const req = client.request({ ':method': 'POST', ':path': path, ':authority': 'app.test' });
    let status = '';
    req.on('response', (h) => { status = `${h[':status']} ${h['l5d-proxy-error'] ?? ''}`.trim(); });
    req.resume();
    req.on('end', () => resolve(status));
    req.on('error', (e) => resolve(`error ${e.message}`));
    req.end(Buffer.alloc(10_000, 0x61));
  });
  assert.deepEqual(await Promise.all([0, 1, 2, 3, 4].map((i) => post(`/p${i}`))), ['200', '200', '200', '200', '200']);
  assert.deepEqual([...seen].sort(), ['/p0 10000', '/p1 10000', '/p2 10000', '/p3 10000', '/p4 10000'], 'each processed once, whole');
});

test('200 concurrent requests with 20 kB headers share the mesh connection without breaking it', async (t) => {
  const app = http2.createServer();
  app.on('stream', (s, h) => {
    s.on('error', () => {});
    s.respond({ ':status': 200, 'x-len': String(String(h['x-big'] ?? '').length) });
    s.end();
  });
  const appPort = await listen(t, app);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`big.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`big.test:${appPort}`],
  });
  const client = http2.connect(`http://127.0.0.1:${m.a.ports.targets[0]!}`);
  client.on('error', () => {});
  t.after(() => client.destroy());
  const big = 'b'.repeat(20_000);
  const get = (i: number): Promise<string> => new Promise((resolve) => {
    const req = client.request({ ':path': `/r${i}`, 'x-big': big });
    let got = '';
    req.on('response', (h) => { got = `${h[':status']} ${h['x-len'] ?? h['l5d-proxy-error'] ?? ''}`; });
    req.resume();
    req.on('end', () => resolve(got));
    req.on('error', (e) => resolve(`error ${e.message}`));
    req.end();
  });
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => get(i)));
  assert.deepEqual(results.filter((r) => r !== '200 20000'), []);
});

test('An upstream that advertises a stream limit but serves the streams over it still gets their bodies', async (t) => {
  // Streams opened before the upstream's first SETTINGS and over the limit they name
  // wait for their bodies until the upstream has had the chance to refuse them; a
  // lenient upstream that takes them must not wait forever.
  const bodies = new Map<number, string>();
  const up = await rawH2Server(t, (conn) => {
    conn.listeners.push((f) => {
      if (f.type === T.PING && (f.flags & F.ACK) === 0) conn.ping(f.payload, true); // as every server must
      if (f.type === T.DATA && f.payload.length > 0) bodies.set(f.streamId, (bodies.get(f.streamId) ?? '') + f.payload.toString());
      if (f.type === T.DATA && (f.flags & F.END_STREAM) !== 0) {
        conn.headers(f.streamId, [':status', '200'], { endStream: false });
        conn.data(f.streamId, `got ${bodies.get(f.streamId) ?? ''}`, { endStream: true });
      }
    });
  }, { settings: [[S.MAX_CONCURRENT_STREAMS, 1]] });
  const m = await outboundOnly(t, up.port);
  const c = await RawH2.connect(t, m.a.ports.targets[0]!);
  const ids = [c.nextId(), c.nextId(), c.nextId()];
  for (const id of ids) {
    c.request(id, { method: 'POST', path: `/p${id}`, endStream: false });
    c.data(id, `body-${id}`, { endStream: true });
  }
  for (const id of ids) {
    const r = await c.response(id);
    assert.equal(r.status, 200, c.describe());
    assert.equal(r.body.toString(), `got body-${id}`);
  }
  for (const u of up.connections) u.destroy();
  await settle(m, [c]);
});
