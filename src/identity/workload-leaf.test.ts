import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/**
 * A root, CAs and leaves made with openssl in a temporary directory, for the
 * certificates TestPki does not make (a pathlen:0 intermediate, odd leaves).
 */
class ChainPki {
  readonly dir: string;
  readonly root: string;

  constructor(t: TestContext, label: string) {
    this.dir = mkdtempSync(join(tmpdir(), `weft-leaf-${label}-`));
    t.after(() => rmSync(this.dir, { recursive: true, force: true }));
    this.root = this.#path('root');
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${this.root}.key`]);
    openssl(['req', '-x509', '-new', '-key', `${this.root}.key`, '-subj', '/CN=root.weft.test', '-days', '2', '-out', `${this.root}.pem`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', this.#path('leaf.key')]);
  }

  /** The workload's key (every leaf is for it). */
  get spki(): Buffer {
    return createPublicKey(createPrivateKey(readFileSync(this.#path('leaf.key')))).export({ type: 'spki', format: 'der' });
  }

  /** Issues an intermediate CA `cn` from `issuer` ('root' or another intermediate). */
  ca(cn: string, issuer: string, basicConstraints = 'critical,CA:TRUE'): Uint8Array {
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${this.#path(cn)}.key`]);
    return this.#issue(cn, issuer, `${this.#path(cn)}.key`, [`basicConstraints=${basicConstraints}`, 'keyUsage=critical,keyCertSign',
      'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid']);
  }

  /** Issues a leaf for the workload's key from `issuer` with these extension lines. */
  leaf(cn: string, issuer: string, extensions: string[]): Uint8Array {
    return this.#issue(cn, issuer, this.#path('leaf.key'), [...extensions, 'authorityKeyIdentifier=keyid']);
  }

  #issue(cn: string, issuer: string, keyFile: string, extensions: string[]): Uint8Array {
    const base = this.#path(cn);
    writeFileSync(`${base}.ext`, extensions.join('\n'));
    openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${cn}`, '-out', `${base}.csr`]);
    openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', `${this.#path(issuer)}.pem`, '-CAkey', `${this.#path(issuer)}.key`,
      '-CAcreateserial', '-days', '1', '-extfile', `${base}.ext`, '-out', `${base}.pem`]);
    return der(`${base}.pem`);
  }

  #path(cn: string): string {
    return join(this.dir, cn);
  }
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

const ID = identityName('web');
const MESH_LEAF = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth,clientAuth',
  `subjectAltName=DNS:${ID},URI:spiffe://cluster.local/ns/default/sa/web`];

/** Asserts checkCertifyResponse refuses `leaf` (issued through `intermediates`) with WEFT_ERR_IDENTITY_RESPONSE and `message`. */
function assertRefused(pki: ChainPki, leaf: Uint8Array, intermediates: Uint8Array[], message: RegExp): void {
  const response: CertifyResponse = { leafCertificate: leaf, intermediateCertificates: intermediates, validUntil: new Date() };
  const expect: CertifyExpectation = { spki: pki.spki, identity: ID, trustAnchorsPem: readFileSync(`${pki.root}.pem`, 'utf8'), now: new Date() };
  assert.throws(() => checkCertifyResponse(response, expect), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'WEFT_ERR_IDENTITY_RESPONSE');
    assert.match(err.message, /^Certify returned a certificate that does not verify: /);
    assert.match(err.message, message);
    return true;
  });
}

test('checkCertifyResponse() accepts a mesh leaf issued directly by a pathlen:0 intermediate', (t) => {
  const pki = new ChainPki(t, 'chain-ok');
  const anchors = readFileSync(`${pki.root}.pem`, 'utf8');
  const int = pki.ca('int', 'root', 'critical,CA:TRUE,pathlen:0');
  const leaf = pki.leaf('web', 'int', MESH_LEAF);
  const checked = checkCertifyResponse({ leafCertificate: leaf, intermediateCertificates: [int], validUntil: new Date() },
    { spki: pki.spki, identity: ID, trustAnchorsPem: anchors, now: new Date() });
  assert.equal(checked.certChainPem, new X509Certificate(leaf).toString() + new X509Certificate(int).toString());
});

test('checkCertifyResponse() refuses a chain where a pathlen:0 intermediate issued another CA', (t) => {
  const pki = new ChainPki(t, 'pathlen');
  const int0 = pki.ca('int0', 'root', 'critical,CA:TRUE,pathlen:0');
  const sub = pki.ca('sub', 'int0');
  const leaf = pki.leaf('web', 'sub', MESH_LEAF);
  // openssl agrees, so the chain is otherwise sound.
  assert.throws(() => execFileSync('openssl', ['verify', '-CAfile', `${pki.root}.pem`, '-untrusted', join(pki.dir, 'int0.pem'),
    '-untrusted', join(pki.dir, 'sub.pem'), join(pki.dir, 'web.pem')], { stdio: 'pipe' }), /path length constraint exceeded/);
  assertRefused(pki, leaf, [sub, int0], /"CN=int0" allows 0 intermediates below it \(pathlen\) but 1 follows it/);
});

test('checkCertifyResponse() refuses a leaf whose DNS SAN is a partial wildcard of our identity', (t) => {
  const pki = new ChainPki(t, 'partial-wild');
  const int = pki.ca('int', 'root');
  const leaf = pki.leaf('web', 'int', [...MESH_LEAF.slice(0, 3), 'subjectAltName=DNS:web*.default.serviceaccount.identity.weft.cluster.local']);
  // node's checkHost would have matched it.
  assert.equal(new X509Certificate(leaf).checkHost(ID, { subject: 'never' }), 'web*.default.serviceaccount.identity.weft.cluster.local');
  assertRefused(pki, leaf, [int], /does not name "web\.default\.[^"]+" as its one DNS SAN \(DNS SANs "web\*\.default\./);
});

test('checkCertifyResponse() refuses a leaf whose DNS SAN is a wildcard, or that names another DNS name besides our identity', (t) => {
  const pki = new ChainPki(t, 'wild');
  const int = pki.ca('int', 'root');
  const wild = pki.leaf('wild', 'int', [...MESH_LEAF.slice(0, 3), 'subjectAltName=DNS:*.default.serviceaccount.identity.weft.cluster.local']);
  assertRefused(pki, wild, [int], /as its one DNS SAN \(DNS SANs "\*\.default\./);
  const two = pki.leaf('two', 'int', [...MESH_LEAF.slice(0, 3), `subjectAltName=DNS:${ID},DNS:voting.default.svc`]);
  assertRefused(pki, two, [int], /as its one DNS SAN \(DNS SANs "web\.default\.[^"]+", "voting\.default\.svc"\)/);
});

test('checkCertifyResponse() refuses a leaf that is a CA (basicConstraints CA:TRUE)', (t) => {
  const pki = new ChainPki(t, 'leaf-ca');
  const int = pki.ca('int', 'root');
  const leaf = pki.leaf('web', 'int', ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,digitalSignature', `subjectAltName=DNS:${ID}`]);
  assertRefused(pki, leaf, [int], /"CN=web" is a CA certificate \(basicConstraints CA:TRUE\), not a workload leaf/);
});

test('checkCertifyResponse() refuses a leaf whose extended key usage lacks serverAuth or clientAuth', (t) => {
  const pki = new ChainPki(t, 'leaf-eku');
  const int = pki.ca('int', 'root');
  const codeSigning = pki.leaf('code', 'int', ['basicConstraints=CA:FALSE', 'extendedKeyUsage=codeSigning', `subjectAltName=DNS:${ID}`]);
  assertRefused(pki, codeSigning, [int], /"CN=code" is not for serverAuth and clientAuth \(extended key usage 1\.3\.6\.1\.5\.5\.7\.3\.3\)/);
  const serverOnly = pki.leaf('server', 'int', ['basicConstraints=CA:FALSE', 'extendedKeyUsage=serverAuth', `subjectAltName=DNS:${ID}`]);
  assertRefused(pki, serverOnly, [int], /"CN=server" is not for clientAuth \(/);
});
