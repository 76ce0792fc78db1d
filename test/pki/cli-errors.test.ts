/**
 * `weft pki` on bad input: every mistake gets one line that says what to do,
 * exit code 2, and leaves no output file (complete, partial or temporary).
 * The CLI runs as a subprocess in a fresh directory for each case.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { make, type Issued } from './fixtures.ts';
import { tempDir, weft, weftOk } from './helpers.ts';
import { exportPrivateKey } from '../../src/pki/index.ts';

interface Inputs {
  root: Issued;
  otherRoot: Issued;
  encryptedKey: string;
  leaf: Issued;
}

let inputs: Inputs;

before(async () => {
  const now = new Date();
  const root = await make({ cn: 'root.linkerd.cluster.local', ca: true, pathLen: 1, notAfter: new Date(now.getTime() + 30 * 86_400_000) }, now);
  const otherRoot = await make({ cn: 'other root', ca: true, pathLen: 1 }, now);
  const leaf = await make({ cn: 'leaf', by: root }, now);
  inputs = { root, otherRoot, leaf, encryptedKey: await exportPrivateKey(root.privateKey, { password: 'right' }) };
});

/** Writes the inputs every case may use into `dir`. */
async function setUp(dir: string): Promise<void> {
  writeFileSync(join(dir, 'ca.crt'), inputs.root.cert.pem);
  writeFileSync(join(dir, 'ca.key'), await inputs.root.keyPem());
  writeFileSync(join(dir, 'ca-enc.key'), inputs.encryptedKey);
  writeFileSync(join(dir, 'other.key'), await inputs.otherRoot.keyPem());
  writeFileSync(join(dir, 'leaf.crt'), inputs.leaf.cert.pem);
  writeFileSync(join(dir, 'leaf.key'), await inputs.leaf.keyPem());
  writeFileSync(join(dir, 'right.pw'), 'right\n');
  writeFileSync(join(dir, 'wrong.pw'), 'wrong\n');
  writeFileSync(join(dir, 'empty.pw'), '');
  const lines = inputs.root.cert.pem.split('\n');
  // Corrupt: a base64 line damaged in the middle, and one cut short before END.
  writeFileSync(join(dir, 'corrupt.crt'), [...lines.slice(0, 3), '!!not base64!!', ...lines.slice(4)].join('\n'));
  writeFileSync(join(dir, 'truncated.crt'), lines.slice(0, 4).join('\n'));
  writeFileSync(join(dir, 'garbage.crt'), 'this is not a certificate at all');
  mkdirSync(join(dir, 'a-directory'));
}

const NO_PW = ['--no-password', '--insecure'];
const WITH_CA = ['--ca', 'ca.crt', '--ca-key', 'ca.key'];

const CASES: ReadonlyArray<{ name: string; args: string[]; says: RegExp }> = [
  { name: 'a missing CA certificate file', args: ['pki', 'create', 'web', 'out.crt', 'out.key', '--ca', 'nope.crt', '--ca-key', 'ca.key', ...NO_PW], says: /Give an existing file for --ca: "nope\.crt" does not exist/ },
  { name: 'a missing CA key file', args: ['pki', 'create', 'web', 'out.crt', 'out.key', '--ca', 'ca.crt', '--ca-key', 'nope.key', ...NO_PW], says: /"nope\.key" does not exist/ },
  { name: 'an unreadable CA file (a directory)', args: ['pki', 'create', 'web', 'out.crt', 'out.key', '--ca', 'a-directory', '--ca-key', 'ca.key', ...NO_PW], says: /"a-directory" is a directory/ },
  { name: 'a missing password file', args: ['pki', 'create', 'root', 'out.crt', 'out.key', '--profile', 'root-ca', '--password-file', 'nope.pw'], says: /--password-file: "nope\.pw" does not exist/ },
  { name: 'an empty password file', args: ['pki', 'create', 'root', 'out.crt', 'out.key', '--profile', 'root-ca', '--password-file', 'empty.pw'], says: /Put a password in "empty\.pw"/ },
  { name: 'a CA certificate with damaged base64', args: ['pki', 'create', 'web', 'out.crt', 'out.key', '--ca', 'corrupt.crt', '--ca-key', 'ca.key', ...NO_PW], says: /damaged/ },
  { name: 'a CA certificate cut short', args: ['pki', 'create', 'web', 'out.crt', 'out.key', '--ca', 'truncated.crt', '--ca-key', 'ca.key', ...NO_PW], says: /cut short/ },
  { name: 'a CA file that is not a certificate', args: ['pki', 'create', 'web', 'out.crt', 'out.key', '--ca', 'garbage.crt', '--ca-key', 'ca.key', ...NO_PW], says: /certificate/ },
  { name: 'a CA certificate given as the key', args: ['pki', 'create', 'web', 'out.crt', 'out.key', '--ca', 'ca.crt', '--ca-key', 'ca.crt', ...NO_PW], says: /Give a private key: found a "CERTIFICATE" PEM block/ },
  { name: 'a key that does not match the CA certificate', args: ['pki', 'create', 'web', 'out.crt', 'out.key', '--ca', 'ca.crt', '--ca-key', 'other.key', ...NO_PW], says: /Use the private key of the CA certificate: "other\.key" does not match "ca\.crt"/ },
  { name: 'a wrong CA password', args: ['pki', 'create', 'web', 'out.crt', 'out.key', '--ca', 'ca.crt', '--ca-key', 'ca-enc.key', '--ca-password-file', 'wrong.pw', ...NO_PW], says: /Check --ca-password-file: its password does not decrypt the CA key "ca-enc\.key"/ },
  { name: 'an encrypted CA key without a password file', args: ['pki', 'create', 'web', 'out.crt', 'out.key', '--ca', 'ca.crt', '--ca-key', 'ca-enc.key', ...NO_PW], says: /Give --ca-password-file FILE: the CA key "ca-enc\.key" is encrypted/ },
  { name: 'a leaf certificate as the CA', args: ['pki', 'create', 'web', 'out.crt', 'out.key', '--ca', 'leaf.crt', '--ca-key', 'leaf.key', ...NO_PW], says: /Use a CA certificate for --ca: "leaf\.crt" is not a CA/ },
  { name: 'an unknown curve', args: ['pki', 'create', 'root', 'out.crt', 'out.key', '--profile', 'root-ca', '--crv', 'P-999', ...NO_PW], says: /Use --crv P-256, P-384 or P-521 for EC keys: unknown curve "P-999"/ },
  { name: 'an unknown key type', args: ['pki', 'create', 'root', 'out.crt', 'out.key', '--profile', 'root-ca', '--kty', 'DSA', ...NO_PW], says: /Use --kty EC, RSA or OKP/ },
  { name: 'an RSA size weft does not make', args: ['pki', 'create', 'root', 'out.crt', 'out.key', '--profile', 'root-ca', '--kty', 'RSA', '--size', '1024', ...NO_PW], says: /Use --size 2048, 3072 or 4096/ },
  { name: 'an unknown profile', args: ['pki', 'create', 'root', 'out.crt', 'out.key', '--profile', 'root', ...NO_PW], says: /root-ca/ },
  { name: '--not-after before --not-before', args: ['pki', 'create', 'root', 'out.crt', 'out.key', '--profile', 'root-ca', '--not-before', '2030-01-02T00:00:00Z', '--not-after', '2030-01-01T00:00:00Z', ...NO_PW], says: /Set --not-after later than --not-before/ },
  { name: 'a negative lifetime as a duration', args: ['pki', 'create', 'root', 'out.crt', 'out.key', '--profile', 'root-ca', '--not-after', '-1h', ...NO_PW], says: /Set --not-after later than --not-before/ },
  { name: 'an unreadable --not-after', args: ['pki', 'create', 'root', 'out.crt', 'out.key', '--profile', 'root-ca', '--not-after', '10 days', ...NO_PW], says: /Use a duration like "24h" or an RFC 3339 time .* for --not-after: cannot read "10 days"/ },
  { name: '--no-password without --insecure', args: ['pki', 'create', 'root', 'out.crt', 'out.key', '--profile', 'root-ca', '--no-password'], says: /Add --insecure .* --no-password requires it/ },
  { name: 'no password flag at all', args: ['pki', 'create', 'root', 'out.crt', 'out.key', '--profile', 'root-ca'], says: /Give --password-file FILE .* or --no-password --insecure/ },
  { name: 'a leaf without a CA', args: ['pki', 'create', 'web', 'out.crt', 'out.key', ...NO_PW], says: /Give --ca FILE and --ca-key FILE: a leaf certificate is signed by a CA/ },
  { name: 'a root with a CA', args: ['pki', 'create', 'root', 'out.crt', 'out.key', '--profile', 'root-ca', ...WITH_CA, ...NO_PW], says: /Remove --ca and --ca-key: a root-ca certificate signs itself/ },
  { name: 'a certificate that would outlive its CA', args: ['pki', 'create', 'web', 'out.crt', 'out.key', '--profile', 'intermediate-ca', ...WITH_CA, ...NO_PW], says: /Shorten --not-after to at most .* or pass --allow-beyond-ca: the certificate would outlive its CA "ca\.crt"/ },
  { name: 'a SAN of no known form', args: ['pki', 'create', 'web', 'out.crt', 'out.key', ...WITH_CA, '--san', 'not a name!', ...NO_PW], says: /Use a DNS name, IP address, URI or email for --san: cannot read "not a name!"/ },
  { name: 'an output directory that does not exist', args: ['pki', 'create', 'root', 'out.crt', 'missing/out.key', '--profile', 'root-ca', ...NO_PW], says: /Create the directory "missing" first/ },
  { name: 'the same file for certificate and key', args: ['pki', 'create', 'root', 'out.pem', 'out.pem', '--profile', 'root-ca', ...NO_PW], says: /Use two different files/ },
  { name: 'inspect of a missing file', args: ['pki', 'inspect', 'nope.crt'], says: /"nope\.crt" does not exist/ },
  { name: 'inspect of a corrupt file', args: ['pki', 'inspect', 'corrupt.crt'], says: /damaged/ },
  { name: 'fingerprint of a key instead of a certificate', args: ['pki', 'fingerprint', 'ca.key'], says: /Give a certificate: found a "PRIVATE KEY" PEM block instead/ },
  { name: 'verify with corrupt roots', args: ['pki', 'verify', 'leaf.crt', '--roots', 'truncated.crt'], says: /--roots "truncated\.crt"/ },
  { name: 'verify without --roots', args: ['pki', 'verify', 'leaf.crt'], says: /--roots/ },
  { name: 'verify at an unreadable time', args: ['pki', 'verify', 'leaf.crt', '--roots', 'ca.crt', '--at', 'tomorrow'], says: /for --at: cannot read "tomorrow"/ },
];

for (const c of CASES) {
  test(`weft pki refuses ${c.name} with one line, exit code 2 and no output file`, async (t) => {
    const dir = tempDir(t);
    await setUp(dir);
    const before = readdirSync(dir).sort();
    const r = weft(dir, c.args);
    assert.equal(r.status, 2, `exit code\n${r.stdout}${r.stderr}`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
    assert.match(lines[0] ?? '', /^error: /);
    assert.match(lines[0] ?? '', c.says);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(readdirSync(dir).sort(), before, 'no output or temporary file is left');
  });
}

test('weft pki create never overwrites an existing file without --force, and does with it', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'ca.crt'), 'keep me\n');
  const r = weft(dir, ['pki', 'create', 'root', 'ca.crt', 'ca.key', '--profile', 'root-ca', ...NO_PW]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^error: Pass --force to overwrite "ca\.crt": the file already exists\n$/);
  assert.equal(readFileSync(join(dir, 'ca.crt'), 'utf8'), 'keep me\n');
  assert.deepEqual(readdirSync(dir), ['ca.crt'], 'the key was not written either');

  const forced = weftOk(dir, ['pki', 'create', 'root', 'ca.crt', 'ca.key', '--profile', 'root-ca', ...NO_PW, '--force']);
  assert.equal(forced.stderr, 'Your certificate has been saved in ca.crt.\nYour private key has been saved in ca.key.\n');
  assert.match(readFileSync(join(dir, 'ca.crt'), 'utf8'), /^-----BEGIN CERTIFICATE-----/);
  assert.deepEqual(readdirSync(dir).sort(), ['ca.crt', 'ca.key']);
});

test('weft pki create lets a certificate outlive its CA only with --allow-beyond-ca', async (t) => {
  const dir = tempDir(t);
  await setUp(dir);
  weftOk(dir, ['pki', 'create', 'issuer', 'issuer.crt', 'issuer.key', '--profile', 'intermediate-ca', ...WITH_CA, ...NO_PW, '--allow-beyond-ca']);
  weftOk(dir, ['pki', 'create', 'issuer2', 'issuer2.crt', 'issuer2.key', '--profile', 'intermediate-ca', ...WITH_CA, ...NO_PW, '--not-after', '48h']);
});
