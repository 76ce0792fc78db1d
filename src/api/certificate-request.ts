import { z } from 'zod';
import {
  CERT_MANAGER_API_VERSION, CERT_MANAGER_GROUP, issuerRefProblems, issuerRefSchema, usagesSchema,
  type IssuerReference, type KeyUsage,
} from './cert-manager-common.ts';
import { isBase64 } from './base64.ts';
import { durationField } from './duration-field.ts';
import { AGE_COLUMN, conditionOf, readyText, resourceSchema, type Condition, type KindDefinition } from './kind.ts';
import type { ObjectMeta } from './meta.ts';
import type { Problem } from './problem.ts';

/** cert-manager.io/v1 CertificateRequest spec: one CSR for one issuer. */
export interface CertificateRequestSpec {
  /** base64 of a PEM `CERTIFICATE REQUEST`, as cert-manager stores it. */
  request: string;
  issuerRef: IssuerReference;
  duration?: string;
  isCA?: boolean;
  usages?: KeyUsage[];
  username?: string;
  uid?: string;
  groups?: string[];
}

/** CertificateRequest status: Ready condition, the signed certificate and CA (both base64 PEM). */
export interface CertificateRequestStatus {
  conditions?: Condition[];
  certificate?: string;
  ca?: string;
  failureTime?: string;
}

/** cert-manager.io/v1 CertificateRequest. */
export interface CertificateRequest {
  apiVersion: typeof CERT_MANAGER_API_VERSION;
  kind: 'CertificateRequest';
  metadata: ObjectMeta;
  spec: CertificateRequestSpec;
  status?: CertificateRequestStatus;
}

const CSR_PEM = '-----BEGIN CERTIFICATE REQUEST-----';

const specSchema = z.strictObject({
  request: z.string().min(1).refine(
    (s) => isBase64(s) && Buffer.from(s, 'base64').toString('latin1').includes(CSR_PEM),
    { error: `must be base64 of a PEM "${CSR_PEM}"` },
  ),
  issuerRef: issuerRefSchema,
  duration: durationField.optional(),
  isCA: z.boolean().optional(),
  usages: usagesSchema.optional(),
  username: z.string().optional(),
  uid: z.string().optional(),
  groups: z.array(z.string()).optional(),
  extra: z.record(z.string(), z.array(z.string())).optional(),
});

function checkSpec(object: Record<string, unknown>): Problem[] {
  const spec = object.spec as { issuerRef?: unknown } | undefined;
  return typeof spec === 'object' && spec !== null ? issuerRefProblems(spec.issuerRef, 'spec.issuerRef') : [];
}

/** Kind definition of CertificateRequest. */
export const certificateRequestKind: KindDefinition = {
  kind: 'CertificateRequest',
  apiVersion: CERT_MANAGER_API_VERSION,
  group: CERT_MANAGER_GROUP,
  plural: 'certificaterequests',
  singular: 'certificaterequest',
  shortNames: ['cr', 'crs'],
  namespaced: true,
  schema: resourceSchema(CERT_MANAGER_API_VERSION, 'CertificateRequest', { spec: specSchema }),
  check: checkSpec,
  columns: [
    { header: 'READY', value: readyText },
    { header: 'ISSUER', value: (o) => String((o.spec as CertificateRequestSpec | undefined)?.issuerRef?.name ?? '') },
    { header: 'STATUS', wide: true, value: (o) => conditionOf(o, 'Ready')?.message ?? '' },
    AGE_COLUMN,
  ],
};
