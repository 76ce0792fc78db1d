/**
 * Time series of a resource's golden metrics for charts: one point per step, from
 * each pair of consecutive scrapes of its proxies (inbound side).
 */
import { addGolden, goldenStats, type GoldenSums } from './golden-metrics.ts';
import { keysOf, type MeshData, type ResourceKind } from './mesh-view.ts';
import { scrapesSince } from './counter-increase.ts';

/** Columns of equal length, as uPlot takes them; missing values are null. */
export interface GoldenSeries {
  /** Unix seconds. */
  readonly time: number[];
  readonly rps: Array<number | null>;
  readonly successRate: Array<number | null>;
  readonly p50: Array<number | null>;
  readonly p95: Array<number | null>;
  readonly p99: Array<number | null>;
}

/** The series of resource `key` of `kind` over `windowMs`, with points `stepMs` apart. Pure. */
export function workloadSeries(data: MeshData, key: string, options: { kind: ResourceKind; windowMs?: number; stepMs?: number }): GoldenSeries {
  const step = options.stepMs ?? 10_000;
  const sums = new Map<string, GoldenSums>();
  for (const h of data.histories) {
    if (!keysOf(h.target, options.kind).includes(key)) continue;
    const scrapes = scrapesSince(h.scrapes, data.nowMs - (options.windowMs ?? 3_600_000));
    for (let i = 1; i < scrapes.length; i++) {
      const at = Math.ceil(scrapes[i]!.timeMs / step) * step;
      addGolden(sums, [scrapes[i - 1]!, scrapes[i]!], (l) => (l['direction'] === 'inbound' ? String(at) : undefined));
    }
  }
  const times = [...sums.keys()].map(Number).sort((a, b) => a - b);
  const out: GoldenSeries = { time: [], rps: [], successRate: [], p50: [], p95: [], p99: [] };
  for (const at of times) {
    const g = goldenStats(sums.get(String(at))!);
    out.time.push(at / 1000);
    out.rps.push(g.rps);
    out.successRate.push(g.successRate ?? null);
    out.p50.push(g.p50 ?? null);
    out.p95.push(g.p95 ?? null);
    out.p99.push(g.p99 ?? null);
  }
  return out;
}

/** Each meshed pod's proxy certificate expiry (unix seconds) from its last scrape, by `namespace/pod`. */
export function proxyCertExpiry(data: MeshData): Map<string, number> {
  const out = new Map<string, number>();
  for (const h of data.histories) {
    const latest = h.scrapes[h.scrapes.length - 1];
    const s = latest?.samples.find((x) => x.name === 'identity_cert_expiration_timestamp_seconds');
    if (s !== undefined) out.set(h.target.key, s.value);
  }
  return out;
}
