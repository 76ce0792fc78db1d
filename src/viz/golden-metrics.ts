/**
 * The golden metrics (success rate, requests per second, latency quantiles) and
 * TCP figures of some traffic, summed over proxies: growth of the counters over each
 * proxy's window, divided by that proxy's own span, then added up.
 *
 *   scrapes (per proxy) ──▶ counterIncrease ──▶ rates ──▶ sum over proxies ──▶ histogramQuantile
 */
import { counterIncrease, spanSeconds } from './counter-increase.ts';
import { histogramQuantile } from './histogram-quantile.ts';
import type { Scrape } from './scrape-history.ts';

/** The golden metrics of some traffic over a window. */
export interface GoldenStats {
  /** Responses counted in the window (success + failure). */
  readonly responses: number;
  /** Share of responses classified success (0–1); undefined without responses. */
  readonly successRate: number | undefined;
  /** Responses per second. */
  readonly rps: number;
  /** Latency quantiles in ms, from `response_latency_ms` buckets; undefined without responses. */
  readonly p50: number | undefined;
  readonly p95: number | undefined;
  readonly p99: number | undefined;
  /** Open TCP connections at the last scrape. */
  readonly tcpConnections: number;
  /** Bytes per second read from and written to peers (counted when connections close). */
  readonly readBytesPerSec: number;
  readonly writeBytesPerSec: number;
}

/** Running sums behind a {@link GoldenStats}. */
export interface GoldenSums {
  success: number;
  failure: number;
  rps: number;
  buckets: Map<number, number>;
  tcpConnections: number;
  readBps: number;
  writeBps: number;
}

/** Empty sums. */
export function emptyGolden(): GoldenSums {
  return { success: 0, failure: 0, rps: 0, buckets: new Map(), tcpConnections: 0, readBps: 0, writeBps: 0 };
}

/** Which traffic of one proxy counts, and for which group: undefined leaves a series out. */
export type GroupOf = (labels: Readonly<Record<string, string>>) => string | undefined;

const SEP = '\u0001';

/**
 * Adds one proxy's traffic in `scrapes` (its window, oldest first) to `into`, per
 * group. TCP figures count the accepted side (`peer="src"`) only, so a connection
 * that the proxy also opens onwards is not counted twice.
 */
export function addGolden(into: Map<string, GoldenSums>, scrapes: readonly Scrape[], group: GroupOf): void {
  const span = spanSeconds(scrapes);
  const sums = (g: string): GoldenSums => {
    let s = into.get(g);
    if (s === undefined) into.set(g, (s = emptyGolden()));
    return s;
  };
  const inc = counterIncrease(scrapes, (s) => {
    const g = group(s.labels);
    if (g === undefined) return undefined;
    switch (s.name) {
      case 'response_total': return `${g}${SEP}${s.labels['classification'] === 'failure' ? 'f' : 's'}`;
      case 'response_latency_ms_bucket': return `${g}${SEP}b${SEP}${s.labels['le']}`;
      case 'tcp_read_bytes_total': return s.labels['peer'] === 'src' ? `${g}${SEP}r` : undefined;
      case 'tcp_write_bytes_total': return s.labels['peer'] === 'src' ? `${g}${SEP}w` : undefined;
      default: return undefined;
    }
  });
  for (const [key, value] of inc) {
    const [g = '', what, le] = key.split(SEP);
    const s = sums(g);
    if (what === 's') { s.success += value; s.rps += span > 0 ? value / span : 0; }
    else if (what === 'f') { s.failure += value; s.rps += span > 0 ? value / span : 0; }
    else if (what === 'r') s.readBps += span > 0 ? value / span : 0;
    else if (what === 'w') s.writeBps += span > 0 ? value / span : 0;
    else if (what === 'b') {
      const bound = le === '+Inf' ? Infinity : Number(le);
      s.buckets.set(bound, (s.buckets.get(bound) ?? 0) + value);
    }
  }
  const latest = scrapes[scrapes.length - 1];
  for (const sample of latest?.samples ?? []) {
    if (sample.name !== 'tcp_open_connections' || sample.labels['peer'] !== 'src') continue;
    const g = group(sample.labels);
    if (g !== undefined) sums(g).tcpConnections += sample.value;
  }
}

/** The finished figures of some sums. */
export function goldenStats(s: GoldenSums): GoldenStats {
  const responses = s.success + s.failure;
  const buckets = [...s.buckets].map(([le, count]) => ({ le, count }));
  return {
    responses,
    successRate: responses > 0 ? s.success / responses : undefined,
    rps: s.rps,
    p50: responses > 0 ? histogramQuantile(0.5, buckets) : undefined,
    p95: responses > 0 ? histogramQuantile(0.95, buckets) : undefined,
    p99: responses > 0 ? histogramQuantile(0.99, buckets) : undefined,
    tcpConnections: s.tcpConnections,
    readBytesPerSec: s.readBps,
    writeBytesPerSec: s.writeBps,
  };
}
