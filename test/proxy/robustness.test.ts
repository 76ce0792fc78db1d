import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { listen, metrics, request, sample, startMesh, waitFor, type Mesh } from './harness.ts';

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

/** The connection gauges and counters of both hops that the leak check reads. */
type Gauges = {
  /** Hop A: accepted connections still open. */
  aAccepted: number;
  /** Hop A: mesh (TLS) connections to hop B still open. */
  aMesh: number;
  /** Hop A: mesh connections ever opened. */
  aMeshOpened: number;
  /** Hop A: HTTP requests it forwarded (each mesh connection it pools carried one or more). */
  aRequests: number;
  /** Hop A: every open connection, whatever its labels. */
  aAll: number;
  /** Hop B: plain-text connections it accepted still open. */
  bPlainAccepted: number;
  /** Hop B: mesh connections it accepted still open. */
  bMeshAccepted: number;
  /** Hop B: connections to the application still open. */
  bApp: number;
  /** Hop B: every open connection, whatever its labels. */
  bAll: number;
};

/** Reads `Gauges` from both hops' /metrics. */
async function gauges(m: Mesh): Promise<Gauges> {
  const [a, b] = await Promise.all([metrics(m.a), metrics(m.b)]);
  return {
    aAccepted: sample(a, 'tcp_open_connections', 'peer="src"'),
    aMesh: sample(a, 'tcp_open_connections', 'peer="dst"', 'tls="true"'),
    aMeshOpened: sample(a, 'tcp_open_total', 'peer="dst"', 'tls="true"'),
    aRequests: sample(a, 'request_total', 'direction="outbound"'),
    aAll: sample(a, 'tcp_open_connections'),
    bPlainAccepted: sample(b, 'tcp_open_connections', 'peer="src"', 'tls="no_identity"'),
    bMeshAccepted: sample(b, 'tcp_open_connections', 'peer="src"', 'tls="true"'),
    bApp: sample(b, 'tcp_open_connections', 'peer="dst"'),
    bAll: sample(b, 'tcp_open_connections'),
  };
}

/**
 * Polls both hops until the gauges named in `want(current)` have those values, then
 * asserts them (so a timeout fails with a diff of what was seen, not just "timed out").
 */
async function settle(m: Mesh, want: (g: Gauges) => Partial<Gauges>, what: string, timeoutMs = 10_000): Promise<Gauges> {
  const seen = (g: Gauges): Partial<Gauges> => Object.fromEntries(Object.keys(want(g)).map((k) => [k, g[k as keyof Gauges]]));
  let g = await gauges(m);
  await waitFor(async () => isDeepStrictEqual(seen(g = await gauges(m)), want(g)), what, timeoutMs).catch(() => {});
  assert.deepEqual(seen(g), want(g), what);
  return g;
}

test('Random, truncated and oversized input does not crash the proxies or leak connections', async (t) => {
  // `/probe` requests are held until `probe.size` of them are in: they can then only be
  // answered over that many upstream connections at once (a 504 after 5 s if they never all come).
  const probe = { size: 0, held: [] as http.ServerResponse[] };
  const app = http.createServer((req, res) => {
    if (req.url !== '/probe') return void res.end('ok');
    probe.held.push(res);
    if (probe.held.length >= probe.size) for (const r of probe.held.splice(0)) r.end('ok');
    else setTimeout(() => res.writableEnded || res.writeHead(504).end('the other probes never came'), 5000).unref();
  });
  // Only hop B's own application pool (4 s) may close idle connections to the app.
  app.keepAliveTimeout = 60_000;
  const appPort = await listen(t, app);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`web.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`web.test:${appPort}`],
    forwardPort: appPort,
    // One mesh connection per opaque connection, so every mesh connection left is a pooled
    // HTTP one (test/proxy/tcp-mux.test.ts sends random bytes over the multiplexed one).
    a: { detectTimeoutMs: 200, maxHeadBytes: 4096, opaqueMux: false },
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

  // Hop A keeps idle mesh connections pooled for 30 s (not configurable), so they and
  // hop B's ends of them are the only connections allowed to stay open. Each pooled one
  // carried a request, so there are no more of them than requests A forwarded; anything
  // else (an opaque or refused connection's upstream left open) is a leak.
  const after = await settle(m, (g) => ({
    aAccepted: 0,
    aMesh: Math.min(g.aMesh, g.aRequests),
    bPlainAccepted: 0,
    bMeshAccepted: g.aMesh,
  }), 'hop A to hold no mesh connection beyond those its requests pooled, and hop B only their other ends');
  const pooled = after.aMesh;
  assert.ok(pooled >= 1, 'the request that was still served left its mesh connection pooled');

  // Every pooled connection must be idle in the pool, not held by a finished exchange:
  // `pooled` requests in flight at once take all of them and open no new one.
  probe.size = pooled;
  const answers = await Promise.all(Array.from({ length: pooled }, () => request({ port: m.a.ports.targets[0]!, path: '/probe' })));
  assert.deepEqual(answers.map((r) => `${r.status} ${r.body}`), answers.map(() => '200 ok'));
  // Hop B's idle application connections close after 4 s; then only the pooled mesh
  // connections' two ends are open on the two hops, every other gauge is back to 0.
  await settle(m, () => ({
    aAccepted: 0,
    aMesh: pooled,
    aMeshOpened: after.aMeshOpened,
    aAll: pooled,
    bPlainAccepted: 0,
    bMeshAccepted: pooled,
    bApp: 0,
    bAll: pooled,
  }), 'the probes to reuse every pooled mesh connection (none opened) and every other connection to close');
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
