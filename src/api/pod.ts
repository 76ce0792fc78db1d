import { z } from 'zod';
import { AGE_COLUMN, conditionOf, resourceSchema, type KindDefinition } from './kind.ts';
import { isMeshedPod } from './meshed-pod.ts';
import type { ObjectMeta } from './meta.ts';

/** A port a container listens on (informational, as in Kubernetes). */
export interface ContainerPort {
  containerPort: number;
  name?: string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

/** One environment variable; only literal values (no valueFrom) are supported locally. */
export interface EnvVar {
  name: string;
  value?: string;
}

/** A readiness probe: exactly one of tcpSocket, httpGet, exec. */
export interface Probe {
  tcpSocket?: { port: number | string; host?: string };
  httpGet?: { port: number | string; path?: string; host?: string; scheme?: 'HTTP' | 'HTTPS' };
  exec?: { command: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

/** The container subset weft runs: on the embedded platform `image` is ignored and `command` runs on the host, inside the pod. */
export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: ContainerPort[];
  readinessProbe?: Probe;
  workingDir?: string;
}

/** core/v1 PodSpec subset. */
export interface PodSpec {
  serviceAccountName?: string;
  containers: Container[];
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  terminationGracePeriodSeconds?: number;
}

/** One container's live state, as kubectl shows it. */
export interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  started?: boolean;
  state?: {
    running?: { startedAt: string };
    waiting?: { reason: string; message?: string };
    terminated?: { exitCode: number; reason?: string; finishedAt?: string };
  };
}

/** core/v1 PodStatus subset, written by the platform. */
export interface PodStatus {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  podIP?: string;
  hostIP?: string;
  startTime?: string;
  conditions?: Array<{ type: string; status: 'True' | 'False' | 'Unknown'; reason?: string; message?: string; lastTransitionTime?: string }>;
  containerStatuses?: ContainerStatus[];
  /** weft: whether the pod runs a proxy (injected). */
  meshed?: boolean;
}

/** core/v1 Pod subset. */
export interface Pod {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: ObjectMeta;
  spec: PodSpec;
  status?: PodStatus;
}

const portNumber = z.number().int().min(1).max(65535);
const portRef = z.union([portNumber, z.string().min(1)]);

const probeSchema = z.strictObject({
  tcpSocket: z.strictObject({ port: portRef, host: z.string().optional() }).optional(),
  httpGet: z.strictObject({
    port: portRef,
    path: z.string().optional(),
    host: z.string().optional(),
    scheme: z.enum(['HTTP', 'HTTPS']).optional(),
    httpHeaders: z.array(z.strictObject({ name: z.string(), value: z.string() })).optional(),
  }).optional(),
  exec: z.strictObject({ command: z.array(z.string()).min(1) }).optional(),
  initialDelaySeconds: z.number().int().min(0).optional(),
  periodSeconds: z.number().int().min(1).optional(),
  timeoutSeconds: z.number().int().min(1).optional(),
  successThreshold: z.number().int().min(1).optional(),
  failureThreshold: z.number().int().min(1).optional(),
}).refine((p) => [p.tcpSocket, p.httpGet, p.exec].filter((h) => h !== undefined).length === 1, {
  message: 'must have exactly one of tcpSocket, httpGet, exec',
});

const containerSchema = z.looseObject({
  name: z.string().min(1),
  image: z.string().optional(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  env: z.array(z.looseObject({ name: z.string().min(1), value: z.string().optional() })).optional(),
  ports: z.array(z.looseObject({
    containerPort: portNumber,
    name: z.string().optional(),
    protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
  })).optional(),
  readinessProbe: probeSchema.optional(),
  workingDir: z.string().optional(),
});

/** Schema of a PodSpec, shared with the Deployment's pod template. Unknown fields (resources, volumes…) pass: the same file deploys on Kubernetes. */
export const podSpecSchema = z.looseObject({
  serviceAccountName: z.string().min(1).optional(),
  containers: z.array(containerSchema).min(1),
  restartPolicy: z.enum(['Always', 'OnFailure', 'Never']).optional(),
  terminationGracePeriodSeconds: z.number().int().min(0).optional(),
});

/** Problems with container names: they must be unique in a pod (logs and exec name them). */
export function containerNameProblems(spec: unknown, path: string): Array<{ path: string; message: string }> {
  const containers = (spec as { containers?: unknown } | undefined)?.containers;
  if (!Array.isArray(containers)) return [];
  const seen = new Set<string>();
  const out: Array<{ path: string; message: string }> = [];
  containers.forEach((c: unknown, i) => {
    const name = (c as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') return;
    if (seen.has(name)) out.push({ path: `${path}.containers[${i}].name`, message: `duplicate container name "${name}"` });
    seen.add(name);
  });
  return out;
}

/** `READY` as kubectl prints it: ready containers / containers. */
export function podReadyText(pod: { readonly metadata: unknown; spec?: unknown; status?: unknown }): string {
  const total = ((pod.spec as PodSpec | undefined)?.containers ?? []).length;
  const statuses = (pod.status as PodStatus | undefined)?.containerStatuses ?? [];
  // A meshed pod's proxy has a status too: count it, as kubectl counts a sidecar.
  return `${statuses.filter((s) => s.ready).length}/${Math.max(total, statuses.length)}`;
}

function podStatus(o: { readonly metadata: unknown; status?: unknown }): PodStatus {
  return (o.status as PodStatus | undefined) ?? {};
}

/** Kind definition of Pod. */
export const podKind: KindDefinition = {
  kind: 'Pod',
  apiVersion: 'v1',
  group: '',
  plural: 'pods',
  singular: 'pod',
  shortNames: ['po'],
  namespaced: true,
  schema: resourceSchema('v1', 'Pod', { spec: podSpecSchema }),
  check: (object) => containerNameProblems(object.spec, 'spec'),
  columns: [
    { header: 'READY', value: (o) => podReadyText(o) },
    {
      header: 'STATUS',
      value: (o) => {
        const s = podStatus(o);
        const waiting = s.containerStatuses?.find((c) => c.state?.waiting !== undefined)?.state?.waiting?.reason;
        return waiting ?? s.phase ?? 'Pending';
      },
    },
    { header: 'RESTARTS', value: (o) => String((podStatus(o).containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0)) },
    { header: 'IP', value: (o) => podStatus(o).podIP ?? '<none>' },
    { header: 'MESHED', value: (o) => (isMeshedPod(o) ? 'yes' : 'no') },
    AGE_COLUMN,
    { header: 'CONDITION', wide: true, value: (o) => conditionOf(o, 'Ready')?.message ?? '' },
  ],
};
