import { z } from 'zod';
import { ageOf, resourceSchema, type KindDefinition } from './kind.ts';
import type { ObjectMeta } from './meta.ts';

/** Event types, as Kubernetes has them. */
export const EventType = { Normal: 'Normal', Warning: 'Warning' } as const;

/** What an Event is about. */
export interface ObjectReference {
  apiVersion?: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
}

/**
 * core/v1 Event. The store stamps firstTimestamp and lastTimestamp with its clock
 * when a writer leaves them out, so a controller with a moved clock stays consistent.
 */
export interface Event {
  apiVersion: 'v1';
  kind: 'Event';
  metadata: ObjectMeta;
  involvedObject: ObjectReference;
  reason?: string;
  message?: string;
  type?: 'Normal' | 'Warning';
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  source?: { component?: string; host?: string };
  reportingComponent?: string;
}

/** Kind definition of Event. */
export const eventKind: KindDefinition = {
  kind: 'Event',
  apiVersion: 'v1',
  group: '',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  namespaced: true,
  hideNameColumn: true,
  schema: resourceSchema('v1', 'Event', {
    involvedObject: z.looseObject({
      apiVersion: z.string().optional(),
      kind: z.string().min(1),
      name: z.string().min(1),
      namespace: z.string().optional(),
      uid: z.string().optional(),
    }),
    reason: z.string().optional(),
    message: z.string().optional(),
    type: z.enum(['Normal', 'Warning']).optional(),
    count: z.number().int().min(1).optional(),
    firstTimestamp: z.string().nullable().optional(),
    lastTimestamp: z.string().nullable().optional(),
    eventTime: z.string().nullable().optional(),
    source: z.looseObject({ component: z.string().optional(), host: z.string().optional() }).optional(),
    reportingComponent: z.string().optional(),
    reportingInstance: z.string().optional(),
    action: z.string().optional(),
  }),
  columns: [
    { header: 'LAST SEEN', value: (o, now) => ageOf(o.lastTimestamp ?? o.metadata.creationTimestamp, now) },
    { header: 'TYPE', value: (o) => String(o.type ?? '') },
    { header: 'REASON', value: (o) => String(o.reason ?? '') },
    {
      header: 'OBJECT',
      value: (o) => {
        const ref = o.involvedObject as { kind?: string; name?: string } | undefined;
        return `${(ref?.kind ?? '').toLowerCase()}/${ref?.name ?? ''}`;
      },
    },
    { header: 'MESSAGE', value: (o) => String(o.message ?? '') },
  ],
};
