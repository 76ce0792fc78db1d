import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { BorrowedReader } from './borrowed-reader.ts';

/** A connected pair of plain sockets on loopback: [accepted, client]. */
async function pair(t: { after(fn: () => void): void }): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const s = await accepted;
  await new Promise<void>((r) => (client.connecting ? client.once('connect', () => r()) : r()));
  t.after(() => { s.destroy(); client.destroy(); });
  return [s, client];
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), what);
}

test('BorrowedReader.adopt() hands bytes already queued back first, then every read, in order', async (t) => {
  const [s, client] = await pair(t);
  // Bytes that reach the Readable before adoption: read them into its buffer.
  s.resume();
  s.pause();
  client.write('first ');
  await until(() => s.readableLength === 6, 'first bytes buffered in the Readable');
  const seen: string[] = [];
  const a = BorrowedReader.adopt(s, (c) => seen.push(c.toString('latin1')));
  assert.ok(a !== undefined);
  const queued = a.queued.map((b) => b.toString('latin1')).join('');
  assert.equal(queued, 'first ');
  s.resume();
  client.write('second');
  await until(() => queued + seen.join('') === 'first second', 'all bytes');
});

test('BorrowedReader reuses its buffer between reads until retain() is called', async (t) => {
  const [s, client] = await pair(t);
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
    await until(() => mems.length === n, `read ${n}`);
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
  const [s, client] = await pair(t);
  let first = 0;
  let second = 0;
  const a = BorrowedReader.adopt(s, (c) => { first += c.length; });
  assert.ok(a !== undefined);
  s.resume();
  client.write('xx');
  await until(() => first === 2, 'first handler');
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
});

test('BorrowedReader.adopt() takes over a socket another onread reader had', async (t) => {
  const [s, client] = await pair(t);
  let first = 0;
  const a = BorrowedReader.adopt(s, (c) => { first += c.length; });
  assert.ok(a !== undefined);
  s.resume();
  client.write('ab');
  await until(() => first === 2, 'first reader');
  let second = '';
  const b = BorrowedReader.adopt(s, (c) => { second += c.toString('latin1'); });
  assert.ok(b !== undefined);
  client.write('cde');
  await until(() => second === 'cde', 'second reader');
  assert.equal(first, 2);
});
