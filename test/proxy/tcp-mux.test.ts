/**
 * Opaque TCP multiplexed over one mesh connection per endpoint and port (the default;
 * src/proxy/tcp/mux.ts), through two real proxies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { MESH_ALPN_MUX } from '../../src/proxy/index.ts';
import { listen, metrics, sample, startMesh, waitFor } from './harness.ts';

function echoServer(): net.Server {
  return net.createServer((s) => {
    s.on('error', () => {});
    s.on('data', (d: Buffer) => s.write(d));
    s.on('end', () => s.end());
  });
}

/** Sends `payload`, half-closes, and resolves with everything read until the server's FIN. */
function exchange(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const parts: Buffer[] = [];
    sock.on('data', (d: Buffer) => parts.push(d));
    sock.on('end', () => { sock.destroy(); resolve(Buffer.concat(parts)); });
    sock.on('error', reject);
    sock.on('connect', () => sock.end(payload));
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function opaqueMesh(t: Parameters<typeof startMesh>[0], appPort: number): Promise<Awaited<ReturnType<typeof startMesh>>> {
  return startMesh(t, {
    destinations: (bIn, bId) => [`db.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`db.test:${appPort}`],
    a: { opaquePorts: new Set([appPort]) },
  });
}

test('Many opaque connections at once share one mesh connection, every byte arrives in order, and only it stays open', async (t) => {
  const appPort = await listen(t, echoServer());
  const m = await opaqueMesh(t, appPort);
  const port = m.a.ports.targets[0]!;
  // 40 connections at once, small to 2 MB: more than a window (256 KiB) in flight per stream.
  const payloads = Array.from({ length: 40 }, (_, i) => randomBytes(i % 4 === 0 ? 2_000_000 : 1 + i * 997));
  const echoed = await Promise.all(payloads.map((p) => exchange(port, p)));
  assert.deepEqual(echoed.map(sha), payloads.map(sha));
  const a = await metrics(m.a);
  assert.equal(sample(a, 'tcp_open_total', 'direction="outbound"', 'peer="dst"', 'tls="true"'), 1, 'one mesh connection for all 40');
  assert.equal(sample(a, 'tcp_open_total', 'direction="outbound"', 'peer="src"'), 40);
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections', 'peer="src"') === 0, 'the client connections to close');
  await waitFor(async () => sample(await metrics(m.b), 'tcp_open_connections', 'direction="inbound"', 'peer="dst"') === 0, 'the application connections to close');
  const b = await metrics(m.b);
  // Hop B counts each stream as a connection of the client's, with its own bytes.
  const src = ['direction="inbound"', 'peer="src"', 'tls="true"', `client_id="${m.aLeaf.identity}"`];
  assert.equal(sample(b, 'tcp_open_total', ...src), 40);
  assert.equal(sample(b, 'tcp_open_connections', ...src), 0);
  assert.equal(sample(b, 'tcp_open_total', 'direction="inbound"', 'peer="dst"'), 40, 'one application connection per client connection');
  // Byte counters: every byte each way at the client side and at the application side.
  const total = payloads.reduce((n, p) => n + p.length, 0);
  assert.equal(sample(await metrics(m.a), 'tcp_read_bytes_total', 'direction="outbound"', 'peer="src"'), total);
  assert.equal(sample(b, 'tcp_read_bytes_total', ...src), total);
  assert.equal(sample(b, 'tcp_write_bytes_total', ...src), total);
  assert.equal(sample(b, 'tcp_write_bytes_total', 'direction="inbound"', 'peer="dst"'), total);
  // A later connection reuses the pooled one.
  assert.equal(sha(await exchange(port, Buffer.from('again'))), sha(Buffer.from('again')));
  assert.equal(sample(await metrics(m.a), 'tcp_open_total', 'direction="outbound"', 'peer="dst"', 'tls="true"'), 1);
});

test('A client that stops reading holds up only its own stream, and gets every byte once it reads', async (t) => {
  const big = randomBytes(32 * 1024 * 1024);
  let flushed = 0;
  // One port for both streams, so they share one mesh connection: "BULK" gets 32 MB
  // (64 KiB at a time, each once the last was taken) and a FIN; anything else is echoed.
  const appPort = await listen(t, net.createServer((s) => {
    s.on('error', () => {});
    s.once('data', (d: Buffer) => {
      if (d.toString() === 'BULK') {
        const next = (): void => {
          if (flushed >= big.length) {
            s.end();
            return;
          }
          const chunk = big.subarray(flushed, flushed + 65536);
          s.write(chunk, () => { flushed += chunk.length; next(); });
        };
        next();
        return;
      }
      s.write(d);
      s.on('data', (x: Buffer) => s.write(x));
      s.on('end', () => s.end());
    });
  }));
  const m = await opaqueMesh(t, appPort);
  const port = m.a.ports.targets[0]!;
  // The slow reader: asks for the bulk, then reads nothing.
  const slow = net.connect({ port, host: '127.0.0.1' });
  t.after(() => slow.destroy());
  slow.pause();
  await new Promise((r) => slow.once('connect', r));
  slow.write('BULK');
  // The bulk fills every buffer on the way (sockets, the proxies' 256 KiB stream windows), then stops.
  let last = -1;
  await waitFor(async () => {
    const before = last;
    last = flushed;
    await new Promise((r) => setTimeout(r, 150));
    return flushed > 0 && flushed === before;
  }, 'the bulk to stall', 10_000);
  const held = flushed;
  // Meanwhile echo round trips on other streams of the same mesh connection go on.
  for (let i = 0; i < 20; i++) {
    const p = randomBytes(1000 + i);
    assert.equal(sha(await exchange(port, p)), sha(p));
  }
  assert.equal(sample(await metrics(m.a), 'tcp_open_total', 'direction="outbound"', 'peer="dst"', 'tls="true"'), 1, 'all on one mesh connection');
  // The application's 32 MB did not all go: the windows stopped hop B reading it.
  assert.ok(held < big.length, `the application sent ${held} of ${big.length} bytes while the client read nothing`);
  const parts: Buffer[] = [];
  slow.on('data', (d: Buffer) => parts.push(d));
  slow.resume();
  await new Promise((r) => slow.once('end', r));
  assert.equal(sha(Buffer.concat(parts)), sha(big));
});

test('An application port nobody listens on resets the client, and the mesh keeps serving', async (t) => {
  const echoPort = await listen(t, echoServer());
  // A port nobody listens on: taken, then given back.
  const gone = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`gone.test:${gone}=127.0.0.1:${bIn}#${bId}`, `db.test:${echoPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`gone.test:${gone}`, `db.test:${echoPort}`],
    a: { opaquePorts: new Set([gone, echoPort]) },
  });
  for (let i = 0; i < 3; i++) {
    const sock = net.connect({ port: m.a.ports.targets[0]!, host: '127.0.0.1' });
    sock.on('error', () => {});
    sock.write('anyone?');
    await new Promise((r) => sock.once('close', r));
    assert.equal((await exchange(m.a.ports.targets[1]!, Buffer.from(`ping ${i}`))).toString(), `ping ${i}`);
  }
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections', 'peer="src"') === 0, 'the client connections to close');
});

test('Random bytes, half-closes and resets over the multiplexed connection leave no connection behind but the pooled one', async (t) => {
  const appPort = await listen(t, echoServer());
  const m = await opaqueMesh(t, appPort);
  const port = m.a.ports.targets[0]!;
  const runs = Array.from({ length: 60 }, (_, i) => new Promise<void>((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    sock.on('error', () => resolve());
    sock.on('close', () => resolve());
    sock.on('connect', () => {
      sock.write(randomBytes(1 + ((i * 7919) % 70_000)));
      if (i % 3 === 0) sock.resetAndDestroy(); // gone mid-stream
      else if (i % 3 === 1) sock.end(); // half-close, then read the echo
      else setTimeout(() => sock.destroy(), 5); // closed without a FIN
    });
    sock.resume();
  }));
  await Promise.all(runs);
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections', 'peer="src"') === 0, 'the client connections to close');
  await waitFor(async () => sample(await metrics(m.b), 'tcp_open_connections', 'direction="inbound"', 'peer="dst"') === 0, 'the application connections to close');
  assert.equal(sample(await metrics(m.a), 'tcp_open_connections', 'peer="dst"', 'tls="true"'), 1);
  // Still serving.
  assert.equal((await exchange(port, Buffer.from('still here'))).toString(), 'still here');
});

test('A drain lets an open stream finish (its last bytes and FIN), then the shared connection closes and stop() returns', async (t) => {
  const appPort = await listen(t, echoServer());
  const m = await opaqueMesh(t, appPort);
  const sock = net.connect({ port: m.a.ports.targets[0]!, host: '127.0.0.1', allowHalfOpen: true });
  t.after(() => sock.destroy());
  const parts: Buffer[] = [];
  sock.on('data', (d: Buffer) => parts.push(d));
  const ended = new Promise((r) => sock.once('end', r));
  sock.write('first;');
  await waitFor(() => Buffer.concat(parts).toString() === 'first;', 'the first echo');
  const stopped = m.a.stop({ graceMs: 5000 });
  sock.end('last');
  await ended;
  assert.equal(Buffer.concat(parts).toString(), 'first;last');
  await stopped;
  await waitFor(async () => sample(await metrics(m.b), 'tcp_open_connections', 'direction="inbound"') === 0, 'hop B to see the shared connection close');
});

test('A far proxy that does not multiplex (an earlier release, or --opaque-mux false) gets one mesh connection per opaque connection', async (t) => {
  const appPort = await listen(t, echoServer());
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`db.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`db.test:${appPort}`],
    a: { opaquePorts: new Set([appPort]) },
    b: { opaqueMux: false },
  });
  for (let i = 0; i < 3; i++) assert.equal((await exchange(m.a.ports.targets[0]!, Buffer.from(`hello ${i}`))).toString(), `hello ${i}`);
  // The first attempt learnt that B does not offer the multiplexed transport (and was closed).
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections', 'peer="dst"', 'tls="true"') === 0, 'the mesh connections to close');
  assert.equal(sample(await metrics(m.a), 'tcp_open_total', 'direction="outbound"', 'peer="dst"', 'tls="true"'), 4);
});

test('Opaque connections over 1,024 at once are all carried: a second shared connection takes those the first has no room for', async (t) => {
  const appPort = await listen(t, echoServer());
  const m = await opaqueMesh(t, appPort);
  const n = 1100;
  const socks: net.Socket[] = [];
  t.after(() => { for (const s of socks) s.destroy(); });
  // All 1,100 open at once: each gets its echo and stays open until every one has.
  // They connect in waves of 100, so the test measures the proxy, not the listen backlog.
  const one = (i: number): Promise<string> => new Promise<string>((resolve, reject) => {
    const sock = net.connect({ port: m.a.ports.targets[0]!, host: '127.0.0.1' });
    socks.push(sock);
    let got = '';
    sock.on('error', reject);
    sock.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.length >= `c${i}`.length) resolve(got);
    });
    sock.write(`c${i}`);
  });
  const echoed: string[] = [];
  for (let wave = 0; wave < n; wave += 100) {
    echoed.push(...await Promise.all(Array.from({ length: Math.min(100, n - wave) }, (_, k) => one(wave + k))));
  }
  assert.deepEqual(echoed, Array.from({ length: n }, (_, i) => `c${i}`));
  assert.equal(sample(await metrics(m.a), 'tcp_open_connections', 'peer="dst"', 'tls="true"'), 2);
  for (const s of socks) s.end();
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections', 'peer="src"') === 0, 'the client connections to close');
});

test('A far proxy that stops answering is given up after the connect timeout: its streams are closed, not left hanging', async (t) => {
  // A "proxy" that completes the mesh handshake (with B's certificate, offering the
  // multiplexed transport) and then reads and writes nothing, like a host cut off.
  const sockets: net.Socket[] = [];
  const leaf: { files?: { keyFile: string; certFile: string } } = {};
  const silent = net.createServer((raw) => {
    sockets.push(raw);
    raw.on('error', () => {});
    const s = new tls.TLSSocket(raw, {
      isServer: true, key: readFileSync(leaf.files!.keyFile), cert: readFileSync(leaf.files!.certFile),
      requestCert: true, rejectUnauthorized: false, ALPNProtocols: [MESH_ALPN_MUX],
    });
    s.on('error', () => {});
    s.once('secure', () => s.pause());
  });
  const silentPort = await listen(t, silent);
  t.after(() => { for (const s of sockets) s.destroy(); });
  const m = await startMesh(t, {
    destinations: (_bIn, bId) => [`db.test:9=127.0.0.1:${silentPort}#${bId}`],
    targets: ['db.test:9'],
    a: { opaquePorts: new Set([9]), connectTimeoutMs: 300 },
  });
  leaf.files = m.bLeaf;
  const sock = net.connect({ port: m.a.ports.targets[0]!, host: '127.0.0.1' });
  sock.on('error', () => {});
  const closed = new Promise((r) => sock.once('close', r));
  sock.write('anyone there?');
  await closed;
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections', 'peer="src"') === 0, 'the client connection to be closed');
});

for (const [opaqueMux, meshed] of [[true, true], [false, true], [true, false]] as const) {
  test(`An application that answers and half-closes first still receives everything its client sends afterwards (${meshed ? `--opaque-mux ${opaqueMux}` : 'a server outside the mesh'})`, async (t) => {
    let received = '';
    const done = new Promise<string>((resolve) => {
      void listen(t, net.createServer({ allowHalfOpen: true }, (s) => {
        s.on('error', () => {});
        s.end('bye early'); // answer and FIN at once
        s.on('data', (d: Buffer) => { received += d.toString(); });
        s.on('end', () => resolve(received));
      })).then((p) => { appPort.resolve(p); });
    });
    const appPort = Promise.withResolvers<number>();
    const port = await appPort.promise;
    const m = await startMesh(t, {
      // Outside the mesh: no identity, plain TCP from hop A straight to the application.
      destinations: (bIn, bId) => [meshed ? `db.test:${port}=127.0.0.1:${bIn}#${bId}` : `db.test:${port}=127.0.0.1:${port}`],
      targets: [`db.test:${port}`],
      a: { opaquePorts: new Set([port]), opaqueMux },
    });
    const sock = net.connect({ port: m.a.ports.targets[0]!, host: '127.0.0.1', allowHalfOpen: true });
    t.after(() => sock.destroy());
    sock.on('error', () => {});
    let got = '';
    sock.on('data', (d: Buffer) => { got += d.toString(); });
    await new Promise((r) => sock.once('end', r)); // the application's FIN came through
    sock.write('hello ');
    await new Promise((r) => setTimeout(r, 50));
    sock.end('and more');
    assert.equal(await done, 'hello and more');
    assert.equal(got, 'bye early');
  });
}
