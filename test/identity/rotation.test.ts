import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCsr, generateKeyPair, parseCertificates } from '../../src/pki/index.ts';
import {
  createServiceAccountToken, identityName, IdentityEventReason, IdentityRpcClient, startIdentityClient, startIdentityService,
  type IdentityClient, type IdentityService,
} from '../../src/identity/index.ts';
import { controlPlane, makeIssuer, makeRoot, ManualClock, tempDir, waitFor, writeIssuerSecret, type ControlPlaneFixture } from './helpers.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
// Short leaves and a wide skew allowance: the test moves its clock by minutes, while
// TLS handshakes (in OpenSSL) check certificates against the real time.
const CONFIG = { issuanceLifetimeMs: 10 * MIN, clockSkewMs: HOUR };

async function workload(t: { after: (fn: () => void) => void }, cp: ControlPlaneFixture, svc: { address: string }, clock: ManualClock, sa: string): Promise<{ client: IdentityClient; changes: number[] }> {
  const files = tempDir(`wl-${sa}`);
  t.after(files.cleanup);
  writeFileSync(join(files.dir, 'anchors.pem'), cp.anchor.certificate.pem);
  writeFileSync(join(files.dir, 'token'), await createServiceAccountToken(cp.store, { namespace: 'emojivoto', serviceAccount: sa, ttlMs: 24 * HOUR, now: clock.now() }));
  const client = await startIdentityClient({
    addr: svc.address, identity: identityName({ namespace: 'emojivoto', serviceAccount: sa }),
    tokenFile: join(files.dir, 'token'), trustAnchorsFile: join(files.dir, 'anchors.pem'), clock, random: () => 0.5,
  });
  t.after(() => client.close());
  const changes: number[] = [];
  client.onChange(() => changes.push(clock.now()));
  await client.whenReady();
  return { client, changes };
}

async function refusedEvents(cp: ControlPlaneFixture): Promise<string[]> {
  const { items } = await cp.store.list('Event', { namespace: 'weft' });
  return items.filter((e) => e.reason === IdentityEventReason.issuerRefused).map((e) => e.message ?? '');
}

test('the issuer rotates while clients run: later leaves chain to the new issuer, invalid issuers are refused with an Event', async (t) => {
  const clock = new ManualClock(Date.now());
  const cp = await controlPlane(clock, CONFIG);
  t.after(() => cp.cleanup());
  const svc: IdentityService = await startIdentityService(cp.store, { addr: '127.0.0.1:0', clock });
  t.after(() => svc.close());
  const workloads = [
    await workload(t, cp, svc, clock, 'web'),
    await workload(t, cp, svc, clock, 'web'),
    await workload(t, cp, svc, clock, 'voting'),
  ];
  for (const w of workloads) assert.equal(w.client.current()?.leaf.authorityKeyId, cp.issuer.certificate.subjectKeyId);

  // The certificate controller renews the issuer Certificate under a moved clock.
  clock.advance(5 * MIN);
  const next = await makeIssuer(cp.anchor, { notBefore: new Date(clock.now() - HOUR), notAfter: new Date(clock.now() + 48 * HOUR) });
  await writeIssuerSecret(cp.store, next, cp.anchor.certificate);
  await waitFor('the new issuer to be accepted', () => svc.issuers.reloads.get({ result: 'accepted' }) === 2);

  // Each client renews at 70% of its leaf (7 minutes in) and gets a leaf from the new issuer.
  clock.advance(3 * MIN);
  await waitFor('every client to renew', () => workloads.every((w) => w.changes.length === 2));
  const files = tempDir('verify');
  t.after(files.cleanup);
  writeFileSync(join(files.dir, 'anchors.pem'), cp.anchor.certificate.pem);
  for (const [i, w] of workloads.entries()) {
    const m = w.client.current();
    assert.ok(m !== undefined);
    assert.equal(m.leaf.authorityKeyId, next.certificate.subjectKeyId, `client ${i} chains to the new issuer`);
    writeFileSync(join(files.dir, 'chain.pem'), m.certChainPem.slice(m.leaf.pem.length));
    writeFileSync(join(files.dir, 'leaf.pem'), m.leaf.pem);
    const out = execFileSync('openssl', ['verify', '-CAfile', join(files.dir, 'anchors.pem'), '-untrusted', join(files.dir, 'chain.pem'), join(files.dir, 'leaf.pem')], { encoding: 'utf8' });
    assert.match(out, /OK/);
  }

  // Invalid issuer Secrets: each refused with an Event, and the new issuer keeps serving.
  const other = await makeRoot(clock.now());
  const now = clock.now();
  const invalid: Array<[string, () => Promise<void>, RegExp]> = [
    ['wrong key', async () => writeIssuerSecret(cp.store, await makeIssuer(cp.anchor, { notBefore: new Date(now - HOUR), notAfter: new Date(now + 48 * HOUR) }), cp.anchor.certificate, { keyOf: other }),
      /key-mismatch/],
    ['not a CA', async () => writeIssuerSecret(cp.store, await makeIssuer(cp.anchor, { notBefore: new Date(now - HOUR), notAfter: new Date(now + 48 * HOUR), isCA: false }), cp.anchor.certificate),
      /not-ca/],
    ['expired', async () => writeIssuerSecret(cp.store, await makeIssuer(cp.anchor, { notBefore: new Date(now - 10 * HOUR), notAfter: new Date(now - HOUR) }), cp.anchor.certificate),
      /expired/],
    ['from another root', async () => writeIssuerSecret(cp.store, await makeIssuer(other, { notBefore: new Date(now - HOUR), notAfter: new Date(now + 48 * HOUR) }), other.certificate),
      /untrusted/],
  ];
  const rpc = new IdentityRpcClient({ addr: svc.address, serverName: svc.serverName, trustAnchorsPem: cp.anchor.certificate.pem });
  t.after(() => rpc.close());
  const web = identityName({ namespace: 'emojivoto', serviceAccount: 'web' });
  const csr = (await createCsr({ subject: web, keyPair: await generateKeyPair(), sans: [{ type: 'dns', value: web }] })).der;
  const token = Buffer.from(await createServiceAccountToken(cp.store, { namespace: 'emojivoto', serviceAccount: 'web', ttlMs: HOUR, now: clock.now() }));
  for (const [i, [name, write, reason]] of invalid.entries()) {
    await write();
    await waitFor(`the ${name} issuer to be refused`, () => svc.issuers.reloads.get({ result: 'refused' }) === i + 1);
    const events = await refusedEvents(cp);
    assert.ok(events.some((m) => reason.test(m) && m.includes(`keeping issuer serial ${next.certificate.serialNumber}`)), `${name}: ${events.join(' | ')}`);
    assert.equal(svc.ready(), true, name);
    const leaf = parseCertificates((await rpc.certify({ identity: web, token, certificateSigningRequest: csr })).leafCertificate)[0];
    assert.equal(leaf?.authorityKeyId, next.certificate.subjectKeyId, `${name}: still signed by the current issuer`);
  }
  assert.match(svc.metrics(), /identity_issuer_reloads_total\{result="refused"\} 4/);
});

test('identity unavailable for a while: clients keep their certificate, back off, and recover when it returns', async (t) => {
  const clock = new ManualClock(Date.now());
  const cp = await controlPlane(clock, CONFIG);
  t.after(() => cp.cleanup());
  let svc = await startIdentityService(cp.store, { addr: '127.0.0.1:0', clock });
  const addr = svc.address;
  t.after(() => svc.close());
  const { client } = await workload(t, cp, svc, clock, 'web');
  const first = client.current();
  assert.ok(first !== undefined);
  await svc.close();

  // Renewal time comes while identity is down: every attempt fails, the delays grow.
  clock.advance(7 * MIN);
  const delays: number[] = [];
  for (let failures = 1; failures <= 4; failures++) {
    await waitFor(`failure ${failures}`, () => /identity_cert_refresh_count\{result="failure"\} (\d+)/.exec(client.metrics())?.[1] === String(failures));
    await waitFor('the retry to be scheduled', () => clock.pending().length > 0);
    const delay = clock.pending()[0] as number;
    delays.push(delay);
    assert.equal(client.current(), first, 'keeps serving with the current certificate');
    assert.equal(client.ready(), true);
    if (failures < 4) clock.advance(delay);
  }
  // random() = 0.5: three quarters of 1 s, 2 s, 4 s, 8 s.
  assert.deepEqual(delays, [750, 1500, 3000, 6000]);
  assert.match(String(client.lastError()?.message), /UNAVAILABLE/);

  // Past the certificate's end it is no longer offered, and the client is not ready.
  clock.advance(first.validUntil.getTime() - clock.now() + 1000);
  await waitFor('the retry after expiry to fail', () => /result="failure"\} 5/.test(client.metrics()));
  assert.equal(client.current(), undefined);
  assert.equal(client.ready(), false);

  // Identity returns on the same address; the next retry succeeds.
  svc = await startIdentityService(cp.store, { addr, clock });
  await waitFor('the retry to be scheduled', () => clock.pending().length > 0);
  clock.advance(Math.min(...clock.pending()));
  await waitFor('recovery', () => client.ready());
  const recovered = client.current();
  assert.ok(recovered !== undefined && recovered.leaf.serialNumber !== first.leaf.serialNumber);
  assert.match(client.metrics(), /identity_cert_refresh_count\{result="ok"\} 2/);
  assert.equal(client.lastError(), undefined);
});
