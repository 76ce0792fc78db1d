import { z } from 'zod';
import { AGE_COLUMN, resourceSchema, type KindDefinition } from './kind.ts';
import { labelNameProblem, subdomainProblem, type ObjectMeta } from './meta.ts';
import type { Problem } from './problem.ts';

/** core/v1 Namespace: cluster-scoped; deleting one deletes everything in it. */
export interface Namespace {
  apiVersion: 'v1';
  kind: 'Namespace';
  metadata: ObjectMeta;
  spec?: { finalizers?: string[] };
  status?: { phase?: 'Active' | 'Terminating' };
}

/** The namespace a new store starts with, and the CLI's default. */
export const DEFAULT_NAMESPACE = 'default';

/** Kind definition of Namespace. */
export const namespaceKind: KindDefinition = {
  kind: 'Namespace',
  apiVersion: 'v1',
  group: '',
  plural: 'namespaces',
  singular: 'namespace',
  shortNames: ['ns'],
  namespaced: false,
  schema: resourceSchema('v1', 'Namespace', {
    spec: z.strictObject({ finalizers: z.array(z.string()).optional() }).optional(),
  }),
  check(object): Problem[] {
    const name = (object.metadata as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string' || name === '' || subdomainProblem(name) !== null) return [];
    const p = labelNameProblem(name);
    return p === null ? [] : [{ path: 'metadata.name', message: p }];
  },
  columns: [
    { header: 'STATUS', value: (o) => String((o.status as { phase?: string } | undefined)?.phase ?? 'Active') },
    AGE_COLUMN,
  ],
};
