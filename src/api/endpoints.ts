import { z } from 'zod';
import { AGE_COLUMN, resourceSchema, type KindDefinition } from './kind.ts';
import type { ObjectMeta } from './meta.ts';

/** What an endpoint address stands for: normally the Pod behind it. */
export interface EndpointTargetRef {
  /** `Pod` for addresses of a selector-backed Service. */
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
}

/** One address behind a Service. */
export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  /** The Pod at this address; its ServiceAccount is the endpoint's identity. */
  targetRef?: EndpointTargetRef;
}

/** One port of an Endpoints subset, named after the Service port it serves. */
export interface EndpointPort {
  name?: string;
  port: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  appProtocol?: string;
}

/** Addresses that all listen on the same ports. */
export interface EndpointSubset {
  addresses?: EndpointAddress[];
  /** Known but not ready: not sent traffic. */
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

/** core/v1 Endpoints: the addresses behind the Service of the same name and namespace. */
export interface Endpoints {
  apiVersion: 'v1';
  kind: 'Endpoints';
  metadata: ObjectMeta;
  subsets?: EndpointSubset[];
}

const targetRef = z.strictObject({
  kind: z.string().min(1),
  name: z.string().min(1),
  namespace: z.string().min(1).optional(),
  uid: z.string().optional(),
  apiVersion: z.string().optional(),
  resourceVersion: z.string().optional(),
  fieldPath: z.string().optional(),
});

const address = z.strictObject({
  ip: z.union([z.ipv4(), z.ipv6()]),
  hostname: z.string().min(1).optional(),
  nodeName: z.string().min(1).optional(),
  targetRef: targetRef.optional(),
});

const port = z.strictObject({
  name: z.string().max(15).optional(),
  port: z.number().int().min(1).max(65535),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
  appProtocol: z.string().min(1).optional(),
});

const subset = z.strictObject({
  addresses: z.array(address).optional(),
  notReadyAddresses: z.array(address).optional(),
  ports: z.array(port).optional(),
});

// kubectl prints at most three endpoints, then how many more.
const SHOWN_ENDPOINTS = 3;

/** Kind definition of Endpoints. */
export const endpointsKind: KindDefinition = {
  kind: 'Endpoints',
  apiVersion: 'v1',
  group: '',
  plural: 'endpoints',
  singular: 'endpoints',
  shortNames: ['ep'],
  namespaced: true,
  schema: resourceSchema('v1', 'Endpoints', { subsets: z.array(subset).optional() }),
  columns: [
    {
      header: 'ENDPOINTS',
      value: (o) => {
        const all: string[] = [];
        for (const s of (o.subsets as EndpointSubset[] | undefined) ?? []) {
          for (const a of s.addresses ?? []) {
            const host = a.ip.includes(':') ? `[${a.ip}]` : a.ip;
            if ((s.ports ?? []).length === 0) all.push(host);
            for (const p of s.ports ?? []) all.push(`${host}:${p.port}`);
          }
        }
        if (all.length === 0) return '<none>';
        const shown = all.slice(0, SHOWN_ENDPOINTS).join(',');
        return all.length > SHOWN_ENDPOINTS ? `${shown} + ${all.length - SHOWN_ENDPOINTS} more...` : shown;
      },
    },
    AGE_COLUMN,
  ],
};
