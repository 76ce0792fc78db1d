import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { TlsDirectWriter } from './tls-direct-write.ts';
import { tcpPair, tlsPair, waitFor } from '../../../test/proxy/sockets.ts';

/** Everything `s` receives, and whether it ended. */
function collect(s: NodeJS.ReadableStream): { bytes: () => Buffer; ended: () => boolean } {
  const chunks: Buffer[] = [];
  let ended = false;
  s.on('data', (d: Buffer) => chunks.push(d));
  s.on('end', () => { ended = true; });
  return { bytes: () => Buffer.concat(chunks), ended: () => ended };
}

test('TlsDirectWriter is available on the Node we ship for an established TLS socket (else the mesh side of opaque pipes silently uses socket.write)', async (t) => {
  const [client, accepted] = await tlsPair(t);
  assert.ok(TlsDirectWriter.for(client, () => {}) !== undefined);
  assert.ok(TlsDirectWriter.for(accepted, () => {}) !== undefined);
  const [plain] = await tcpPair(t);
  assert.equal(TlsDirectWriter.for(plain, () => {}), undefined, 'plain sockets are writeDirect territory');
});

test('TlsDirectWriter: a write while the previous one is in flight is copied, held, and sent after it, in order and intact', async (t) => {
  const [client, accepted] = await tlsPair(t);
  const got = collect(accepted);
  let writable = 0;
  const w = TlsDirectWriter.for(client, () => { writable++; })!;
  const view = Buffer.from('first ');
  assert.equal(w.write(view), true, 'nothing in flight: written at once');
  // The caller's buffer is free as soon as write() returns (TLS encrypted it).
  view.fill(0x78);
  // Same event-loop turn: node has not completed the first write yet.
  const second = Buffer.from('second ');
  assert.equal(w.write(second), false, 'in flight: the producer must wait');
  second.fill(0x79); // A borrowed view is overwritten by the next read: the writer kept a copy.
  assert.equal(w.write(Buffer.from('third')), false);
  await waitFor(() => writable === 1, 'onWritable after the held bytes went out');
  await waitFor(() => got.bytes().toString() === 'first second third', 'the bytes in order');
  assert.equal(w.write(Buffer.from('!')), true, 'direct again once nothing is in flight');
  await waitFor(() => got.bytes().toString() === 'first second third!', 'the last write');
});

test('TlsDirectWriter: end() right after a write half-closes after the data (close_notify follows it)', async (t) => {
  const [client, accepted] = await tlsPair(t);
  const got = collect(accepted);
  const w = TlsDirectWriter.for(client, () => {})!;
  w.write(Buffer.from('all of it'));
  w.write(Buffer.from(', then end'));
  w.end();
  await waitFor(() => got.ended(), 'end at the receiver');
  assert.equal(got.bytes().toString(), 'all of it, then end');
});

test('TlsDirectWriter steps aside while the Writable holds a write, so bytes written with socket.write() first stay first', async (t) => {
  const [client, accepted] = await tlsPair(t);
  const got = collect(accepted);
  client.write('header:'); // In flight through the Writable (TLS completes asynchronously).
  assert.ok(client.writableLength > 0);
  const w = TlsDirectWriter.for(client, () => {})!;
  w.write(Buffer.from('body'));
  await waitFor(() => got.bytes().toString() === 'header:body', 'both, in order');
  assert.equal(w.write(Buffer.from('.')), true);
  await waitFor(() => got.bytes().toString() === 'header:body.', 'the direct write');
});

test('TlsDirectWriter applies backpressure to a slow receiver: 16 MiB arrive intact and the producer waited for the socket', async (t) => {
  const [client, accepted] = await tlsPair(t);
  accepted.pause();
  let waits = 0;
  let resume: (() => void) | undefined;
  const w = TlsDirectWriter.for(client, () => { const r = resume; resume = undefined; r?.(); })!;
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
      if (!w.write(view)) {
        waits++;
        await new Promise<void>((r) => { resume = r; });
      }
    }
    w.end();
  })();
  await waitFor(() => waits > 0, 'the writer to push back while nobody reads', 20_000);
  accepted.resume();
  await producing;
  await waitFor(() => n === total, 'every byte', 30_000);
  assert.equal(received.digest('hex'), sent.digest('hex'));
});
