import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import tls from 'node:tls';
import { BorrowedReader } from './borrowed-reader.ts';
import { tcpPair, waitFor } from '../../../test/proxy/sockets.ts';

test('BorrowedReader.adopt() hands bytes already queued back first, then every read, in order', async (t) => {
  const [client, s] = await tcpPair(t, { pauseOnConnect: true });
  // Bytes that reach the Readable before adoption: read them into its buffer.
  s.resume();
  s.pause();
  client.write('first ');
  await waitFor(() => s.readableLength === 6, 'first bytes buffered in the Readable');
  const seen: string[] = [];
  const a = BorrowedReader.adopt(s, (c) => { seen.push(c.toString('latin1')); });
  assert.ok(a !== undefined);
  const queued = a.queued.map((b) => b.toString('latin1')).join('');
  assert.equal(queued, 'first ');
  s.resume();
  client.write('second');
  await waitFor(() => queued + seen.join('') === 'first second', 'all bytes');
});

test('BorrowedReader reuses its buffer between reads until retain() is called', async (t) => {
  const [client, s] = await tcpPair(t, { pauseOnConnect: true });
  const mems: ArrayBufferLike[] = [];
  const box: { reader?: BorrowedReader } = {};
  let retainNext = false;
  const a = BorrowedReader.adopt(s, (c) => {
    mems.push(c.buffer);
    if (retainNext) box.reader?.retain();
  });
  assert.ok(a !== undefined);
  box.reader = a.reader;
  s.resume();
  const send = async (text: string, n: number): Promise<void> => {
    client.write(text);
    await waitFor(() => mems.length === n, `read ${n}`);
  };
  await send('a', 1);
  await send('b', 2);
  assert.equal(mems[1], mems[0], 'same memory without retain()');
  retainNext = true;
  await send('c', 3);
  retainNext = false;
  await send('d', 4);
  assert.equal(mems[2], mems[1]);
  assert.notEqual(mems[3], mems[2], 'fresh memory after retain()');
});

test('BorrowedReader.redirect() sends later reads elsewhere, and end still arrives', async (t) => {
  const [client, s] = await tcpPair(t, { pauseOnConnect: true });
  let first = 0;
  let second = 0;
  const a = BorrowedReader.adopt(s, (c) => { first += c.length; });
  assert.ok(a !== undefined);
  s.resume();
  client.write('xx');
  await waitFor(() => first === 2, 'first handler');
  a.reader.redirect((c) => { second += c.length; });
  const ended = new Promise<void>((r) => s.once('end', () => r()));
  client.end('yyy');
  await ended;
  assert.equal(first, 2);
  assert.equal(second, 3);
});

test('BorrowedReader.adopt() leaves a stream that is not a socket alone', () => {
  const p = new PassThrough();
  assert.equal(BorrowedReader.adopt(p, () => {}), undefined);
  p.write('x');
  assert.equal((p.read() as Buffer | null)?.toString(), 'x');
});

test('the borrowed fast path is available on the Node we ship: accepted sockets and server-side TLS sockets really switch (else the proxy silently falls back to data events)', async (t) => {
  assert.equal(BorrowedReader.supported(), true);
  // A plain accepted socket.
  const [client, s] = await tcpPair(t, { pauseOnConnect: true });
  let plain = '';
  const a = BorrowedReader.adopt(s, (c) => { plain += c.toString('latin1'); });
  assert.ok(a !== undefined, 'an accepted socket is adopted');
  s.on('data', () => assert.fail('no data events in borrowed mode'));
  s.resume();
  client.write('plain');
  await waitFor(() => plain === 'plain', 'plain bytes through the borrowed callback');
  // A server-side TLS socket (node creates it around an accepted socket).
  const dir = mkdtempSync(join(tmpdir(), 'weft-borrowed-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=borrowed.test',
    '-days', '1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
  const cert = readFileSync(join(dir, 'c.pem'));
  let secure = '';
  let adoptedTls = false;
  const server = tls.createServer({ key: readFileSync(join(dir, 'k.pem')), cert }, (ts) => {
    ts.on('error', () => {});
    ts.on('data', () => assert.fail('no data events in borrowed mode'));
    adoptedTls = BorrowedReader.adopt(ts, (c) => { secure += c.toString('latin1'); }) !== undefined;
    ts.resume();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const tc = tls.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', ca: cert, servername: 'borrowed.test', checkServerIdentity: () => undefined });
  t.after(() => tc.destroy());
  tc.on('error', () => {});
  await new Promise<void>((r, j) => { tc.once('secureConnect', r); tc.once('error', j); });
  tc.write('secure');
  await waitFor(() => secure === 'secure', 'TLS plaintext through the borrowed callback');
  assert.equal(adoptedTls, true, 'a server-side TLS socket is adopted');
});

test('BorrowedReader delivers queued bytes first, then new reads, then end, and bytesRead counts them all', async (t) => {
  const [client, s] = await tcpPair(t, { pauseOnConnect: true });
  s.resume();
  s.pause();
  client.write('early');
  await waitFor(() => s.readableLength >= 5, 'the early bytes to be buffered');
  const got: string[] = [];
  const a = BorrowedReader.adopt(s, (c) => { got.push(c.toString('latin1')); });
  assert.ok(a !== undefined);
  assert.deepEqual(a.queued.map((b) => b.toString('latin1')), ['early']);
  let ended = false;
  s.on('end', () => { ended = true; });
  s.resume();
  client.end('late');
  await waitFor(() => ended, 'end');
  assert.equal(got.join(''), 'late');
  assert.equal(s.bytesRead, 9);
});

test('a BorrowedReader handler that returns false stops reading until socket.resume()', async (t) => {
  const [client, s] = await tcpPair(t, { pauseOnConnect: true });
  let got = '';
  const a = BorrowedReader.adopt(s, (c) => { got += c.toString('latin1'); return false; });
  assert.ok(a !== undefined);
  s.resume();
  client.write('one');
  await waitFor(() => got === 'one', 'the first chunk');
  const handle = (s as unknown as { _handle: { reading: boolean } })._handle;
  assert.equal(handle.reading, false, 'reading stopped');
  client.write('two');
  s.resume();
  await waitFor(() => got === 'onetwo', 'the next chunk after resume()');
});

test('BorrowedReader.adopt() takes over a socket another onread reader had', async (t) => {
  const [client, s] = await tcpPair(t, { pauseOnConnect: true });
  let first = 0;
  const a = BorrowedReader.adopt(s, (c) => { first += c.length; });
  assert.ok(a !== undefined);
  s.resume();
  client.write('ab');
  await waitFor(() => first === 2, 'first reader');
  let second = '';
  const b = BorrowedReader.adopt(s, (c) => { second += c.toString('latin1'); });
  assert.ok(b !== undefined);
  client.write('cde');
  await waitFor(() => second === 'cde', 'second reader');
  assert.equal(first, 2);
});

test('BorrowedReader.adopt() hands bytes already queued to the caller only, not also to the socket\'s data listeners', async (t) => {
  const [client, s] = await tcpPair(t, { pauseOnConnect: true });
  // A data listener read the first bytes; then the socket was paused and more arrived.
  const heard: string[] = [];
  s.on('data', (c: Buffer) => { heard.push(c.toString('latin1')); });
  s.resume();
  client.write('one ');
  await waitFor(() => heard.join('') === 'one ', 'the listener heard the first bytes');
  s.pause();
  client.write('two ');
  await waitFor(() => s.readableLength === 4, 'bytes buffered while paused');
  const got: string[] = [];
  const a = BorrowedReader.adopt(s, (c) => { got.push(c.toString('latin1')); });
  assert.ok(a !== undefined);
  assert.deepEqual(a.queued.map((b) => b.toString('latin1')), ['two ']);
  assert.deepEqual(heard, ['one '], 'the queued bytes were delivered once, to the caller');
  assert.equal(s.listenerCount('data'), 1, 'the listener is still attached');
  s.resume();
  client.write('three');
  await waitFor(() => got.join('') === 'three', 'later reads through the borrowed callback');
  assert.deepEqual(heard, ['one ']);
});

test('a closed socket\'s read buffer goes to the next adopted socket instead of new memory', async (t) => {
  const [c1, s1] = await tcpPair(t, { pauseOnConnect: true });
  let first: ArrayBufferLike | undefined;
  assert.ok(BorrowedReader.adopt(s1, (c) => { first = c.buffer; }) !== undefined);
  s1.resume();
  c1.write('a');
  await waitFor(() => first !== undefined, 'a read on the first socket');
  const spareBefore = BorrowedReader.spareBuffers();
  const closed = new Promise<void>((r) => s1.once('close', () => r()));
  s1.destroy();
  await closed;
  assert.equal(BorrowedReader.spareBuffers(), spareBefore + 1, 'its buffer is kept');
  const [c2, s2] = await tcpPair(t, { pauseOnConnect: true });
  let second: ArrayBufferLike | undefined;
  assert.ok(BorrowedReader.adopt(s2, (c) => { second = c.buffer; }) !== undefined);
  assert.equal(BorrowedReader.spareBuffers(), spareBefore, 'and taken by the next reader');
  s2.resume();
  c2.write('b');
  await waitFor(() => second !== undefined, 'a read on the second socket');
  assert.equal(second, first, 'the same memory');
});

test('a closed socket\'s read buffer that a write may still hold (retain) is not reused', async (t) => {
  const [client, s] = await tcpPair(t, { pauseOnConnect: true });
  let read = false;
  const a = BorrowedReader.adopt(s, () => { read = true; });
  assert.ok(a !== undefined);
  s.resume();
  client.write('a');
  await waitFor(() => read, 'a read');
  a.reader.retain(); // A write queued outside a read callback kept a view.
  const spareBefore = BorrowedReader.spareBuffers();
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  s.destroy();
  await closed;
  assert.equal(BorrowedReader.spareBuffers(), spareBefore);
});
