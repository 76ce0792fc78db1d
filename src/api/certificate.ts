import { isIP } from 'node:net';
import { z } from 'zod';
import { formatDuration } from '../pki/index.ts';
import {
  CERT_MANAGER_API_VERSION, CERT_MANAGER_GROUP, issuerRefProblems, issuerRefSchema, usagesSchema,
  type IssuerReference, type KeyUsage,
} from './cert-manager-common.ts';
import { durationField, tryParseDuration } from './duration-field.ts';
import { AGE_COLUMN, conditionOf, readyText, resourceSchema, type Condition, type KindDefinition } from './kind.ts';
import type { ObjectMeta } from './meta.ts';
import type { Problem } from './problem.ts';

/** cert-manager's default lifetime when `spec.duration` is absent: 90 days. */
export const DEFAULT_CERTIFICATE_DURATION_MS = 2160 * 3_600_000;
/** The shortest `spec.duration` cert-manager accepts. */
export const MIN_CERTIFICATE_DURATION_MS = 3_600_000;
/** The shortest `spec.renewBefore` cert-manager accepts. */
export const MIN_RENEW_BEFORE_MS = 5 * 60_000;
/** `spec.revisionHistoryLimit` when absent: keep one CertificateRequest, as cert-manager does. */
export const DEFAULT_REVISION_HISTORY_LIMIT = 1;

/** Private key algorithms. */
export const KeyAlgorithm = { RSA: 'RSA', ECDSA: 'ECDSA', Ed25519: 'Ed25519' } as const;
/** Private key encodings in `tls.key`. */
export const KeyEncoding = { PKCS1: 'PKCS1', PKCS8: 'PKCS8' } as const;
/** Whether re-issuance makes a new key. cert-manager's default is Always (since v1.18). */
export const RotationPolicy = { Always: 'Always', Never: 'Never' } as const;

/** Key sizes per algorithm, as cert-manager validates them. */
export const ECDSA_SIZES = [256, 384, 521] as const;

/** `spec.privateKey`; defaults: RSA 2048 (ECDSA 256), PKCS1, rotationPolicy Always. */
export interface CertificatePrivateKey {
  algorithm?: 'RSA' | 'ECDSA' | 'Ed25519';
  size?: number;
  encoding?: 'PKCS1' | 'PKCS8';
  rotationPolicy?: 'Always' | 'Never';
}

/** `spec.subject`: the distinguished name besides the common name. */
export interface CertificateSubject {
  organizations?: string[];
  countries?: string[];
  organizationalUnits?: string[];
  localities?: string[];
  provinces?: string[];
  streetAddresses?: string[];
  postalCodes?: string[];
  serialNumber?: string;
}

/** cert-manager.io/v1 Certificate spec, every field weft honours. */
export interface CertificateSpec {
  secretName: string;
  issuerRef: IssuerReference;
  commonName?: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  uris?: string[];
  emailAddresses?: string[];
  subject?: CertificateSubject;
  /** Go duration; default {@link DEFAULT_CERTIFICATE_DURATION_MS}. */
  duration?: string;
  /** Go duration, at least 5m and shorter than duration. */
  renewBefore?: string;
  /** 1–99; not together with renewBefore. */
  renewBeforePercentage?: number;
  isCA?: boolean;
  usages?: KeyUsage[];
  privateKey?: CertificatePrivateKey;
  secretTemplate?: { annotations?: Record<string, string>; labels?: Record<string, string> };
  revisionHistoryLimit?: number;
}

/** cert-manager.io/v1 Certificate status, written by the certificate controller. */
export interface CertificateStatus {
  conditions?: Condition[];
  /** RFC 3339. */
  notBefore?: string;
  notAfter?: string;
  renewalTime?: string;
  revision?: number;
  lastFailureTime?: string;
  failedIssuanceAttempts?: number;
  nextPrivateKeySecretName?: string;
}

/** cert-manager.io/v1 Certificate. */
export interface Certificate {
  apiVersion: typeof CERT_MANAGER_API_VERSION;
  kind: 'Certificate';
  metadata: ObjectMeta;
  spec: CertificateSpec;
  status?: CertificateStatus;
}

const strings = z.array(z.string()).optional();
const stringMap = z.record(z.string(), z.string()).optional();

const specSchema = z.strictObject({
  secretName: z.string().min(1),
  issuerRef: issuerRefSchema,
  // X.509 upper bound on a CN (RFC 5280 ub-common-name), which cert-manager enforces too.
  commonName: z.string().max(64).optional(),
  dnsNames: z.array(z.string().min(1)).optional(),
  ipAddresses: z.array(z.string().refine((s) => isIP(s) !== 0, { error: 'must be an IPv4 or IPv6 address' })).optional(),
  uris: z.array(z.string().refine(isUri, { error: 'must be a URI with a scheme, such as "spiffe://cluster.local/ns/x/sa/y"' })).optional(),
  emailAddresses: z.array(z.string().regex(/^[^@\s]+@[^@\s]+$/, { error: 'must be an email address' })).optional(),
  subject: z.strictObject({
    organizations: strings,
    countries: strings,
    organizationalUnits: strings,
    localities: strings,
    provinces: strings,
    streetAddresses: strings,
    postalCodes: strings,
    serialNumber: z.string().optional(),
  }).optional(),
  duration: durationField.optional(),
  renewBefore: durationField.optional(),
  renewBeforePercentage: z.number().int().min(1).max(99).optional(),
  isCA: z.boolean().optional(),
  usages: usagesSchema.optional(),
  privateKey: z.strictObject({
    algorithm: z.enum(['RSA', 'ECDSA', 'Ed25519']).optional(),
    size: z.number().int().optional(),
    encoding: z.enum(['PKCS1', 'PKCS8']).optional(),
    rotationPolicy: z.enum(['Always', 'Never']).optional(),
  }).optional(),
  secretTemplate: z.strictObject({ annotations: stringMap, labels: stringMap }).optional(),
  revisionHistoryLimit: z.number().int().min(1).optional(),
});

function isUri(text: string): boolean {
  try {
    return new URL(text).protocol.length > 1;
  } catch {
    return false;
  }
}

/** cert-manager's webhook rules that span fields. Reads the raw spec defensively. */
function checkSpec(object: Record<string, unknown>): Problem[] {
  const spec = object.spec;
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return [];
  const s = spec as Record<string, unknown>;
  const out: Problem[] = [];

  const hasList = (k: string) => Array.isArray(s[k]) && (s[k] as unknown[]).length > 0;
  if (!(typeof s.commonName === 'string' && s.commonName !== '')
    && !['dnsNames', 'ipAddresses', 'uris', 'emailAddresses'].some(hasList)) {
    out.push({ path: 'spec', message: 'must set at least one of commonName, dnsNames, ipAddresses, uris or emailAddresses' });
  }

  const duration = tryParseDuration(s.duration);
  if (duration !== null && duration < MIN_CERTIFICATE_DURATION_MS) {
    out.push({ path: 'spec.duration', message: `must be at least 1h (got ${String(s.duration)})` });
  }
  const effective = duration ?? DEFAULT_CERTIFICATE_DURATION_MS;
  const durationText = duration !== null ? String(s.duration) : `${formatDuration(DEFAULT_CERTIFICATE_DURATION_MS).replace(/0m0s$/, '')}, the default`;
  const renewBefore = tryParseDuration(s.renewBefore);
  if (renewBefore !== null) {
    if (renewBefore < MIN_RENEW_BEFORE_MS) {
      out.push({ path: 'spec.renewBefore', message: `must be at least 5m (got ${String(s.renewBefore)})` });
    } else if (renewBefore >= effective) {
      out.push({ path: 'spec.renewBefore', message: `must be shorter than spec.duration (${durationText})` });
    }
  }
  if (s.renewBefore !== undefined && s.renewBeforePercentage !== undefined) {
    out.push({ path: 'spec.renewBeforePercentage', message: 'cannot be set together with spec.renewBefore: choose one' });
  }

  const pk = s.privateKey;
  if (typeof pk === 'object' && pk !== null) {
    const { algorithm = 'RSA', size } = pk as { algorithm?: unknown; size?: unknown };
    if (typeof size === 'number' && size !== 0) {
      if (algorithm === 'RSA' && (size < 2048 || size > 8192)) {
        out.push({ path: 'spec.privateKey.size', message: 'must be between 2048 and 8192 for RSA' });
      }
      if (algorithm === 'ECDSA' && !(ECDSA_SIZES as readonly number[]).includes(size)) {
        out.push({ path: 'spec.privateKey.size', message: 'must be 256, 384 or 521 for ECDSA' });
      }
    }
  }
  out.push(...issuerRefProblems(s.issuerRef, 'spec.issuerRef'));
  return out;
}

/** Kind definition of Certificate. Columns as cert-manager's: NAME READY SECRET AGE (wide: ISSUER STATUS). */
export const certificateKind: KindDefinition = {
  kind: 'Certificate',
  apiVersion: CERT_MANAGER_API_VERSION,
  group: CERT_MANAGER_GROUP,
  plural: 'certificates',
  singular: 'certificate',
  shortNames: ['cert', 'certs'],
  namespaced: true,
  schema: resourceSchema(CERT_MANAGER_API_VERSION, 'Certificate', { spec: specSchema }),
  check: checkSpec,
  columns: [
    { header: 'READY', value: readyText },
    { header: 'SECRET', value: (o) => String((o.spec as { secretName?: string } | undefined)?.secretName ?? '') },
    { header: 'ISSUER', wide: true, value: (o) => String((o.spec as CertificateSpec | undefined)?.issuerRef?.name ?? '') },
    { header: 'STATUS', wide: true, value: (o) => conditionOf(o, 'Ready')?.message ?? '' },
    AGE_COLUMN,
  ],
};
