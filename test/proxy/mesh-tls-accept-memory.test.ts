/**
 * Accepting mesh connections must not cost memory that is never given back: Node
 * 24.21 leaks each verified client certificate (~4.3 KB of malloc) unless MeshTls
 * steers it off the leaking call (bench/README.md, item 36). A child process runs
 * a MeshTls server; this process opens and closes mTLS connections to it and reads
 * the child's `[heap]` Rss (glibc's main arena) after forced GCs.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileCredentials, MeshTls, MESH_ALPN } from '../../src/proxy/index.ts';
import { TestPki } from './pki-fixture.ts';
import { mainArenaMb } from './memory.ts';


const SERVER_ARG = 'mesh-tls-accept-memory-server';

if (process.argv[2] === SERVER_ARG) {
  const [keyFile, certFile, trustAnchorsFile] = process.argv.slice(3) as [string, string, string];
  const credentials = fileCredentials({ keyFile, certFile, trustAnchorsFile }, { pollMs: 0 });
  const mesh = new MeshTls(credentials);
  mesh.handle(
    (socket) => {
      socket.on('error', () => {});
      socket.on('data', () => socket.end('ok'));
    },
    () => {},
  );
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    mesh.accept(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('message', () => {
    gc?.();
    gc?.();
    // Lets the sockets' native handles (freed from their GC callbacks) go first.
    setTimeout(() => process.send!(mainArenaMb()), 200);
  });
  process.on('disconnect', () => process.exit(0));
  process.send!((server.address() as net.AddressInfo).port);
} else {
  /** Opens `count` mTLS connections, 8 at a time; resolves with how many failed. */
  async function churn(options: tls.ConnectionOptions, count: number): Promise<number> {
    let started = 0;
    let failed = 0;
    const worker = async (): Promise<void> => {
      while (started++ < count) {
        await new Promise<void>((resolve) => {
          const socket = tls.connect(options, () => socket.write('x'));
          socket.on('data', () => {});
          socket.on('error', () => {
            failed++;
            resolve();
          });
          socket.on('close', () => resolve());
        });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    return failed;
  }

  test('an accepting MeshTls keeps no memory per closed mTLS connection', { timeout: 60_000 }, async (t) => {
    const pki = new TestPki('meshacceptmem');
    t.after(() => pki.remove());
    const server = pki.leaf('web');
    const client = pki.leaf('client');
    const running: ChildProcess = fork(new URL(import.meta.url).pathname, [SERVER_ARG, server.keyFile, server.certFile, server.trustAnchorsFile], { execArgv: ['--expose-gc'] });
    t.after(() => running.kill());
    const port = await new Promise<number>((resolve, reject) => {
      running.once('message', (m) => resolve(m as number));
      running.once('exit', (code) => reject(new Error(`server exited with ${String(code)}`)));
    });
    const measure = (): Promise<number> =>
      new Promise((resolve) => {
        running.once('message', (m) => resolve(m as number));
        running.send('measure');
      });
    const options: tls.ConnectionOptions = {
      host: '127.0.0.1',
      port,
      key: readFileSync(client.keyFile),
      cert: readFileSync(client.certFile),
      ca: readFileSync(client.trustAnchorsFile),
      ALPNProtocols: [MESH_ALPN],
      checkServerIdentity: () => undefined,
    };

    // A client without a certificate, or offering another protocol, is still refused.
    const { key: _key, cert: _cert, ...anonymous } = options;
    assert.equal(await churn(anonymous, 1), 1, 'a client without a certificate was accepted');
    assert.equal(await churn({ ...options, ALPNProtocols: ['http/1.1'] }, 1), 1, 'a client without the mesh ALPN was accepted');

    // Warm-up: the arena grows to its working size first.
    assert.equal(await churn(options, 1500), 0);
    const before = await measure();
    const count = 1500;
    assert.equal(await churn(options, count), 0);
    const after = await measure();
    const perConnectionKb = ((after - before) * 1024) / count;
    t.diagnostic(`[heap] ${before.toFixed(1)} → ${after.toFixed(1)} MB over ${count} connections (${perConnectionKb.toFixed(2)} KB each)`);
    // Leaking, it is ~4.3 KB per connection (6+ MB here); without, under 0.5.
    assert.ok(perConnectionKb < 1.5, `[heap] grew ${before.toFixed(1)} → ${after.toFixed(1)} MB over ${count} connections (${perConnectionKb.toFixed(2)} KB each)`);
  });
}
