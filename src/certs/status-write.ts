import type { ResourceStore } from '../store/index.ts';

/**
 * Writes `status` only when it differs from `object.status` (the status as read).
 * Every write bumps the resourceVersion and wakes every watcher, so an unchanged
 * status must never be written, or controllers would wake each other forever.
 */
export async function writeStatusIfChanged(
  store: ResourceStore,
  object: { kind: string; metadata: { name: string; namespace?: string }; status?: unknown },
  status: unknown,
): Promise<boolean> {
  if (JSON.stringify(object.status ?? {}) === JSON.stringify(status)) return false;
  const metadata: { name: string; namespace?: string } = { name: object.metadata.name };
  if (object.metadata.namespace !== undefined) metadata.namespace = object.metadata.namespace;
  await store.updateStatus({ kind: object.kind, metadata, status });
  return true;
}
