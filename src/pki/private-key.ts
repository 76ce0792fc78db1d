import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import { PkiError, PkiErrorCode } from './errors.ts';
import { keySpecOfKeyObject, webCryptoAlgorithm } from './key-spec.ts';
import { asText, decodePem } from './pem.ts';
import type { Certificate } from './certificate.ts';
import type { CryptoKey } from './web-crypto-types.ts';

/** A private key with its public half, as WebCrypto keys. */
export interface ImportedKeyPair {
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
}

const KEY_LABELS = ['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY'];

/**
 * Exports a private key as PKCS#8 PEM; with a password, as encrypted PKCS#8
 * (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC) as step writes it.
 */
export async function exportPrivateKey(key: CryptoKey, opts: { password?: string } = {}): Promise<string> {
  const keyObject = KeyObject.from(key);
  if (opts.password === undefined) return keyObject.export({ type: 'pkcs8', format: 'pem' }) as string;
  if (opts.password === '') {
    throw new PkiError(PkiErrorCode.badPassword, 'Use a non-empty password to encrypt the private key');
  }
  return keyObject.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: opts.password }) as string;
}

/**
 * Imports a private key from PEM: PKCS#8, encrypted PKCS#8, SEC1 (`EC PRIVATE KEY`)
 * or PKCS#1 (`RSA PRIVATE KEY`), including legacy OpenSSL-encrypted ones
 * (`Proc-Type: 4,ENCRYPTED`, as older step versions write). Throws `WEFT_ERR_PKI_BAD_PASSWORD` when an
 * encrypted key comes without its password or with a wrong one, and
 * `WEFT_ERR_PKI_BAD_PEM` when the input holds no readable key.
 */
export async function importPrivateKey(pem: string | Uint8Array, opts: { password?: string } = {}): Promise<ImportedKeyPair> {
  const blocks = decodePem(asText(pem), 'private key');
  const block = blocks.find((b) => KEY_LABELS.includes(b.label));
  if (block === undefined) {
    const found = blocks[0]?.label;
    throw new PkiError(
      PkiErrorCode.badPem,
      found === undefined ? 'Give a PEM private key: no PEM block found' : `Give a private key: found a "${found}" PEM block instead`,
    );
  }
  // Encrypted PKCS#8, or a legacy OpenSSL-encrypted SEC1/PKCS#1 key (older step
  // versions write those): node's OpenSSL reads both given the passphrase.
  const encrypted = block.label === 'ENCRYPTED PRIVATE KEY' || (block.headers['Proc-Type'] ?? '').includes('ENCRYPTED');
  if (encrypted && opts.password === undefined) {
    throw new PkiError(PkiErrorCode.badPassword, 'Give the password of the encrypted private key: none was given');
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey({
      key: block.text,
      format: 'pem',
      ...(encrypted ? { passphrase: opts.password as string } : {}),
    });
  } catch (err) {
    if (encrypted) {
      throw new PkiError(PkiErrorCode.badPassword, 'Check the password: it does not decrypt the private key', { cause: err });
    }
    throw new PkiError(PkiErrorCode.badPem, `Check the private key: the "${block.label}" block cannot be read`, { cause: err });
  }
  const alg = webCryptoAlgorithm(keySpecOfKeyObject(keyObject));
  try {
    return {
      privateKey: keyObject.toCryptoKey(alg, true, ['sign']) as CryptoKey,
      publicKey: createPublicKey(keyObject).toCryptoKey(alg, true, ['verify']) as CryptoKey,
    };
  } catch (err) {
    // OpenSSL parsed it, WebCrypto refuses it (e.g. an EC key whose point is off the curve).
    throw new PkiError(PkiErrorCode.badPem, `Check the private key: the "${block.label}" block holds an unusable key`, { cause: err });
  }
}

/** True when `privateKey` is the private half of the certificate's public key. */
export async function keyMatchesCertificate(privateKey: CryptoKey, certificate: Certificate): Promise<boolean> {
  const spki = createPublicKey(KeyObject.from(privateKey)).export({ type: 'spki', format: 'der' });
  return Buffer.compare(spki, Buffer.from(certificate.spki)) === 0;
}
