/**
 * weft's PKI: keys, certificates, CSRs, chains and PEM, with step-compatible
 * profiles. Pure functions plus WebCrypto; no file or network I/O and no clock
 * (callers read and write files, and pass times in). Every other part of weft
 * makes and checks certificates through here.
 */
export { formatDuration, parseDuration } from './duration.ts';
export { parseTimeOrDuration, type TimeOrDurationOptions } from './time-or-duration.ts';
export { PkiError, PkiErrorCode } from './errors.ts';
export type { CryptoKey, CryptoKeyPair } from './web-crypto-types.ts';
export {
  DEFAULT_KEY_SPEC,
  generateKeyPair,
  keySpecFrom,
  type EcCurve,
  type KeySpec,
  type KeyType,
  type PublicKeyInfo,
} from './key-spec.ts';
export { keyIdentifier } from './key-identifier.ts';
export { hostMatchesSans, parseSan, type San } from './san.ts';
export { decodePem, toPem, type PemBlock } from './pem.ts';
export { fingerprint, parseCertificates, type Certificate } from './certificate.ts';
export { issueCertificate, type IssueOptions, type IssuerSpec } from './issue-certificate.ts';
export { PROFILES, profileOptions, type Profile, type ProfileOptions } from './profiles.ts';
export { createCsr, parseCsr, type Csr } from './csr.ts';
export { exportPrivateKey, importPrivateKey, keyMatchesCertificate, type ImportedKeyPair } from './private-key.ts';
export {
  ChainFailure,
  verifyChain,
  type ChainFailureCode,
  type ChainResult,
  type VerifyChainOptions,
} from './verify-chain.ts';
export {
  certificateJson,
  certificateKind,
  csrJson,
  describeCertificate,
  describeCsr,
  summarizeCertificate,
  summarizeCsr,
} from './describe.ts';
