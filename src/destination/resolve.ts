/**
 * The decision at the heart of discovery: given what the store holds, which
 * endpoints does an address have, with which identity and protocol? A pure
 * function of the cluster's state, so every rule is a table test.
 *
 *   Target ──service──▶ Service ──port──▶ Endpoints subsets ──address──▶ Pod ──▶ identity
 *          └─ip──▶ ClusterIP? ─▶ (as above)
 *                  pod IP?    ─▶ that one pod
 */
import { isMeshedPod, type EndpointAddress, type Endpoints, type Resource, type Service, type ServicePort } from '../api/index.ts';
import { identityName, type IdentityDomain } from '../identity/index.ts';
import type { Target } from './authority.ts';
import { addressKey } from './address-key.ts';
import { inPortRanges, parsePortRanges } from './port-ranges.ts';
import { Protocol, type Endpoint } from './wire.ts';

/** The set an address has now. */
export type Resolution =
  | { readonly kind: 'endpoints'; readonly endpoints: readonly Endpoint[] }
  /** `exists`: the Service is known but has no ready endpoint; false: no such Service (or port). */
  | { readonly kind: 'no_endpoints'; readonly exists: boolean };

/** Annotations that list opaque ports, on a Service (service ports) or a Pod (container ports). Either name works. */
export const OPAQUE_PORTS_ANNOTATIONS = ['weft.dev/opaque-ports', 'config.linkerd.io/opaque-ports'] as const;
/** Annotations that move a pod's proxy inbound port off the default. */
export const INBOUND_PORT_ANNOTATIONS = ['weft.dev/proxy-inbound-port', 'config.linkerd.io/proxy-inbound-port'] as const;
/** The proxy's inbound port unless a pod annotation says otherwise. */
export const DEFAULT_INBOUND_PORT = 4143;

/** What discovery needs to know about a Pod. */
export interface PodFacts {
  readonly namespace: string;
  readonly name: string;
  /** `spec.serviceAccountName`, `default` when unset (as Kubernetes fills it). */
  readonly serviceAccount: string;
  readonly meshed: boolean;
  readonly ip: string | undefined;
  readonly inboundPort: number;
  readonly opaquePorts: string | undefined;
}

/** The store's state, as the resolver reads it. */
export interface ClusterState {
  service(namespace: string, name: string): Service | undefined;
  /** The Service whose ClusterIP (or one of its clusterIPs) is `ip`. */
  serviceByIp(ip: string): Service | undefined;
  endpoints(namespace: string, name: string): Endpoints | undefined;
  pod(namespace: string, name: string): PodFacts | undefined;
  /** The Pod at `ip` (`status.podIP`), for transparent traffic sent straight to a pod. */
  podByIp(ip: string): PodFacts | undefined;
}

/** Options of {@link resolveDestination}. */
export interface ResolveOptions {
  /** Names identities: control-plane namespace and trust domain. */
  readonly domain: IdentityDomain;
}

function annotation(meta: { annotations?: Record<string, string> } | undefined, names: readonly string[]): string | undefined {
  for (const n of names) {
    const v = meta?.annotations?.[n];
    if (v !== undefined) return v;
  }
  return undefined;
}

/** A Pod as discovery sees it; meshed as the api's {@link isMeshedPod} defines it, as viz and check see it. */
export function podFacts(pod: Resource): PodFacts {
  const spec = pod.spec as { serviceAccountName?: unknown } | undefined;
  const status = pod.status as { podIP?: unknown } | undefined;
  const inbound = Number(annotation(pod.metadata, INBOUND_PORT_ANNOTATIONS));
  return {
    namespace: pod.metadata.namespace ?? 'default',
    name: pod.metadata.name,
    serviceAccount: typeof spec?.serviceAccountName === 'string' && spec.serviceAccountName !== '' ? spec.serviceAccountName : 'default',
    meshed: isMeshedPod(pod),
    ip: typeof status?.podIP === 'string' && status.podIP !== '' ? status.podIP : undefined,
    inboundPort: Number.isInteger(inbound) && inbound >= 1 && inbound <= 65535 ? inbound : DEFAULT_INBOUND_PORT,
    opaquePorts: annotation(pod.metadata, OPAQUE_PORTS_ANNOTATIONS),
  };
}

// appProtocol values that name HTTP/2 (Kubernetes' own and the common bare names).
const HTTP2_APP_PROTOCOLS = new Set(['kubernetes.io/h2c', 'h2c', 'http2', 'grpc']);

function protocolOf(opts: { serviceOpaque: boolean; pod: PodFacts | undefined; targetPort: number; appProtocol: string | undefined }): Protocol {
  // Opaque wins over appProtocol: the operator said "do not look at these bytes".
  if (opts.serviceOpaque) return Protocol.opaque;
  if (opts.pod !== undefined && inPortRanges(parsePortRanges(opts.pod.opaquePorts), opts.targetPort)) return Protocol.opaque;
  const app = opts.appProtocol?.toLowerCase();
  if (app === 'http') return Protocol.http1;
  if (app !== undefined && HTTP2_APP_PROTOCOLS.has(app)) return Protocol.http2;
  return Protocol.unknown;
}

function endpointFor(
  address: { ip: string; port: number },
  pod: PodFacts | undefined,
  extra: { protocol: Protocol; service?: Service },
  opts: ResolveOptions,
): Endpoint {
  const meshed = pod?.meshed === true;
  const labels: Record<string, string> = {};
  if (extra.service !== undefined) {
    labels.namespace = extra.service.metadata.namespace ?? 'default';
    labels.service = extra.service.metadata.name;
  } else if (pod !== undefined) {
    labels.namespace = pod.namespace;
  }
  if (pod !== undefined) {
    labels.pod = pod.name;
    labels.serviceaccount = pod.serviceAccount;
  }
  return {
    ip: address.ip,
    port: address.port,
    weight: 1,
    identity: meshed && pod !== undefined ? identityName({ namespace: pod.namespace, serviceAccount: pod.serviceAccount }, opts.domain) : undefined,
    protocol: extra.protocol,
    inboundPort: meshed ? pod?.inboundPort : undefined,
    labels,
  };
}

function resolveService(service: Service, port: number, state: ClusterState, opts: ResolveOptions): Resolution {
  const namespace = service.metadata.namespace ?? 'default';
  const servicePort: ServicePort | undefined = (service.spec.ports ?? []).find((p) => p.port === port && (p.protocol ?? 'TCP') === 'TCP');
  if (servicePort === undefined || service.spec.type === 'ExternalName') return { kind: 'no_endpoints', exists: false };
  const serviceOpaque = inPortRanges(parsePortRanges(annotation(service.metadata, OPAQUE_PORTS_ANNOTATIONS)), servicePort.port);
  const eps = state.endpoints(namespace, service.metadata.name);
  const byAddress = new Map<string, Endpoint>();
  for (const subset of eps?.subsets ?? []) {
    const ports = subset.ports ?? [];
    // Endpoints ports carry the Service port's name; a one-port Service may leave both unnamed.
    const subsetPort = servicePort.name !== undefined && servicePort.name !== ''
      ? ports.find((p) => p.name === servicePort.name)
      : ports.length === 1 ? ports[0] : undefined;
    if (subsetPort === undefined || (subsetPort.protocol ?? 'TCP') !== 'TCP') continue;
    for (const a of subset.addresses ?? []) {
      const pod = podOf(a, namespace, state);
      const protocol = protocolOf({ serviceOpaque, pod, targetPort: subsetPort.port, appProtocol: servicePort.appProtocol ?? subsetPort.appProtocol });
      const e = endpointFor({ ip: a.ip, port: subsetPort.port }, pod, { protocol, service }, opts);
      byAddress.set(addressKey(e), e);
    }
  }
  if (byAddress.size === 0) return { kind: 'no_endpoints', exists: true };
  return { kind: 'endpoints', endpoints: [...byAddress.values()].sort(compareEndpoints) };
}

function podOf(a: EndpointAddress, namespace: string, state: ClusterState): PodFacts | undefined {
  if (a.targetRef?.kind !== 'Pod') return undefined;
  return state.pod(a.targetRef.namespace ?? namespace, a.targetRef.name);
}


function compareEndpoints(a: Endpoint, b: Endpoint): number {
  const ka = addressKey(a);
  const kb = addressKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** The endpoints of `target` in `state`. */
export function resolveDestination(target: Target, state: ClusterState, opts: ResolveOptions): Resolution {
  switch (target.kind) {
    case 'service': {
      const service = state.service(target.namespace, target.name);
      return service === undefined ? { kind: 'no_endpoints', exists: false } : resolveService(service, target.port, state, opts);
    }
    case 'ip': {
      const service = state.serviceByIp(target.ip);
      if (service !== undefined) return resolveService(service, target.port, state, opts);
      // Straight to a pod (headless Services, StatefulSet peers): one endpoint, its identity.
      const pod = state.podByIp(target.ip);
      if (pod === undefined) return { kind: 'no_endpoints', exists: false };
      const protocol = protocolOf({ serviceOpaque: false, pod, targetPort: target.port, appProtocol: undefined });
      return { kind: 'endpoints', endpoints: [endpointFor({ ip: target.ip, port: target.port }, pod, { protocol }, opts)] };
    }
    case 'external':
    case 'invalid':
      return { kind: 'no_endpoints', exists: false };
  }
}
