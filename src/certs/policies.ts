import { Reason } from './reasons.ts';

/**
 * "Must we (re-)issue this certificate?" as an ordered chain of named checks, as
 * cert-manager's policy chain. The first check that fails names the reason. The
 * controller gathers the facts (I/O), these functions only decide.
 *
 * Readiness reuses the same checks (see readinessPolicies).
 */
export interface PolicyInput {
  now: Date;
  /** The Secret as found, or undefined when it does not exist. */
  secret:
    | undefined
    | {
        name: string;
        hasCertificate: boolean;
        hasPrivateKey: boolean;
        annotations: Readonly<Record<string, string>>;
      };
  /** The leaf in tls.crt, or an error message when it cannot be parsed. */
  issued: undefined | { error: string } | { notBefore: Date; notAfter: Date };
  /** Does tls.key belong to tls.crt? undefined when either is missing. */
  keyMatchesCertificate: boolean | undefined;
  /** Why tls.key does not fit spec.privateKey (algorithm, size), or null when it fits. */
  keySpecMismatch: string | null;
  /** `name/kind/group` of spec.issuerRef, as recorded in cert-manager's annotations. */
  issuerName: string;
  issuerKind: string;
  issuerGroup: string;
  /** Hash of the spec fields that shape the certificate. */
  specHash: string;
  /** Fingerprint of the issuer's current CA certificate, when the issuer has one. */
  issuerCAFingerprint: string | undefined;
  /** When the current certificate is due for renewal. */
  renewalTime: Date | undefined;
}

/** A failed check: why the certificate must be issued (and why it is not Ready). */
export interface PolicyViolation {
  reason: Reason;
  message: string;
}

/** One named check. */
export type Policy = (input: PolicyInput) => PolicyViolation | null;

/** Annotations weft writes on the Secret besides cert-manager's own. */
export const SPEC_HASH_ANNOTATION = 'weft.dev/certificate-spec-hash';
export const ISSUER_CA_ANNOTATION = 'weft.dev/issuer-ca-fingerprint';

const secretExists: Policy = (i) =>
  i.secret === undefined
    ? { reason: Reason.DoesNotExist, message: 'Issuing certificate as Secret does not exist' }
    : null;

const secretHasData: Policy = (i) =>
  i.secret !== undefined && (!i.secret.hasCertificate || !i.secret.hasPrivateKey)
    ? {
        reason: Reason.MissingData,
        message: `Issuing certificate as Secret "${i.secret.name}" does not contain ${
          i.secret.hasCertificate ? 'a private key' : 'a certificate'
        }`,
      }
    : null;

const certificateParses: Policy = (i) =>
  i.issued !== undefined && 'error' in i.issued
    ? { reason: Reason.InvalidCertificate, message: `Issuing certificate as tls.crt cannot be read: ${i.issued.error}` }
    : null;

const keyMatches: Policy = (i) =>
  i.keyMatchesCertificate === false
    ? { reason: Reason.InvalidKeyPair, message: 'Issuing certificate as tls.key does not match tls.crt' }
    : null;

const keyFitsSpec: Policy = (i) =>
  i.keySpecMismatch !== null
    ? { reason: Reason.SecretMismatch, message: `Issuing certificate as the private key ${i.keySpecMismatch}` }
    : null;

const issuerAnnotationsMatch: Policy = (i) => {
  const a = i.secret?.annotations ?? {};
  const name = a['cert-manager.io/issuer-name'];
  const kind = a['cert-manager.io/issuer-kind'] ?? 'Issuer';
  const group = a['cert-manager.io/issuer-group'] ?? 'cert-manager.io';
  if (name === i.issuerName && kind === i.issuerKind && (group === i.issuerGroup || group === '')) return null;
  return {
    reason: Reason.IncorrectIssuer,
    message: `Issuing certificate as Secret was previously issued by ${kind}.${group}/${name ?? '(none)'}`,
  };
};

const specUnchanged: Policy = (i) =>
  i.secret?.annotations[SPEC_HASH_ANNOTATION] !== i.specHash
    ? { reason: Reason.SpecChanged, message: 'Issuing certificate as the Certificate spec changed since it was issued' }
    : null;

const issuerCAUnchanged: Policy = (i) => {
  const was = i.secret?.annotations[ISSUER_CA_ANNOTATION];
  if (i.issuerCAFingerprint === undefined || was === undefined || was === i.issuerCAFingerprint) return null;
  return {
    reason: Reason.IssuerCAChanged,
    message: 'Issuing certificate as the CA of its issuer was renewed or replaced',
  };
};

const notExpired: Policy = (i) =>
  i.issued !== undefined && 'notAfter' in i.issued && i.now.getTime() >= i.issued.notAfter.getTime()
    ? {
        reason: Reason.Expired,
        message: `Certificate expired on ${i.issued.notAfter.toISOString()}`,
      }
    : null;

const notDueForRenewal: Policy = (i) =>
  i.renewalTime !== undefined && i.now.getTime() >= i.renewalTime.getTime()
    ? {
        reason: Reason.Renewing,
        message: `Renewing certificate as renewal was scheduled at ${i.renewalTime.toISOString()}`,
      }
    : null;

/** The checks that decide whether to issue, in order. */
export const issuancePolicies: readonly Policy[] = [
  secretExists,
  secretHasData,
  certificateParses,
  keyMatches,
  keyFitsSpec,
  issuerAnnotationsMatch,
  specUnchanged,
  issuerCAUnchanged,
  notExpired,
  notDueForRenewal,
];

/**
 * The checks that decide readiness: the same, except that a certificate being
 * renewed, or waiting to be re-issued from a renewed CA, is still valid and Ready.
 */
export const readinessPolicies: readonly Policy[] = issuancePolicies.filter(
  (p) => p !== notDueForRenewal && p !== issuerCAUnchanged,
);

/** Runs `policies` in order and returns the first violation, or null when all pass. */
export function evaluate(policies: readonly Policy[], input: PolicyInput): PolicyViolation | null {
  for (const policy of policies) {
    const violation = policy(input);
    if (violation !== null) return violation;
  }
  return null;
}
