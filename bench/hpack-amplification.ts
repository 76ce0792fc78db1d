/**
 * Header-byte amplification of the HTTP/2 relay: how many bytes the application
 * behind an inbound proxy receives per byte a client sent to that proxy. Two
 * clients, one after the other, on one proxy pair (`test/proxy/harness.ts`, in
 * process), with a counting TCP relay in front of the proxy and one behind it:
 *
 * - `attack`: the shape of the review's probe 36. A raw client indexes four fields
 *   of 980 bytes in its own HPACK table, then references them with one byte each in
 *   every request (~30 bytes per request on the wire). A relay that re-encodes them
 *   as literals writes ~4 KB per request upstream.
 * - `grpc-shaped`: a node:http2 (nghttp2) client sending gRPC-shaped heads (three
 *   paths, a varying `grpc-timeout`), as ordinary traffic.
 *
 *   node bench/hpack-amplification.ts [--requests 1000] [--tree /path/to/checkout]
 *
 * `--tree` measures another checkout's proxy (its `test/proxy/harness.ts`), for a
 * before/after. Prints one line per client.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { frame } from '../test/proxy/h2-raw.ts';
import { probeContext } from './processes.ts';

type Harness = typeof import('../test/proxy/harness.ts');

const { values } = parseArgs({ options: { requests: { type: 'string', default: '1000' }, tree: { type: 'string' } } });
const requests = Number(values.requests);
const tree = values.tree ?? `${import.meta.dirname}/..`;
const { startMesh, listen } = (await import(`${tree}/test/proxy/harness.ts`)) as Harness;

const probe = probeContext();
const t = probe.t;

/** A TCP relay to `port` that counts the bytes flowing towards it. */
async function countingRelay(port: number): Promise<{ port: number; bytes: () => number; reset: () => void }> {
  let bytes = 0;
  const server = net.createServer((down) => {
    const up = net.connect(port, '127.0.0.1');
    down.on('data', (b: Buffer) => { bytes += b.length; });
    down.pipe(up);
    up.pipe(down);
    down.on('error', () => {});
    up.on('error', () => {});
    t.after(() => { down.destroy(); up.destroy(); });
  });
  return { port: await listen(t, server), bytes: () => bytes, reset: () => { bytes = 0; } };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 30_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function integer(n: number, prefixBits: number, first: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (n < max) return Buffer.from([first | n]);
  const out = [first | max];
  for (n -= max; n >= 128; n >>= 7) out.push((n & 127) | 128);
  out.push(n);
  return Buffer.from(out);
}
const literal = (s: string): Buffer => Buffer.concat([integer(s.length, 7, 0), Buffer.from(s, 'latin1')]);

const app = http2.createServer({ maxSessionMemory: 1000 });
let seen = 0;
app.on('stream', (s) => {
  s.on('error', () => {});
  seen++;
  s.respond({ ':status': 200 });
  s.end();
});
const behind = await countingRelay(await listen(t, app));
const m = await startMesh(t, { destinations: () => [], forwardPort: behind.port });
const front = await countingRelay(m.b.ports.inbound);
const report = (what: string): void => {
  const sent = front.bytes();
  const got = behind.bytes();
  process.stdout.write(`${what}: ${requests} requests, client sent ${sent} B, upstream received ${got} B: `
    + `${(got / sent).toFixed(2)}x (${(got / requests).toFixed(0)} B per request)\n`);
};

try {
  {
    const chars = 'QZXJKVWqzxjkvw{}|^~<>';
    const value = (i: number): string => Array.from({ length: 980 }, (_, k) => chars[(k * 7 + i * 13) % chars.length]).join('');
    const authority = Buffer.concat([Buffer.from([0x01]), literal('app.test')]);
    const first = Buffer.concat([Buffer.from([0x82, 0x86, 0x84]), authority,
      ...[0, 1, 2, 3].map((i) => Buffer.concat([Buffer.from([0x40]), literal(`x-a${i}`), literal(value(i))]))]);
    const repeat = Buffer.concat([Buffer.from([0x82, 0x86, 0x84]), authority, Buffer.from([0xbe, 0xbf, 0xc0, 0xc1])]);
    const parts = [Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), frame(4, 0, 0), frame(1, 5, 1, first)];
    for (let i = 1; i < requests; i++) parts.push(frame(1, 5, 1 + 2 * i, repeat));
    const s = net.connect(front.port, '127.0.0.1');
    s.on('error', () => {});
    s.resume();
    t.after(() => s.destroy());
    await new Promise((r) => s.once('connect', r));
    front.reset();
    behind.reset();
    seen = 0;
    s.write(Buffer.concat(parts));
    await until(() => seen === requests, 'the attack requests at the app');
    await new Promise((r) => setTimeout(r, 100));
    report('attack');
    s.destroy();
  }
  {
    const c = http2.connect(`http://127.0.0.1:${front.port}`);
    c.on('error', () => {});
    t.after(() => c.destroy());
    await new Promise((r) => c.once('remoteSettings', r));
    await new Promise((r) => setTimeout(r, 100));
    front.reset();
    behind.reset();
    seen = 0;
    for (let i = 0; i < requests; i++) {
      const r = c.request({
        ':method': 'POST', ':path': `/pkg.Svc/M${i % 3}`, ':authority': 'app.test', 'content-type': 'application/grpc', te: 'trailers',
        'user-agent': 'grpc-node-js/1.12.0', 'grpc-accept-encoding': 'identity,deflate,gzip', 'grpc-timeout': `${999 - (i % 7)}m`,
      }, { endStream: true });
      r.on('error', () => {});
      r.resume();
    }
    await until(() => seen === requests, 'the gRPC-shaped requests at the app');
    await new Promise((r) => setTimeout(r, 100));
    report('grpc-shaped');
  }
} finally {
  await probe.close();
}
process.exit(0);
