/**
 * Clients that half-close (send their request, then shut down their sending side,
 * as `nc`, HTTP/1.0 tools and request-then-FIN protocols do) still get the answer
 * through both proxies: the proxies' accepted sockets stay half-open, and the FIN
 * travels on to the application.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { MESH_ALPN } from '../../src/proxy/index.ts';
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
  // The multiplexed mesh connection stays pooled; the client's and the application's close.
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections', 'peer="src"') === 0, 'hop A to close the client connection');
  await waitFor(async () => sample(await metrics(m.b), 'tcp_open_connections', 'direction="inbound"', 'peer="dst"') === 0, 'hop B to close its application connection');
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
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections', 'peer="src"') === 0, 'hop A to close the client connections');
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

/** Resolves true once `s` is closed by the other side, false if it is still open after `ms`. */
function closedWithin(s: net.Socket, ms: number): Promise<boolean> {
  if (s.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    s.once('close', () => { clearTimeout(timer); resolve(true); });
  });
}

test('a peer proxy that sends its FIN before a whole transport header, or in the middle of the handshake, is closed at once', async (t) => {
  const app = net.createServer((s) => { s.on('error', () => {}); s.resume(); });
  const appPort = await listen(t, app);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`x.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    forwardPort: appPort,
    b: { idleTimeoutMs: 0 }, // nothing but the proxy's own handling may close them
  });
  // A verified mesh peer: 3 of the transport header's 8 bytes, then close_notify and FIN.
  const peer = tls.connect({
    host: '127.0.0.1', port: m.b.ports.inbound, servername: m.bLeaf.identity, ALPNProtocols: [MESH_ALPN],
    key: readFileSync(m.aLeaf.keyFile), cert: readFileSync(m.aLeaf.certFile), ca: readFileSync(m.aLeaf.trustAnchorsFile),
  });
  t.after(() => peer.destroy());
  peer.on('error', () => {});
  peer.on('data', () => {});
  await new Promise((r) => peer.once('secureConnect', r));
  peer.end(Buffer.from([0x01, 0x02, 0x03]));
  assert.ok(await closedWithin(peer, 3000), 'hop B closed the connection with a cut transport header');

  // A ClientHello for hop B's identity, then FIN, before any answer: not held for the 10 s handshake timeout.
  const grab = net.createServer();
  const grabPort = await listen(t, grab);
  const hello = await new Promise<Buffer>((resolve) => {
    grab.once('connection', (c) => c.once('data', (d: Buffer) => { resolve(d); c.destroy(); }));
    tls.connect({ host: '127.0.0.1', port: grabPort, servername: m.bLeaf.identity, ALPNProtocols: [MESH_ALPN] }).on('error', () => {});
  });
  const raw = net.connect({ port: m.b.ports.inbound, host: '127.0.0.1', allowHalfOpen: true });
  t.after(() => raw.destroy());
  raw.on('error', () => {});
  raw.on('data', () => {});
  await new Promise((r) => raw.once('connect', r));
  raw.end(hello);
  assert.ok(await closedWithin(raw, 3000), 'hop B closed the connection whose handshake the FIN cut short');
});

test('when the client has gone, an application that never sends its FIN is not held open by the proxy', async (t) => {
  const held: net.Socket[] = [];
  const app = net.createServer({ allowHalfOpen: true }, (s) => { s.on('error', () => {}); held.push(s); s.resume(); });
  t.after(() => { for (const s of held) s.destroy(); });
  const appPort = await listen(t, app);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`db.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`db.test:${appPort}`],
    a: { opaquePorts: new Set([appPort]), idleTimeoutMs: 1000 },
    b: { idleTimeoutMs: 1000 },
  });
  const s = net.connect({ port: m.a.ports.targets[0]!, host: '127.0.0.1', allowHalfOpen: true });
  s.on('error', () => {});
  s.on('data', () => {});
  await new Promise((r) => s.once('connect', r));
  s.end('request with no answer');
  // The idle sweep closes the accepted sides; their upstreams (the mesh connection, the
  // application connection) must close with them, not stay half-open.
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections') === 0, 'hop A to close both sides', 10_000);
  await waitFor(async () => sample(await metrics(m.b), 'tcp_open_connections') === 0, 'hop B to close both sides', 10_000);
});
