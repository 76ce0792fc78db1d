import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair, type KeySpec } from './key-spec.ts';
import { exportPrivateKey, importPrivateKey } from './private-key.ts';
import { crypto } from './x509-runtime.ts';

const SPECS: KeySpec[] = [
  { kty: 'EC', crv: 'P-256' },
  { kty: 'EC', crv: 'P-384' },
  { kty: 'EC', crv: 'P-521' },
  { kty: 'RSA', size: 2048 },
  { kty: 'OKP', crv: 'Ed25519' },
];

test('exportPrivateKey() and importPrivateKey() round-trip every key type, plain and encrypted', async () => {
  for (const spec of SPECS) {
    const keys = await generateKeyPair(spec);
    for (const password of [undefined, 'pässword']) {
      const pem = await exportPrivateKey(keys.privateKey, password === undefined ? {} : { password });
      assert.match(pem, password === undefined ? /^-----BEGIN PRIVATE KEY-----/ : /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      const back = await importPrivateKey(pem, password === undefined ? {} : { password });
      const data = new TextEncoder().encode('proof of possession');
      const alg = spec.kty === 'EC' ? { name: 'ECDSA', hash: 'SHA-256' } : back.privateKey.algorithm;
      const sig = await crypto.subtle.sign(alg, back.privateKey, data);
      assert.equal(await crypto.subtle.verify(alg, keys.publicKey, sig, data), true, JSON.stringify(spec));
      assert.equal(await crypto.subtle.verify(alg, back.publicKey, sig, data), true, JSON.stringify(spec));
    }
  }
});

test('importPrivateKey() names a missing or wrong password with WEFT_ERR_PKI_BAD_PASSWORD', async () => {
  const keys = await generateKeyPair();
  const pem = await exportPrivateKey(keys.privateKey, { password: 'right' });
  await assert.rejects(importPrivateKey(pem), { code: 'WEFT_ERR_PKI_BAD_PASSWORD', message: /none was given/ });
  await assert.rejects(importPrivateKey(pem, { password: 'wrong' }), { code: 'WEFT_ERR_PKI_BAD_PASSWORD', message: /does not decrypt/ });
});

test('importPrivateKey() refuses input without a key, naming what it found', async () => {
  await assert.rejects(importPrivateKey('hello'), { code: 'WEFT_ERR_PKI_BAD_PEM', message: /no PEM block/ });
  await assert.rejects(
    importPrivateKey('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
    { code: 'WEFT_ERR_PKI_BAD_PEM', message: /found a "CERTIFICATE" PEM block/ },
  );
});
