import { test } from 'node:test';
import assert from 'node:assert/strict';
import { directWriteSupported, writeDirect } from './direct-write.ts';
import { tcpPair, waitFor } from '../../../test/proxy/sockets.ts';

test('writeDirect() is available on the Node we ship: connected and accepted sockets both take a direct write (else pipes silently use socket.write)', async (t) => {
  assert.equal(directWriteSupported(), true);
  const [client, accepted] = await tcpPair(t);
  let atServer = '';
  let atClient = '';
  accepted.on('data', (d: Buffer) => { atServer += d.toString(); });
  client.on('data', (d: Buffer) => { atClient += d.toString(); });
  assert.equal(writeDirect(client, Buffer.from('up'), () => {}), 'done');
  assert.equal(writeDirect(accepted, Buffer.from('down'), () => {}), 'done');
  await waitFor(() => atServer === 'up' && atClient === 'down', 'both directions');
});

test('writeDirect() hands a small write to the kernel at once and counts it in bytesWritten', async (t) => {
  const [client, server] = await tcpPair(t);
  let got = '';
  server.on('data', (d: Buffer) => { got += d.toString(); });
  assert.equal(writeDirect(client, Buffer.from('hello '), () => assert.fail('no completion for a finished write')), 'done');
  assert.equal(writeDirect(client, Buffer.from('world'), () => {}), 'done');
  await waitFor(() => got === 'hello world', 'the bytes');
  assert.equal(client.bytesWritten, 11);
  // end() after direct writes still half-closes after them.
  let ended = false;
  server.on('end', () => { ended = true; });
  client.end();
  await waitFor(() => ended, 'end');
});

test('writeDirect() steps aside while Writable has queued data, so order is kept', async (t) => {
  const [client] = await tcpPair(t);
  client.cork();
  client.write('queued');
  assert.equal(writeDirect(client, Buffer.from('x'), () => {}), 'unavailable');
  client.uncork();
});

test('writeDirect() reports a write the kernel could not take whole as pending and completes it later, intact', async (t) => {
  const [client, server] = await tcpPair(t);
  server.pause();
  const big = Buffer.alloc(16 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big[i] = (i >> 12) & 0xff;
  let completed: Error | null | undefined;
  assert.equal(writeDirect(client, big, (err) => { completed = err; }), 'pending');
  // While it is pending the socket reports nothing queued in Writable, but another direct write would overtake nothing: libuv queues in order.
  const chunks: Buffer[] = [];
  let n = 0;
  server.on('data', (d: Buffer) => { chunks.push(d); n += d.length; });
  server.resume();
  await waitFor(() => completed !== undefined && n === big.length, 'the pending write to complete', 20_000);
  assert.equal(completed, null);
  assert.ok(Buffer.concat(chunks).equals(big));
  assert.equal(client.bytesWritten, big.length);
});
