/**
 * Clients that half-close (send their request, then shut down their sending side,
 * as `nc`, HTTP/1.0 tools and request-then-FIN protocols do) still get the answer
 * through both proxies: the proxies' accepted sockets stay half-open, and the FIN
 * travels on to the application.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { listen, metrics, sample, startMesh, waitFor } from './harness.ts';

/** Reads everything until the client's FIN, then answers with what it read and closes. */
function answerAfterFin(): net.Server {
  return net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    let got = '';
    s.on('data', (d: Buffer) => { got += d.toString(); });
    s.on('end', () => s.end(`got ${got.length} bytes: ${got}`));
  });
}

/** Connects, writes `text`, half-closes, and resolves with all it reads until the server's FIN. */
function halfCloseExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let got = '';
    sock.on('data', (d: Buffer) => { got += d.toString(); });
    sock.on('end', () => { sock.destroy(); resolve(got); });
    sock.on('error', reject);
    sock.on('connect', () => { sock.end(text); });
  });
}

test('an opaque TCP client that half-closes after its request still gets the answer through both proxies', async (t) => {
  const app = answerAfterFin();
  const appPort = await listen(t, app);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`db.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`db.test:${appPort}`],
    a: { opaquePorts: new Set([appPort]) },
  });
  assert.equal(await halfCloseExchange(m.a.ports.targets[0]!, 'select 1'), 'got 8 bytes: select 1');
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections') === 0, 'hop A to close everything');
});

test('an HTTP/1.0 client that half-closes after its request still gets the response', async (t) => {
  const app = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    s.once('data', () => s.end('HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok'));
  });
  const appPort = await listen(t, app);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`web.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`web.test:${appPort}`],
  });
  const reply = await halfCloseExchange(m.a.ports.targets[0]!, 'GET / HTTP/1.0\r\nhost: web.test\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.[01] 200 OK\r\n[\s\S]*\r\n\r\nok$/);
});

test('bytes and a FIN in one segment on a detected port, and a FIN before any byte, still get their answers', async (t) => {
  const app = answerAfterFin();
  const appPort = await listen(t, app);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`raw.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`raw.test:${appPort}`],
  });
  // Not TLS, not HTTP: detection decides opaque on these bytes, the FIN right behind them.
  assert.equal(await halfCloseExchange(m.a.ports.targets[0]!, '\x00\x01hello'), 'got 7 bytes: \x00\x01hello');
  // No byte at all: detection ends on the FIN (opaque), and the FIN must still reach the application.
  assert.equal(await halfCloseExchange(m.a.ports.targets[0]!, ''), 'got 0 bytes: ');
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections') === 0, 'hop A to close everything');
  await waitFor(async () => sample(await metrics(m.b), 'tcp_open_connections', 'direction="inbound"', 'peer="dst"') === 0, 'hop B to close its application connections');
});

test('a plain client of the inbound side that half-closes still gets the answer', async (t) => {
  const app = answerAfterFin();
  const appPort = await listen(t, app);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`raw.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    b: { inboundForwardPort: appPort },
  });
  assert.equal(await halfCloseExchange(m.b.ports.inbound, 'ping'), 'got 4 bytes: ping');
});

/** Writes `bytes`, half-closes, and resolves once the proxy has closed the connection (false if not within 5 s). */
function closedAfterHalfClose(port: number, bytes: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.end(Buffer.from(bytes, 'latin1')); });
    const timer = setTimeout(() => { s.destroy(); resolve(false); }, 5000);
    s.on('data', () => {});
    s.on('error', () => {});
    s.on('close', () => { clearTimeout(timer); resolve(true); });
  });
}

test('a FIN in the middle of a request head, a request body or an HTTP/2 preface closes the connection, and nothing leaks', async (t) => {
  const app = net.createServer((s) => {
    s.on('error', () => {});
    s.resume();
  });
  const appPort = await listen(t, app);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`web.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`web.test:${appPort}`],
    forwardPort: appPort,
  });
  const cut = {
    head: 'GET / HTTP/1.1\r\nHost: web.test\r\n',
    body: 'POST / HTTP/1.1\r\nHost: web.test\r\ncontent-length: 10\r\n\r\nabc',
    h2: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  };
  for (const port of [m.a.ports.targets[0]!, m.b.ports.inbound]) {
    for (const [what, bytes] of Object.entries(cut)) assert.ok(await closedAfterHalfClose(port, bytes), `${what} at port ${port}`);
  }
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections', 'peer="src"') === 0, 'hop A to close its accepted connections');
  await waitFor(async () => sample(await metrics(m.b), 'tcp_open_connections', 'peer="src"', 'tls="no_identity"') === 0, 'hop B to close its accepted plain connections');
});
