import { createPublicKey, type KeyObject } from 'node:crypto';
import { crypto } from './x509-runtime.ts';
import { PkiError, PkiErrorCode } from './errors.ts';
import type {
  Algorithm, CryptoKey, CryptoKeyPair, EcdsaParams, EcKeyAlgorithm, EcKeyGenParams, RsaHashedKeyGenParams,
} from './web-crypto-types.ts';

/** The elliptic curves weft makes keys on, named as step and JOSE name them. */
export type EcCurve = 'P-256' | 'P-384' | 'P-521';

/** What key to make: the same choices as step's `--kty`, `--crv` and `--size`. */
export type KeySpec =
  | { kty: 'EC'; crv: EcCurve }
  | { kty: 'RSA'; size: 2048 | 3072 | 4096 }
  | { kty: 'OKP'; crv: 'Ed25519' };

/** The key type family of a {@link KeySpec}. */
export type KeyType = KeySpec['kty'];

/** step's default, and what every workload certificate in the mesh uses. */
export const DEFAULT_KEY_SPEC: KeySpec = { kty: 'EC', crv: 'P-256' };

/** Facts about a public key, for display and for checks such as "is this P-256?". */
export interface PublicKeyInfo {
  /** Key family: `EC`, `RSA` or `OKP`. */
  readonly kty: KeyType;
  /** Signature algorithm family as step prints it: `ECDSA`, `RSA` or `Ed25519`. */
  readonly algorithm: 'ECDSA' | 'RSA' | 'Ed25519';
  /** Curve name (`P-256`, `Ed25519`); absent for RSA. */
  readonly curve?: string;
  /** Key size in bits (curve size for EC, modulus length for RSA, 256 for Ed25519). */
  readonly size: number;
}

const CURVE_BITS: Record<EcCurve, number> = { 'P-256': 256, 'P-384': 384, 'P-521': 521 };
// OpenSSL's names for the NIST curves, as node reports them.
const OPENSSL_CURVES: Record<string, EcCurve> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

/**
 * Generates an extractable key pair (default EC P-256). Extractable because the
 * caller nearly always writes the key somewhere: a file, a Secret.
 */
export async function generateKeyPair(spec: KeySpec = DEFAULT_KEY_SPEC): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(webCryptoAlgorithm(spec), true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

/**
 * Reads a key spec from step's flags (`--kty`, `--crv`, `--size`), with step's
 * defaults: EC P-256, RSA 2048. Throws a PkiError naming the bad value.
 */
export function keySpecFrom(opts: { kty?: string; crv?: string; size?: number }): KeySpec {
  const kty = (opts.kty ?? 'EC').toUpperCase();
  if (kty === 'EC') {
    const crv = opts.crv ?? 'P-256';
    if (!(crv in CURVE_BITS)) {
      throw new PkiError(PkiErrorCode.badKey, `Use --crv P-256, P-384 or P-521 for EC keys: unknown curve "${crv}"`);
    }
    if (opts.size !== undefined) throw new PkiError(PkiErrorCode.badKey, 'Remove --size: it applies to RSA keys only');
    return { kty: 'EC', crv: crv as EcCurve };
  }
  if (kty === 'RSA') {
    if (opts.crv !== undefined) throw new PkiError(PkiErrorCode.badKey, 'Remove --crv: RSA keys have no curve, use --size');
    const size = opts.size ?? 2048;
    if (size !== 2048 && size !== 3072 && size !== 4096) {
      throw new PkiError(PkiErrorCode.badKey, `Use --size 2048, 3072 or 4096 for RSA keys: cannot use "${size}"`);
    }
    return { kty: 'RSA', size };
  }
  if (kty === 'OKP') {
    const crv = opts.crv ?? 'Ed25519';
    if (crv !== 'Ed25519') {
      throw new PkiError(PkiErrorCode.badKey, `Use --crv Ed25519 for OKP keys: unknown curve "${crv}"`);
    }
    if (opts.size !== undefined) throw new PkiError(PkiErrorCode.badKey, 'Remove --size: it applies to RSA keys only');
    return { kty: 'OKP', crv: 'Ed25519' };
  }
  throw new PkiError(PkiErrorCode.badKey, `Use --kty EC, RSA or OKP: unknown key type "${opts.kty ?? ''}"`);
}

/** The WebCrypto algorithm that generates or imports keys of `spec`. */
export function webCryptoAlgorithm(spec: KeySpec): EcKeyGenParams | RsaHashedKeyGenParams | Algorithm {
  switch (spec.kty) {
    case 'EC':
      return { name: 'ECDSA', namedCurve: spec.crv };
    case 'RSA':
      // PKCS#1 v1.5 with SHA-256: what step and Go's x509 sign RSA certificates with.
      return { name: 'RSASSA-PKCS1-v1_5', modulusLength: spec.size, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
    case 'OKP':
      return { name: 'Ed25519' };
  }
}

/**
 * The signature algorithm for a signing key, chosen as Go's x509 (and so step)
 * chooses: the hash grows with the curve, RSA uses SHA-256, Ed25519 has its own.
 */
export function signingAlgorithm(key: CryptoKey): Algorithm | EcdsaParams {
  const alg = key.algorithm as EcKeyAlgorithm;
  if (alg.name === 'ECDSA') {
    const hash = alg.namedCurve === 'P-384' ? 'SHA-384' : alg.namedCurve === 'P-521' ? 'SHA-512' : 'SHA-256';
    return { name: 'ECDSA', hash };
  }
  if (alg.name === 'RSASSA-PKCS1-v1_5') return { name: 'RSASSA-PKCS1-v1_5' };
  if (alg.name === 'Ed25519') return { name: 'Ed25519' };
  throw new PkiError(PkiErrorCode.badKey, `Use an EC, RSA or Ed25519 key: cannot sign with "${alg.name}"`);
}

/** The {@link KeySpec} of a node KeyObject (public or private). */
export function keySpecOfKeyObject(key: KeyObject): KeySpec {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'ec') {
    const crv = OPENSSL_CURVES[details.namedCurve ?? ''];
    if (crv === undefined) {
      throw new PkiError(PkiErrorCode.badKey, `Use a P-256, P-384 or P-521 key: unsupported curve "${details.namedCurve ?? '?'}"`);
    }
    return { kty: 'EC', crv };
  }
  if (type === 'rsa') {
    const size = details.modulusLength ?? 0;
    if (size !== 2048 && size !== 3072 && size !== 4096) {
      throw new PkiError(PkiErrorCode.badKey, `Use an RSA key of 2048, 3072 or 4096 bits: this one has ${size}`);
    }
    return { kty: 'RSA', size };
  }
  if (type === 'ed25519') return { kty: 'OKP', crv: 'Ed25519' };
  throw new PkiError(PkiErrorCode.badKey, `Use an EC, RSA or Ed25519 key: unsupported key type "${type ?? '?'}"`);
}

/** Describes a SubjectPublicKeyInfo (DER) for display; tolerant of sizes weft would not make. */
export function publicKeyInfoOfSpki(spki: Uint8Array): PublicKeyInfo {
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'ec') {
    const curve = OPENSSL_CURVES[details.namedCurve ?? ''] ?? details.namedCurve ?? 'unknown';
    return { kty: 'EC', algorithm: 'ECDSA', curve, size: CURVE_BITS[curve as EcCurve] ?? 0 };
  }
  if (type === 'rsa') return { kty: 'RSA', algorithm: 'RSA', size: details.modulusLength ?? 0 };
  if (type === 'ed25519') return { kty: 'OKP', algorithm: 'Ed25519', curve: 'Ed25519', size: 256 };
  throw new PkiError(PkiErrorCode.badKey, `Use an EC, RSA or Ed25519 key: unsupported key type "${type ?? '?'}"`);
}

/** Turns a SubjectPublicKeyInfo (DER) into a WebCrypto verification key. */
export async function spkiToCryptoKey(spki: Uint8Array): Promise<CryptoKey> {
  const keyObject = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  const spec = keySpecOfKeyObject(keyObject);
  return crypto.subtle.importKey('spki', toArrayBuffer(spki), webCryptoAlgorithm(spec), true, ['verify']);
}

/** A fresh ArrayBuffer holding exactly `bytes` (WebCrypto wants BufferSource, not a view on a pool). */
function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
