import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  evaluate,
  issuancePolicies,
  ISSUER_CA_ANNOTATION,
  readinessPolicies,
  SPEC_HASH_ANNOTATION,
  type PolicyInput,
} from './policies.ts';

const now = new Date('2026-01-02T00:00:00Z');
const H = 3_600_000;

function healthy(): PolicyInput {
  return {
    now,
    secret: {
      name: 'linkerd-identity-issuer',
      hasCertificate: true,
      hasPrivateKey: true,
      annotations: {
        'cert-manager.io/issuer-name': 'linkerd-trust-anchor',
        'cert-manager.io/issuer-kind': 'Issuer',
        'cert-manager.io/issuer-group': 'cert-manager.io',
        [SPEC_HASH_ANNOTATION]: 'h1',
        [ISSUER_CA_ANNOTATION]: 'ca1',
      },
    },
    issued: { notBefore: new Date(now.getTime() - H), notAfter: new Date(now.getTime() + 47 * H) },
    keyMatchesCertificate: true,
    keySpecMismatch: null,
    issuerName: 'linkerd-trust-anchor',
    issuerKind: 'Issuer',
    issuerGroup: 'cert-manager.io',
    specHash: 'h1',
    issuerCAFingerprint: 'ca1',
    renewalTime: new Date(now.getTime() + 22 * H),
  };
}

test('evaluate() finds nothing to do for an up-to-date certificate', () => {
  assert.equal(evaluate(issuancePolicies, healthy()), null);
  assert.equal(evaluate(readinessPolicies, healthy()), null);
});

test('evaluate() names the first reason to issue, in cert-manager order', () => {
  const cases: Array<{ name: string; change: (i: PolicyInput) => PolicyInput; issue: string; ready: string | null }> = [
    { name: 'no Secret', change: (i) => ({ ...i, secret: undefined }), issue: 'DoesNotExist', ready: 'DoesNotExist' },
    {
      name: 'Secret without a key',
      change: (i) => ({ ...i, secret: { ...i.secret!, hasPrivateKey: false } }),
      issue: 'MissingData',
      ready: 'MissingData',
    },
    { name: 'unreadable tls.crt', change: (i) => ({ ...i, issued: { error: 'bad PEM' } }), issue: 'InvalidCertificate', ready: 'InvalidCertificate' },
    { name: 'key of another certificate', change: (i) => ({ ...i, keyMatchesCertificate: false }), issue: 'InvalidKeyPair', ready: 'InvalidKeyPair' },
    { name: 'RSA key where ECDSA is asked', change: (i) => ({ ...i, keySpecMismatch: 'is RSA, spec asks ECDSA' }), issue: 'SecretMismatch', ready: 'SecretMismatch' },
    { name: 'issued by another issuer', change: (i) => ({ ...i, issuerName: 'other' }), issue: 'IncorrectIssuer', ready: 'IncorrectIssuer' },
    { name: 'spec edited', change: (i) => ({ ...i, specHash: 'h2' }), issue: 'SpecChanged', ready: 'SpecChanged' },
    { name: 'issuer CA renewed (still Ready meanwhile)', change: (i) => ({ ...i, issuerCAFingerprint: 'ca2' }), issue: 'IssuerCAChanged', ready: null },
    { name: 'renewal time reached (still Ready)', change: (i) => ({ ...i, renewalTime: now }), issue: 'Renewing', ready: null },
    {
      name: 'expired',
      change: (i) => ({ ...i, issued: { notBefore: new Date(now.getTime() - 48 * H), notAfter: now }, renewalTime: new Date(now.getTime() - 25 * H) }),
      issue: 'Expired',
      ready: 'Expired',
    },
  ];
  for (const c of cases) {
    const input = c.change(healthy());
    assert.equal(evaluate(issuancePolicies, input)?.reason, c.issue, c.name);
    assert.equal(evaluate(readinessPolicies, input)?.reason ?? null, c.ready, `${c.name} (readiness)`);
  }
});
