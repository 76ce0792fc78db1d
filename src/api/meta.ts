import { z } from 'zod';
import { formatPath, type Problem } from './problem.ts';

/** A reference from an owned object to its owner; deleting the owner deletes the owned. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/**
 * Kubernetes object metadata. The store owns uid, resourceVersion, generation and
 * creationTimestamp: what a client sends there is ignored, except resourceVersion,
 * which is a precondition (a stale one is a conflict).
 */
export interface ObjectMeta {
  name: string;
  /** Absent for cluster-scoped kinds (Namespace, ClusterIssuer). */
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Store-wide monotonic counter, as a string (opaque to clients, as in Kubernetes). */
  resourceVersion?: string;
  /** Bumped when anything but metadata and status changes. */
  generation?: number;
  /** RFC 3339, second precision, from the store's clock. */
  creationTimestamp?: string;
  ownerReferences?: OwnerReference[];
}

/** Any stored object: the common envelope. Kind-specific types narrow it. */
export interface Resource {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/**
 * The part of a resource a client must send; the store fills in the rest. No index
 * signature, so the kind interfaces (Certificate, Secret…) are assignable to it.
 */
export interface ResourceInput {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string } & Partial<ObjectMeta>;
}

// RFC 1123 names as Kubernetes checks them (IsDNS1123Subdomain / IsDNS1123Label).
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Problem text for a name that is not an RFC 1123 subdomain, or null when it is. */
export function subdomainProblem(name: string): string | null {
  if (name.length > 253) return 'must be at most 253 characters';
  if (!DNS1123_SUBDOMAIN.test(name)) {
    return 'must be lower-case letters, digits, "-" and ".", starting and ending with a letter or digit';
  }
  return null;
}

/** Problem text for a name that is not an RFC 1123 label (namespaces), or null. */
export function labelNameProblem(name: string): string | null {
  if (name.length > 63) return 'must be at most 63 characters';
  if (!DNS1123_LABEL.test(name)) return 'must be lower-case letters, digits and "-", starting and ending with a letter or digit';
  return null;
}

const stringMap = z.record(z.string(), z.string());

/** Metadata as a client may send it. Unknown metadata fields (managedFields…) pass and are dropped by the store. */
export const metadataSchema = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().min(1).optional(),
  uid: z.string().optional(),
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  creationTimestamp: z.string().nullable().optional(),
  ownerReferences: z.array(z.strictObject({
    apiVersion: z.string().min(1),
    kind: z.string().min(1),
    name: z.string().min(1),
    uid: z.string().min(1),
    controller: z.boolean().optional(),
    blockOwnerDeletion: z.boolean().optional(),
  })).optional(),
});

/** Checks names and labels beyond their types: the rules Kubernetes applies. */
export function metadataProblems(metadata: unknown, namespaced: boolean): Problem[] {
  const out: Problem[] = [];
  if (typeof metadata !== 'object' || metadata === null) return out;
  const m = metadata as Record<string, unknown>;
  if (typeof m.name === 'string' && m.name !== '') {
    const p = subdomainProblem(m.name);
    if (p !== null) out.push({ path: 'metadata.name', message: p });
  }
  if (namespaced && typeof m.namespace === 'string' && m.namespace !== '') {
    const p = labelNameProblem(m.namespace);
    if (p !== null) out.push({ path: 'metadata.namespace', message: p });
  }
  if (typeof m.labels === 'object' && m.labels !== null) {
    for (const [key, value] of Object.entries(m.labels)) {
      const keyProblem = qualifiedNameProblem(key);
      if (keyProblem !== null) out.push({ path: formatPath(['metadata', 'labels', key]), message: keyProblem });
      if (typeof value === 'string' && (value.length > 63 || !LABEL_VALUE.test(value))) {
        out.push({
          path: formatPath(['metadata', 'labels', key]),
          message: 'value must be at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
        });
      }
    }
  }
  if (typeof m.annotations === 'object' && m.annotations !== null) {
    for (const key of Object.keys(m.annotations)) {
      const p = qualifiedNameProblem(key);
      if (p !== null) out.push({ path: formatPath(['metadata', 'annotations', key]), message: p });
    }
  }
  return out;
}

/** Label and annotation keys: optional DNS prefix, a slash, a name of at most 63 characters. */
function qualifiedNameProblem(key: string): string | null {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : '';
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (slash >= 0 && subdomainProblem(prefix) !== null) return 'key prefix must be a DNS subdomain such as "example.com"';
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return 'key must be at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit';
  }
  return null;
}
