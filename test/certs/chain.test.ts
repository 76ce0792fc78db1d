import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateController } from '../../src/certs/index.ts';
import { conditionOf } from '../../src/api/index.ts';
import type { ResourceStore } from '../../src/store/index.ts';
import { ManualClock, applyYaml, createTlsSecret, openssl, pkiCreate, storeIn, tempDir, writeSecretFiles } from './helpers.ts';

const H = 3_600_000;

/** root Secret → Issuer root → Certificate issuer (CA) → Issuer identity → Certificate leaf. */
function chainYaml(leafDuration: string): string {
  return `
apiVersion: cert-manager.io/v1
kind: Issuer
metadata: {name: root, namespace: mesh}
spec: {ca: {secretName: root}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: issuer, namespace: mesh}
spec:
  secretName: issuer
  duration: 48h
  renewBefore: 25h
  issuerRef: {name: root}
  commonName: identity.mesh.cluster.local
  isCA: true
  privateKey: {algorithm: ECDSA}
  usages: [cert sign, crl sign]
---
apiVersion: cert-manager.io/v1
kind: Issuer
metadata: {name: identity, namespace: mesh}
spec: {ca: {secretName: issuer}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: leaf, namespace: mesh}
spec:
  secretName: leaf
  duration: ${leafDuration}
  issuerRef: {name: identity, kind: Issuer}
  dnsNames: [web.mesh.svc.cluster.local]
  uris: [spiffe://cluster.local/ns/mesh/sa/web]
  privateKey: {algorithm: ECDSA, encoding: PKCS8}
  usages: [digital signature, server auth, client auth]
`;
}

async function setup(t: Parameters<typeof tempDir>[0], leafDuration: string) {
  const dir = tempDir(t);
  const clock = new ManualClock();
  pkiCreate(dir, ['root.mesh.cluster.local', 'ca.crt', 'ca.key', '--profile', 'root-ca', '--no-password', '--insecure']);
  const store = storeIn(t, join(dir, 'state'), clock);
  await store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mesh' } });
  await createTlsSecret(store, 'root', 'mesh', join(dir, 'ca.crt'), join(dir, 'ca.key'));
  await applyYaml(store, chainYaml(leafDuration));
  const controller = new CertificateController(store, { clock: clock.now });
  await controller.reconcileAll();
  return { dir, clock, store, controller };
}

async function secretFiles(store: ResourceStore, name: string, dir: string): Promise<Record<string, string>> {
  const out = join(dir, `${name}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(out);
  return writeSecretFiles((await store.get('Secret', name, 'mesh'))!, out);
}


test('a workload certificate chains leaf → issuer → root, with the issuer in tls.crt and the root in ca.crt', async (t) => {
  const { dir, clock, store } = await setup(t, '24h');
  const files = await secretFiles(store, 'leaf', dir);
  const at = String(Math.floor(clock.now().getTime() / 1000) + 60);
  assert.match(openssl(['verify', '-attime', at, '-CAfile', files['ca.crt']!, '-untrusted', files['tls.crt']!, files['tls.crt']!]), /: OK/);
  const text = openssl(['x509', '-in', files['tls.crt']!, '-noout', '-text']);
  assert.match(text, /URI:spiffe:\/\/cluster\.local\/ns\/mesh\/sa\/web/);
  assert.match(text, /DNS:web\.mesh\.svc\.cluster\.local/);
  assert.match(openssl(['pkey', '-in', files['tls.key']!, '-noout', '-text']), /prime256v1/);
  const leaf = await store.get('Certificate', 'leaf', 'mesh');
  assert.equal(conditionOf(leaf!, 'Ready')?.status, 'True');
});

test('when the issuer CA renews, what it signed is re-issued from the new CA', async (t) => {
  const { dir, clock, store, controller } = await setup(t, '24h');
  const before = await secretFiles(store, 'leaf', dir);
  clock.advance(23 * H);
  await controller.reconcileAll();
  const issuer = await store.get('Certificate', 'issuer', 'mesh');
  assert.equal(issuer!.status?.revision, 2);
  const leaf = await store.get('Certificate', 'leaf', 'mesh');
  assert.equal(leaf!.status?.revision, 2, 'the leaf follows its renewed CA');
  const after = await secretFiles(store, 'leaf', dir);
  const issuerFiles = await secretFiles(store, 'issuer', dir);
  const at = String(Math.floor(clock.now().getTime() / 1000) + 60);
  // The new leaf verifies with only the new issuer as intermediate.
  assert.match(openssl(['verify', '-attime', at, '-CAfile', after['ca.crt']!, '-untrusted', issuerFiles['tls.crt']!, after['tls.crt']!]), /: OK/);
  assert.notEqual(openssl(['x509', '-in', before['tls.crt']!, '-noout', '-issuer_hash', '-serial']),
    openssl(['x509', '-in', after['tls.crt']!, '-noout', '-issuer_hash', '-serial']));
});

test('a certificate never outlives its CA: notAfter is clamped and the status says so', async (t) => {
  const { store } = await setup(t, '72h');
  const issuer = await store.get('Certificate', 'issuer', 'mesh');
  const leaf = await store.get('Certificate', 'leaf', 'mesh');
  assert.equal(leaf!.status?.notAfter, issuer!.status?.notAfter);
  assert.match(conditionOf(leaf!, 'Ready')?.message ?? '', /clamped to its issuer's/);
  const events = (await store.list('Event', { namespace: 'mesh' })).items;
  assert.ok(events.some((e) => e.reason === 'ClampedToIssuer' && e.involvedObject.name === 'leaf'));
});

test('a CA that renews too late for what it signs is flagged by RenewalCoverage', async (t) => {
  const covered = await setup(t, '24h');
  const ok = await covered.store.get('Certificate', 'issuer', 'mesh');
  assert.equal(conditionOf(ok!, 'RenewalCoverage')?.status, 'True');

  const risky = await setup(t, '30h');
  const bad = await risky.store.get('Certificate', 'issuer', 'mesh');
  assert.equal(conditionOf(bad!, 'RenewalCoverage')?.status, 'False');
  assert.equal(conditionOf(bad!, 'RenewalCoverage')?.reason, 'LifetimeRisk');
  assert.match(conditionOf(bad!, 'RenewalCoverage')?.message ?? '', /Set spec.renewBefore to at least 30h0m0s/);
  const events = (await risky.store.list('Event', { namespace: 'mesh' })).items;
  assert.equal(events.filter((e) => e.reason === 'LifetimeRisk').length, 1);
});

test('a spec change re-issues at once, and rotationPolicy Never keeps the key', async (t) => {
  const { dir, store, controller } = await setup(t, '24h');
  const leaf = await store.get('Certificate', 'leaf', 'mesh');
  const firstKey = (await store.get('Secret', 'leaf', 'mesh'))!.data?.['tls.key'];
  await store.apply({
    ...leaf!,
    metadata: { name: 'leaf', namespace: 'mesh' },
    spec: { ...leaf!.spec, dnsNames: ['web.mesh.svc.cluster.local', 'web.mesh'], privateKey: { algorithm: 'ECDSA', encoding: 'PKCS8', rotationPolicy: 'Never' } },
  });
  await controller.reconcileAll();
  const after = await store.get('Certificate', 'leaf', 'mesh');
  assert.equal(after!.status?.revision, 2);
  assert.equal((await store.get('Secret', 'leaf', 'mesh'))!.data?.['tls.key'], firstKey);
  const files = await secretFiles(store, 'leaf', dir);
  assert.match(openssl(['x509', '-in', files['tls.crt']!, '-noout', '-ext', 'subjectAltName']), /DNS:web\.mesh\b/);
});

test('a selfSigned ClusterIssuer signs each certificate with its own key', async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock();
  const store = storeIn(t, join(dir, 'state'), clock);
  await applyYaml(store, `
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: selfsigned}
spec: {selfSigned: {}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: root, namespace: default}
spec:
  secretName: root
  isCA: true
  commonName: root.example
  issuerRef: {name: selfsigned, kind: ClusterIssuer}
  privateKey: {algorithm: ECDSA, size: 384}
`);
  await new CertificateController(store, { clock: clock.now }).reconcileAll();
  const issuer = await store.get('ClusterIssuer', 'selfsigned');
  assert.equal(conditionOf(issuer!, 'Ready')?.reason, 'IsReady');
  const cert = await store.get('Certificate', 'root', 'default');
  assert.equal(conditionOf(cert!, 'Ready')?.status, 'True');
  const out = join(dir, 'out');
  mkdirSync(out);
  const files = writeSecretFiles((await store.get('Secret', 'root', 'default'))!, out);
  const at = String(Math.floor(clock.now().getTime() / 1000) + 60);
  assert.match(openssl(['verify', '-attime', at, '-CAfile', files['ca.crt']!, files['tls.crt']!]), /: OK/);
  assert.match(openssl(['x509', '-in', files['tls.crt']!, '-noout', '-text']), /secp384r1|P-384/);
  // cert-manager's default encoding is PKCS1, which is SEC1 for ECDSA keys.
  const keyPem = Buffer.from((await store.get('Secret', 'root', 'default'))!.data?.['tls.key'] ?? '', 'base64').toString();
  assert.match(keyPem, /^-----BEGIN EC PRIVATE KEY-----/);
});
