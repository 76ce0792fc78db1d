import { z } from 'zod';
import { metadataSchema } from './meta.ts';
import type { Problem } from './problem.ts';
import type { Resource } from './meta.ts';

/** One column of `weft get`, as a CRD's additionalPrinterColumns. */
export interface Column {
  readonly header: string;
  /** Shown only with `-o wide` (kubectl's priority 1). */
  readonly wide?: boolean;
  /** Cell text; `now` is for ages. */
  readonly value: (object: Resource, now: Date) => string;
}

/**
 * Everything weft knows about one kind. Adding a kind is one file exporting one of
 * these, plus its line in `kinds.ts`.
 */
export interface KindDefinition {
  readonly kind: string;
  readonly apiVersion: string;
  /** API group, '' for the core group. */
  readonly group: string;
  /** Lower-case plural (`certificates`): kubectl's resource name. */
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  /** false for cluster-scoped kinds (Namespace, ClusterIssuer). */
  readonly namespaced: boolean;
  /** The whole document's schema, metadata included; built with {@link resourceSchema}. */
  readonly schema: z.ZodType;
  /** Rules across fields, run on the raw document even when the schema failed. */
  readonly check?: (object: Record<string, unknown>) => Problem[];
  /** Rewrites a valid document into its stored form (Secret stringData → data). */
  readonly normalize?: (object: Resource) => Resource;
  /** `weft get` columns, NAME excluded (it comes first unless {@link hideNameColumn}). */
  readonly columns: readonly Column[];
  /** true where kubectl lists without a NAME column (Events). */
  readonly hideNameColumn?: boolean;
}

/**
 * The envelope every kind shares: apiVersion, kind, metadata, status (written
 * apart, so loosely typed here), plus the kind's own top-level fields.
 */
export function resourceSchema(apiVersion: string, kind: string, fields: z.core.$ZodLooseShape): z.ZodType {
  return z.strictObject({
    apiVersion: z.literal(apiVersion),
    kind: z.literal(kind),
    metadata: metadataSchema,
    status: z.record(z.string(), z.unknown()).optional(),
    ...fields,
  });
}

/** kubectl's age: `45s`, `12m`, `5h`, `3d4h`, `400d`. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 || h >= 8 ? `${h}h` : `${h}h${m % 60}m`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  return `${d}d`;
}

/** Age of a timestamp relative to `now`, `<unknown>` when absent. */
export function ageOf(timestamp: unknown, now: Date): string {
  if (typeof timestamp !== 'string') return '<unknown>';
  const at = Date.parse(timestamp);
  return Number.isNaN(at) ? '<unknown>' : formatAge(now.getTime() - at);
}

/** The AGE column every kind ends with. */
export const AGE_COLUMN: Column = { header: 'AGE', value: (o, now) => ageOf(o.metadata.creationTimestamp, now) };

/** A status condition as cert-manager and Kubernetes write them. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/** The condition of `type` in `object.status.conditions`, if any. */
export function conditionOf(object: { readonly metadata: unknown; readonly status?: unknown }, type: string): Condition | undefined {
  const status = object.status as { conditions?: unknown } | undefined;
  if (!Array.isArray(status?.conditions)) return undefined;
  return (status.conditions as Condition[]).find((c) => c?.type === type);
}

/** READY column text: the Ready condition's status, empty while unknown. */
export function readyText(object: Resource): string {
  return conditionOf(object, 'Ready')?.status ?? '';
}
