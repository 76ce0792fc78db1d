/**
 * Which proxies to scrape, decided from the store alone: every meshed Pod with an
 * IP, at its admin port. The same function serves the embedded platform (pods in
 * network namespaces, reachable from the host at their IP) and, later, Kubernetes.
 */
import { isMeshedPod, type ConfigMap, type Deployment, type Pod, type Service } from '../api/index.ts';
import type { ResourceStore } from '../store/index.ts';

/** The proxy's admin port (ARCHITECTURE.md: `/metrics` on 4191, as Linkerd's). */
export const PROXY_ADMIN_PORT = 4191;

/**
 * The platform's label naming a pod's Deployment. Read by value rather than imported:
 * viz sits below the platform and must not import it; ownerReferences and selectors
 * are tried first anyway, as on Kubernetes.
 */
const DEPLOYMENT_LABEL = 'weft.dev/deployment';

/** The identity settings viz needs to name each pod's identity (identity's `weft-config`). */
export interface MeshIdentity {
  /** Default `cluster.local`. */
  readonly trustDomain: string;
  /** Default `weft`. */
  readonly controlPlaneNamespace: string;
}

/** What target discovery and the queries read from the store, read once per scrape round. */
export interface Inventory {
  readonly pods: readonly Pod[];
  readonly deployments: readonly Deployment[];
  readonly services: readonly Service[];
  readonly identity: MeshIdentity;
}

/** One proxy to scrape, and what its metrics are about. */
export interface ScrapeTarget {
  /** `namespace/pod`: the key recorded scrapes are filed under. */
  readonly key: string;
  readonly namespace: string;
  readonly pod: string;
  /** The pod's Deployment, when it has one. */
  readonly deployment?: string;
  /** The Services whose selector picks the pod. */
  readonly services: readonly string[];
  readonly serviceAccount: string;
  /** The DNS-style identity the pod's proxy serves (`sa.ns.serviceaccount.identity.cp.td`). */
  readonly identity: string;
  readonly ip: string;
  /** Where its metrics are: `http://IP:PORT/metrics`. */
  readonly url: string;
}

/** Options of {@link scrapeTargets}. */
export interface ScrapeTargetOptions {
  /** Admin port of every proxy. Default {@link PROXY_ADMIN_PORT}. */
  readonly adminPort?: number;
}

/** The namespace of a namespaced object (`default` when unset, as the store does). */
export function namespaceOf(o: { readonly metadata: { readonly namespace?: string } }): string {
  return o.metadata.namespace ?? 'default';
}

/** The identity a proxy serves for a service account, as identity issues it. */
export function identityName(serviceAccount: string, namespace: string, mesh: MeshIdentity): string {
  return `${serviceAccount}.${namespace}.serviceaccount.identity.${mesh.controlPlaneNamespace}.${mesh.trustDomain}`;
}

/** The Deployment that owns a pod: its owner reference, the platform's label, else a matching selector. */
export function deploymentOf(pod: Pod, deployments: readonly Deployment[]): string | undefined {
  const ns = namespaceOf(pod);
  const owner = pod.metadata.ownerReferences?.find((r) => r.kind === 'Deployment');
  if (owner !== undefined) return owner.name;
  const label = pod.metadata.labels?.[DEPLOYMENT_LABEL];
  if (label !== undefined) return label;
  const labels = pod.metadata.labels ?? {};
  const match = deployments.find((d) => {
    const sel = d.spec.selector.matchLabels;
    return namespaceOf(d) === ns && sel !== undefined && Object.keys(sel).length > 0
      && Object.entries(sel).every(([k, v]) => labels[k] === v);
  });
  return match?.metadata.name;
}

/** The Services in the pod's namespace whose selector picks it. */
export function servicesOf(pod: Pod, services: readonly Service[]): string[] {
  const labels = pod.metadata.labels ?? {};
  return services
    .filter((s) => namespaceOf(s) === namespaceOf(pod) && s.spec.selector !== undefined && Object.keys(s.spec.selector).length > 0
      && Object.entries(s.spec.selector).every(([k, v]) => labels[k] === v))
    .map((s) => s.metadata.name);
}

/** Every meshed pod ({@link isMeshedPod}) with an IP, as a scrape target, sorted by key. Pure: a function of the inventory. */
export function scrapeTargets(inventory: Inventory, options: ScrapeTargetOptions = {}): ScrapeTarget[] {
  const port = options.adminPort ?? PROXY_ADMIN_PORT;
  const out: ScrapeTarget[] = [];
  for (const pod of inventory.pods) {
    const ip = pod.status?.podIP;
    if (!isMeshedPod(pod) || ip === undefined || ip === '') continue;
    const namespace = namespaceOf(pod);
    const serviceAccount = pod.spec.serviceAccountName ?? 'default';
    const deployment = deploymentOf(pod, inventory.deployments);
    const host = ip.includes(':') ? `[${ip}]` : ip;
    out.push({
      key: `${namespace}/${pod.metadata.name}`,
      namespace,
      pod: pod.metadata.name,
      ...(deployment === undefined ? {} : { deployment }),
      services: servicesOf(pod, inventory.services),
      serviceAccount,
      identity: identityName(serviceAccount, namespace, inventory.identity),
      ip,
      url: `http://${host}:${port}/metrics`,
    });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

/** identity's settings ConfigMap (`weft/weft-config`); named here by value, as viz must not import identity. */
const CONFIG = { namespace: 'weft', name: 'weft-config' } as const;

/** Reads the pods, deployments, services and identity settings from the store. */
export async function readInventory(store: ResourceStore): Promise<Inventory> {
  const [pods, deployments, services, config] = await Promise.all([
    store.list('Pod'), store.list('Deployment'), store.list('Service'),
    store.get('ConfigMap', CONFIG.name, CONFIG.namespace),
  ]);
  const data = (config as ConfigMap | undefined)?.data ?? {};
  return {
    pods: pods.items as Pod[],
    deployments: deployments.items as Deployment[],
    services: services.items as Service[],
    identity: {
      trustDomain: data['trustDomain'] ?? 'cluster.local',
      controlPlaneNamespace: data['controlPlaneNamespace'] ?? 'weft',
    },
  };
}
