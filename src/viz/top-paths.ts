/**
 * `weft viz top`: the busiest paths — caller, callee and authority — over a short
 * window, measured by the callee's proxy. Proxies do not label requests with their
 * method and path (Linkerd's top reads those from tap), so a path here is the
 * authority the caller asked for.
 */
import { addGolden, goldenStats, type GoldenSums } from './golden-metrics.ts';
import { IdentityIndex, keysOf, splitKey, type MeshData, type ResourceKind } from './mesh-view.ts';
import { scrapesSince } from './counter-increase.ts';

/** One row of `top`. */
export interface TopRow {
  readonly src: string;
  readonly srcNamespace: string;
  readonly dst: string;
  readonly dstNamespace: string;
  readonly authority: string;
  readonly rps: number;
  readonly successRate: number | undefined;
  readonly p50: number | undefined;
  readonly p99: number | undefined;
}

/** The `limit` busiest paths between resources of `kind`, busiest first. Pure. */
export function topPaths(data: MeshData, options: { kind?: ResourceKind; namespace?: string; windowMs?: number; limit?: number } = {}): TopRow[] {
  const kind = options.kind ?? 'deployment';
  const ids = new IdentityIndex(data.inventory);
  const sums = new Map<string, GoldenSums>();
  for (const h of data.histories) {
    const scrapes = scrapesSince(h.scrapes, data.nowMs - (options.windowMs ?? 10_000));
    for (const dst of keysOf(h.target, kind)) {
      addGolden(sums, scrapes, (l) => {
        if (l['direction'] !== 'inbound') return undefined;
        const src = l['client_id'] === undefined ? '-/unmeshed' : ids.keyOf(l['client_id'], kind);
        return `${src}\u0000${dst}\u0000${l['authority'] ?? ''}`;
      });
    }
  }
  const rows: TopRow[] = [];
  for (const [k, s] of sums) {
    const [src = '', dst = '', authority = ''] = k.split('\u0000');
    const a = splitKey(src);
    const b = splitKey(dst);
    if (options.namespace !== undefined && a.namespace !== options.namespace && b.namespace !== options.namespace) continue;
    const g = goldenStats(s);
    if (g.responses === 0) continue;
    rows.push({ src: a.name, srcNamespace: a.namespace, dst: b.name, dstNamespace: b.namespace, authority, rps: g.rps, successRate: g.successRate, p50: g.p50, p99: g.p99 });
  }
  return rows.sort((x, y) => y.rps - x.rps || x.src.localeCompare(y.src)).slice(0, options.limit ?? 20);
}
