/**
 * Loopback sockets for the TCP stage's unit tests (src/proxy/tcp): a connected TCP or
 * TLS pair, a collector of what a socket receives, and a bounded wait that polls once
 * per event-loop turn.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import tls from 'node:tls';

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

/**
 * A connected, established TLS pair on loopback, `[client, accepted]` (a self-signed
 * P-256 certificate made with openssl), destroyed after the test.
 */
export async function tlsPair(t: TestContext): Promise<[tls.TLSSocket, tls.TLSSocket]> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-tls-pair-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=pair.test',
    '-days', '1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
  const cert = readFileSync(join(dir, 'c.pem'));
  const server = tls.createServer({ key: readFileSync(join(dir, 'k.pem')), cert, allowHalfOpen: true });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const accepted = new Promise<tls.TLSSocket>((r) => server.once('secureConnection', r));
  // allowHalfOpen on both ends, as the proxy's sockets: a peer's FIN leaves our side writable.
  const client = tls.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', ca: cert, servername: 'pair.test', checkServerIdentity: () => undefined, ...{ allowHalfOpen: true } });
  await new Promise<void>((r, j) => { client.once('secureConnect', r); client.once('error', j); });
  const s = await accepted;
  t.after(() => { client.destroy(); s.destroy(); });
  return [client, s];
}

/** Everything `s` delivers from now on, and whether it ended. */
export function collect(s: NodeJS.ReadableStream): { bytes: () => Buffer; ended: () => boolean } {
  const chunks: Buffer[] = [];
  let ended = false;
  s.on('data', (c: Buffer) => chunks.push(c));
  s.on('end', () => { ended = true; });
  return { bytes: () => Buffer.concat(chunks), ended: () => ended };
}
