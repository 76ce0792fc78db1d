/**
 * `weft viz stat`: per resource, its golden metrics over a window, measured where
 * Linkerd measures them — on the inbound side of the resource's own proxies. With
 * `from`, only requests from that resource's identities count; with `to`, the rows
 * are the callers of that resource, measured by its proxies per client identity.
 */
import { addGolden, emptyGolden, goldenStats, type GoldenStats, type GoldenSums } from './golden-metrics.ts';
import {
  IdentityIndex, keysOf, resourceKey, resourcesOf, splitKey, type MeshData, type ResourceKind, type ResourceRef,
} from './mesh-view.ts';
import { scrapesSince } from './counter-increase.ts';

/** What to show. */
export interface StatQuery {
  readonly kind: ResourceKind;
  /** Only this namespace; default every namespace. */
  readonly namespace?: string;
  /** Only this resource. */
  readonly name?: string;
  /** Only traffic from this resource. */
  readonly from?: ResourceRef;
  /** Only traffic to this resource (rows are its callers). */
  readonly to?: ResourceRef;
  /** How far back; default one minute, as `linkerd viz stat`. */
  readonly windowMs?: number;
}

/** One row of `stat`. */
export interface StatRow extends GoldenStats {
  readonly namespace: string;
  readonly name: string;
  readonly meshedPods: number;
  readonly totalPods: number;
}

/** Adds `b` into `a`. */
function mergeGolden(a: GoldenSums, b: GoldenSums): void {
  a.success += b.success;
  a.failure += b.failure;
  a.rps += b.rps;
  a.tcpConnections += b.tcpConnections;
  a.readBps += b.readBps;
  a.writeBps += b.writeBps;
  for (const [le, n] of b.buckets) a.buckets.set(le, (a.buckets.get(le) ?? 0) + n);
}

/** The rows of `stat`, sorted by namespace and name. Pure: a function of the data. */
export function statRows(data: MeshData, query: StatQuery): StatRow[] {
  const windowMs = query.windowMs ?? 60_000;
  const ids = new IdentityIndex(data.inventory);
  const sums = new Map<string, GoldenSums>();
  const toKey = query.to === undefined ? undefined : resourceKey(query.to.namespace ?? query.namespace ?? 'default', query.to.name, query.to.kind);
  const fromIds = query.from === undefined ? undefined : ids.identitiesIn(query.from, query.namespace);
  for (const h of data.histories) {
    const scrapes = scrapesSince(h.scrapes, data.nowMs - windowMs);
    if (query.to !== undefined) {
      if (!keysOf(h.target, query.to.kind).includes(toKey!)) continue;
      addGolden(sums, scrapes, (l) => (l['direction'] === 'inbound' && l['client_id'] !== undefined ? ids.keyOf(l['client_id'], query.kind) : undefined));
      continue;
    }
    const keys = keysOf(h.target, query.kind);
    if (keys.length === 0) continue;
    const one = new Map<string, GoldenSums>();
    addGolden(one, scrapes, (l) => (l['direction'] === 'inbound' && (fromIds === undefined || (l['client_id'] !== undefined && fromIds.has(l['client_id']))) ? '' : undefined));
    const s = one.get('');
    if (s === undefined) continue;
    for (const k of keys) {
      let into = sums.get(k);
      if (into === undefined) sums.set(k, (into = emptyGolden()));
      mergeGolden(into, s);
    }
  }
  const resources = resourcesOf(data.inventory, query.kind);
  // With --to, the rows are the callers seen, even those with no pod in the store.
  if (query.to !== undefined) for (const k of sums.keys()) if (!resources.has(k)) resources.set(k, { meshed: 0, total: 0 });
  const rows: StatRow[] = [];
  for (const [key, pods] of resources) {
    const { namespace, name } = splitKey(key);
    if (query.namespace !== undefined && namespace !== query.namespace) continue;
    if (query.name !== undefined && name !== query.name) continue;
    if (query.to !== undefined && !sums.has(key)) continue;
    rows.push({ namespace, name, meshedPods: pods.meshed, totalPods: pods.total, ...goldenStats(sums.get(key) ?? emptyGolden()) });
  }
  return rows.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}
