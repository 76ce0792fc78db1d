/**
 * WebCrypto type names for weft. The project compiles without the DOM library, so
 * the global `CryptoKey` is a value only; these aliases name node's WebCrypto
 * types. Other areas import them from `../pki/index.ts`.
 */
import type { webcrypto } from 'node:crypto';

/** A WebCrypto key (node's `webcrypto.CryptoKey`). */
export type CryptoKey = webcrypto.CryptoKey;
/** A WebCrypto key pair. */
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
/** A WebCrypto algorithm identifier with parameters. */
export type Algorithm = webcrypto.Algorithm;
/** The WebCrypto entry point. */
export type Crypto = webcrypto.Crypto;
/** WebCrypto ECDSA signing parameters. */
export type EcdsaParams = webcrypto.EcdsaParams;
/** WebCrypto EC key-generation parameters. */
export type EcKeyGenParams = webcrypto.EcKeyGenParams;
/** WebCrypto RSA key-generation parameters. */
export type RsaHashedKeyGenParams = webcrypto.RsaHashedKeyGenParams;
/** WebCrypto EC key algorithm description. */
export type EcKeyAlgorithm = webcrypto.EcKeyAlgorithm;
