import { z } from 'zod';
import { base64Field, dataKey } from './base64.ts';
import { AGE_COLUMN, resourceSchema, type KindDefinition } from './kind.ts';
import type { ObjectMeta, Resource } from './meta.ts';
import type { Problem } from './problem.ts';

/** Secret types weft knows by name; Kubernetes accepts any, so do we. */
export const SecretType = {
  Opaque: 'Opaque',
  TLS: 'kubernetes.io/tls',
} as const;

/** core/v1 Secret. `data` values are base64, as in Kubernetes; `stringData` is folded into `data` on write. */
export interface Secret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: ObjectMeta;
  type?: string;
  data?: Record<string, string>;
  immutable?: boolean;
}

/** Kind definition of Secret. */
export const secretKind: KindDefinition = {
  kind: 'Secret',
  apiVersion: 'v1',
  group: '',
  plural: 'secrets',
  singular: 'secret',
  shortNames: [],
  namespaced: true,
  schema: resourceSchema('v1', 'Secret', {
    type: z.string().min(1).optional(),
    data: z.record(dataKey, base64Field).optional(),
    stringData: z.record(dataKey, z.string()).optional(),
    immutable: z.boolean().optional(),
  }),
  check(object): Problem[] {
    if (object.type !== SecretType.TLS) return [];
    // Kubernetes requires both keys on a TLS Secret; either field may carry them.
    const keys = new Set([
      ...Object.keys(isMap(object.data) ? object.data : {}),
      ...Object.keys(isMap(object.stringData) ? object.stringData : {}),
    ]);
    return ['tls.crt', 'tls.key']
      .filter((k) => !keys.has(k))
      .map((k) => ({ path: `data[${JSON.stringify(k)}]`, message: `required for type ${SecretType.TLS}` }));
  },
  normalize(object: Resource): Resource {
    const { stringData, ...rest } = object;
    const data: Record<string, string> = { ...((rest.data as Record<string, string> | undefined) ?? {}) };
    for (const [k, v] of Object.entries((stringData as Record<string, string> | undefined) ?? {})) {
      data[k] = Buffer.from(v, 'utf8').toString('base64');
    }
    return { ...rest, type: (rest.type as string | undefined) ?? SecretType.Opaque, data };
  },
  columns: [
    { header: 'TYPE', value: (o) => String(o.type ?? SecretType.Opaque) },
    { header: 'DATA', value: (o) => String(Object.keys((o.data as object | undefined) ?? {}).length) },
    AGE_COLUMN,
  ],
};

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
