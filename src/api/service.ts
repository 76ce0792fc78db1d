import { z } from 'zod';
import { AGE_COLUMN, resourceSchema, type KindDefinition } from './kind.ts';
import type { ObjectMeta } from './meta.ts';
import type { Problem } from './problem.ts';

/** One port of a Service: where clients connect (`port`) and where the pods listen (`targetPort`). */
export interface ServicePort {
  /** Required when the Service has more than one port; Endpoints ports carry the same name. */
  name?: string;
  /** Default `TCP`. */
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  /** The port clients dial on the Service's address. */
  port: number;
  /** The pods' port: a number, or the name of a container port. Default: `port`. */
  targetPort?: number | string;
  /** The application protocol (`http`, `kubernetes.io/h2c`, `kubernetes.io/ws`…): a hint for the proxy. */
  appProtocol?: string;
  nodePort?: number;
}

/** The part of core/v1 ServiceSpec weft reads. */
export interface ServiceSpec {
  /** Default `ClusterIP`. */
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** The Service's virtual IP; `None` for a headless Service; empty or absent until one is allocated. */
  clusterIP?: string;
  clusterIPs?: string[];
  /** Pods with these labels back the Service. */
  selector?: Record<string, string>;
  ports?: ServicePort[];
  externalName?: string;
}

/** core/v1 Service: a stable name and virtual IP in front of a set of pods. */
export interface Service {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: ObjectMeta;
  spec: ServiceSpec;
  status?: Record<string, unknown>;
}

// Kubernetes' IsValidPortName: an IANA service name, at most 15 characters.
const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const portNumber = z.number().int().min(1).max(65535);
const portName = z.string().max(15).regex(PORT_NAME, 'must be lower-case letters, digits and "-", with at least one letter');
const ipAddress = z.union([z.ipv4(), z.ipv6()]);

const servicePort = z.strictObject({
  name: z.string().max(63).optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
  port: portNumber,
  targetPort: z.union([portNumber, portName]).optional(),
  appProtocol: z.string().min(1).optional(),
  nodePort: portNumber.optional(),
});

// Fields of ServiceSpec weft does not use but a manifest from kubectl carries: accepted, kept, ignored.
const passthrough = {
  sessionAffinity: z.string().optional(),
  sessionAffinityConfig: z.unknown().optional(),
  ipFamilies: z.array(z.string()).optional(),
  ipFamilyPolicy: z.string().optional(),
  internalTrafficPolicy: z.string().optional(),
  externalTrafficPolicy: z.string().optional(),
  externalIPs: z.array(z.string()).optional(),
  loadBalancerIP: z.string().optional(),
  loadBalancerSourceRanges: z.array(z.string()).optional(),
  loadBalancerClass: z.string().optional(),
  allocateLoadBalancerNodePorts: z.boolean().optional(),
  healthCheckNodePort: z.number().int().optional(),
  publishNotReadyAddresses: z.boolean().optional(),
  trafficDistribution: z.string().optional(),
};

const serviceSpec = z.strictObject({
  type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']).optional(),
  clusterIP: z.union([z.literal(''), z.literal('None'), ipAddress]).optional(),
  clusterIPs: z.array(z.union([z.literal('None'), ipAddress])).optional(),
  selector: z.record(z.string(), z.string()).optional(),
  ports: z.array(servicePort).optional(),
  externalName: z.string().min(1).optional(),
  ...passthrough,
});

/** Kind definition of Service. */
export const serviceKind: KindDefinition = {
  kind: 'Service',
  apiVersion: 'v1',
  group: '',
  plural: 'services',
  singular: 'service',
  shortNames: ['svc'],
  namespaced: true,
  schema: resourceSchema('v1', 'Service', { spec: serviceSpec }),
  check(object): Problem[] {
    const spec = object.spec as { ports?: unknown } | undefined;
    const ports = Array.isArray(spec?.ports) ? (spec.ports as Array<{ name?: unknown }>) : [];
    const problems: Problem[] = [];
    const seen = new Set<unknown>();
    ports.forEach((p, i) => {
      // Endpoints ports are matched to Service ports by name, so with several ports each needs one.
      if (ports.length > 1 && (p?.name === undefined || p.name === '')) {
        problems.push({ path: `spec.ports[${i}].name`, message: 'required when the Service has more than one port' });
      } else if (p?.name !== undefined && seen.has(p.name)) {
        problems.push({ path: `spec.ports[${i}].name`, message: `must be unique: "${String(p.name)}" is used twice` });
      }
      seen.add(p?.name);
    });
    return problems;
  },
  columns: [
    { header: 'TYPE', value: (o) => String((o.spec as ServiceSpec | undefined)?.type ?? 'ClusterIP') },
    { header: 'CLUSTER-IP', value: (o) => (o.spec as ServiceSpec | undefined)?.clusterIP || '<none>' },
    { header: 'EXTERNAL-IP', value: (o) => (o.spec as ServiceSpec | undefined)?.externalName ?? '<none>' },
    {
      header: 'PORT(S)',
      value: (o) => {
        const ports = (o.spec as ServiceSpec | undefined)?.ports ?? [];
        return ports.length === 0 ? '<none>' : ports.map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',');
      },
    },
    AGE_COLUMN,
  ],
};
