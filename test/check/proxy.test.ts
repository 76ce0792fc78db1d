/**
 * `weft check --proxy` against real proxies (src/proxy's startProxy on loopback),
 * with workload certificates from the mesh's real issuer: a proxy holding the
 * current bundle passes; one whose bundle lacks the current anchor fails the
 * trust-bundle check with its hint. Real time here: the proxies judge TLS with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  exportPrivateKey, generateKeyPair, importPrivateKey, issueCertificate, parseCertificates,
} from '../../src/pki/index.ts';
import { fileCredentials, Logger, PROXY_DEFAULTS, startProxy } from '../../src/proxy/index.ts';
import { articleMesh, closedPort, pkiCreate, section, startControlPlane, weft, type ArticleMesh } from './helpers.ts';

const local = { host: '127.0.0.1', port: 0 };

/** Starts a proxy for `sa` with a leaf from the mesh's issuer; `anchorsPem` is its trust bundle. */
async function meshedProxy(t: { after: (fn: () => Promise<void>) => void }, mesh: ArticleMesh, sa: string, anchorsPem: string) {
  const secret = await mesh.store.get('Secret', 'linkerd-identity-issuer', 'linkerd');
  const b64 = (k: string): string => Buffer.from(secret!.data![k]!, 'base64').toString('utf8');
  const issuerChain = parseCertificates(b64('tls.crt'));
  const issuerKey = (await importPrivateKey(b64('tls.key'))).privateKey;
  const keys = await generateKeyPair();
  const name = `${sa}.emojivoto.serviceaccount.identity.linkerd.cluster.local`;
  const now = Date.now();
  const leaf = await issueCertificate({
    subject: name, publicKey: keys.publicKey, issuer: { certificate: issuerChain[0]!, privateKey: issuerKey },
    notBefore: new Date(now - 20_000), notAfter: new Date(now + 24 * 3_600_000),
    keyUsage: ['digitalSignature'], extKeyUsage: ['serverAuth', 'clientAuth'], sans: [{ type: 'dns', value: name }],
  });
  const files = { keyFile: join(mesh.dir, `${sa}.key`), certFile: join(mesh.dir, `${sa}.crt`), trustAnchorsFile: join(mesh.dir, `${sa}-anchors.crt`) };
  writeFileSync(files.keyFile, await exportPrivateKey(keys.privateKey));
  writeFileSync(files.certFile, leaf.pem + issuerChain.map((c) => c.pem).join(''));
  writeFileSync(files.trustAnchorsFile, anchorsPem);
  const proxy = await startProxy({
    ...PROXY_DEFAULTS, inbound: local, outbound: local, admin: local, credentials: fileCredentials(files, { pollMs: 0 }),
  }, { logger: new Logger('off') });
  t.after(() => proxy.stop({ graceMs: 0 }));
  return `emojivoto/${sa}=127.0.0.1:${proxy.ports.admin},${proxy.ports.inbound}#${name}`;
}

async function anchorPem(mesh: ArticleMesh): Promise<string> {
  return (await mesh.store.get('ConfigMap', 'weft-identity-trust-roots', 'linkerd'))!.data!['ca-bundle.crt']!;
}

test('weft check --proxy passes for proxies with current certificates and the current bundle', async (t) => {
  const mesh = await articleMesh(t, { start: new Date() });
  const admin = await startControlPlane(t, mesh);
  const web = await meshedProxy(t, mesh, 'web', await anchorPem(mesh));
  const voting = await meshedProxy(t, mesh, 'voting', await anchorPem(mesh));
  const r = await weft(['check', '--proxy', '--state-dir', mesh.stateDir, '--control-plane-admin', admin, '--proxy-admin', web, '--proxy-admin', voting, '--fail-on', 'warning']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /weft-data-plane\n---------------\n✓ meshed pods are found\n    2 proxy\(ies\)\n✓ data plane proxies are ready\n✓ data plane proxy certificates are valid\n✓ data plane proxy certificates chain to a current trust anchor\n✓ data plane proxies trust the current trust anchors\n✓ data plane proxies renew their certificates on schedule\n/);
  // -n keeps only that namespace's pods.
  const none = await weft(['check', '--proxy', '-n', 'other', '--state-dir', mesh.stateDir, '--control-plane-admin', admin, '--proxy-admin', web]);
  assert.match(section(none.stdout, 'meshed pods are found'), /^‼ [^]*No meshed pods found in namespace "other"[^]*#proxies-found/);
});

test('a proxy with an old trust bundle fails "trust the current trust anchors" with its hint', async (t) => {
  const mesh = await articleMesh(t, { start: new Date() });
  const admin = await startControlPlane(t, mesh);
  pkiCreate(mesh.dir, ['root.old.cluster.local', 'old.crt', 'old.key', '--profile', 'root-ca', '--no-password', '--insecure']);
  const { readFileSync } = await import('node:fs');
  const web = await meshedProxy(t, mesh, 'web', await anchorPem(mesh));
  const stale = await meshedProxy(t, mesh, 'emoji', readFileSync(join(mesh.dir, 'old.crt'), 'utf8'));
  const r = await weft(['check', '--proxy', '--state-dir', mesh.stateDir, '--control-plane-admin', admin, '--proxy-admin', web, '--proxy-admin', stale]);
  assert.equal(r.code, 1, r.stdout);
  const s = section(r.stdout, 'data plane proxies trust the current trust anchors');
  assert.match(s, /^× [^]*Proxy "emojivoto\/emoji" refused a certificate from the current issuer/);
  assert.doesNotMatch(s, /emojivoto\/web/);
  assert.match(s, /see docs\/check\.md#proxy-trust-bundle for hints/);
  // Its own certificate is still fine: only the bundle is old.
  assert.match(section(r.stdout, 'data plane proxy certificates chain to a current trust anchor'), /^✓/);
});

test('a proxy that does not answer fails "proxies are ready"', async (t) => {
  const mesh = await articleMesh(t, { start: new Date() });
  const admin = await startControlPlane(t, mesh);
  const port = await closedPort();
  const r = await weft(['check', '--proxy', '--state-dir', mesh.stateDir, '--control-plane-admin', admin, '--proxy-admin', `emojivoto/gone=127.0.0.1:${port},${port}`]);
  assert.equal(r.code, 1);
  assert.match(section(r.stdout, 'data plane proxies are ready'), /^× [^]*Proxy "emojivoto\/gone" does not answer on its admin port: .*connection refused[^]*#proxies-ready/);
});
