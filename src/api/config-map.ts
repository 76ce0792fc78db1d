import { z } from 'zod';
import { base64Field, dataKey } from './base64.ts';
import { AGE_COLUMN, resourceSchema, type KindDefinition } from './kind.ts';
import type { ObjectMeta } from './meta.ts';

/** core/v1 ConfigMap: text in `data`, bytes (base64) in `binaryData`. */
export interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: ObjectMeta;
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  immutable?: boolean;
}

/** Kind definition of ConfigMap. */
export const configMapKind: KindDefinition = {
  kind: 'ConfigMap',
  apiVersion: 'v1',
  group: '',
  plural: 'configmaps',
  singular: 'configmap',
  shortNames: ['cm'],
  namespaced: true,
  schema: resourceSchema('v1', 'ConfigMap', {
    data: z.record(dataKey, z.string()).optional(),
    binaryData: z.record(dataKey, base64Field).optional(),
    immutable: z.boolean().optional(),
  }),
  columns: [
    {
      header: 'DATA',
      value: (o) => String(Object.keys((o.data as object | undefined) ?? {}).length
        + Object.keys((o.binaryData as object | undefined) ?? {}).length),
    },
    AGE_COLUMN,
  ],
};
