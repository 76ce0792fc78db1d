/** Annotations cert-manager writes, which users' tooling reads. */
export const Annotation = {
  certificateName: 'cert-manager.io/certificate-name',
  certificateRevision: 'cert-manager.io/certificate-revision',
  privateKeySecretName: 'cert-manager.io/private-key-secret-name',
  issuerName: 'cert-manager.io/issuer-name',
  issuerKind: 'cert-manager.io/issuer-kind',
  issuerGroup: 'cert-manager.io/issuer-group',
  commonName: 'cert-manager.io/common-name',
  altNames: 'cert-manager.io/alt-names',
  ipSans: 'cert-manager.io/ip-sans',
  uriSans: 'cert-manager.io/uri-sans',
  emailSans: 'cert-manager.io/email-sans',
  /** weft: notAfter was clamped to the issuer's notAfter (RFC 3339). */
  clampedToIssuer: 'weft.dev/clamped-to-issuer',
} as const;

/** The CertificateRequest for `revision` of a Certificate: `<name>-<revision>`, as cert-manager names them. */
export function requestName(certificateName: string, revision: number): string {
  return `${certificateName}-${revision}`;
}

/** The Secret holding the key for the next issuance, while it is in flight. */
export function nextKeySecretName(certificateName: string): string {
  return `${certificateName}-next-private-key`;
}
