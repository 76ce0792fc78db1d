import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { MuxConnection, type MuxStream } from './mux.ts';
import { MUX_HEADER_BYTES, MUX_SERVER_MAX_STREAMS, MUX_STREAM_WINDOW, MuxFrame, MuxReset, writeMuxHeader } from './mux-frame.ts';

function frame(id: number, type: number, payload: Buffer | number = Buffer.alloc(0)): Buffer {
  const p = typeof payload === 'number' ? Buffer.alloc(4) : payload;
  if (typeof payload === 'number') p.writeUInt32BE(payload);
  const b = Buffer.alloc(MUX_HEADER_BYTES + p.length);
  writeMuxHeader(b, 0, id, type, p.length);
  p.copy(b, MUX_HEADER_BYTES);
  return b;
}

type Parsed = { id: number; type: number; payload: Buffer };

/** Splits `b` into frames (the test peer's reader). */
function parse(b: Buffer): Parsed[] {
  const out: Parsed[] = [];
  let i = 0;
  while (i + MUX_HEADER_BYTES <= b.length) {
    const len = (b[i + 5]! << 16) | (b[i + 6]! << 8) | b[i + 7]!;
    out.push({ id: b.readUInt32BE(i), type: b[i + 4]!, payload: b.subarray(i + MUX_HEADER_BYTES, i + MUX_HEADER_BYTES + len) });
    i += MUX_HEADER_BYTES + len;
  }
  return out;
}

/**
 * A server-side MuxConnection on an accepted plain socket whose streams are joined to
 * an echo server, and a raw client socket speaking frames to it.
 */
async function serverWithRawPeer(t: TestContext, onOpen?: (m: MuxConnection, st: MuxStream, echoPort: number) => void): Promise<{ raw: net.Socket; received: () => Parsed[]; closed: Promise<void>; mux: () => MuxConnection | undefined }> {
  const echo = net.createServer((s) => {
    s.on('error', () => {});
    s.on('data', (d: Buffer) => s.write(d));
    s.on('end', () => s.end());
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const echoPort = (echo.address() as net.AddressInfo).port;
  let mux: MuxConnection | undefined;
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    const m: MuxConnection = new MuxConnection(s, {
      role: 'server',
      onOpen: (st) => {
        if (onOpen !== undefined) {
          onOpen(m, st, echoPort);
          return;
        }
        const app = net.connect({ port: echoPort, host: '127.0.0.1' });
        app.on('error', () => m.refuse(st));
        app.once('connect', () => m.attach(st, app));
      },
    });
    mux = m;
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const raw = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1' });
  const chunks: Buffer[] = [];
  raw.on('data', (d: Buffer) => chunks.push(d));
  raw.on('error', () => {});
  const closed = new Promise<void>((r) => raw.once('close', () => r()));
  await new Promise((r) => raw.once('connect', r));
  t.after(() => {
    raw.destroy();
    mux?.destroy();
    server.close();
    echo.close();
  });
  return { raw, received: () => parse(Buffer.concat(chunks)), closed, mux: () => mux };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('frames split at every byte still open a stream, carry its bytes and end it', async (t) => {
  const { raw, received } = await serverWithRawPeer(t);
  const wire = Buffer.concat([frame(1, MuxFrame.open), frame(1, MuxFrame.data, Buffer.from('hello mux')), frame(1, MuxFrame.fin)]);
  for (let i = 0; i < wire.length; i++) {
    raw.write(wire.subarray(i, i + 1));
    await new Promise((r) => setImmediate(r));
  }
  await until(() => received().some((f) => f.type === MuxFrame.fin), 'the echo and its FIN');
  const frames = received().filter((f) => f.id === 1);
  assert.equal(Buffer.concat(frames.filter((f) => f.type === MuxFrame.data).map((f) => f.payload)).toString(), 'hello mux');
  assert.equal(frames.at(-1)!.type, MuxFrame.fin);
});

test('the receiver grants credit as it writes out, so a stream carries more than one window', async (t) => {
  const { raw, received } = await serverWithRawPeer(t);
  raw.write(frame(1, MuxFrame.open));
  const chunk = Buffer.alloc(16 * 1024, 7);
  let sent = 0;
  const credit = MUX_STREAM_WINDOW;
  const credited = (): number => received().filter((f) => f.type === MuxFrame.credit).reduce((n, f) => n + f.payload.readUInt32BE(0), 0);
  while (sent < 4 * MUX_STREAM_WINDOW) {
    if (sent + chunk.length > credit + credited()) {
      await until(() => sent + chunk.length <= credit + credited(), 'credit');
      continue;
    }
    raw.write(frame(1, MuxFrame.data, chunk));
    sent += chunk.length;
  }
  assert.ok(credited() >= 3 * MUX_STREAM_WINDOW, `credited ${credited()} bytes`);
});

for (const [name, wire] of [
  ['DATA beyond the stream window', Buffer.concat([frame(1, MuxFrame.open), frame(1, MuxFrame.data, Buffer.alloc(MUX_STREAM_WINDOW + 1))])],
  ['an unknown frame type', Buffer.concat([frame(1, MuxFrame.open), frame(1, 9)])],
  ['an OPEN that reuses a stream id', Buffer.concat([frame(2, MuxFrame.open), frame(1, MuxFrame.open)])],
  ['a frame for a stream never opened', frame(5, MuxFrame.data, Buffer.from('x'))],
  ['a CREDIT that overflows the window', Buffer.concat([frame(1, MuxFrame.open), frame(1, MuxFrame.credit, 0xffffffff)])],
  ['a control frame with the wrong length', Buffer.concat([frame(1, MuxFrame.open), frame(1, MuxFrame.fin, Buffer.from('xy'))])],
  ['stream id 0', frame(0, MuxFrame.open)],
] as const) {
  test(`a peer sending ${name} has its connection closed`, async (t) => {
    const { raw, closed } = await serverWithRawPeer(t);
    raw.write(wire);
    await closed;
  });
}

test(`OPENs past ${MUX_SERVER_MAX_STREAMS} streams at once are refused with RST, and the connection keeps serving`, async (t) => {
  const { raw, received } = await serverWithRawPeer(t);
  const opens: Buffer[] = [];
  for (let id = 1; id <= MUX_SERVER_MAX_STREAMS + 3; id++) opens.push(frame(id, MuxFrame.open));
  raw.write(Buffer.concat(opens));
  await until(() => received().filter((f) => f.type === MuxFrame.rst).length >= 3, 'three RSTs');
  const rst = received().filter((f) => f.type === MuxFrame.rst);
  assert.deepEqual(rst.map((f) => f.id), [MUX_SERVER_MAX_STREAMS + 1, MUX_SERVER_MAX_STREAMS + 2, MUX_SERVER_MAX_STREAMS + 3]);
  assert.ok(rst.every((f) => f.payload.readUInt32BE(0) === MuxReset.refused));
  raw.write(frame(7, MuxFrame.data, Buffer.from('seven')));
  await until(() => received().some((f) => f.id === 7 && f.type === MuxFrame.data), 'the echo on stream 7');
});

test('an RST from the peer closes the stream\'s application connection, and the stream is forgotten', async (t) => {
  const { raw, received, mux } = await serverWithRawPeer(t);
  raw.write(Buffer.concat([frame(1, MuxFrame.open), frame(1, MuxFrame.data, Buffer.from('a'))]));
  await until(() => received().some((f) => f.id === 1 && f.type === MuxFrame.data), 'the echo');
  assert.equal(mux()?.streams, 1);
  raw.write(frame(1, MuxFrame.rst, MuxReset.closed));
  await until(() => mux()?.streams === 0, 'the stream to be forgotten');
  // Its application side closed without sending anything more (no RST back: the peer reset it).
  assert.equal(received().filter((f) => f.id === 1 && f.type === MuxFrame.rst).length, 0);
});

test('a draining server sends GOAWAY: the client takes no new streams on that connection and hears it', async (t) => {
  let serverMux: MuxConnection | undefined;
  const server = net.createServer({ allowHalfOpen: true }, (s) => { serverMux = new MuxConnection(s, { role: 'server' }); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sock = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1' });
  await new Promise((r) => sock.once('connect', r));
  let heard = 0;
  const client = new MuxConnection(sock, { role: 'client', onGoaway: () => { heard++; } });
  t.after(() => { client.destroy(); serverMux?.destroy(); server.close(); });
  await until(() => serverMux !== undefined, 'the server side');
  assert.equal(client.usable, true);
  serverMux!.drain();
  await until(() => heard === 1, 'GOAWAY');
  assert.equal(client.usable, false);
});

test('a client whose PING goes unanswered gives the connection up after the liveness timeout', async (t) => {
  // A peer that accepts and never answers.
  const server = net.createServer((s) => { s.on('error', () => {}); s.pause(); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sock = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1' });
  await new Promise((r) => sock.once('connect', r));
  let closedWith: Error | undefined;
  const closed = new Promise<void>((r) => {
    const client = new MuxConnection(sock, { role: 'client', livenessMs: 100, onClose: (e) => { closedWith = e; r(); } });
    const local = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1' });
    local.on('error', () => {});
    local.once('connect', () => client.open(local));
  });
  t.after(() => { sock.destroy(); server.close(); });
  await closed;
  assert.match(String(closedWith?.message), /did not answer within 100 ms/);
});

test('streams whose application connection fails faster than 1,000 a second are refused without a connect, and the connection stays up', async (t) => {
  let connects = 0;
  const { raw, received, mux } = await serverWithRawPeer(t, (m, st) => {
    connects++;
    m.refuse(st); // the application port refuses
  });
  const opens: Buffer[] = [];
  for (let id = 1; id <= 3000; id++) opens.push(frame(id, MuxFrame.open));
  raw.write(Buffer.concat(opens));
  await until(() => received().filter((f) => f.type === MuxFrame.rst).length === 3000, 'an RST for each');
  assert.ok(connects < 2500, `${connects} connects for 3,000 OPENs`);
  assert.ok(received().every((f) => f.type !== MuxFrame.rst || f.payload.readUInt32BE(0) === MuxReset.connectFailed));
  assert.equal(mux()?.streams, 0);
  assert.equal(raw.destroyed, false);
});

test('past 16 MiB for streams still connecting, the streams that cross it are reset, and the connection and the others go on', async (t) => {
  const held: Array<{ m: MuxConnection; st: MuxStream; port: number }> = [];
  const { raw, received, mux } = await serverWithRawPeer(t, (m, st, port) => { held.push({ m, st, port }); });
  const body = Buffer.alloc(MUX_STREAM_WINDOW, 1);
  const n = 80; // 20 MiB for streams whose application never connects (yet)
  for (let id = 1; id <= n; id++) raw.write(Buffer.concat([frame(id, MuxFrame.open), frame(id, MuxFrame.data, body)]));
  const resets = (): Parsed[] => received().filter((f) => f.type === MuxFrame.rst);
  await until(() => held.length === n && resets().length >= n - 64, 'every OPEN, and resets past the cap');
  assert.ok(resets().every((f) => f.payload.readUInt32BE(0) === MuxReset.connectFailed && f.id > 60), `resets: ${resets().map((f) => f.id).join(',')}`);
  assert.equal(raw.destroyed, false);
  assert.equal(mux()?.streams, n - resets().length);
  // The applications connect: what the kept streams sent goes out, and is echoed in full.
  for (const h of held.splice(0)) {
    const app = net.connect({ port: h.port, host: '127.0.0.1' });
    app.on('error', () => {});
    app.once('connect', () => h.m.attach(h.st, app));
  }
  const echoed = (id: number): number => received().filter((f) => f.id === id && f.type === MuxFrame.data).reduce((k, f) => k + f.payload.length, 0);
  await until(() => echoed(1) === body.length, 'the echo of stream 1');
});

test('a peer that provokes answers (PINGs) and reads none is cut after 1 MiB of them', async (t) => {
  const { raw, closed } = await serverWithRawPeer(t);
  raw.pause();
  const ping = frame(0, MuxFrame.ping);
  const batch = Buffer.concat(Array.from({ length: 64 * 1024 }, () => ping)); // 512 KiB of PINGs
  for (let i = 0; i < 64 && !raw.destroyed; i++) {
    if (!raw.write(batch)) await Promise.race([new Promise((r) => raw.once('drain', r)), closed]);
  }
  await closed;
});
