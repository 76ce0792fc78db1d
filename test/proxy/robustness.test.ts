import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { listen, metrics, request, sample, startMesh, waitFor } from './harness.ts';

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function send(port: number, bytes: Buffer, half: boolean): Promise<void> {
  await new Promise<void>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(bytes);
      if (half) s.end();
      else setImmediate(() => s.destroy());
    });
    s.on('data', () => {});
    s.on('error', () => resolve());
    s.on('close', () => resolve());
  });
}

test('Random, truncated and oversized input does not crash the proxies or leak connections', async (t) => {
  const app = http.createServer((_req, res) => res.end('ok'));
  const appPort = await listen(t, app);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`web.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`web.test:${appPort}`],
    forwardPort: appPort,
    a: { detectTimeoutMs: 200, maxHeadBytes: 4096 },
    b: { detectTimeoutMs: 200, maxHeadBytes: 4096 },
  });
  const next = rng(11);
  const ports = [m.a.ports.targets[0]!, m.a.ports.outbound, m.b.ports.inbound];
  const inputs: Buffer[] = [
    Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n'),
    Buffer.from('GET / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n'),
    Buffer.from('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'),
    Buffer.from(`GET / HTTP/1.1\r\nX: ${'a'.repeat(10_000)}\r\n\r\n`),
    Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x00garbage'),
    Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00]),
  ];
  for (let i = 0; i < 40; i++) {
    const b = Buffer.alloc(1 + Math.floor(next() * 300));
    for (let j = 0; j < b.length; j++) b[j] = Math.floor(next() * 256);
    inputs.push(b);
  }
  await Promise.all(inputs.flatMap((b, i) => ports.map((p) => send(p, b, i % 2 === 0))));
  // Oversized head: 431 with l5d-proxy-error.
  const big = await request({ port: m.a.ports.targets[0]!, headers: { 'x-big': 'b'.repeat(8000) } }).catch(() => undefined);
  if (big !== undefined) assert.equal(big.status, 431);
  // Still serving.
  assert.equal((await request({ port: m.a.ports.targets[0]!, path: '/' })).body, 'ok');
  // Hop B may still hold the mesh connections hop A keeps pooled, and nothing else.
  await waitFor(async () => {
    const a = await metrics(m.a);
    return sample(a, 'tcp_open_connections', 'peer="src"') === 0
      && sample(await metrics(m.b), 'tcp_open_connections', 'peer="src"') === sample(a, 'tcp_open_connections', 'peer="dst"', 'tls="true"');
  }, 'accepted connections to close', 10_000);
});

test('A slow client that never finishes its request head is cut off by the idle timeout', async (t) => {
  const appPort = await listen(t, http.createServer((_req, res) => res.end('ok')));
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`web.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`web.test:${appPort}`],
    a: { idleTimeoutMs: 300 },
  });
  const s = net.connect(m.a.ports.targets[0]!, '127.0.0.1');
  t.after(() => s.destroy());
  s.on('error', () => {});
  s.write('GET / HTTP/1.1\r\nHost: web.test\r\n');
  const closed = new Promise<void>((r) => s.on('close', () => r()));
  await closed;
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections', 'peer="src"') === 0, 'the slow connection to be counted closed');
});

test('A connection that keeps moving bytes outlives the idle timeout on both hops (plain in, mesh TLS between them)', async (t) => {
  // The app answers with a chunk every 100 ms for 1.2 s: no gap reaches the 300 ms timeout.
  const appPort = await listen(t, http.createServer((_req, res) => {
    let n = 0;
    const tick = setInterval(() => {
      res.write(`chunk ${n}\n`);
      if (++n === 12) {
        clearInterval(tick);
        res.end();
      }
    }, 100);
    res.on('close', () => clearInterval(tick));
  }));
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`web.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`web.test:${appPort}`],
    forwardPort: appPort,
    a: { idleTimeoutMs: 300 },
    b: { idleTimeoutMs: 300 },
  });
  const r = await request({ port: m.a.ports.targets[0]!, path: '/' });
  assert.equal(r.status, 200);
  assert.equal(r.body.split('\n').filter((l) => l !== '').length, 12, 'every chunk, none cut off');
});

test('Admin: /live, /ready, and POST /shutdown drains (localhost only)', async (t) => {
  const m = await startMesh(t, { destinations: () => [] });
  assert.equal((await request({ port: m.a.ports.admin, path: '/live' })).status, 200);
  assert.equal((await request({ port: m.a.ports.admin, path: '/ready' })).status, 200);
  assert.equal((await request({ port: m.a.ports.admin, path: '/shutdown' })).status, 405);
  assert.equal((await request({ port: m.a.ports.admin, path: '/shutdown', method: 'POST' })).status, 202);
  await m.a.stopped;
  await assert.rejects(request({ port: m.a.ports.outbound, path: '/' }));
});
