import { createHash } from 'node:crypto';
import type { CertificateSpec } from '../api/index.ts';

/**
 * A hash of the spec fields that shape the issued certificate and its key. Stored
 * on the Secret at issuance; a different hash later means the spec changed and the
 * certificate must be re-issued. Fields that do not change the certificate
 * (renewBefore, secretTemplate, revisionHistoryLimit) are left out on purpose.
 */
export function specHash(spec: CertificateSpec): string {
  const shaping = {
    commonName: spec.commonName ?? '',
    dnsNames: spec.dnsNames ?? [],
    ipAddresses: spec.ipAddresses ?? [],
    uris: spec.uris ?? [],
    emailAddresses: spec.emailAddresses ?? [],
    subject: spec.subject ?? {},
    duration: spec.duration ?? '',
    isCA: spec.isCA ?? false,
    usages: spec.usages ?? [],
    privateKey: {
      algorithm: spec.privateKey?.algorithm ?? '',
      size: spec.privateKey?.size ?? 0,
      encoding: spec.privateKey?.encoding ?? '',
    },
  };
  return createHash('sha256').update(JSON.stringify(shaping)).digest('hex').slice(0, 32);
}
