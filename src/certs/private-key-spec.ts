import { KeyObject } from 'node:crypto';
import { exportPrivateKey, type CryptoKey, type KeySpec, type PublicKeyInfo } from '../pki/index.ts';
import type { CertificatePrivateKey } from '../api/index.ts';

/**
 * What `spec.privateKey` asks for, with cert-manager's defaults: RSA 2048, or
 * ECDSA P-256 when only the algorithm is given.
 */
export function keySpecForCertificate(pk: CertificatePrivateKey | undefined): KeySpec {
  switch (pk?.algorithm ?? 'RSA') {
    case 'ECDSA': {
      const size = pk?.size ?? 256;
      return { kty: 'EC', crv: size === 384 ? 'P-384' : size === 521 ? 'P-521' : 'P-256' };
    }
    case 'Ed25519':
      return { kty: 'OKP', crv: 'Ed25519' };
    default: {
      const size = pk?.size ?? 2048;
      return { kty: 'RSA', size: size === 3072 ? 3072 : size === 4096 ? 4096 : 2048 };
    }
  }
}

/** Why an existing key does not fit `spec.privateKey`, or null when it does. */
export function keySpecMismatch(info: PublicKeyInfo, pk: CertificatePrivateKey | undefined): string | null {
  const want = keySpecForCertificate(pk);
  if (want.kty !== info.kty) return `is ${info.algorithm}, spec.privateKey asks for ${pk?.algorithm ?? 'RSA'}`;
  if (want.kty === 'RSA' && info.size !== want.size) return `is RSA ${info.size}, spec.privateKey asks for size ${want.size}`;
  if (want.kty === 'EC' && info.curve !== want.crv) return `is ECDSA ${info.curve ?? '?'}, spec.privateKey asks for ${want.crv}`;
  return null;
}

/**
 * Encodes `tls.key` as `spec.privateKey.encoding` asks: PKCS1 (cert-manager's
 * default; SEC1 `EC PRIVATE KEY` for ECDSA) or PKCS8. Ed25519 has no PKCS1 form.
 */
export async function encodePrivateKey(key: CryptoKey, encoding: 'PKCS1' | 'PKCS8' | undefined): Promise<string> {
  const keyObject = KeyObject.from(key);
  if (encoding === 'PKCS8' || keyObject.asymmetricKeyType === 'ed25519') return exportPrivateKey(key);
  const type = keyObject.asymmetricKeyType === 'ec' ? 'sec1' : 'pkcs1';
  return keyObject.export({ type, format: 'pem' }) as string;
}
