/**
 * What every query needs besides the numbers: the store's inventory, the proxies'
 * recorded scrapes, the time, and the mappings between them — which resource
 * (Deployment, Pod, Namespace, Service) a pod belongs to, and whose identity a
 * `client_id`/`server_id` label names.
 */
import { isMeshedPod, type Pod } from '../api/index.ts';
import { UsageError } from '../errors/index.ts';
import type { TargetHistory } from './scrape-history.ts';
import { deploymentOf, namespaceOf, scrapeTargets, servicesOf, type Inventory, type ScrapeTarget } from './scrape-targets.ts';

/** The kinds of resource that queries group by. */
export type ResourceKind = 'deployment' | 'pod' | 'namespace' | 'service';

const KIND_NAMES: Readonly<Record<string, ResourceKind>> = {
  deploy: 'deployment', deployment: 'deployment', deployments: 'deployment',
  po: 'pod', pod: 'pod', pods: 'pod',
  ns: 'namespace', namespace: 'namespace', namespaces: 'namespace',
  svc: 'service', service: 'service', services: 'service',
};

/** Reads `deploy`, `po`, `ns`, `svc` and their long forms; throws a UsageError otherwise. */
export function parseResourceKind(text: string): ResourceKind {
  const k = KIND_NAMES[text.toLowerCase()];
  if (k === undefined) throw new UsageError(`Use one of deploy, po, ns, svc as the resource kind: got "${text}"`);
  return k;
}

/** A resource: `deploy/web` in namespace `emojivoto`. */
export interface ResourceRef {
  readonly kind: ResourceKind;
  readonly name: string;
  /** Default: the query's namespace. */
  readonly namespace?: string;
}

/** Reads `KIND/NAME` (as in `--from deploy/vote-bot`); throws a UsageError otherwise. */
export function parseResourceRef(text: string, namespace?: string): ResourceRef {
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1) throw new UsageError(`Use KIND/NAME such as "deploy/web": got "${text}"`);
  return { kind: parseResourceKind(text.slice(0, slash)), name: text.slice(slash + 1), ...(namespace === undefined ? {} : { namespace }) };
}

/** Everything a query reads. */
export interface MeshData {
  readonly inventory: Inventory;
  readonly histories: readonly TargetHistory[];
  readonly nowMs: number;
}

/** A resource's key: `ns/name`, or just `ns` for a namespace. */
export function resourceKey(namespace: string, name: string, kind: ResourceKind): string {
  return kind === 'namespace' ? name : `${namespace}/${name}`;
}

/** Splits a {@link resourceKey} back into namespace and name. */
export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: key, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The keys of the resources of `kind` that a pod (or scrape target) belongs to. */
export function keysOf(t: { namespace: string; pod: string; deployment?: string | undefined; services: readonly string[] }, kind: ResourceKind): string[] {
  switch (kind) {
    case 'deployment': return t.deployment === undefined ? [] : [`${t.namespace}/${t.deployment}`];
    case 'pod': return [`${t.namespace}/${t.pod}`];
    case 'namespace': return [t.namespace];
    case 'service': return t.services.map((s) => `${t.namespace}/${s}`);
  }
}

/** A pod seen as a {@link keysOf} argument. */
export function podFacts(pod: Pod, inventory: Inventory): { namespace: string; pod: string; deployment?: string; services: string[] } {
  const deployment = deploymentOf(pod, inventory.deployments);
  return { namespace: namespaceOf(pod), pod: pod.metadata.name, ...(deployment === undefined ? {} : { deployment }), services: servicesOf(pod, inventory.services) };
}

/** Every resource of `kind` the inventory knows, by key, with its meshed and total pod counts. */
export function resourcesOf(inventory: Inventory, kind: ResourceKind): Map<string, { meshed: number; total: number }> {
  const out = new Map<string, { meshed: number; total: number }>();
  const add = (key: string): { meshed: number; total: number } => {
    let r = out.get(key);
    if (r === undefined) out.set(key, (r = { meshed: 0, total: 0 }));
    return r;
  };
  if (kind === 'deployment') for (const d of inventory.deployments) add(`${namespaceOf(d)}/${d.metadata.name}`);
  if (kind === 'service') for (const s of inventory.services) add(`${namespaceOf(s)}/${s.metadata.name}`);
  for (const pod of inventory.pods) {
    for (const key of keysOf(podFacts(pod, inventory), kind)) {
      const r = add(key);
      r.total++;
      if (isMeshedPod(pod)) r.meshed++;
    }
  }
  return out;
}

/** Looks up the scrape targets serving an identity, and the resources they belong to. */
export class IdentityIndex {
  readonly #byId = new Map<string, ScrapeTarget[]>();
  readonly targets: readonly ScrapeTarget[];

  constructor(inventory: Inventory) {
    this.targets = scrapeTargets(inventory);
    for (const t of this.targets) {
      const list = this.#byId.get(t.identity) ?? [];
      list.push(t);
      this.#byId.set(t.identity, list);
    }
  }

  /** The first resource key of `kind` whose pods serve `identity`, else a readable stand-in from the identity itself. */
  keyOf(identity: string, kind: ResourceKind): string {
    for (const t of this.#byId.get(identity) ?? []) {
      const keys = keysOf(t, kind);
      if (keys.length > 0) return keys[0]!;
    }
    // An identity with no pod in the store (gone, or another cluster): name it by its service account.
    const [sa = identity, ns = '?'] = identity.split('.');
    return kind === 'namespace' ? ns : `${ns}/${sa}`;
  }

  /** The identities of the pods in a resource. */
  identitiesIn(ref: ResourceRef, defaultNamespace: string | undefined): Set<string> {
    const key = resourceKey(ref.namespace ?? defaultNamespace ?? 'default', ref.name, ref.kind);
    return new Set(this.targets.filter((t) => keysOf(t, ref.kind).includes(key)).map((t) => t.identity));
  }
}
