import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from './key-spec.ts';
import { issueCertificate } from './issue-certificate.ts';
import { keyIdentifier } from './key-identifier.ts';
import { profileOptions } from './profiles.ts';
import { verifyChain } from './verify-chain.ts';
import { parseCertificates } from './certificate.ts';
import { parseSan } from './san.ts';

const NOW = new Date('2026-06-01T00:00:00Z');
const LATER = new Date('2026-06-02T00:00:00Z');

test('issueCertificate() always sets subject and authority key identifiers, and a positive 128-bit serial', async () => {
  const keys = await generateKeyPair();
  const root = await issueCertificate({ subject: 'root', publicKey: keys.publicKey, issuer: { selfSigned: keys.privateKey }, notBefore: NOW, notAfter: LATER, isCA: true });
  assert.equal(root.subjectKeyId, keyIdentifier(root.spki));
  assert.equal(root.authorityKeyId, root.subjectKeyId);
  assert.equal(root.selfSigned, true);
  const leafKeys = await generateKeyPair();
  const leaf = await issueCertificate({ subject: 'web', publicKey: leafKeys.publicKey, issuer: { certificate: root, privateKey: keys.privateKey }, notBefore: NOW, notAfter: LATER });
  assert.equal(leaf.authorityKeyId, root.subjectKeyId);
  assert.equal(leaf.selfSigned, false);
  assert.ok(leaf.serialNumber.length >= 30 && leaf.serialNumber.length <= 32, leaf.serialNumber);
  assert.notEqual(leaf.serialNumber, root.serialNumber);
});

test('issueCertificate() keeps each issuer\'s cached name and key id apart when signing for many issuers', async () => {
  const issuers = await Promise.all(['a', 'b', 'c'].map(async (cn) => {
    const k = await generateKeyPair();
    const cert = await issueCertificate({ subject: `issuer ${cn}`, publicKey: k.publicKey, issuer: { selfSigned: k.privateKey }, notBefore: NOW, notAfter: LATER, isCA: true });
    return { certificate: cert, privateKey: k.privateKey };
  }));
  const leafKeys = await generateKeyPair();
  for (let round = 0; round < 2; round++) {
    for (const issuer of issuers) {
      const leaf = await issueCertificate({ subject: 'web', publicKey: leafKeys.publicKey, issuer, notBefore: NOW, notAfter: LATER });
      assert.equal(leaf.issuer, issuer.certificate.subject);
      assert.equal(verifyChain(leaf, { roots: [issuer.certificate], at: NOW }).kind, 'valid');
    }
  }
});

test('issueCertificate() refuses a notAfter that is not after notBefore, and a path length on a leaf', async () => {
  const keys = await generateKeyPair();
  const base = { subject: 'x', publicKey: keys.publicKey, issuer: { selfSigned: keys.privateKey } } as const;
  await assert.rejects(issueCertificate({ ...base, notBefore: LATER, notAfter: NOW }), { code: 'WEFT_ERR_PKI_BAD_REQUEST' });
  await assert.rejects(issueCertificate({ ...base, notBefore: NOW, notAfter: NOW }), { code: 'WEFT_ERR_PKI_BAD_REQUEST' });
  await assert.rejects(issueCertificate({ ...base, notBefore: NOW, notAfter: LATER, pathLen: 0 }), { code: 'WEFT_ERR_PKI_BAD_REQUEST' });
});

test('profileOptions() gives step\'s defaults for each profile', () => {
  const h = 3_600_000;
  assert.deepEqual(profileOptions('root-ca', 'EC'), { lifetimeMs: 87_600 * h, isCA: true, pathLen: 1, keyUsage: ['keyCertSign', 'cRLSign'], extKeyUsage: [], selfSigned: true, subjectAsSan: false });
  assert.deepEqual(profileOptions('intermediate-ca', 'EC'), { lifetimeMs: 87_600 * h, isCA: true, pathLen: 0, keyUsage: ['keyCertSign', 'cRLSign'], extKeyUsage: [], selfSigned: false, subjectAsSan: false });
  assert.deepEqual(profileOptions('leaf', 'EC'), { lifetimeMs: 24 * h, isCA: false, keyUsage: ['digitalSignature'], extKeyUsage: ['serverAuth', 'clientAuth'], selfSigned: false, subjectAsSan: true });
  assert.deepEqual(profileOptions('leaf', 'RSA').keyUsage, ['digitalSignature', 'keyEncipherment']);
  assert.equal(profileOptions('self-signed', 'OKP').selfSigned, true);
});

test('issueCertificate() returns exactly what parsing its DER gives, for every key type and extension', async () => {
  const specs = [{ kty: 'EC', crv: 'P-256' }, { kty: 'EC', crv: 'P-384' }, { kty: 'EC', crv: 'P-521' }, { kty: 'RSA', size: 2048 }, { kty: 'OKP', crv: 'Ed25519' }] as const;
  const odd = new Date('2049-12-31T23:59:59.789Z');
  for (const spec of specs) {
    const caKeys = await generateKeyPair(spec);
    const ca = await issueCertificate({
      subject: 'root, with comma', publicKey: caKeys.publicKey, issuer: { selfSigned: caKeys.privateKey },
      notBefore: new Date('2026-01-01T00:00:00.500Z'), notAfter: new Date('2051-01-01T00:00:00Z'), isCA: true, pathLen: 2,
      keyUsage: ['cRLSign', 'keyCertSign', 'digitalSignature'], serialNumber: '00ff',
    });
    const leafKeys = await generateKeyPair();
    const leaf = await issueCertificate({
      subject: 'web', publicKey: leafKeys.publicKey, issuer: { certificate: ca, privateKey: caKeys.privateKey },
      notBefore: NOW, notAfter: odd, keyUsage: ['keyEncipherment', 'digitalSignature'], extKeyUsage: ['clientAuth', 'serverAuth', '1.2.3.4'],
      sans: ['web.example', '2001:db8::1', '10.0.0.1', 'spiffe://td/ns/a/sa/b', 'ops@example.com'].map(parseSan),
    });
    for (const cert of [ca, leaf]) {
      const [parsed] = parseCertificates(cert.der);
      assert.deepEqual({ ...cert }, { ...parsed }, `${JSON.stringify(spec)} ${cert.commonName}`);
    }
  }
});
