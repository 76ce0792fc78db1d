import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { detect, DETECT_CAPACITY, H2_PREFACE } from './detect.ts';

/** Captures the ClientHello node:tls sends for these options. */
async function captureClientHello(opts: { servername?: string; ALPNProtocols?: string[] }): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const got = new Promise<Buffer>((resolve) => {
      server.once('connection', (s) => {
        const chunks: Buffer[] = [];
        s.on('data', (d: Buffer) => {
          chunks.push(d);
          const all = Buffer.concat(chunks);
          if (all.length >= 5 && all.length >= 5 + all.readUInt16BE(3)) {
            resolve(all);
            s.destroy();
          }
        });
      });
    });
    const c = tls.connect({ port, host: '127.0.0.1', ...opts });
    c.on('error', () => {});
    const hello = await got;
    c.destroy();
    return hello;
  } finally {
    server.close();
  }
}

/** Deterministic PRNG (mulberry32) so a failing fuzz case can be replayed. */
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

test('detect() reads SNI and ALPN from a real ClientHello', async () => {
  const hello = await captureClientHello({ servername: 'web.default.serviceaccount.identity.weft.cluster.local', ALPNProtocols: ['weft/1', 'h2'] });
  assert.deepEqual(detect(hello), {
    kind: 'tls', sni: 'web.default.serviceaccount.identity.weft.cluster.local', alpn: ['weft/1', 'h2'],
  });
});

test('detect() says incomplete for every strict prefix of a ClientHello, never something else', async () => {
  const hello = await captureClientHello({ servername: 'a.example' });
  for (let n = 1; n < hello.length; n++) assert.equal(detect(hello.subarray(0, n)).kind, 'incomplete', `prefix ${n}`);
});

test('detect() recognises HTTP/1.0 and HTTP/1.1 request lines', () => {
  const cases: Array<[string, string]> = [
    ['GET / HTTP/1.1\r\nHost: a\r\n\r\n', 'http1'],
    ['POST http://x:80/y HTTP/1.0\r\n', 'http1'],
    ['CONNECT a:443 HTTP/1.1\r\n', 'http1'],
    ['GET / HTTP/2.0\r\n', 'opaque'],
    // Any token method, in any case: servers accept them, so the proxy must parse them.
    ['get / HTTP/1.1\r\n', 'http1'],
    ['M-SEARCH * HTTP/1.1\r\n', 'http1'],
    // Servers skip empty lines before a request line: so does detection.
    ['\r\nGET / HTTP/1.1\r\n', 'http1'],
    ['\r\n', 'incomplete'],
    ['\r\n\r\n\r\n\r\n\r\n', 'opaque'],
    ['GET / HTTP/1.1', 'incomplete'],
    ['GE', 'incomplete'],
    ['SSH-2.0-OpenSSH\r\n', 'opaque'],
    ['*1\r\n$4\r\nPING\r\n', 'opaque'],
    ['\x00\x01\x02', 'opaque'],
  ];
  for (const [input, kind] of cases) assert.equal(detect(Buffer.from(input, 'latin1')).kind, kind, JSON.stringify(input));
});

test('detect() recognises the HTTP/2 preface and waits on its prefixes', () => {
  assert.equal(detect(H2_PREFACE).kind, 'h2');
  assert.equal(detect(Buffer.concat([H2_PREFACE, Buffer.from([0, 0, 0, 4])])).kind, 'h2');
  for (let n = 1; n < H2_PREFACE.length; n++) assert.equal(detect(H2_PREFACE.subarray(0, n)).kind, 'incomplete');
});

test('detect() gives up as opaque once the buffer is full', () => {
  const long = Buffer.alloc(DETECT_CAPACITY, 0x61);
  long.write('GET /', 0, 'latin1');
  assert.equal(detect(long).kind, 'opaque');
});

test('detect() never throws on random bytes and its decisions are stable under appended bytes', () => {
  const next = rng(5);
  for (let i = 0; i < 20000; i++) {
    const len = Math.floor(next() * 64);
    const buf = Buffer.alloc(len);
    // Bias the first byte toward interesting prefixes.
    for (let j = 0; j < len; j++) buf[j] = Math.floor(next() * 256);
    if (len > 0 && next() < 0.3) buf[0] = [0x16, 0x47, 0x50][Math.floor(next() * 3)]!;
    if (len > 1 && buf[0] === 0x16 && next() < 0.5) buf[1] = 0x03;
    const d = detect(buf);
    if (d.kind !== 'incomplete' && d.kind !== 'tls') {
      const more = Buffer.concat([buf, Buffer.from([Math.floor(next() * 256)])]);
      assert.equal(detect(more).kind, d.kind, `seed 5 case ${i}: ${buf.toString('hex')}`);
    }
  }
});

test('detect() never throws on mutated and truncated ClientHellos', async () => {
  const hello = await captureClientHello({ servername: 'b.example', ALPNProtocols: ['h2'] });
  const next = rng(7);
  for (let i = 0; i < 5000; i++) {
    const buf = Buffer.from(hello.subarray(0, 1 + Math.floor(next() * hello.length)));
    const flips = Math.floor(next() * 4);
    for (let f = 0; f < flips; f++) buf[Math.floor(next() * buf.length)] = Math.floor(next() * 256);
    const d = detect(buf);
    assert.ok(['tls', 'opaque', 'incomplete', 'http1', 'h2'].includes(d.kind));
  }
});
