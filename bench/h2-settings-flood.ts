/**
 * What a SETTINGS flood costs a proxy: a client with `N` responses queued in the
 * relay (its connection window never credited) sends `K` SETTINGS frames toggling
 * INITIAL_WINDOW_SIZE, each of which walks every open stream (RFC 9113 §6.9.2), and
 * reads every ACK (so the unread-ACK flood rule never trips). Prints the process CPU
 * (both proxies, the app and the client share this process) until every ACK came or
 * the proxy ended the connection. Run it under the bench lock; `TREE` picks the
 * checkout whose proxies run (default this one), to compare builds in turn:
 *
 *   TREE=/path/to/old flock /tmp/weft-bench.lock node bench/h2-settings-flood.ts 1000 20000
 */
import http2 from 'node:http2';
import net from 'node:net';
import { join } from 'node:path';
import { RawH2, S, T } from '../test/proxy/h2-raw.ts';
import { probeContext } from './processes.ts';

const tree = process.env['TREE'] ?? join(import.meta.dirname, '..');
const { listen, startMesh } = (await import(join(tree, 'test/proxy/harness.ts'))) as typeof import('../test/proxy/harness.ts');
const N = Number(process.argv[2] ?? 1000);
const K = Number(process.argv[3] ?? 20000);
const probe = probeContext();
const t = probe.t;
const acks = (c: RawH2): number => c.frames.filter((f) => f.type === T.SETTINGS && (f.flags & 1) !== 0).length;
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}
try {
  const body = Buffer.alloc(2048, 0x41);
  const app = http2.createServer({ settings: { maxConcurrentStreams: N + 100 } });
  app.on('stream', (s) => {
    s.on('error', () => {});
    s.respond({ ':status': 200 });
    s.end(body);
  });
  const appPort = await listen(t, app);
  const m = await startMesh(t, { destinations: () => [], forwardPort: appPort });
  const socket = net.connect(m.b.ports.inbound, '127.0.0.1');
  t.after(() => socket.destroy());
  await new Promise((r) => socket.once('connect', r));
  // Large stream windows, the connection window left at 64 KiB and never credited: responses queue in B.
  const c = new RawH2(socket, 'client', { settings: [[S.INITIAL_WINDOW_SIZE, 1 << 20]], autoWindow: false });
  for (let i = 0; i < N; i++) c.request(c.nextId(), { path: `/r${i}` });
  await until(() => c.frames.filter((f) => f.type === T.HEADERS).length >= N, 20_000);
  await new Promise((r) => setTimeout(r, 300));
  const before = acks(c);
  const one = (v: number): Buffer => {
    const p = Buffer.alloc(6);
    p.writeUInt16BE(S.INITIAL_WINDOW_SIZE, 0);
    p.writeUInt32BE(v, 2);
    const h = Buffer.alloc(9);
    h.writeUIntBE(6, 0, 3);
    h[3] = T.SETTINGS;
    return Buffer.concat([h, p]);
  };
  const burst = Buffer.concat(Array.from({ length: K }, (_, i) => one((1 << 20) + (i % 2))));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  c.raw(burst);
  await until(() => c.closed || acks(c) - before >= K, 60_000);
  const cpu = process.cpuUsage(cpu0);
  const us = cpu.user + cpu.system;
  const processed = acks(c) - before;
  const goaway = c.frames.find((f) => f.type === T.GOAWAY);
  process.stdout.write(`${tree}: ${N} responses queued, ${K} SETTINGS sent, ${processed} processed, ` +
    `${goaway === undefined ? 'not cut off' : `cut off (GOAWAY code ${goaway.payload.readUInt32BE(4)})`} after ${(performance.now() - t0).toFixed(0)} ms; ` +
    `process CPU ${(us / 1000).toFixed(1)} ms = ${(us / K).toFixed(2)} µs per frame sent\n`);
} finally {
  await probe.close();
}
process.exit(0);
