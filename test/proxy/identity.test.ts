import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { fileCredentials, Logger, PROXY_DEFAULTS, startProxy } from '../../src/proxy/index.ts';
import { identityName, TestPki } from './pki-fixture.ts';
import { listen, metrics, request, sample, startMesh, waitFor } from './harness.ts';

function whoApp(): http.Server {
  return http.createServer((req, res) => res.end(String(req.headers['l5d-client-id'] ?? '')));
}

test('A server presenting another identity than discovery promised is refused with 502', async (t) => {
  const appPort = await listen(t, whoApp());
  const m = await startMesh(t, {
    destinations: (bIn) => [`web.test:${appPort}=127.0.0.1:${bIn}#${identityName('billing')}`],
    targets: [`web.test:${appPort}`],
  });
  const r = await request({ port: m.a.ports.targets[0]!, path: '/' });
  assert.equal(r.status, 502);
  assert.match(String(r.headers['l5d-proxy-error']), /billing/);
  assert.equal(sample(await metrics(m.b), 'request_total', 'direction="inbound"'), 0);
});

test('A client proxy whose certificate comes from another root is refused by the inbound proxy', async (t) => {
  const appPort = await listen(t, whoApp());
  const m = await startMesh(t, { destinations: () => [], forwardPort: appPort });
  const rogue = new TestPki('rogue');
  t.after(() => rogue.remove());
  // The rogue trusts the real root (so it would accept B) but its own leaf chains to another root.
  const leaf = rogue.leaf('client', { trustAnchorsFile: m.pki.caCert });
  const local = { host: '127.0.0.1', port: 0 };
  const c = await startProxy({
    ...PROXY_DEFAULTS, inbound: local, outbound: local, admin: local, credentials: fileCredentials(leaf, { pollMs: 0 }),
    destinations: [`web.test:${appPort}=127.0.0.1:${m.b.ports.inbound}#${m.bLeaf.identity}`],
    outboundTargets: [{ listen: local, authority: `web.test:${appPort}` }],
  }, { logger: new Logger('off') });
  t.after(() => c.stop({ graceMs: 0 }));
  const r = await request({ port: c.ports.targets[0]!, path: '/' });
  assert.equal(r.status, 502);
  assert.ok(r.headers['l5d-proxy-error']);
  assert.equal(sample(await metrics(m.b), 'request_total', 'direction="inbound"'), 0);
});

test('Rotated credentials serve new connections while established ones carry on', async (t) => {
  const appPort = await listen(t, whoApp());
  const echo = net.createServer((s) => { s.on('error', () => {}); s.on('data', (d: Buffer) => s.write(d)); });
  const echoPort = await listen(t, echo);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`web.test:${appPort}=127.0.0.1:${bIn}#${bId}`, `echo.test:${echoPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`web.test:${appPort}`, `echo.test:${echoPort}`],
    a: { opaquePorts: new Set([echoPort]) },
  });
  // A long-lived opaque connection and a keep-alive HTTP connection, opened on the old certificates.
  const sock = net.connect(m.a.ports.targets[1]!, '127.0.0.1');
  t.after(() => sock.destroy());
  let got = '';
  sock.on('data', (d: Buffer) => { got += d.toString(); });
  sock.write('before;');
  await waitFor(() => got === 'before;', 'echo before rotation');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  assert.equal((await request({ port: m.a.ports.targets[0]!, agent })).body, m.aLeaf.identity);
  const expiryBefore = sample(await metrics(m.b), 'identity_cert_expiration_timestamp_seconds');

  // Renew both workloads' certificates (longer lifetime: the expiry metric moves).
  for (const [leaf, creds, sa] of [[m.aLeaf, m.aCreds, 'client'], [m.bLeaf, m.bCreds, 'web']] as const) {
    const renewed = m.pki.leaf(sa, { tag: '-renewed', days: 3 });
    copyFileSync(renewed.keyFile, leaf.keyFile);
    copyFileSync(renewed.certFile, leaf.certFile);
    assert.equal(creds.reload(), true);
  }
  assert.ok(sample(await metrics(m.b), 'identity_cert_expiration_timestamp_seconds') > expiryBefore);

  // Established connections were not dropped...
  sock.write('after;');
  await waitFor(() => got === 'before;after;', 'echo after rotation on the old connection');
  assert.equal((await request({ port: m.a.ports.targets[0]!, agent })).body, m.aLeaf.identity);
  // ...and new mesh connections handshake with the renewed certificates.
  const sock2 = net.connect(m.a.ports.targets[1]!, '127.0.0.1');
  t.after(() => sock2.destroy());
  let got2 = '';
  sock2.on('data', (d: Buffer) => { got2 += d.toString(); });
  sock2.write('new');
  await waitFor(() => got2 === 'new', 'echo on a new connection');
  assert.equal(sample(await metrics(m.b), 'tcp_open_total', 'direction="inbound"', 'peer="src"', 'tls="true"'), 3);
});
