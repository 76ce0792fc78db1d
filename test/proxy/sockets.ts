/**
 * Loopback sockets for the TCP stage's unit tests (src/proxy/tcp): a connected pair
 * and a bounded wait that polls once per event-loop turn.
 */
import net from 'node:net';
import type { TestContext } from 'node:test';

/** Resolves once `cond()` holds, checked every event-loop turn; fails naming `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A connected pair of TCP sockets on loopback, `[client, accepted]`, destroyed after the test. */
export async function tcpPair(t: TestContext, serverOptions: net.ServerOpts = {}): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer(serverOptions);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise<void>((r, j) => { client.once('connect', r); client.once('error', j); });
  const s = await accepted;
  t.after(() => { client.destroy(); s.destroy(); });
  return [client, s];
}
