import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { identityName, TestPki, type LeafFiles } from '../../test/proxy/pki-fixture.ts';
import { checkCertifyResponse, type CertifyExpectation } from './workload-leaf.ts';
import type { CertifyResponse } from './wire.ts';

const der = (file: string): Uint8Array => new X509Certificate(readFileSync(file)).raw;
const spkiOf = (leaf: LeafFiles): Buffer => createPublicKey(createPrivateKey(readFileSync(leaf.keyFile))).export({ type: 'spki', format: 'der' });

function setup(t: TestContext, name: string): { pki: TestPki; leaf: LeafFiles; response: CertifyResponse; expect: CertifyExpectation } {
  const pki = new TestPki(name);
  t.after(() => pki.remove());
  const leaf = pki.leaf('web');
  return {
    pki,
    leaf,
    response: { leafCertificate: der(leaf.certFile), intermediateCertificates: [], validUntil: new Date() },
    expect: { spki: spkiOf(leaf), identity: leaf.identity, trustAnchorsPem: readFileSync(pki.caCert, 'utf8'), now: new Date() },
  };
}

test('checkCertifyResponse() accepts a leaf for our key and name that chains to an anchor, and reads it', (t) => {
  const { pki, leaf, response, expect } = setup(t, 'leaf-ok');
  const checked = checkCertifyResponse(response, expect);
  assert.equal(checked.leaf.pem, readFileSync(leaf.certFile, 'utf8'));
  assert.ok(checked.certChainPem.startsWith(checked.leaf.pem));
  assert.equal(checked.leaf.serialNumber, '01');
  assert.deepEqual(Buffer.from(checked.leaf.spki), expect.spki);
  assert.ok(checked.leaf.notAfter.getTime() > Date.now() && checked.leaf.notBefore.getTime() <= Date.now());
  // The authority key id is the anchor's subject key id, as openssl prints it.
  const ski = execFileSync('openssl', ['x509', '-in', pki.caCert, '-noout', '-ext', 'subjectKeyIdentifier'], { encoding: 'utf8' });
  assert.equal(checked.leaf.authorityKeyId, /([0-9A-F]{2}(:[0-9A-F]{2})+)/.exec(ski)?.[1]?.replaceAll(':', '').toLowerCase());
  // An anchor bundle with another root before ours still verifies.
  const other = new TestPki('leaf-ok-other');
  t.after(() => other.remove());
  assert.doesNotThrow(() => checkCertifyResponse(response, { ...expect, trustAnchorsPem: readFileSync(other.caCert, 'utf8') + expect.trustAnchorsPem }));
});

test('checkCertifyResponse() refuses an answer for another key, another name, another anchor, outside its validity, or empty', (t) => {
  const { pki, response, expect } = setup(t, 'leaf-bad');
  const other = new TestPki('leaf-bad-other');
  t.after(() => other.remove());
  const voting = pki.leaf('voting');
  const cases: Array<[string, CertifyResponse, CertifyExpectation, RegExp]> = [
    ['another key', { ...response, leafCertificate: der(voting.certFile) }, expect, /for another key/],
    ['another name', response, { ...expect, identity: identityName('voting') }, /does not name "voting\.default\./],
    ['another anchor', response, { ...expect, trustAnchorsPem: readFileSync(other.caCert, 'utf8') }, /no trust anchor issued .*did not issue/],
    ['no anchors', response, { ...expect, trustAnchorsPem: '' }, /the bundle holds none/],
    ['expired', response, { ...expect, now: new Date(Date.now() + 3 * 86_400_000) }, /expired at/],
    ['not yet valid', response, { ...expect, now: new Date(Date.now() - 86_400_000) }, /is not valid until/],
    ['empty', { ...response, leafCertificate: new Uint8Array(0) }, expect, /returned no certificate/],
    ['not DER', { ...response, leafCertificate: Buffer.from('hello') }, expect, /not a DER certificate/],
  ];
  for (const [name, res, exp, message] of cases) {
    assert.throws(() => checkCertifyResponse(res, exp), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'WEFT_ERR_IDENTITY_RESPONSE', name);
      assert.match(err.message, message, name);
      return true;
    }, name);
  }
});
