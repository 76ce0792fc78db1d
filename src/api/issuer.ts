import { z } from 'zod';
import { CERT_MANAGER_API_VERSION, CERT_MANAGER_GROUP } from './cert-manager-common.ts';
import { AGE_COLUMN, conditionOf, readyText, resourceSchema, type Condition, type KindDefinition } from './kind.ts';
import type { ObjectMeta } from './meta.ts';
import type { Problem } from './problem.ts';

/** Issuer and ClusterIssuer spec: exactly one of `ca` or `selfSigned`. */
export interface IssuerSpec {
  /** Signs with the key pair in this Secret (`tls.crt`, `tls.key`). */
  ca?: { secretName: string; crlDistributionPoints?: string[]; ocspServers?: string[]; issuingCertificateURLs?: string[] };
  /** Signs each certificate with its own key. */
  selfSigned?: { crlDistributionPoints?: string[] };
}

/** Issuer status: a Ready condition (reasons KeyPairVerified, ErrGetKeyPair, ErrInvalidKeyPair). */
export interface IssuerStatus {
  conditions?: Condition[];
}

/** cert-manager.io/v1 Issuer: signs Certificates in its own namespace. */
export interface Issuer {
  apiVersion: typeof CERT_MANAGER_API_VERSION;
  kind: 'Issuer';
  metadata: ObjectMeta;
  spec: IssuerSpec;
  status?: IssuerStatus;
}

/** cert-manager.io/v1 ClusterIssuer: cluster-scoped; its CA Secret lives in the cluster resource namespace. */
export interface ClusterIssuer {
  apiVersion: typeof CERT_MANAGER_API_VERSION;
  kind: 'ClusterIssuer';
  metadata: ObjectMeta;
  spec: IssuerSpec;
  status?: IssuerStatus;
}

const urls = z.array(z.string()).optional();
// Other issuer types are listed so we can say "not supported" instead of "unknown field".
const UNSUPPORTED = ['acme', 'vault', 'venafi'] as const;

const specSchema = z.strictObject({
  ca: z.strictObject({
    secretName: z.string().min(1),
    crlDistributionPoints: urls,
    ocspServers: urls,
    issuingCertificateURLs: urls,
  }).optional(),
  selfSigned: z.strictObject({ crlDistributionPoints: urls }).optional(),
  ...Object.fromEntries(UNSUPPORTED.map((k) => [k, z.unknown().optional()])),
});

function checkSpec(object: Record<string, unknown>): Problem[] {
  const spec = object.spec;
  if (typeof spec !== 'object' || spec === null) return [];
  const s = spec as Record<string, unknown>;
  const out: Problem[] = [];
  for (const k of UNSUPPORTED) {
    if (s[k] !== undefined) out.push({ path: `spec.${k}`, message: 'not supported: weft issuers are ca or selfSigned' });
  }
  const set = (['ca', 'selfSigned'] as const).filter((k) => s[k] !== undefined && s[k] !== null);
  if (set.length === 0 && out.length === 0) out.push({ path: 'spec', message: 'must set one issuer type: ca or selfSigned' });
  if (set.length > 1) out.push({ path: 'spec.selfSigned', message: 'cannot be set together with spec.ca: choose one issuer type' });
  return out;
}

function issuerKind(kind: 'Issuer' | 'ClusterIssuer'): KindDefinition {
  return {
    kind,
    apiVersion: CERT_MANAGER_API_VERSION,
    group: CERT_MANAGER_GROUP,
    plural: `${kind.toLowerCase()}s`,
    singular: kind.toLowerCase(),
    shortNames: [],
    namespaced: kind === 'Issuer',
    schema: resourceSchema(CERT_MANAGER_API_VERSION, kind, { spec: specSchema }),
    check: checkSpec,
    columns: [
      { header: 'READY', value: readyText },
      { header: 'STATUS', wide: true, value: (o) => conditionOf(o, 'Ready')?.message ?? '' },
      AGE_COLUMN,
    ],
  };
}

/** Kind definition of Issuer. */
export const issuerKindDefinition: KindDefinition = issuerKind('Issuer');
/** Kind definition of ClusterIssuer. */
export const clusterIssuerKindDefinition: KindDefinition = issuerKind('ClusterIssuer');
