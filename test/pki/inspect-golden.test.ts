/**
 * Golden files for what `weft pki inspect` and `fingerprint` print, from fixed
 * certificates in test/pki/golden/. After a deliberate change of output, refresh
 * them with `WEFT_UPDATE_GOLDEN=1 node --test test/pki/inspect-golden.test.ts`
 * and review the diff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { weftOk } from './helpers.ts';

const GOLDEN = join(import.meta.dirname, 'golden');
const UPDATE = process.env.WEFT_UPDATE_GOLDEN === '1';

function golden(name: string, actual: string): void {
  const path = join(GOLDEN, name);
  if (UPDATE) writeFileSync(path, actual);
  assert.equal(actual, readFileSync(path, 'utf8'), `output differs from ${path} (WEFT_UPDATE_GOLDEN=1 to refresh)`);
}

const CASES: ReadonlyArray<[string, string[]]> = [
  ['inspect-short.txt', ['inspect', '--short', '--bundle', 'bundle.crt']],
  ['inspect-first.txt', ['inspect', 'bundle.crt']],
  ['inspect-bundle.json', ['inspect', '--format', 'json', '--bundle', 'bundle.crt']],
  ['inspect-csr.txt', ['inspect', 'request.csr']],
  ['inspect-csr.json', ['inspect', '--format', 'json', 'request.csr']],
  ['fingerprint.txt', ['fingerprint', '--bundle', 'bundle.crt']],
];

for (const [file, args] of CASES) {
  test(`weft pki ${args.join(' ')} prints what ${file} holds`, () => {
    golden(file, weftOk(GOLDEN, ['pki', ...args]).stdout);
  });
}

test('weft pki inspect --short prints exactly one line per certificate, in step\'s words', () => {
  const lines = weftOk(GOLDEN, ['pki', 'inspect', '--short', '--bundle', 'bundle.crt']).stdout.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0] ?? '', /^X\.509v3 TLS Certificate \(RSA 2048\) \[Serial: \d{4}\.\.\.\d{4}\] Subject: web\.emojivoto\.svc Issuer: root\.linkerd\.cluster\.local Valid from: 2026-01-01T00:00:00Z to: 2026-01-02T00:00:00Z$/);
  assert.match(lines[1] ?? '', /^X\.509v3 Root CA Certificate \(ECDSA P-256\) /);
});

test('weft pki inspect --format json has the fields scripts rely on', () => {
  const [leaf, root] = JSON.parse(weftOk(GOLDEN, ['pki', 'inspect', '--format', 'json', '--bundle', 'bundle.crt']).stdout) as Array<Record<string, unknown>>;
  assert.deepEqual(Object.keys(leaf ?? {}).sort(), [
    'authorityKeyId', 'commonName', 'extKeyUsage', 'fingerprint', 'isCA', 'issuer', 'keyUsage', 'kind', 'notAfter', 'notBefore',
    'pathLen', 'publicKey', 'sans', 'selfSigned', 'serialNumber', 'signatureAlgorithm', 'subject', 'subjectKeyId', 'type',
  ]);
  assert.equal(leaf?.serialNumber, '7f00000000000000000000000000002a');
  assert.deepEqual(leaf?.sans, [
    { type: 'dns', value: 'web.emojivoto.svc' },
    { type: 'ip', value: '10.1.2.3' },
    { type: 'uri', value: 'spiffe://cluster.local/ns/emojivoto/sa/web' },
  ]);
  assert.deepEqual(leaf?.keyUsage, ['digitalSignature', 'keyEncipherment']);
  assert.deepEqual(leaf?.extKeyUsage, ['serverAuth', 'clientAuth']);
  assert.equal(leaf?.authorityKeyId, root?.subjectKeyId);
  assert.equal(root?.isCA, true);
  assert.equal(root?.pathLen, 1);
  assert.equal(root?.selfSigned, true);
  assert.deepEqual(root?.publicKey, { kty: 'EC', algorithm: 'ECDSA', curve: 'P-256', size: 256 });
  // Without --bundle, one object for the first certificate.
  const first = JSON.parse(weftOk(GOLDEN, ['pki', 'inspect', '--format', 'json', 'bundle.crt']).stdout) as Record<string, unknown>;
  assert.equal(first.commonName, 'web.emojivoto.svc');
});
