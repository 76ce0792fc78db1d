/**
 * HTTP/1 framing at the edges: the trailer section of chunked bodies (validated like
 * header lines, passed through byte for byte when valid) and the response head of a
 * client connection the proxy closes (it says `Connection: close` whenever that is
 * known before the head goes out). The application is a raw TCP server, so the tests
 * see and choose every byte.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { listen, metrics, sample, startMesh, waitFor, type Mesh } from './harness.ts';

/** What a raw application saw on one connection, the socket to answer on, and a count of answers for the handler. */
type AppConnection = { socket: net.Socket; received: () => string; answered: number };

/** A raw TCP application: `onData(conn)` runs on every read with everything received so far. */
async function rawApp(t: TestContext, onData: (c: AppConnection) => void): Promise<{ port: number; connections: AppConnection[] }> {
  const connections: AppConnection[] = [];
  const server = net.createServer((socket) => {
    const chunks: Buffer[] = [];
    const c: AppConnection = { socket, received: () => Buffer.concat(chunks).toString('latin1'), answered: 0 };
    connections.push(c);
    socket.on('error', () => {});
    socket.on('data', (b: Buffer) => { chunks.push(b); onData(c); });
  });
  const port = await listen(t, server);
  t.after(() => { for (const c of connections) c.socket.destroy(); });
  return { port, connections };
}

/** Hop A (target listener) → mTLS → hop B (inbound, forwarding to the app). */
async function mesh(t: TestContext, appPort: number): Promise<{ m: Mesh; viaA: number; directB: number }> {
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`web.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`web.test:${appPort}`],
    forwardPort: appPort,
  });
  return { m, viaA: m.a.ports.targets[0]!, directB: m.b.ports.inbound };
}

/** A client connection: what it received, whether the proxy ended or reset it. */
type Client = { socket: net.Socket; text: () => string; closed: () => boolean; ended: () => boolean };

function client(t: TestContext, port: number, bytes: string | Buffer): Client {
  const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
  t.after(() => socket.destroy());
  const chunks: Buffer[] = [];
  let closed = false;
  let ended = false;
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('end', () => { ended = true; });
  socket.on('error', () => {});
  socket.on('close', () => { closed = true; });
  return { socket, text: () => Buffer.concat(chunks).toString('latin1'), closed: () => closed, ended: () => ended };
}

/** The bytes after the first head in `text` (the body as framed on the wire). */
function afterHead(text: string): string {
  const i = text.indexOf('\r\n\r\n');
  return i < 0 ? '' : text.slice(i + 4);
}

/** The first head in `text`. */
function headOf(text: string): string {
  const i = text.indexOf('\r\n\r\n');
  return i < 0 ? text : text.slice(0, i + 4);
}

const REQ_BODY = '4\r\nping\r\n0\r\ngrpc-status: 0\r\nExpires: Thu, 01 Dec 1994 16:00:00 GMT\r\nx-sum:\tab c \r\n\r\n';
const RES_BODY = '5\r\nhello\r\n0\r\ngrpc-status: 0\r\ngrpc-message: OK\r\nExpires: Thu, 01 Dec 1994 16:00:00 GMT\r\n\r\n';

test('Valid trailers of chunked requests and responses pass through byte for byte, and the connections stay pooled', async (t) => {
  const app = await rawApp(t, (c) => {
    // One answer per complete request (the body ends with the trailer section's blank line).
    const complete = c.received().split(REQ_BODY).length - 1;
    for (; c.answered < complete; c.answered++) c.socket.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${RES_BODY}`);
  });
  const { viaA, directB } = await mesh(t, app.port);
  for (const port of [viaA, directB, viaA]) {
    const c = client(t, port, `POST /x HTTP/1.1\r\nHost: web.test\r\nTransfer-Encoding: chunked\r\nTE: trailers\r\n\r\n${REQ_BODY}`);
    await waitFor(() => c.text().endsWith(RES_BODY) || c.closed(), 'the response with its trailers');
    assert.match(c.text(), /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(afterHead(c.text()), RES_BODY, 'the response body and trailers arrive as the app sent them');
    assert.doesNotMatch(headOf(c.text()), /connection: close/i);
    assert.ok(!c.closed(), 'the client connection stays open');
    c.socket.destroy();
  }
  assert.equal(app.connections.length, 1, 'one application connection served all three requests');
  for (const r of app.connections[0]!.received().split('POST /x HTTP/1.1\r\n').slice(1)) {
    assert.equal(afterHead(r), REQ_BODY, 'the request body and trailers reach the app as the client sent them');
  }
});

/** Trailer sections a request-smuggling-safe proxy refuses (each followed by the blank line). */
const BAD_TRAILERS: ReadonlyArray<[string, string]> = [
  ['a space before the colon', 'x-sum : 1\r\n'],
  ['a tab before the colon', 'x-sum\t: 1\r\n'],
  ['an obs-fold line', 'x-sum: 1\r\n  2\r\n'],
  ['a name that is not a token', 'x sum: 1\r\n'],
  ['a name with a separator', 'x(sum): 1\r\n'],
  ['an empty name', ': 1\r\n'],
  ['no colon', 'x-sum\r\n'],
  ['a NUL in the value', 'x-sum: 1\x002\r\n'],
  ['a bare CR in the value', 'x-sum: 1\r2\r\n'],
  ['a line ended by a bare LF', 'x-sum: 1\n'],
  ['a section larger than the head limit', `x-big: ${'a'.repeat(70 * 1024)}\r\n`],
];

test('A request whose trailer section is malformed gets 400 with l5d-proxy-error and its connection is closed, at either hop', async (t) => {
  const app = await rawApp(t, () => {});
  const { m, viaA, directB } = await mesh(t, app.port);
  for (const [why, bad] of BAD_TRAILERS) {
    for (const port of [viaA, directB]) {
      const c = client(t, port, `POST /x HTTP/1.1\r\nHost: web.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n${bad}\r\n`);
      await waitFor(() => c.closed(), `the proxy to close the connection (${why})`);
      assert.match(c.text(), /^HTTP\/1\.1 400 /, `${why}: ${JSON.stringify(c.text())}`);
      assert.match(c.text(), /\r\nl5d-proxy-error: [^\r\n]*trailer/i, why);
      assert.ok(c.ended(), `${why}: the connection is ended, not reset`);
    }
  }
  // The application never saw a complete request: each one was cut before its trailers.
  for (const c of app.connections) assert.doesNotMatch(c.received(), /\r\n0\r\n/);
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections', 'peer="src"') === 0, 'the client connections to be counted closed');
});

test('A response whose trailer section is malformed is a 502 when nothing went out yet, and is cut (its bad trailers never forwarded) otherwise', async (t) => {
  let release: (() => void) | undefined;
  const app = await rawApp(t, (c) => {
    if (!c.received().endsWith('\r\n\r\n')) return;
    const path = [...c.received().matchAll(/GET (\S+) HTTP/g)].at(-1)?.[1];
    if (path === '/whole') {
      c.socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-sum : 1\r\n\r\n');
    } else if (path === '/late') {
      // The head and data first; the bad trailers once the client has the data.
      c.socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
      release = () => c.socket.write('0\r\nx-sum: 1\x002\r\n\r\n');
    } else {
      c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    }
  });
  const { directB } = await mesh(t, app.port);
  // Direct to hop B, so its own answer is what the client sees.
  const whole = client(t, directB, 'GET /whole HTTP/1.1\r\nHost: web.test\r\n\r\n');
  await waitFor(() => whole.closed(), 'the proxy to close the connection');
  assert.match(whole.text(), /^HTTP\/1\.1 502 /, JSON.stringify(whole.text()));
  assert.match(whole.text(), /\r\nl5d-proxy-error: [^\r\n]*trailer/i);
  const late = client(t, directB, 'GET /late HTTP/1.1\r\nHost: web.test\r\n\r\n');
  await waitFor(() => late.text().endsWith('3\r\nabc\r\n'), 'the response head and data');
  release!();
  await waitFor(() => late.closed(), 'the proxy to cut the response');
  assert.equal(afterHead(late.text()), '3\r\nabc\r\n', 'the malformed trailers are not forwarded');
  // Neither application connection went back to the pool: the next request gets a new one.
  const before = app.connections.length;
  const next = client(t, directB, 'GET /ok HTTP/1.1\r\nHost: web.test\r\n\r\n');
  await waitFor(() => next.text().endsWith('\r\n\r\nok'), 'the next response');
  assert.equal(app.connections.length, before + 1);
});

test('The response head says Connection: close when the proxy is draining before it goes out', async (t) => {
  const app = await rawApp(t, () => {});
  const { m, viaA } = await mesh(t, app.port);
  const c = client(t, viaA, 'GET / HTTP/1.1\r\nHost: web.test\r\n\r\n');
  await waitFor(() => app.connections[0]?.received().endsWith('\r\n\r\n') === true, 'the request at the app');
  const stopped = m.a.stop({ graceMs: 5000 });
  app.connections[0]!.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  await waitFor(() => c.closed(), 'the proxy to close the client connection');
  assert.match(headOf(c.text()), /\r\nConnection: close\r\n/i, c.text());
  assert.ok(c.text().endsWith('\r\n\r\nok') && c.ended(), c.text());
  await stopped;
});

test('The response head says Connection: close when the upstream answered before the request body ended and the whole answer came with its head', async (t) => {
  const app = await rawApp(t, (c) => {
    if (c.received().includes('\r\n\r\n') && c.socket.bytesWritten === 0) {
      c.socket.write('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\n\r\ntoo big\n');
    }
  });
  const { viaA, directB } = await mesh(t, app.port);
  for (const port of [directB, viaA]) {
    // 10 of the 100 body bytes announced: the request is still in flight when the 413 comes.
    const c = client(t, port, `POST /upload HTTP/1.1\r\nHost: web.test\r\nContent-Length: 100\r\n\r\n${'x'.repeat(10)}`);
    await waitFor(() => c.closed(), 'the proxy to close the client connection');
    assert.match(c.text(), /^HTTP\/1\.1 413 /);
    assert.match(headOf(c.text()), /\r\nConnection: close\r\n/i, c.text());
    assert.ok(c.text().endsWith('\r\n\r\ntoo big\n') && c.ended(), c.text());
  }
});

test('The response head says Connection: close when bytes after the response came with it (the proxy closes that client)', async (t) => {
  const app = await rawApp(t, (c) => {
    if (c.received().endsWith('\r\n\r\n')) c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokGARBAGE');
  });
  const { directB } = await mesh(t, app.port);
  const c = client(t, directB, 'GET / HTTP/1.1\r\nHost: web.test\r\n\r\n');
  await waitFor(() => c.closed(), 'the proxy to close the client connection');
  assert.match(headOf(c.text()), /\r\nConnection: close\r\n/i, c.text());
  assert.ok(c.text().endsWith('\r\n\r\nok') && c.ended(), c.text());
});

test('A request line with a bare LF (two requests to a lenient server), or after an empty line, is refused at both hops, and the application sees nothing', async (t) => {
  const app = await rawApp(t, () => {});
  const { viaA, directB } = await mesh(t, app.port);
  const smuggle = 'GET /public HTTP/1.1\nHost: web.test\n\nGET /admin HTTP/1.1\nHost: web.test\nl5d-client-id: admin.prod.serviceaccount.identity.weft.cluster.local\nX: y HTTP/1.1\r\n\r\n';
  // Servers skip a CRLF before the request line; passed on as opaque bytes, its l5d-client-id would reach the app.
  const leading = '\r\nGET /admin HTTP/1.1\r\nHost: web.test\r\nl5d-client-id: admin.prod.serviceaccount.identity.weft.cluster.local\r\n\r\n';
  for (const [port, bytes] of [[viaA, smuggle], [directB, smuggle], [viaA, leading], [directB, leading]] as const) {
    const c = client(t, port, Buffer.from(bytes, 'latin1'));
    await waitFor(c.closed, `the proxy at port ${port} to answer and close`);
    assert.match(c.text(), /^HTTP\/1\.1 400 /, `port ${port}`);
    assert.match(c.text(), /l5d-proxy-error: /i);
  }
  assert.equal(app.connections.map((c) => c.received()).join(''), '', 'nothing reached the application');
});

test('A lower-case method is parsed as HTTP, so a plain client cannot hand the application its own l5d-client-id', async (t) => {
  const app = await rawApp(t, (c) => {
    if (c.answered === 0 && c.received().includes('\r\n\r\n')) {
      c.answered++;
      c.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    }
  });
  const { directB } = await mesh(t, app.port);
  const c = client(t, directB, 'get /admin HTTP/1.1\r\nHost: web.test\r\nl5d-client-id: admin.prod.serviceaccount.identity.weft.cluster.local\r\nconnection: close\r\n\r\n');
  await waitFor(c.closed, 'the answer and the close');
  assert.match(c.text(), /^HTTP\/1\.1 200 OK/);
  const seen = app.connections.map((c) => c.received()).join('');
  assert.match(seen, /^get \/admin HTTP\/1\.1\r\n/);
  assert.doesNotMatch(seen, /l5d-client-id/i, 'the forged identity was dropped (a plain client has none)');
});
