/**
 * A real mutual-TLS handshake over node:tls with certificates weft issued: the
 * server presents a DNS identity, the client a SPIFFE URI identity, both chained
 * to one trust anchor through an identity issuer; a client from another root is
 * refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { make, type Issued } from './fixtures.ts';

const SERVER_NAME = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const CLIENT_ID = 'spiffe://cluster.local/ns/emojivoto/sa/vote-bot';

async function mesh(now: Date, anchorName: string): Promise<{ root: Issued; issuer: Issued }> {
  const root = await make({ cn: anchorName, ca: true, pathLen: 1 }, now);
  const issuer = await make({ cn: 'identity.linkerd.cluster.local', ca: true, pathLen: 0, by: root }, now);
  return { root, issuer };
}

interface ServerSide {
  readonly server: tls.Server;
  readonly port: number;
  /** Resolves with the first handshake's outcome on the server side. */
  readonly outcome: Promise<Outcome>;
}

type Outcome =
  | { ok: true; peerUri: string; authorized: boolean; authorizationError: unknown }
  | { ok: false; error: string };

async function startServer(root: Issued, issuer: Issued, leaf: Issued, reject = true): Promise<ServerSide> {
  const server = tls.createServer({
    key: await leaf.keyPem(),
    cert: leaf.cert.pem + issuer.cert.pem,
    ca: root.cert.pem,
    requestCert: true,
    rejectUnauthorized: reject,
    minVersion: 'TLSv1.3',
  });
  const outcome = new Promise<Outcome>((resolve) => {
    server.once('secureConnection', (socket) => {
      const peer = socket.getPeerCertificate();
      resolve({ ok: true, peerUri: peer.subjectaltname ?? '', authorized: socket.authorized, authorizationError: socket.authorizationError });
      socket.end('hello from web');
    });
    server.once('tlsClientError', (err) => resolve({ ok: false, error: err.message }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, outcome };
}

test('weft-issued server and client certificates complete a mutual TLS 1.3 handshake with both identities verified', async (t) => {
  const now = new Date();
  const { root, issuer } = await mesh(now, 'root.linkerd.cluster.local');
  const serverLeaf = await make({ cn: SERVER_NAME, by: issuer, sans: [SERVER_NAME] }, now);
  const clientLeaf = await make({ cn: '', by: issuer, sans: [CLIENT_ID] }, now);
  const side = await startServer(root, issuer, serverLeaf);
  t.after(() => side.server.close());

  const socket = tls.connect({
    host: '127.0.0.1',
    port: side.port,
    servername: SERVER_NAME,
    ca: root.cert.pem,
    key: await clientLeaf.keyPem(),
    cert: clientLeaf.cert.pem + issuer.cert.pem,
  });
  t.after(() => socket.destroy());
  await once(socket, 'secureConnect');
  assert.equal(socket.authorized, true, String(socket.authorizationError));
  assert.equal(socket.getProtocol(), 'TLSv1.3');
  assert.match(socket.getPeerCertificate().subjectaltname ?? '', new RegExp(`DNS:${SERVER_NAME.replace(/\./g, '\\.')}`));
  const [data] = await once(socket, 'data');
  assert.equal(String(data), 'hello from web');
  const seen = await side.outcome;
  assert.deepEqual(seen, { ok: true, peerUri: `URI:${CLIENT_ID}`, authorized: true, authorizationError: null });
});

test('the server refuses a client whose certificate chains to another trust anchor', async (t) => {
  const now = new Date();
  const { root, issuer } = await mesh(now, 'root.linkerd.cluster.local');
  // Same names, different keys: only the signature tells them apart.
  const other = await mesh(now, 'root.linkerd.cluster.local');
  const serverLeaf = await make({ cn: SERVER_NAME, by: issuer, sans: [SERVER_NAME] }, now);
  const intruder = await make({ cn: '', by: other.issuer, sans: [CLIENT_ID] }, now);
  const side = await startServer(root, issuer, serverLeaf);
  t.after(() => side.server.close());

  const socket = tls.connect({
    host: '127.0.0.1',
    port: side.port,
    servername: SERVER_NAME,
    ca: root.cert.pem,
    key: await intruder.keyPem(),
    cert: intruder.cert.pem + other.issuer.cert.pem,
  });
  t.after(() => socket.destroy());
  // In TLS 1.3 the client learns of the refusal after its Finished: as an alert or a reset.
  const clientSaw = new Promise<string>((resolve) => {
    socket.on('error', (err) => resolve(err.message));
    socket.on('data', () => resolve('data'));
    socket.on('close', () => resolve('closed'));
  });
  const seen = await side.outcome;
  assert.equal(seen.ok, false);
  assert.notEqual(await clientSaw, 'data');

  // Node drops the connection without a reason; a server that looks before it
  // refuses (rejectUnauthorized: false) sees why: the chain does not reach its anchor.
  const looking = await startServer(root, issuer, serverLeaf, false);
  t.after(() => looking.server.close());
  const again = tls.connect({
    host: '127.0.0.1', port: looking.port, servername: SERVER_NAME, ca: root.cert.pem,
    key: await intruder.keyPem(), cert: intruder.cert.pem + other.issuer.cert.pem,
  });
  t.after(() => again.destroy());
  again.on('error', () => {});
  const looked = await looking.outcome;
  assert.equal(looked.ok, true);
  assert.equal((looked as { authorized: boolean }).authorized, false);
  assert.match(String((looked as { authorizationError: unknown }).authorizationError), /UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_SIGNATURE_FAILURE|SELF_SIGNED/);
});
