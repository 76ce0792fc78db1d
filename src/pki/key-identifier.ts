import { createHash } from 'node:crypto';
import { PkiError, PkiErrorCode } from './errors.ts';

/**
 * The key identifier of a public key (RFC 5280 §4.2.1.2 method 1: SHA-1 of the
 * subjectPublicKey bits), lower-case hex, as Go, step and OpenSSL compute it for
 * the subject and authority key identifier extensions.
 */
export function keyIdentifier(spki: Uint8Array): string {
  return createHash('sha1').update(subjectPublicKeyBits(spki)).digest('hex');
}

/** The contents of the subjectPublicKey BIT STRING of a DER SubjectPublicKeyInfo. */
export function subjectPublicKeyBits(spki: Uint8Array): Uint8Array {
  // SEQUENCE { AlgorithmIdentifier SEQUENCE, BIT STRING }: two TLVs to walk, so a
  // few lines of DER beat pulling in an ASN.1 schema for this.
  const outer = readTlv(spki, 0);
  const alg = readTlv(spki, outer.contentStart);
  const bits = readTlv(spki, alg.contentStart + alg.length);
  if (outer.tag !== 0x30 || alg.tag !== 0x30 || bits.tag !== 0x03 || bits.contentStart + bits.length > spki.length) {
    throw new PkiError(PkiErrorCode.badKey, 'Check the public key: it is not a DER SubjectPublicKeyInfo');
  }
  // Skip the "unused bits" byte.
  return spki.subarray(bits.contentStart + 1, bits.contentStart + bits.length);
}

function readTlv(der: Uint8Array, at: number): { tag: number; contentStart: number; length: number } {
  const tag = der[at] ?? -1;
  let len = der[at + 1] ?? 0;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (der[start + i] ?? 0);
    start += n;
  }
  return { tag, contentStart: start, length: len };
}
