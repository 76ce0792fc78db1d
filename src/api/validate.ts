import type { KindDefinition } from './kind.ts';
import { kindDefinition, knownKindsText } from './kinds.ts';
import { metadataProblems, type Resource } from './meta.ts';
import { ValidationError, type Problem } from './problem.ts';
import { issueMessage, problemsFromIssues } from './zod-problems.ts';

/** Outcome of {@link validateResource}. */
export type Validation =
  | { readonly ok: true; readonly resource: Resource; readonly definition: KindDefinition }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/**
 * Checks one document against its kind's schema and rules and returns every problem
 * (never only the first). A valid document comes back in its stored form.
 */
export function validateResource(document: unknown): Validation {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return { ok: false, problems: [{ path: '', message: 'must be a mapping with apiVersion, kind and metadata' }] };
  }
  const doc = document as Record<string, unknown>;
  if (typeof doc.kind !== 'string' || doc.kind === '') {
    return { ok: false, problems: [{ path: 'kind', message: 'required' }] };
  }
  const definition = kindDefinition(doc.kind);
  if (definition === undefined) {
    return { ok: false, problems: [{ path: 'kind', message: `unknown kind "${doc.kind}": use one of ${knownKindsText()}` }] };
  }
  const problems: Problem[] = [];
  if (doc.apiVersion !== definition.apiVersion) {
    problems.push({
      path: 'apiVersion',
      message: doc.apiVersion === undefined ? `required ("${definition.apiVersion}")` : `must be "${definition.apiVersion}" for kind ${definition.kind}`,
    });
  }
  const parsed = definition.schema.safeParse(document, { error: issueMessage });
  if (!parsed.success) problems.push(...problemsFromIssues(parsed.error.issues).filter((p) => p.path !== 'apiVersion'));
  problems.push(...metadataProblems(doc.metadata, definition.namespaced));
  if (definition.check !== undefined) problems.push(...definition.check(doc));
  if (problems.length > 0) return { ok: false, problems: dedupe(problems) };
  const resource = structuredClone(doc) as Resource;
  return { ok: true, resource: definition.normalize ? definition.normalize(resource) : resource, definition };
}

/** Like {@link validateResource} but throws a ValidationError naming every problem. */
export function assertValidResource(document: unknown): { resource: Resource; definition: KindDefinition } {
  const v = validateResource(document);
  if (!v.ok) {
    const d = document as { kind?: unknown; metadata?: { name?: unknown } } | null;
    throw new ValidationError(`${String(d?.kind ?? 'resource')} "${String(d?.metadata?.name ?? '')}"`, v.problems);
  }
  return { resource: v.resource, definition: v.definition };
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
