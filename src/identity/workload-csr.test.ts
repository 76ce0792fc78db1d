import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCsr } from '../pki/index.ts';
import { csrProblem } from './certify.ts';
import { workloadCsr } from './workload-csr.ts';

const WEB = 'web.emojivoto.serviceaccount.identity.weft.cluster.local';
// Over 127 bytes, so every enclosing length takes DER's long form.
const LONG = `${'a'.repeat(63)}.${'b'.repeat(63)}.serviceaccount.identity.weft.cluster.local`;

test('workloadCsr() makes a CSR that openssl verifies and reads as CN and one DNS SAN, ECDSA P-256 with SHA-256', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-workload-csr-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const identity of [WEB, LONG]) {
    const csr = workloadCsr(identity);
    const file = join(dir, 'req.der');
    writeFileSync(file, csr.der);
    const r = spawnSync('openssl', ['req', '-inform', 'DER', '-in', file, '-verify', '-noout', '-text'], { encoding: 'utf8' });
    // openssl prints its verdict on stderr and exits non-zero when the signature fails.
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /verify OK/);
    const out = r.stdout;
    assert.match(out, new RegExp(`Subject: CN ?= ?${identity.replaceAll('.', '\\.')}\\n`));
    assert.match(out, /NIST CURVE: P-256/);
    assert.match(out, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(out, new RegExp(`X509v3 Subject Alternative Name: *\\n *DNS:${identity.replaceAll('.', '\\.')}\\n`));
  }
});

test('workloadCsr() makes a CSR the identity service accepts, for the key it returns', async () => {
  const csr = workloadCsr(WEB);
  const parsed = await parseCsr(csr.der);
  assert.equal(csrProblem(parsed, WEB), null);
  assert.equal(parsed.subject, `CN=${WEB}`);
  assert.deepEqual(Buffer.from(parsed.spki), csr.spki);
  // The PEM key is the private half of that public key.
  const derived = createPublicKey(createPrivateKey(csr.keyPem)).export({ type: 'spki', format: 'der' });
  assert.deepEqual(derived, csr.spki);
  assert.match(csr.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
});

test('workloadCsr() makes a fresh key every time', () => {
  assert.notDeepEqual(workloadCsr(WEB).spki, workloadCsr(WEB).spki);
});

test('workloadCsr() refuses a name that a DNS SAN cannot carry', () => {
  assert.throws(() => workloadCsr('wéb.x'), /printable ASCII/);
  assert.throws(() => workloadCsr(''), /printable ASCII/);
});
