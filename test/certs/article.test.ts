import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CertificateController } from '../../src/certs/index.ts';
import { conditionOf } from '../../src/api/index.ts';
import {
  ARTICLE_YAML, ManualClock, applyArticle, applyYaml, createTlsSecret, openssl, pkiCreate, storeIn, tempDir, writeSecretFiles,
} from './helpers.ts';

const H = 3_600_000;

/** The article's setup: trust anchor by `weft pki create`, Secret, Issuer, Certificate. */
async function articleSetup(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t);
  const clock = new ManualClock();
  pkiCreate(dir, ['root.linkerd.cluster.local', 'ca.crt', 'ca.key', '--profile', 'root-ca', '--no-password', '--insecure', '--not-after=87600h']);
  const store = storeIn(t, join(dir, 'state'), clock);
  await applyArticle(store, dir);
  const controller = new CertificateController(store, { clock: clock.now });
  return { dir, clock, store, controller };
}

test("the article's Issuer and Certificate give a Ready issuer that openssl verifies", async (t) => {
  const { dir, clock, store, controller } = await articleSetup(t);
  const issuedAt = clock.now();
  await controller.reconcileAll();

  const issuer = await store.get('Issuer', 'linkerd-trust-anchor', 'linkerd');
  assert.equal(conditionOf(issuer!, 'Ready')?.status, 'True');
  assert.equal(conditionOf(issuer!, 'Ready')?.reason, 'KeyPairVerified');

  const cert = await store.get('Certificate', 'linkerd-identity-issuer', 'linkerd');
  assert.equal(conditionOf(cert!, 'Ready')?.status, 'True', JSON.stringify(cert?.status));
  assert.equal(cert!.status?.revision, 1);
  // 48h with renewBefore 25h renews 23h after issuance.
  assert.equal(cert!.status?.renewalTime, new Date(issuedAt.getTime() + 23 * H).toISOString().replace('.000Z', 'Z'));

  const secret = await store.get('Secret', 'linkerd-identity-issuer', 'linkerd');
  assert.equal(secret!.type, 'kubernetes.io/tls');
  assert.deepEqual(Object.keys(secret!.data ?? {}).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
  assert.equal(secret!.metadata.annotations?.['cert-manager.io/certificate-name'], 'linkerd-identity-issuer');
  assert.equal(secret!.metadata.annotations?.['cert-manager.io/issuer-name'], 'linkerd-trust-anchor');
  assert.equal(secret!.metadata.annotations?.['cert-manager.io/common-name'], 'identity.linkerd.cluster.local');

  const files = writeSecretFiles(secret!, dir);
  // Verify at the store's time (the test moves it; openssl's clock does not move).
  const at = String(Math.floor(clock.now().getTime() / 1000) + 60);
  assert.match(openssl(['verify', '-attime', at, '-CAfile', files['ca.crt']!, files['tls.crt']!]), /: OK/);
  const text = openssl(['x509', '-in', files['tls.crt']!, '-noout', '-text']);
  assert.match(text, /CA:TRUE/);
  assert.match(text, /Certificate Sign, CRL Sign/);
  assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
  assert.match(text, /DNS:identity\.linkerd\.cluster\.local/);
  assert.match(text, /ASN1 OID: prime256v1/);
  // notBefore is back-dated by the 20s clock-skew allowance.
  const notBefore = new Date(openssl(['x509', '-in', files['tls.crt']!, '-noout', '-startdate']).trim().replace('notBefore=', ''));
  assert.equal(notBefore.getTime(), Math.floor(issuedAt.getTime() / 1000) * 1000 - 20_000);
  assert.match(openssl(['pkey', '-in', files['tls.key']!, '-noout', '-text']), /prime256v1/);
  assert.equal((await store.list('CertificateRequest', { namespace: 'linkerd' })).items.length, 1);
});

test('the issuer renews 23h after issuance with a new key, and not a second before', async (t) => {
  const { clock, store, controller } = await articleSetup(t);
  await controller.reconcileAll();
  const first = await store.get('Secret', 'linkerd-identity-issuer', 'linkerd');

  clock.advance(23 * H - 1000);
  await controller.reconcileAll();
  assert.equal((await store.get('Certificate', 'linkerd-identity-issuer', 'linkerd'))!.status?.revision, 1);

  clock.advance(1000);
  await controller.reconcileAll();
  const cert = await store.get('Certificate', 'linkerd-identity-issuer', 'linkerd');
  assert.equal(cert!.status?.revision, 2);
  assert.equal(conditionOf(cert!, 'Ready')?.status, 'True');
  const second = await store.get('Secret', 'linkerd-identity-issuer', 'linkerd');
  assert.notEqual(second!.data?.['tls.crt'], first!.data?.['tls.crt']);
  assert.notEqual(second!.data?.['tls.key'], first!.data?.['tls.key'], 'rotationPolicy Always makes a new key');
  // revisionHistoryLimit 1: only the latest request is kept.
  const requests = (await store.list('CertificateRequest', { namespace: 'linkerd' })).items.map((r) => r.metadata.name);
  assert.deepEqual(requests, ['linkerd-identity-issuer-2']);
  const events = (await store.list('Event', { namespace: 'linkerd' })).items.filter((e) => e.reason === 'Issued');
  assert.ok(events.length >= 1);
});

test('a certificate that expires without renewal shows Ready=False Expired', async (t) => {
  const { clock, store, controller } = await articleSetup(t);
  await controller.reconcileAll();
  // The CA Secret disappears, so nothing can renew it.
  await store.delete('Secret', 'linkerd-trust-anchor', 'linkerd');
  clock.advance(49 * H);
  await controller.reconcileAll();
  const cert = await store.get('Certificate', 'linkerd-identity-issuer', 'linkerd');
  assert.equal(conditionOf(cert!, 'Ready')?.status, 'False');
  assert.equal(conditionOf(cert!, 'Ready')?.reason, 'Expired');
  const issuer = await store.get('Issuer', 'linkerd-trust-anchor', 'linkerd');
  assert.equal(conditionOf(issuer!, 'Ready')?.reason, 'ErrGetKeyPair');
});

test('a missing CA Secret leaves Issuer and Certificate not Ready, and adding it heals both', async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock();
  pkiCreate(dir, ['root.linkerd.cluster.local', 'ca.crt', 'ca.key', '--profile', 'root-ca', '--no-password', '--insecure']);
  const store = storeIn(t, join(dir, 'state'), clock);
  await store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'linkerd' } });
  await applyYaml(store, ARTICLE_YAML);
  const controller = new CertificateController(store, { clock: clock.now });
  await controller.reconcileAll();

  const issuer = await store.get('Issuer', 'linkerd-trust-anchor', 'linkerd');
  assert.equal(conditionOf(issuer!, 'Ready')?.status, 'False');
  assert.equal(conditionOf(issuer!, 'Ready')?.reason, 'ErrGetKeyPair');
  assert.match(conditionOf(issuer!, 'Ready')?.message ?? '', /secrets "linkerd-trust-anchor" not found/);
  let cert = await store.get('Certificate', 'linkerd-identity-issuer', 'linkerd');
  assert.equal(conditionOf(cert!, 'Ready')?.status, 'False');
  assert.equal(conditionOf(cert!, 'Issuing')?.status, 'True');
  const pending = await store.get('CertificateRequest', 'linkerd-identity-issuer-1', 'linkerd');
  assert.equal(conditionOf(pending!, 'Ready')?.reason, 'Pending');

  await createTlsSecret(store, 'linkerd-trust-anchor', 'linkerd', join(dir, 'ca.crt'), join(dir, 'ca.key'));
  await controller.reconcileAll();
  assert.equal(conditionOf((await store.get('Issuer', 'linkerd-trust-anchor', 'linkerd'))!, 'Ready')?.status, 'True');
  cert = await store.get('Certificate', 'linkerd-identity-issuer', 'linkerd');
  assert.equal(conditionOf(cert!, 'Ready')?.status, 'True');
  assert.equal(cert!.status?.revision, 1);
});

test('a CA Secret holding a non-CA certificate makes the Issuer ErrInvalidKeyPair', async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock();
  pkiCreate(dir, ['not-a-ca', 'leaf.crt', 'leaf.key', '--profile', 'self-signed', '--no-password', '--insecure']);
  const store = storeIn(t, join(dir, 'state'), clock);
  await store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'linkerd' } });
  await createTlsSecret(store, 'linkerd-trust-anchor', 'linkerd', join(dir, 'leaf.crt'), join(dir, 'leaf.key'));
  await applyYaml(store, ARTICLE_YAML);
  await new CertificateController(store, { clock: clock.now }).reconcileAll();
  const issuer = await store.get('Issuer', 'linkerd-trust-anchor', 'linkerd');
  assert.equal(conditionOf(issuer!, 'Ready')?.reason, 'ErrInvalidKeyPair');
  assert.match(conditionOf(issuer!, 'Ready')?.message ?? '', /not a CA/);
  const cert = await store.get('Certificate', 'linkerd-identity-issuer', 'linkerd');
  assert.equal(conditionOf(cert!, 'Ready')?.status, 'False');
});
