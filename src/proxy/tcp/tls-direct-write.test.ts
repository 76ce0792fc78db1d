import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { TlsDirectWriter } from './tls-direct-write.ts';
import { collect, tcpPair, tlsPair, waitFor } from '../../../test/proxy/sockets.ts';

test('TlsDirectWriter is available on the Node we ship for an established TLS socket (else the mesh side of opaque pipes silently uses socket.write)', async (t) => {
  const [client, accepted] = await tlsPair(t);
  assert.ok(TlsDirectWriter.for(client) !== undefined);
  assert.ok(TlsDirectWriter.for(accepted) !== undefined);
  assert.equal(TlsDirectWriter.for(client), TlsDirectWriter.for(client), 'one writer per socket, so one queue');
  const [plain] = await tcpPair(t);
  assert.equal(TlsDirectWriter.for(plain), undefined, 'plain sockets are writeDirect territory');
});

test('TlsDirectWriter: a write while the previous one is in flight is copied, held, and sent after it, in order and intact', async (t) => {
  const [client, accepted] = await tlsPair(t);
  const got = collect(accepted);
  let writable = 0;
  const onWritable = (): void => { writable++; };
  const w = TlsDirectWriter.for(client)!;
  const view = Buffer.from('first ');
  assert.equal(w.write(view, onWritable), true, 'nothing in flight: written at once');
  // The caller's buffer is free as soon as write() returns (TLS encrypted it).
  view.fill(0x78);
  // Same event-loop turn: node has not completed the first write yet.
  const second = Buffer.from('second ');
  assert.equal(w.write(second, onWritable), false, 'in flight: the producer must wait');
  second.fill(0x79); // A borrowed view is overwritten by the next read: the writer kept a copy.
  assert.equal(w.write(Buffer.from('third'), onWritable), false);
  await waitFor(() => writable === 1, 'onWritable after the held bytes went out');
  await waitFor(() => got.bytes().toString() === 'first second third', 'the bytes in order');
  assert.equal(w.write(Buffer.from('!'), onWritable), true, 'direct again once nothing is in flight');
  await waitFor(() => got.bytes().toString() === 'first second third!', 'the last write');
});

test('TlsDirectWriter: socket.write() and end() while a direct write is in flight wait for it, in order (TLSWrap takes one write at a time)', async (t) => {
  const [client, accepted] = await tlsPair(t);
  const got = collect(accepted);
  const w = TlsDirectWriter.for(client)!;
  assert.equal(w.write(Buffer.from('direct, '), () => {}), true);
  // Without the writer's guard this write would reach TLSWrap with one in flight and abort the process.
  client.write('then the Writable, ');
  w.write(Buffer.from('then direct again'), () => {}); // Behind the Writable's write, which waits for the direct one.
  client.end();
  await waitFor(() => got.ended(), 'end at the receiver');
  assert.equal(got.bytes().toString(), 'direct, then the Writable, then direct again');
});

test('TlsDirectWriter: a socket.write() made to wait behind a direct write keeps its own copy (callers reuse a buffer once a TLS write returns)', async (t) => {
  const [client, accepted] = await tlsPair(t);
  const got = collect(accepted);
  const w = TlsDirectWriter.for(client)!;
  w.write(Buffer.from('one '), () => {});
  const reused = Buffer.from('two ');
  client.write(reused); // Waits behind the direct write...
  reused.fill(0x21); // ...while its caller already reuses the buffer.
  client.end();
  await waitFor(() => got.ended(), 'end at the receiver');
  assert.equal(got.bytes().toString(), 'one two ');
});

test('TlsDirectWriter steps aside while the Writable holds a write, so bytes written with socket.write() first stay first', async (t) => {
  const [client, accepted] = await tlsPair(t);
  const got = collect(accepted);
  client.write('header:'); // In flight through the Writable (TLS completes asynchronously).
  assert.ok(client.writableLength > 0);
  const w = TlsDirectWriter.for(client)!;
  w.write(Buffer.from('body'), () => {});
  await waitFor(() => got.bytes().toString() === 'header:body', 'both, in order');
  assert.equal(w.write(Buffer.from('.'), () => {}), true);
  await waitFor(() => got.bytes().toString() === 'header:body.', 'the direct write');
});

test('TlsDirectWriter applies backpressure to a slow receiver: 16 MiB arrive intact and the producer waited for the socket', async (t) => {
  const [client, accepted] = await tlsPair(t);
  accepted.pause();
  let waits = 0;
  let resume: (() => void) | undefined;
  const w = TlsDirectWriter.for(client)!;
  const onWritable = (): void => { const r = resume; resume = undefined; r?.(); };
  const total = 16 * 1024 * 1024;
  const sent = createHash('sha256');
  const received = createHash('sha256');
  let n = 0;
  accepted.on('data', (d: Buffer) => { received.update(d); n += d.length; });
  const producing = (async () => {
    const view = Buffer.alloc(16 * 1024); // Reused like a borrowed read buffer.
    for (let i = 0; i * view.length < total; i++) {
      view.fill(i % 251);
      view.writeUInt32BE(i, 0);
      sent.update(view);
      if (!w.write(view, onWritable)) {
        waits++;
        await new Promise<void>((r) => { resume = r; });
      }
    }
    client.end();
  })();
  await waitFor(() => waits > 0, 'the writer to push back while nobody reads', 20_000);
  accepted.resume();
  await producing;
  await waitFor(() => n === total, 'every byte', 30_000);
  assert.equal(received.digest('hex'), sent.digest('hex'));
});

for (const seed0 of [7, 11, 12345]) test(`TlsDirectWriter and socket.write() interleaved at random (seed ${seed0}), in the same turn and across turns, then end(), deliver every byte in call order`, async (t) => {
  const [client, accepted] = await tlsPair(t);
  const got = collect(accepted);
  const w = TlsDirectWriter.for(client)!;
  let seed = seed0;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const expected: Buffer[] = [];
  const view = Buffer.alloc(64 * 1024); // Reused, as a borrowed read buffer is.
  for (let i = 0; i < 400; i++) {
    const len = 2 + Math.floor(rand() * (rand() < 0.1 ? 60_000 : 300));
    const piece = Buffer.alloc(len, i % 251);
    piece.writeUInt16BE(i, 0);
    expected.push(piece);
    if (rand() < 0.3) client.write(Buffer.from(piece));
    else {
      piece.copy(view);
      w.write(view.subarray(0, len), () => {});
      view.fill(0); // The writer must have encrypted or copied it already.
    }
    if (rand() < 0.2) await new Promise((r) => setImmediate(r));
  }
  // Two direct writes in one turn (the second waits behind the first), then end() in the same turn.
  for (const last of [Buffer.from('\x00\x01tail-1'), Buffer.from('\x00\x02tail-2')]) {
    expected.push(last);
    w.write(last, () => {});
  }
  client.end();
  await waitFor(() => got.ended(), 'end at the receiver', 20_000);
  const all = got.bytes();
  let off = 0;
  const order: string[] = [];
  for (const e of expected) { order.push(`${e.readUInt16BE(0)}:${all.length >= off + 2 ? all.readUInt16BE(off) : -1}`); off += e.length; }
  const firstBad = order.findIndex((o) => { const [a, b] = o.split(':'); return a !== b; });
  assert.ok(all.equals(Buffer.concat(expected)), `the bytes, in the order they were written (got ${all.length} of ${off}; first piece out of place: ${firstBad} ${order.slice(Math.max(0, firstBad - 3), firstBad + 3).join(' ')})`);
});

test('TlsDirectWriter: once the peer is gone, a direct write that the kernel refuses tears the socket down (no silent loss, no stall)', async (t) => {
  const [client, accepted] = await tlsPair(t);
  client.on('error', () => {});
  let closed = false;
  client.on('close', () => { closed = true; });
  const w = TlsDirectWriter.for(client)!;
  accepted.destroy();
  const chunk = Buffer.alloc(64 * 1024, 1);
  // Keep writing, as a pipe whose other side still uploads would, until the socket is closed.
  for (let i = 0; i < 2000 && !closed; i++) {
    if (!w.write(chunk, () => {})) await new Promise((r) => setTimeout(r, 1));
    else if (i % 16 === 0) await new Promise((r) => setImmediate(r));
  }
  await waitFor(() => closed, 'the client socket to close after a refused write', 10_000);
});

test('TlsDirectWriter: an empty write is a no-op, and a direct write after an empty socket.write() waits its turn (no second write in TLSWrap)', async (t) => {
  const [client, accepted] = await tlsPair(t);
  const got = collect(accepted);
  const w = TlsDirectWriter.for(client)!;
  assert.equal(w.write(Buffer.alloc(0), () => {}), true);
  client.write(Buffer.alloc(0)); // In flight while writableLength reads 0.
  w.write(Buffer.from('after the empty write'), () => {});
  client.end();
  await waitFor(() => got.ended(), 'end at the receiver');
  assert.equal(got.bytes().toString(), 'after the empty write');
});

test('TlsDirectWriter: a write after end() is refused as node refuses it (ERR_STREAM_WRITE_AFTER_END, the socket torn down), never sent after the shutdown', async (t) => {
  const [client, accepted] = await tlsPair(t);
  const got = collect(accepted);
  const w = TlsDirectWriter.for(client)!;
  w.write(Buffer.from('A'), () => {});
  w.write(Buffer.from('B'), () => {}); // Waits behind A.
  client.end();
  let refused: Error | undefined;
  client.on('error', (e) => { refused = e; });
  w.write(Buffer.from('C'), () => {});
  await waitFor(() => refused !== undefined, 'the write-after-end error');
  assert.equal((refused as NodeJS.ErrnoException).code, 'ERR_STREAM_WRITE_AFTER_END');
  await waitFor(() => client.destroyed, 'the socket torn down, as node does');
  await new Promise((r) => setTimeout(r, 50));
  // Node's own socket.write() loses what was still queued the same way (only 'A' arrives).
  assert.ok(['A', 'AB'].includes(got.bytes().toString()), `got ${JSON.stringify(got.bytes().toString())}`);
});
