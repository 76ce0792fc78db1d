import { z } from 'zod';
import { AGE_COLUMN, resourceSchema, type KindDefinition } from './kind.ts';
import { metadataSchema, type ObjectMeta } from './meta.ts';
import { containerNameProblems, podSpecSchema, type PodSpec } from './pod.ts';
import type { Problem } from './problem.ts';

/** apps/v1 Deployment subset: replicas of one pod template. */
export interface Deployment {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  metadata: ObjectMeta;
  spec: DeploymentSpec;
  status?: DeploymentStatus;
}

/** apps/v1 DeploymentSpec subset. */
export interface DeploymentSpec {
  /** Default 1. */
  replicas?: number;
  selector: { matchLabels?: Record<string, string> };
  template: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec: PodSpec;
  };
}

/** apps/v1 DeploymentStatus subset, written by the platform. */
export interface DeploymentStatus {
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  updatedReplicas?: number;
  observedGeneration?: number;
}

const templateMetadata = metadataSchema.partial();

/** Kind definition of Deployment. */
export const deploymentKind: KindDefinition = {
  kind: 'Deployment',
  apiVersion: 'apps/v1',
  group: 'apps',
  plural: 'deployments',
  singular: 'deployment',
  shortNames: ['deploy'],
  namespaced: true,
  schema: resourceSchema('apps/v1', 'Deployment', {
    spec: z.looseObject({
      replicas: z.number().int().min(0).optional(),
      selector: z.looseObject({ matchLabels: z.record(z.string(), z.string()).optional() }),
      template: z.looseObject({ metadata: templateMetadata.optional(), spec: podSpecSchema }),
    }),
  }),
  check(object): Problem[] {
    const spec = object.spec as DeploymentSpec | undefined;
    const out: Problem[] = containerNameProblems(spec?.template?.spec, 'spec.template.spec');
    const match = spec?.selector?.matchLabels;
    const labels = spec?.template?.metadata?.labels ?? {};
    if (match !== undefined && typeof match === 'object') {
      const missing = Object.entries(match).filter(([k, v]) => labels[k] !== v);
      if (missing.length > 0) {
        out.push({ path: 'spec.template.metadata.labels', message: `must match spec.selector.matchLabels (missing ${missing.map(([k, v]) => `${k}=${v}`).join(', ')})` });
      }
    }
    return out;
  },
  columns: [
    {
      header: 'READY',
      value: (o) => {
        const spec = o.spec as DeploymentSpec;
        const status = (o.status as DeploymentStatus | undefined) ?? {};
        return `${status.readyReplicas ?? 0}/${spec.replicas ?? 1}`;
      },
    },
    { header: 'UP-TO-DATE', value: (o) => String((o.status as DeploymentStatus | undefined)?.updatedReplicas ?? 0) },
    { header: 'AVAILABLE', value: (o) => String((o.status as DeploymentStatus | undefined)?.availableReplicas ?? 0) },
    AGE_COLUMN,
  ],
};
