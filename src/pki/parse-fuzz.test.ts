/**
 * Parsers meet hostile input (a CSR comes from any workload): mutated and cut
 * DER and PEM must either parse or fail with a PkiError, never with anything else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PkiError } from './errors.ts';
import { parseCertificates } from './certificate.ts';
import { parseCsr, createCsr } from './csr.ts';
import { importPrivateKey, exportPrivateKey } from './private-key.ts';
import { generateKeyPair } from './key-spec.ts';
import { issueCertificate } from './issue-certificate.ts';
import { parseSan } from './san.ts';
import { toPem } from './pem.ts';

// A fixed-seed generator so a failure reproduces (xorshift32).
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

function mutate(der: Uint8Array, next: () => number): Uint8Array {
  const out = new Uint8Array(der);
  const kind = next();
  if (kind < 0.4) {
    out[Math.floor(next() * out.length)] = Math.floor(next() * 256);
    return out;
  }
  if (kind < 0.7) return out.subarray(0, Math.floor(next() * out.length));
  // Length bytes are where parsers break: hit the first few TLV headers.
  out[Math.floor(next() * Math.min(12, out.length))] = Math.floor(next() * 256);
  return out;
}

async function expectParsedOrPkiError(f: () => unknown | Promise<unknown>, label: string): Promise<void> {
  try {
    await f();
  } catch (err) {
    assert.ok(err instanceof PkiError, `${label}: ${err instanceof Error ? err.stack : String(err)}`);
  }
}

test('parseCertificates() and parseCsr() return or throw a PkiError on 600 mutated inputs', async () => {
  const keys = await generateKeyPair();
  const now = new Date('2026-01-01T00:00:00Z');
  const cert = await issueCertificate({
    subject: 'web', publicKey: keys.publicKey, issuer: { selfSigned: keys.privateKey },
    notBefore: now, notAfter: new Date(now.getTime() + 3_600_000), sans: [parseSan('web.example')],
  });
  const csr = await createCsr({ subject: 'web', keyPair: keys, sans: [parseSan('spiffe://td/ns/a/sa/b')] });
  const next = rng(0x5eed);
  for (let i = 0; i < 300; i++) {
    const c = mutate(cert.der, next);
    await expectParsedOrPkiError(() => parseCertificates(c), `cert #${i}`);
    await expectParsedOrPkiError(() => parseCertificates(toPem(c, 'CERTIFICATE')), `cert pem #${i}`);
    const r = mutate(csr.der, next);
    await expectParsedOrPkiError(() => parseCsr(r), `csr #${i}`);
  }
});

test('importPrivateKey() returns or throws a PkiError on mutated keys', async () => {
  const keys = await generateKeyPair();
  const plain = await exportPrivateKey(keys.privateKey);
  const der = new Uint8Array(Buffer.from(plain.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
  const next = rng(42);
  for (let i = 0; i < 100; i++) {
    const pem = toPem(mutate(der, next), 'PRIVATE KEY');
    await expectParsedOrPkiError(() => importPrivateKey(pem), `key #${i}`);
  }
});
