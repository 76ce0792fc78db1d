import { randomBytes } from 'node:crypto';
import { DEFAULT_NAMESPACE, type Event, type Resource } from '../api/index.ts';
import type { ResourceStore } from './resource-store.ts';

/** What happened, as a controller reports it. */
export interface EventInput {
  readonly type: 'Normal' | 'Warning';
  /** CamelCase reason, an exported constant of the controller (`Issuing`, `Failed`). */
  readonly reason: string;
  readonly message: string;
  /** Who reports: `weft-certs`. */
  readonly component: string;
}

/**
 * Records an Event about `object`, as client-go's recorder does: the same
 * type, reason and message about the same object bumps `count` and `lastTimestamp`
 * of the existing Event instead of adding another. Times come from the store's
 * clock. Events about cluster-scoped objects go to namespace "default".
 */
export async function recordEvent(store: ResourceStore, object: Pick<Resource, 'apiVersion' | 'kind' | 'metadata'>, input: EventInput): Promise<Event> {
  const namespace = object.metadata.namespace ?? DEFAULT_NAMESPACE;
  const { items } = await store.list('Event', { namespace });
  const same = items.find((e) => e.involvedObject.uid === object.metadata.uid
    && e.involvedObject.kind === object.kind && e.involvedObject.name === object.metadata.name
    && e.type === input.type && e.reason === input.reason && e.message === input.message);
  if (same !== undefined) {
    const { lastTimestamp: _last, ...rest } = same;
    const bumped = { ...rest, count: (same.count ?? 1) + 1 };
    return (await store.apply(bumped)).object;
  }
  const involvedObject: Event['involvedObject'] = { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name };
  if (object.metadata.namespace !== undefined) involvedObject.namespace = object.metadata.namespace;
  if (object.metadata.uid !== undefined) involvedObject.uid = object.metadata.uid;
  const suffix = `${store.now().getTime().toString(16)}${randomBytes(4).toString('hex')}`;
  const event = {
    apiVersion: 'v1' as const,
    kind: 'Event' as const,
    metadata: { name: `${object.metadata.name}.${suffix}`, namespace },
    involvedObject,
    type: input.type,
    reason: input.reason,
    message: input.message,
    source: { component: input.component },
    reportingComponent: input.component,
  };
  return (await store.apply(event)).object;
}
