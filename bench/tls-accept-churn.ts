/**
 * Does a `node:tls` server's memory grow per accepted-and-closed mTLS connection?
 * A bare server (no weft code) in a child process, `--expose-gc` and the platform's
 * node flags; this process opens and closes batches of mutual-TLS connections to it
 * (8 at a time) and prints the child's `[heap]` Rss (glibc's main arena) after two
 * forced GCs following each batch. Hop B accepts a mesh connection exactly like this
 * (bench/README.md, item 36).
 *
 *   node bench/tls-accept-churn.ts                      # mtls and plain-tls, 5 batches of 1500
 *   node bench/tls-accept-churn.ts --modes mtls --batches 16
 *
 * Modes: `mtls` (requestCert + rejectUnauthorized, as the mesh), `plain-tls` (no
 * client certificate requested).
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { PROXY_NODE_FLAGS } from '../src/platform/index.ts';
import { TestPki } from '../test/proxy/pki-fixture.ts';
import { mainArenaMb } from '../test/proxy/memory.ts';


if (process.argv[2] === 'server') {
  const [mode, key, cert, ca] = process.argv.slice(3) as [string, string, string, string];
  const mtls = mode === 'mtls';
  const server = tls.createServer({ key: readFileSync(key), cert: readFileSync(cert), ca: readFileSync(ca), requestCert: mtls, rejectUnauthorized: mtls, minVersion: 'TLSv1.3' }, (s) => {
    s.on('error', () => {});
    s.on('data', () => s.end('ok'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const gc = (globalThis as { gc?: () => void }).gc!;
  process.on('message', () => {
    gc();
    gc();
    setTimeout(() => process.send!(mainArenaMb()), 200);
  });
  process.send!((server.address() as net.AddressInfo).port);
} else {
  const { values } = parseArgs({ options: { modes: { type: 'string', default: 'mtls,plain-tls' }, batches: { type: 'string', default: '5' }, size: { type: 'string', default: '1500' } } });
  const pki = new TestPki('tlschurn');
  try {
    const s = pki.leaf('web');
    const c = pki.leaf('client');
    for (const mode of values.modes.split(',')) {
      const child = fork(new URL(import.meta.url).pathname, ['server', mode, s.keyFile, s.certFile, s.trustAnchorsFile], { execArgv: [...PROXY_NODE_FLAGS, '--expose-gc'] });
      const port = await new Promise<number>((r) => child.once('message', (m) => r(m as number)));
      const measure = (): Promise<number> => new Promise((r) => { child.once('message', (m) => r(m as number)); child.send('measure'); });
      const options: tls.ConnectionOptions = { host: '127.0.0.1', port, key: readFileSync(c.keyFile), cert: readFileSync(c.certFile), ca: readFileSync(c.trustAnchorsFile), checkServerIdentity: () => undefined, minVersion: 'TLSv1.3' };
      const series = [(await measure()).toFixed(1)];
      for (let b = 0; b < Number(values.batches); b++) {
        let n = 0;
        const worker = async (): Promise<void> => {
          while (n++ < Number(values.size)) {
            await new Promise<void>((r) => {
              const t = tls.connect(options, () => t.write('x'));
              t.on('data', () => {});
              t.on('error', () => r());
              t.on('close', () => r());
            });
          }
        };
        await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(worker));
        series.push((await measure()).toFixed(1));
      }
      process.stdout.write(`${mode}: ${series.join(' → ')} MB [heap] after each ${values.size} connections\n`);
      child.kill();
    }
  } finally {
    pki.remove();
  }
}
