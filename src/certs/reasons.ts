/**
 * Reason strings on conditions and Events. They are cert-manager's where cert-manager
 * has one, so `cmctl`-trained eyes and alerts keep working; ours are marked.
 */
export const Reason = {
  // Why a certificate must be (re-)issued; also why it is not Ready.
  DoesNotExist: 'DoesNotExist',
  MissingData: 'MissingData',
  InvalidKeyPair: 'InvalidKeyPair',
  InvalidCertificate: 'InvalidCertificate',
  SecretMismatch: 'SecretMismatch',
  IncorrectIssuer: 'IncorrectIssuer',
  SpecChanged: 'SpecChanged',
  /** weft: the CA that signed the certificate was renewed or replaced. */
  IssuerCAChanged: 'IssuerCAChanged',
  Renewing: 'Renewing',
  Expired: 'Expired',
  ManuallyTriggered: 'ManuallyTriggered',
  // Outcomes.
  Ready: 'Ready',
  Issued: 'Issued',
  Failed: 'Failed',
  Pending: 'Pending',
  /** weft: notAfter was clamped to the issuing CA's notAfter. */
  ClampedToIssuer: 'ClampedToIssuer',
  /** weft: the CA renews later than what it signs can outlive. */
  LifetimeRisk: 'LifetimeRisk',
  // Issuers.
  KeyPairVerified: 'KeyPairVerified',
  ErrGetKeyPair: 'ErrGetKeyPair',
  ErrInvalidKeyPair: 'ErrInvalidKeyPair',
  IsReady: 'IsReady',
} as const;

/** One of the reason strings above. */
export type Reason = (typeof Reason)[keyof typeof Reason];
