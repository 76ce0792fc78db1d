import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { originalDestination } from './original-dst.ts';

test('originalDestination() refuses a socket that has no file descriptor, saying what to do', () => {
  assert.throws(() => originalDestination(new net.Socket()), {
    code: 'WEFT_ERR_PROXY_INIT_ORIGINAL_DST',
    message: /^Ask for the original destination while the socket is open/,
  });
});

test('originalDestination() reports a connection the kernel never redirected as an error, not a wrong address', async (t) => {
  // A UNIX socket has an fd but no IP conntrack entry: the addon must fail cleanly.
  const path = `\0weft-original-dst-${process.pid}`;
  const server = net.createServer();
  t.after(() => server.close());
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect(path);
  t.after(() => client.destroy());
  const socket = await accepted;
  t.after(() => socket.destroy());
  assert.throws(() => originalDestination(socket), {
    code: 'WEFT_ERR_PROXY_INIT_ORIGINAL_DST',
    message: /^Redirect the connection with proxy-init first: the kernel has no original destination for it \(getsockopt\(SO_ORIGINAL_DST\): /,
  });
});
