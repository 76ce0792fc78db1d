import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { listen, metrics, sample, startMesh, waitFor } from './harness.ts';
import { TestPki } from './pki-fixture.ts';

function echoServer(): net.Server {
  return net.createServer((s) => {
    s.on('error', () => {});
    s.on('data', (d: Buffer) => s.write(d));
    s.on('end', () => s.end());
  });
}

async function roundTrip(sock: net.Socket | tls.TLSSocket, text: string): Promise<string> {
  let got = '';
  const onData = (d: Buffer): void => { got += d.toString(); };
  sock.on('data', onData);
  sock.write(text);
  await waitFor(() => got.length >= text.length, `echo of "${text}"`);
  sock.removeListener('data', onData);
  return got;
}

test('Opaque TCP on an opaque port skips detection and crosses the mesh with a transport header, one mesh connection each when --opaque-mux is false', async (t) => {
  const app = echoServer();
  const appPort = await listen(t, app);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`db.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`db.test:${appPort}`],
    a: { opaquePorts: new Set([appPort]), opaqueMux: false },
  });
  const sock = net.connect(m.a.ports.targets[0]!, '127.0.0.1');
  t.after(() => sock.destroy());
  sock.on('error', () => {});
  assert.equal(await roundTrip(sock, '\x00\x01binary protocol'), '\x00\x01binary protocol');
  const am = await metrics(m.a);
  assert.equal(sample(am, 'protocol_detect_total', 'direction="outbound"', 'outcome="skipped"'), 1);
  assert.equal(sample(am, 'tcp_open_total', 'direction="outbound"', 'peer="dst"', 'tls="true"'), 1);
  assert.equal(sample(await metrics(m.b), 'tcp_open_total', 'direction="inbound"', 'peer="src"', 'tls="true"', `client_id="${m.aLeaf.identity}"`), 1);
  sock.end();
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections') === 0, 'connections to close');
  await waitFor(async () => sample(await metrics(m.b), 'tcp_open_connections') === 0, 'the inbound connections to close');
  // Byte counters see what the opaque pipes relayed: 17 bytes each way at the client and at the application.
  const a = await metrics(m.a);
  assert.equal(sample(a, 'tcp_read_bytes_total', 'direction="outbound"', 'peer="src"'), 17);
  assert.equal(sample(a, 'tcp_write_bytes_total', 'direction="outbound"', 'peer="src"'), 17);
  const b = await metrics(m.b);
  assert.equal(sample(b, 'tcp_write_bytes_total', 'direction="inbound"', 'peer="dst"'), 17);
  assert.equal(sample(b, 'tcp_read_bytes_total', 'direction="inbound"', 'peer="dst"'), 17);
});

test('A server-speaks-first protocol falls back to opaque after the detect timeout, labelled timeout', async (t) => {
  const banner = net.createServer((s) => {
    s.on('error', () => {});
    s.write('220 smtp ready\r\n');
    s.on('data', (d: Buffer) => s.write(d));
  });
  const appPort = await listen(t, banner);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`mail.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`mail.test:${appPort}`],
    a: { detectTimeoutMs: 150 },
    b: { detectTimeoutMs: 150 },
  });
  const sock = net.connect(m.a.ports.targets[0]!, '127.0.0.1');
  t.after(() => sock.destroy());
  let got = '';
  sock.on('data', (d: Buffer) => { got += d.toString(); });
  await waitFor(() => got.includes('220 smtp ready'), 'the banner after the detect timeout');
  assert.equal(sample(await metrics(m.a), 'protocol_detect_total', 'direction="outbound"', 'outcome="timeout"'), 1);
});

test('An application\'s own TLS is passed through untouched (opaque), end to end', async (t) => {
  const appPki = new TestPki('app');
  t.after(() => appPki.remove());
  const appLeaf = appPki.leaf('shop');
  const app = tls.createServer({ key: readFileSync(appLeaf.keyFile), cert: readFileSync(appLeaf.certFile) }, (s) => {
    s.on('error', () => {});
    s.on('data', (d: Buffer) => s.write(`tls:${d.toString()}`));
  });
  const appPort = await listen(t, app);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`shop.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`shop.test:${appPort}`],
  });
  const sock = tls.connect({ port: m.a.ports.targets[0]!, host: '127.0.0.1', servername: appLeaf.identity, ca: readFileSync(appPki.caCert) });
  t.after(() => sock.destroy());
  await new Promise<void>((resolve, reject) => { sock.once('secureConnect', resolve); sock.once('error', reject); });
  // The client verified the application's own certificate: the proxies did not terminate its TLS.
  assert.equal(sock.authorized, true);
  assert.equal(await roundTrip(sock, 'hello'), 'tls:hello');
  assert.equal(sample(await metrics(m.a), 'protocol_detect_total', 'direction="outbound"', 'outcome="tls"'), 1);
  assert.equal(sample(await metrics(m.b), 'protocol_detect_total', 'direction="inbound"', 'outcome="mesh_tls"'), 1);
});

test('CONNECT through the outbound listener tunnels to the named authority', async (t) => {
  const app = echoServer();
  const appPort = await listen(t, app);
  const m = await startMesh(t, { destinations: (bIn, bId) => [`echo.test:${appPort}=127.0.0.1:${bIn}#${bId}`] });
  const sock = net.connect(m.a.ports.outbound, '127.0.0.1');
  t.after(() => sock.destroy());
  let got = '';
  sock.on('data', (d: Buffer) => { got += d.toString(); });
  sock.write(`CONNECT echo.test:${appPort} HTTP/1.1\r\nHost: echo.test:${appPort}\r\n\r\n`);
  await waitFor(() => got.includes('\r\n\r\n'), 'CONNECT response');
  assert.match(got, /^HTTP\/1.1 200/);
  got = '';
  sock.write('\x01\x02 tunnelled');
  await waitFor(() => got === '\x01\x02 tunnelled', 'echo through CONNECT', 15_000);
});
