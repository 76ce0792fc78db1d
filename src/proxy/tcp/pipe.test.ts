import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { pipeSockets } from './pipe.ts';
import { collect, tcpPair, waitFor } from '../../../test/proxy/sockets.ts';

/**
 * client ⇄ [proxyIn ⇄ pipeSockets ⇄ proxyOut] ⇄ origin, all TCP on loopback, like an
 * opaque proxy: proxyIn is an accepted socket, proxyOut one the proxy opened.
 */
async function proxied(t: TestContext): Promise<{ client: net.Socket; origin: net.Socket; proxyIn: net.Socket; proxyOut: net.Socket; done: Promise<void> }> {
  const [client, proxyIn] = await tcpPair(t, { allowHalfOpen: true });
  const [proxyOut, origin] = await tcpPair(t, { allowHalfOpen: true });
  let finished!: () => void;
  const done = new Promise<void>((r) => { finished = r; });
  pipeSockets(proxyIn, proxyOut, undefined, finished);
  return { client, origin, proxyIn, proxyOut, done };
}

/** Reads `s` to its end and asserts it delivered exactly `total` bytes hashing like `sent`. */
async function assertReceivesAll(s: net.Socket, total: number, sent: Hash): Promise<void> {
  const got = createHash('sha256');
  let received = 0;
  let ended = false;
  s.on('data', (c: Buffer) => { got.update(c); received += c.length; });
  s.on('end', () => { ended = true; });
  s.resume();
  await waitFor(() => ended, 'every byte', 30_000);
  assert.equal(received, total);
  assert.equal(got.digest('hex'), sent.digest('hex'));
}

test('pipeSockets() forwards both ways and keeps a half-closed connection open for the answer', async (t) => {
  const { client, origin, proxyIn, proxyOut, done } = await proxied(t);
  const atOrigin = collect(origin);
  const atClient = collect(client);
  client.end('request');
  await waitFor(() => atOrigin.ended(), 'the half-close to reach the origin');
  assert.equal(atOrigin.bytes().toString(), 'request');
  // The client's half-close did not close the other direction.
  origin.end('answer after end');
  await waitFor(() => atClient.ended(), 'the answer and its end');
  assert.equal(atClient.bytes().toString(), 'answer after end');
  await done;
  // The byte counters behind tcp_read_bytes_total / tcp_write_bytes_total see every byte of the fast paths.
  assert.deepEqual([proxyIn.bytesRead, proxyOut.bytesWritten, proxyOut.bytesRead, proxyIn.bytesWritten], [7, 7, 16, 16]);
});

test('pipeSockets() stops reading from a fast sender while the receiver is slow, then delivers every byte intact', async (t) => {
  const { client, origin, proxyIn, proxyOut } = await proxied(t);
  origin.pause();
  const total = 48 * 1024 * 1024;
  const block = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (i * 7 + 3) & 0xff;
  const sent = createHash('sha256');
  let written = 0;
  const writeMore = (): void => {
    while (written < total) {
      sent.update(block);
      written += block.length;
      if (!client.write(block)) return;
    }
    client.end();
  };
  client.on('drain', writeMore);
  writeMore();
  // Kernel buffers fill, then the proxy stops reading its side: what it holds stays
  // near one write buffer, not the 48 MB the client wants to send.
  const held = (): number => proxyOut.writableLength + (proxyOut as unknown as { _handle: { writeQueueSize: number } })._handle.writeQueueSize;
  await waitFor(() => held() > 0 && !(proxyIn as unknown as { _handle: { reading: boolean } })._handle.reading, 'the proxy to stop reading');
  assert.equal(proxyIn.listenerCount('data'), 0, 'the fast read path is in use');
  assert.ok(held() < 1024 * 1024, `proxy holds ${held()} bytes`);
  assert.ok(written < total || client.writableLength > 0, 'the client is still blocked');
  await assertReceivesAll(origin, total, sent);
});

test('pipeSockets() tears both sides down when one fails', async (t) => {
  const { client, origin, done } = await proxied(t);
  let clientClosed = false;
  client.on('error', () => {});
  client.on('close', () => { clientClosed = true; });
  origin.resetAndDestroy();
  await done;
  await waitFor(() => clientClosed, 'the client connection to close');
});

test('pipeSockets() carries bytes through a TLS socket on each side with borrowed reads', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-pipe-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=pipe.test',
    '-days', '1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
  const key = readFileSync(join(dir, 'k.pem'));
  const cert = readFileSync(join(dir, 'c.pem'));
  // client ─TLS─▶ proxy (accepted TLS) ⇄ pipe ⇄ proxy (TLS client) ─TLS─▶ origin
  const origin = tls.createServer({ key, cert }, (s) => {
    s.on('error', () => {});
    s.on('data', (d: Buffer) => s.write(d));
    s.on('end', () => s.end());
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  t.after(() => origin.close());
  let fastOnBoth = false;
  const proxy = tls.createServer({ key, cert }, (inSock) => {
    inSock.on('error', () => {});
    const out = tls.connect({ port: (origin.address() as net.AddressInfo).port, host: '127.0.0.1', ca: cert, servername: 'pipe.test', checkServerIdentity: () => undefined });
    out.on('error', () => {});
    out.once('secureConnect', () => {
      pipeSockets(inSock, out);
      // Both TLS sockets read through borrowed readers, not 'data' events.
      fastOnBoth = inSock.listenerCount('data') === 0 && out.listenerCount('data') === 0;
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.after(() => proxy.close());
  const client = tls.connect({ port: (proxy.address() as net.AddressInfo).port, host: '127.0.0.1', ca: cert, servername: 'pipe.test', checkServerIdentity: () => undefined });
  t.after(() => client.destroy());
  const atClient = collect(client);
  await new Promise<void>((r, j) => { client.once('secureConnect', r); client.once('error', j); });
  const big = Buffer.alloc(200_000, 'z');
  client.write(big);
  await waitFor(() => atClient.bytes().length >= big.length, 'the echo of 200 kB');
  assert.ok(atClient.bytes().equals(big));
  assert.equal(fastOnBoth, true);
  client.end();
  await waitFor(() => atClient.ended(), 'end through both TLS hops');
});

test('pipeSockets() relays a TLS sender to a slow plain receiver intact (records decrypted after reading stopped land in fresh memory)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-pipe-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=pipe.test',
    '-days', '1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
  const cert = readFileSync(join(dir, 'c.pem'));
  // client ─TLS─▶ proxy (accepted TLS) ⇄ pipe ⇄ proxyOut (plain) ─▶ origin (paused)
  const [proxyOut, origin] = await tcpPair(t, { allowHalfOpen: true });
  origin.pause();
  const proxy = tls.createServer({ key: readFileSync(join(dir, 'k.pem')), cert }, (inSock) => {
    inSock.on('error', () => {});
    pipeSockets(inSock, proxyOut);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.after(() => proxy.close());
  const client = tls.connect({ port: (proxy.address() as net.AddressInfo).port, host: '127.0.0.1', ca: cert, servername: 'pipe.test', checkServerIdentity: () => undefined });
  t.after(() => client.destroy());
  client.on('error', () => {});
  await new Promise<void>((r, j) => { client.once('secureConnect', r); client.once('error', j); });
  const total = 8 * 1024 * 1024;
  const sent = createHash('sha256');
  let i = 0;
  for (let off = 0; off < total; off += 64 * 1024) {
    const chunk = Buffer.alloc(64 * 1024, i++ % 251);
    sent.update(chunk);
    client.write(chunk);
  }
  client.end();
  // Let the kernel buffers fill before the receiver starts reading.
  await waitFor(() => proxyOut.writableLength > 0 || (proxyOut as unknown as { _handle: { writeQueueSize: number } })._handle.writeQueueSize > 0, 'the receiver side to back up', 30_000);
  await assertReceivesAll(origin, total, sent);
});
