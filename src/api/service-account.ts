import { z } from 'zod';
import { AGE_COLUMN, resourceSchema, type KindDefinition } from './kind.ts';
import type { ObjectMeta } from './meta.ts';

/** core/v1 ServiceAccount: the identity a workload's certificate names. */
export interface ServiceAccount {
  apiVersion: 'v1';
  kind: 'ServiceAccount';
  metadata: ObjectMeta;
  secrets?: Array<{ name: string }>;
  imagePullSecrets?: Array<{ name: string }>;
  automountServiceAccountToken?: boolean;
}

const reference = z.looseObject({ name: z.string().min(1) });

/** Kind definition of ServiceAccount. */
export const serviceAccountKind: KindDefinition = {
  kind: 'ServiceAccount',
  apiVersion: 'v1',
  group: '',
  plural: 'serviceaccounts',
  singular: 'serviceaccount',
  shortNames: ['sa'],
  namespaced: true,
  schema: resourceSchema('v1', 'ServiceAccount', {
    secrets: z.array(reference).optional(),
    imagePullSecrets: z.array(reference).optional(),
    automountServiceAccountToken: z.boolean().optional(),
  }),
  columns: [
    { header: 'SECRETS', value: (o) => String(Array.isArray(o.secrets) ? o.secrets.length : 0) },
    AGE_COLUMN,
  ],
};
