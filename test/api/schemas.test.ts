import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { KINDS, resolveKind, validateResource, type Problem } from '../../src/api/index.ts';

const ARTICLE = join(import.meta.dirname, 'fixtures', 'article.yaml');

const cert = (spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: 'c', namespace: 'ns' }) => ({
  apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata,
  spec: { secretName: 's', issuerRef: { name: 'i' }, dnsNames: ['a.example'], ...spec },
});

function problems(doc: unknown): readonly Problem[] {
  const v = validateResource(doc);
  return v.ok ? [] : v.problems;
}

test("the article's Issuer and Certificate validate unchanged", () => {
  const docs = parseAllDocuments(readFileSync(ARTICLE, 'utf8')).map((d) => d.toJS() as unknown);
  assert.equal(docs.length, 2);
  for (const doc of docs) assert.deepEqual(problems(doc), []);
});

const INVALID: Array<{ name: string; doc: unknown; expect: Array<[string, string | RegExp]> }> = [
  { name: 'renewBefore not shorter than duration', doc: cert({ duration: '48h', renewBefore: '48h' }),
    expect: [['spec.renewBefore', 'must be shorter than spec.duration (48h)']] },
  { name: 'renewBefore against the default duration', doc: cert({ renewBefore: '2200h' }),
    expect: [['spec.renewBefore', 'must be shorter than spec.duration (2160h, the default)']] },
  { name: 'renewBefore under 5m', doc: cert({ renewBefore: '4m' }), expect: [['spec.renewBefore', 'must be at least 5m (got 4m)']] },
  { name: 'duration under 1h', doc: cert({ duration: '59m' }), expect: [['spec.duration', 'must be at least 1h (got 59m)']] },
  { name: 'duration not a Go duration', doc: cert({ duration: '2 days' }), expect: [['spec.duration', /must be a duration/]] },
  { name: 'renewBefore and renewBeforePercentage together', doc: cert({ renewBefore: '1h', renewBeforePercentage: 50 }),
    expect: [['spec.renewBeforePercentage', /cannot be set together with spec.renewBefore/]] },
  { name: 'percentage out of range', doc: cert({ renewBeforePercentage: 100 }), expect: [['spec.renewBeforePercentage', 'must be at most 99']] },
  { name: 'no subject at all', doc: cert({ dnsNames: [] }), expect: [['spec', /at least one of commonName, dnsNames/]] },
  { name: 'unknown usage', doc: cert({ usages: ['cert sign', 'flying'] }), expect: [['spec.usages[1]', /must be one of: "signing"/]] },
  { name: 'bad IP, URI and email', doc: cert({ ipAddresses: ['10.0.0.300'], uris: ['no scheme'], emailAddresses: ['nobody'] }),
    expect: [['spec.ipAddresses[0]', /IPv4 or IPv6/], ['spec.uris[0]', /URI with a scheme/], ['spec.emailAddresses[0]', 'must be an email address']] },
  { name: 'ECDSA size', doc: cert({ privateKey: { algorithm: 'ECDSA', size: 300 } }), expect: [['spec.privateKey.size', 'must be 256, 384 or 521 for ECDSA']] },
  { name: 'RSA size', doc: cert({ privateKey: { size: 1024 } }), expect: [['spec.privateKey.size', 'must be between 2048 and 8192 for RSA']] },
  { name: 'privateKey enums', doc: cert({ privateKey: { algorithm: 'DSA', encoding: 'DER', rotationPolicy: 'Sometimes' } }),
    expect: [['spec.privateKey.algorithm', 'must be one of: "RSA", "ECDSA", "Ed25519"'], ['spec.privateKey.encoding', 'must be one of: "PKCS1", "PKCS8"'],
      ['spec.privateKey.rotationPolicy', 'must be one of: "Always", "Never"']] },
  { name: 'misspelt field', doc: cert({ renewbefore: '1h' }), expect: [['spec.renewbefore', 'unknown field']] },
  { name: 'issuerRef kind', doc: cert({ issuerRef: { name: 'i', kind: 'Issuers' } }), expect: [['spec.issuerRef.kind', 'must be "Issuer" or "ClusterIssuer"']] },
  { name: 'missing secretName and wrong types', doc: { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'c' },
    spec: { issuerRef: { name: 'i' }, commonName: 'x', isCA: 'yes', revisionHistoryLimit: 0 } },
  expect: [['spec.secretName', 'required'], ['spec.isCA', 'must be true or false'], ['spec.revisionHistoryLimit', 'must be at least 1']] },
  { name: 'long common name', doc: cert({ commonName: 'x'.repeat(65) }), expect: [['spec.commonName', 'must be at most 64 characters']] },
  { name: 'bad metadata', doc: cert({}, { name: 'Bad_Name', namespace: 'ns', labels: { 'a b': 'x', ok: 'bad value!' } }),
    expect: [['metadata.name', /lower-case/], ['metadata.labels["a b"]', /key must be/], ['metadata.labels.ok', /value must be/]] },
  { name: 'issuer with no type', doc: { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'i' }, spec: {} },
    expect: [['spec', 'must set one issuer type: ca or selfSigned']] },
  { name: 'issuer with both types', doc: { apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: 'i' }, spec: { ca: { secretName: 'x' }, selfSigned: {} } },
    expect: [['spec.selfSigned', /cannot be set together with spec.ca/]] },
  { name: 'acme issuer', doc: { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'i' }, spec: { acme: {} } },
    expect: [['spec.acme', /not supported/]] },
  { name: 'ca issuer without secret', doc: { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'i' }, spec: { ca: {} } },
    expect: [['spec.ca.secretName', 'required']] },
  { name: 'TLS secret missing keys and bad base64', doc: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'kubernetes.io/tls', data: { 'tls.crt': '%%%' } },
    expect: [['data["tls.crt"]', /must be base64/], ['data["tls.key"]', 'required for type kubernetes.io/tls']] },
  { name: 'CertificateRequest without a CSR', doc: { apiVersion: 'cert-manager.io/v1', kind: 'CertificateRequest', metadata: { name: 'r' },
    spec: { request: Buffer.from('hello').toString('base64'), issuerRef: { name: 'i' } } }, expect: [['spec.request', /PEM "-----BEGIN CERTIFICATE REQUEST-----"/]] },
  { name: 'wrong apiVersion', doc: { apiVersion: 'cert-manager.io/v1alpha2', kind: 'Issuer', metadata: { name: 'i' }, spec: { selfSigned: {} } },
    expect: [['apiVersion', 'must be "cert-manager.io/v1" for kind Issuer']] },
  { name: 'unknown kind', doc: { apiVersion: 'v1', kind: 'Widget', metadata: { name: 'p' } }, expect: [['kind', /unknown kind "Widget": use one of Namespace, ServiceAccount, Secret/]] },
  { name: 'no metadata.name', doc: { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }, expect: [['metadata.name', 'required']] },
  { name: 'namespace name too long', doc: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n'.repeat(64) } }, expect: [['metadata.name', 'must be at most 63 characters']] },
];

for (const c of INVALID) {
  test(`validateResource() reports every problem by path: ${c.name}`, () => {
    const got = problems(c.doc);
    assert.equal(got.length, c.expect.length, `got ${JSON.stringify(got)}`);
    c.expect.forEach(([path, message], i) => {
      assert.equal(got[i]?.path, path, JSON.stringify(got));
      if (typeof message === 'string') assert.equal(got[i]?.message, message);
      else assert.match(got[i]?.message ?? '', message);
    });
  });
}

test('validateResource() folds Secret stringData into base64 data and defaults the type to Opaque', () => {
  const v = validateResource({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { password: 'hunter2' }, data: { a: 'YQ==' } });
  assert.ok(v.ok);
  assert.deepEqual({ type: v.resource.type, data: v.resource.data, stringData: v.resource.stringData },
    { type: 'Opaque', data: { a: 'YQ==', password: 'aHVudGVyMg==' }, stringData: undefined });
});

test('resolveKind() accepts kubectl names, short names and plural.group', () => {
  const cases: Array<[string, string]> = [
    ['certificate', 'Certificate'], ['certificates', 'Certificate'], ['cert', 'Certificate'], ['certs', 'Certificate'],
    ['certificates.cert-manager.io', 'Certificate'], ['Issuer', 'Issuer'], ['clusterissuer', 'ClusterIssuer'], ['secret', 'Secret'],
    ['cm', 'ConfigMap'], ['ns', 'Namespace'], ['ev', 'Event'], ['cr', 'CertificateRequest'], ['sa', 'ServiceAccount'],
  ];
  for (const [text, kind] of cases) assert.equal(resolveKind(text).kind, kind, text);
  assert.throws(() => resolveKind('widgets'), { code: 'WEFT_ERR_USAGE', message: /certificate \(cert, certs\)/ });
});

test('every kind has a unique kind name, plural and short names', () => {
  // A kind may share its own names (Endpoints is singular and plural); never another kind's.
  const names = KINDS.flatMap((k) => [...new Set([k.kind.toLowerCase(), k.plural, ...k.shortNames])]);
  assert.equal(new Set(names).size, names.length);
});
