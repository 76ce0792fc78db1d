/**
 * openssl as the independent judge of what `weft pki` makes: chains of every
 * profile and key type verify, extensions read as step's profiles promise, CSRs
 * carry valid self-signatures, and keys (encrypted too) open with openssl.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssl, tempDir, weftOk } from './helpers.ts';
import { importPrivateKey, issueCertificate, parseCertificates, parseCsr } from '../../src/pki/index.ts';

const KEY_TYPES: ReadonlyArray<{ name: string; flags: string[]; keyText: RegExp }> = [
  { name: 'EC P-256', flags: [], keyText: /NIST CURVE: P-256/ },
  { name: 'EC P-384', flags: ['--kty', 'EC', '--crv', 'P-384'], keyText: /NIST CURVE: P-384/ },
  { name: 'EC P-521', flags: ['--kty', 'EC', '--crv', 'P-521'], keyText: /NIST CURVE: P-521/ },
  { name: 'RSA 2048', flags: ['--kty', 'RSA', '--size', '2048'], keyText: /Public-Key: \(2048 bit\)/ },
  { name: 'OKP Ed25519', flags: ['--kty', 'OKP', '--crv', 'Ed25519'], keyText: /ED25519/ },
];

function text(dir: string, file: string): string {
  const r = openssl(dir, ['x509', '-in', file, '-noout', '-text']);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

for (const kt of KEY_TYPES) {
  test(`openssl verifies a root → intermediate → leaf chain made by weft with ${kt.name} keys, and reads every extension`, (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'pw'), 'correct horse\n');
    weftOk(dir, ['pki', 'create', 'root.linkerd.cluster.local', 'ca.crt', 'ca.key', '--profile', 'root-ca',
      '--no-password', '--insecure', '--not-after=87600h', ...kt.flags]);
    weftOk(dir, ['pki', 'create', 'identity.linkerd.cluster.local', 'issuer.crt', 'issuer.key', '--profile', 'intermediate-ca',
      '--ca', 'ca.crt', '--ca-key', 'ca.key', '--not-after', '48h', '--password-file', 'pw', ...kt.flags]);
    weftOk(dir, ['pki', 'create', 'web.emojivoto.svc', 'web.crt', 'web.key', '--profile', 'leaf',
      '--ca', 'issuer.crt', '--ca-key', 'issuer.key', '--ca-password-file', 'pw', '--no-password', '--insecure',
      '--san', 'web.emojivoto.svc', '--san', '10.1.2.3', '--san', 'spiffe://cluster.local/ns/emojivoto/sa/web', ...kt.flags]);

    const verify = openssl(dir, ['verify', '-CAfile', 'ca.crt', '-untrusted', 'issuer.crt', 'web.crt']);
    assert.equal(verify.status, 0, verify.stderr);
    assert.match(verify.stdout, /web\.crt: OK/);

    const root = text(dir, 'ca.crt');
    assert.match(root, /Subject: CN ?= ?root\.linkerd\.cluster\.local/);
    assert.match(root, /Issuer: CN ?= ?root\.linkerd\.cluster\.local/);
    assert.match(root, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:1/);
    assert.match(root, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
    assert.match(root, /X509v3 Subject Key Identifier:/);
    assert.match(root, /X509v3 Authority Key Identifier:/);
    assert.doesNotMatch(root, /Subject Alternative Name/);
    assert.match(root, kt.keyText);
    // 10 years of 365 days, as step's 87600h.
    const [rootCert] = parseCertificates(readFileSync(join(dir, 'ca.crt')));
    assert.ok(rootCert !== undefined);
    assert.equal(rootCert.notAfter.getTime() - rootCert.notBefore.getTime(), 87_600 * 3_600_000);

    const issuer = text(dir, 'issuer.crt');
    assert.match(issuer, /Issuer: CN ?= ?root\.linkerd\.cluster\.local/);
    assert.match(issuer, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    assert.match(issuer, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);

    const leaf = text(dir, 'web.crt');
    const usage = kt.name.startsWith('RSA') ? 'Digital Signature, Key Encipherment' : 'Digital Signature';
    assert.match(leaf, new RegExp(`X509v3 Key Usage: critical\\s+${usage}\\n`));
    assert.match(leaf, /X509v3 Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/);
    assert.match(leaf, /DNS:web\.emojivoto\.svc, IP Address:10\.1\.2\.3, URI:spiffe:\/\/cluster\.local\/ns\/emojivoto\/sa\/web/);
    assert.doesNotMatch(leaf, /CA:TRUE/);
    // A random 128-bit serial: openssl prints it as 16 (or 17 with a sign byte) hex octets.
    const serial = /Serial Number:\s*\n\s*([0-9a-f:]+)/.exec(leaf)?.[1] ?? '';
    assert.ok(serial.split(':').length >= 15, `serial ${serial} should be about 128 bits`);

    // Keys open with openssl and belong to their certificates.
    for (const [key, crt, pass] of [['ca.key', 'ca.crt', []], ['issuer.key', 'issuer.crt', ['-passin', 'file:pw']], ['web.key', 'web.crt', []]] as const) {
      const pub = openssl(dir, ['pkey', '-in', key, ...pass, '-pubout']);
      assert.equal(pub.status, 0, `${key}: ${pub.stderr}`);
      const certPub = openssl(dir, ['x509', '-in', crt, '-noout', '-pubkey']);
      assert.equal(pub.stdout, certPub.stdout, `${key} should hold the key of ${crt}`);
    }
  });
}

test('the encrypted key weft writes is PKCS#8 with AES-256-CBC, and openssl needs the password to open it', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'pw'), 's3cret\n');
  weftOk(dir, ['pki', 'create', 'root', 'ca.crt', 'ca.key', '--profile', 'root-ca', '--password-file', 'pw']);
  const pem = readFileSync(join(dir, 'ca.key'), 'utf8');
  assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
  const info = openssl(dir, ['asn1parse', '-in', 'ca.key']);
  assert.match(info.stdout, /aes-256-cbc/);
  assert.equal(openssl(dir, ['pkey', '-in', 'ca.key', '-passin', 'pass:s3cret', '-noout']).status, 0);
  assert.notEqual(openssl(dir, ['pkey', '-in', 'ca.key', '-passin', 'pass:wrong', '-noout']).status, 0);
});

test('a self-signed certificate is self-issued with leaf usages, and openssl trusts it as its own anchor', (t) => {
  const dir = tempDir(t);
  weftOk(dir, ['pki', 'create', 'localhost', 'ss.crt', 'ss.key', '--profile', 'self-signed', '--no-password', '--insecure']);
  const out = text(dir, 'ss.crt');
  assert.match(out, /Issuer: CN ?= ?localhost/);
  assert.match(out, /X509v3 Key Usage: critical\s+Digital Signature\n/);
  assert.match(out, /TLS Web Server Authentication, TLS Web Client Authentication/);
  assert.match(out, /DNS:localhost/);
  const verify = openssl(dir, ['verify', '-CAfile', 'ss.crt', 'ss.crt']);
  assert.equal(verify.status, 0, verify.stderr);
});

test('openssl req -verify accepts a CSR made by weft, and a CA signs it into a certificate openssl verifies', async (t) => {
  const dir = tempDir(t);
  weftOk(dir, ['pki', 'create', 'root', 'ca.crt', 'ca.key', '--profile', 'root-ca', '--no-password', '--insecure']);
  for (const [file, flags] of [['ec', []], ['rsa', ['--kty', 'RSA']], ['ed', ['--kty', 'OKP']]] as const) {
    weftOk(dir, ['pki', 'create', 'web.emojivoto.svc', `${file}.csr`, `${file}.key`, '--csr', '--no-password', '--insecure',
      '--san', 'web.emojivoto.svc', '--san', 'spiffe://cluster.local/ns/emojivoto/sa/web', ...flags]);
    const req = openssl(dir, ['req', '-in', `${file}.csr`, '-verify', '-noout', '-text']);
    assert.equal(req.status, 0, req.stderr);
    assert.match(req.stderr + req.stdout, /verify OK/i);
    assert.match(req.stdout, /Subject: CN ?= ?web\.emojivoto\.svc/);
    assert.match(req.stdout, /DNS:web\.emojivoto\.svc, URI:spiffe:\/\/cluster\.local\/ns\/emojivoto\/sa\/web/);

    // Sign it with the library, as identity does.
    const csr = await parseCsr(readFileSync(join(dir, `${file}.csr`)));
    assert.equal(csr.signatureValid, true);
    const [ca] = parseCertificates(readFileSync(join(dir, 'ca.crt')));
    const { privateKey } = await importPrivateKey(readFileSync(join(dir, 'ca.key')));
    const now = new Date();
    const cert = await issueCertificate({
      subject: csr.commonName, publicKey: csr.publicKey, issuer: { certificate: ca!, privateKey },
      notBefore: now, notAfter: new Date(now.getTime() + 3_600_000), sans: csr.sans,
      keyUsage: ['digitalSignature'], extKeyUsage: ['serverAuth', 'clientAuth'],
    });
    writeFileSync(join(dir, `${file}.crt`), cert.pem);
    const verify = openssl(dir, ['verify', '-CAfile', 'ca.crt', `${file}.crt`]);
    assert.equal(verify.status, 0, verify.stderr);
  }
});

test('weft signs with CA keys that openssl wrote: SEC1, PKCS#1, and encrypted PKCS#8', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'pw'), 'opensesame');
  const cases: ReadonlyArray<{ name: string; make: string[]; label: RegExp; pass: string[] }> = [
    { name: 'sec1', make: ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'sec1.key'], label: /BEGIN EC PRIVATE KEY/, pass: [] },
    { name: 'pkcs1', make: ['genrsa', '-traditional', '-out', 'pkcs1.key', '2048'], label: /BEGIN RSA PRIVATE KEY/, pass: [] },
    { name: 'enc', make: ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-aes-256-cbc', '-pass', 'file:pw', '-out', 'enc.key'], label: /BEGIN ENCRYPTED PRIVATE KEY/, pass: ['-passin', 'file:pw'] },
  ];
  for (const c of cases) {
    assert.equal(openssl(dir, c.make).status, 0, `openssl ${c.make.join(' ')}`);
    assert.match(readFileSync(join(dir, `${c.name}.key`), 'utf8'), c.label);
    const root = openssl(dir, ['req', '-x509', '-new', '-key', `${c.name}.key`, ...c.pass, '-subj', `/CN=${c.name} root`, '-days', '30',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', `${c.name}.crt`]);
    assert.equal(root.status, 0, root.stderr);
    weftOk(dir, ['pki', 'create', `${c.name}.leaf`, `${c.name}-leaf.crt`, `${c.name}-leaf.key`, '--ca', `${c.name}.crt`, '--ca-key', `${c.name}.key`,
      ...(c.pass.length > 0 ? ['--ca-password-file', 'pw'] : []), '--no-password', '--insecure', '--not-after', '1h']);
    const verify = openssl(dir, ['verify', '-CAfile', `${c.name}.crt`, `${c.name}-leaf.crt`]);
    assert.equal(verify.status, 0, `${c.name}: ${verify.stderr}`);
  }
});
