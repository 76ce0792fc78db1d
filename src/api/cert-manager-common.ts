import { z } from 'zod';
import type { Problem } from './problem.ts';

/** cert-manager's API group and version. */
export const CERT_MANAGER_GROUP = 'cert-manager.io';
/** apiVersion of every cert-manager kind weft serves. */
export const CERT_MANAGER_API_VERSION = 'cert-manager.io/v1';

/**
 * Key usages by cert-manager's names (`KeyUsage` and `ExtKeyUsage` constants):
 * the strings Certificate and CertificateRequest `usages` accept.
 */
export const KEY_USAGES = [
  'signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement',
  'data encipherment', 'cert sign', 'crl sign', 'encipher only', 'decipher only',
  'any', 'server auth', 'client auth', 'code signing', 'email protection', 's/mime',
  'ipsec end system', 'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing',
  'microsoft sgc', 'netscape sgc',
] as const;

/** One of {@link KEY_USAGES}. */
export type KeyUsage = (typeof KEY_USAGES)[number];

/** Which issuer signs: `kind` defaults to Issuer, `group` to cert-manager.io. */
export interface IssuerReference {
  name: string;
  kind?: string;
  group?: string;
}

/** Schema of an issuerRef. */
export const issuerRefSchema = z.strictObject({
  name: z.string().min(1),
  kind: z.string().optional(),
  group: z.string().optional(),
});

/** Schema of `usages`. */
export const usagesSchema = z.array(z.enum(KEY_USAGES));

/** cert-manager's own issuers are Issuer or ClusterIssuer; other groups are external issuers. */
export function issuerRefProblems(ref: unknown, path: string): Problem[] {
  if (typeof ref !== 'object' || ref === null) return [];
  const { kind, group } = ref as { kind?: unknown; group?: unknown };
  const builtIn = group === undefined || group === '' || group === CERT_MANAGER_GROUP;
  if (builtIn && kind !== undefined && kind !== 'Issuer' && kind !== 'ClusterIssuer') {
    return [{ path: `${path}.kind`, message: 'must be "Issuer" or "ClusterIssuer"' }];
  }
  if (!builtIn) {
    return [{ path: `${path}.group`, message: `must be "${CERT_MANAGER_GROUP}": weft has no external issuers` }];
  }
  return [];
}
