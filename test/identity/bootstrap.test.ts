import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCertificates } from '../../src/pki/index.ts';
import { openStore } from '../../src/store/index.ts';
import { bootstrapControlPlane, identityConfigFrom, TRUST_ROOTS_CONFIG_MAP, TRUST_ROOTS_KEY } from '../../src/identity/index.ts';
import { ManualClock, tempDir } from './helpers.ts';

test('bootstrapControlPlane() on an empty store creates the anchor, bundle, ca Issuer, issuer Certificate and config, and says so', async (t) => {
  const { dir, cleanup } = tempDir('bootstrap');
  t.after(cleanup);
  const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
  const store = openStore({ stateDir: dir, clock: () => new Date(clock.now()) });
  t.after(() => store.close());

  const result = await bootstrapControlPlane(store, { clock, config: { trustDomain: 'example.org' } });
  assert.equal(result.bootstrapped, true);
  assert.ok(result.created.some((l) => /^Created trust anchor "CN=root\.weft\.example\.org" \(root-ca/.test(l)), result.created.join('\n'));
  assert.ok(result.created.some((l) => /Certificate "weft\/weft-identity-issuer" \(48h, renewBefore 25h\)/.test(l)));

  const bundle = (await store.get('ConfigMap', TRUST_ROOTS_CONFIG_MAP, 'weft'))?.data?.[TRUST_ROOTS_KEY] ?? '';
  const [anchor] = parseCertificates(bundle);
  assert.ok(anchor?.isCA && anchor.pathLen === 1 && anchor.selfSigned);
  assert.deepEqual([...anchor.keyUsage].sort(), ['cRLSign', 'keyCertSign']);
  const issuer = await store.get('Issuer', 'ca', 'weft');
  assert.equal(issuer?.spec.ca?.secretName, 'weft-trust-anchor');
  const cert = await store.get('Certificate', 'weft-identity-issuer', 'weft');
  assert.deepEqual([cert?.spec.duration, cert?.spec.renewBefore, cert?.spec.isCA, cert?.spec.secretName, cert?.spec.issuerRef.name],
    ['48h', '25h', true, 'weft-identity-issuer', 'ca']);
  const config = identityConfigFrom(await store.get('ConfigMap', 'weft-config', 'weft'));
  assert.equal(config.trustDomain, 'example.org');
  assert.equal(config.issuanceLifetimeMs, 24 * 3_600_000);
  assert.ok(await store.get('Secret', 'weft-token-signing-key', 'weft'));

  const again = await bootstrapControlPlane(store, { clock });
  assert.deepEqual([again.bootstrapped, again.created.length], [false, 0]);
});
