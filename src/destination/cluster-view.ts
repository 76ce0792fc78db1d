/**
 * Services, Endpoints and Pods from the store, held in memory and kept current by
 * one watch, so that every Get stream resolves against the same state without a
 * store read per change.
 *
 *   list Service, Endpoints, Pod ──▶ maps ◀── watch (from the rv read before listing)
 *                                      │
 *                                      └──▶ onChange() (coalesced: one call per burst)
 */
import { kindDefinition, type Endpoints, type Resource, type Service } from '../api/index.ts';
import { GoneError, type ResourceStore } from '../store/index.ts';
import { podFacts, type ClusterState, type PodFacts } from './resolve.ts';

const KINDS = ['Service', 'Endpoints', 'Pod'] as const;

function key(namespace: string | undefined, name: string): string {
  return `${namespace ?? 'default'}/${name}`;
}

// A watch replays from before the list; an event older than what the list gave
// must not roll an object back. Store resourceVersions are decimal counters here;
// when one is not (another backend), every event is applied.
function older(incoming: string | undefined, held: string | undefined): boolean {
  if (incoming === undefined || held === undefined || !/^\d+$/.test(incoming) || !/^\d+$/.test(held)) return false;
  return BigInt(incoming) < BigInt(held);
}

/** The cluster's Services, Endpoints and Pods, followed from the store. */
export class ClusterView implements ClusterState {
  readonly #store: ResourceStore;
  readonly #abort = new AbortController();
  readonly #listeners = new Set<() => void>();
  readonly #objects = new Map<string, Map<string, Resource>>(KINDS.map((k) => [k, new Map()]));
  #pods = new Map<string, PodFacts>();
  #servicesByIp: Map<string, Service> | undefined;
  #podsByIp: Map<string, PodFacts> | undefined;
  #watching: Promise<void> | undefined;
  #notifyQueued = false;

  constructor(store: ResourceStore) {
    this.#store = store;
  }

  /** Reads everything once, then follows changes until {@link close}. */
  async start(): Promise<void> {
    const rv = await this.#relist();
    this.#watching = this.#watch(rv);
  }

  /** Stops watching. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.#watching?.catch(() => {});
  }

  /** Calls `cb` after the state changed; returns an unsubscribe function. */
  onChange(cb: () => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  service(namespace: string, name: string): Service | undefined {
    return this.#map('Service').get(key(namespace, name)) as Service | undefined;
  }

  serviceByIp(ip: string): Service | undefined {
    if (this.#servicesByIp === undefined) {
      const index = new Map<string, Service>();
      for (const o of this.#map('Service').values()) {
        const s = o as unknown as Service;
        for (const addr of [s.spec.clusterIP, ...(s.spec.clusterIPs ?? [])]) {
          if (addr !== undefined && addr !== '' && addr !== 'None') index.set(addr, s);
        }
      }
      this.#servicesByIp = index;
    }
    return this.#servicesByIp.get(ip);
  }

  endpoints(namespace: string, name: string): Endpoints | undefined {
    return this.#map('Endpoints').get(key(namespace, name)) as Endpoints | undefined;
  }

  pod(namespace: string, name: string): PodFacts | undefined {
    return this.#pods.get(key(namespace, name));
  }

  podByIp(ip: string): PodFacts | undefined {
    if (this.#podsByIp === undefined) {
      const index = new Map<string, PodFacts>();
      // Endpoints name the pod at each address even when the pod's status has no IP yet.
      for (const o of this.#map('Endpoints').values()) {
        for (const subset of (o as Endpoints).subsets ?? []) {
          for (const a of subset.addresses ?? []) {
            if (a.targetRef?.kind !== 'Pod') continue;
            const pod = this.pod(a.targetRef.namespace ?? o.metadata.namespace ?? 'default', a.targetRef.name);
            if (pod !== undefined) index.set(a.ip, pod);
          }
        }
      }
      for (const pod of this.#pods.values()) if (pod.ip !== undefined) index.set(pod.ip, pod);
      this.#podsByIp = index;
    }
    return this.#podsByIp.get(ip);
  }

  #map(kind: (typeof KINDS)[number]): Map<string, Resource> {
    return this.#objects.get(kind) as Map<string, Resource>;
  }

  /** Lists every kind afresh; returns the resourceVersion to watch from. */
  async #relist(): Promise<string> {
    // Read first, list after: the watch then replays anything the lists might have missed.
    const rv = await this.#store.resourceVersion();
    for (const kind of KINDS) {
      const map = new Map<string, Resource>();
      // Pod is another engineer's kind: discovery works (unmeshed) on a store without it.
      if (kindDefinition(kind) !== undefined) {
        for (const o of (await this.#store.list(kind)).items) map.set(key(o.metadata.namespace, o.metadata.name), o as Resource);
      }
      this.#objects.set(kind, map);
    }
    this.#reindex();
    return rv;
  }

  #reindex(): void {
    this.#pods = new Map([...this.#map('Pod').entries()].map(([k, o]) => [k, podFacts(o)]));
    this.#servicesByIp = undefined;
    this.#podsByIp = undefined;
  }

  async #watch(from: string): Promise<void> {
    let rv = from;
    while (!this.#abort.signal.aborted) {
      try {
        for await (const ev of this.#store.watch({ fromResourceVersion: rv, signal: this.#abort.signal })) {
          rv = ev.object.metadata.resourceVersion ?? rv;
          const kind = ev.object.kind as (typeof KINDS)[number];
          if (!KINDS.includes(kind)) continue;
          const map = this.#map(kind);
          const k = key(ev.object.metadata.namespace, ev.object.metadata.name);
          if (older(ev.object.metadata.resourceVersion, map.get(k)?.metadata.resourceVersion)) continue;
          if (ev.type === 'DELETED') map.delete(k);
          else map.set(k, ev.object);
          if (kind === 'Pod') {
            if (ev.type === 'DELETED') this.#pods.delete(k);
            else this.#pods.set(k, podFacts(ev.object));
          }
          this.#servicesByIp = undefined;
          this.#podsByIp = undefined;
          this.#notify();
        }
      } catch (err) {
        if (this.#abort.signal.aborted) return;
        if (!(err instanceof GoneError)) throw err;
        // We fell behind the change log: list again and carry on from there.
        rv = await this.#relist();
        this.#notify();
      }
    }
  }

  #notify(): void {
    if (this.#notifyQueued) return;
    this.#notifyQueued = true;
    // A burst of events (an Endpoints rewrite and its Pods) becomes one recomputation.
    setImmediate(() => {
      this.#notifyQueued = false;
      for (const cb of this.#listeners) cb();
    });
  }
}
