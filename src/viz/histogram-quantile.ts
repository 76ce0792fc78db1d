/**
 * Prometheus' `histogram_quantile`, over one histogram's cumulative buckets: find
 * the bucket the rank falls in and interpolate linearly inside it, assuming
 * observations spread evenly over the bucket (the first bucket starts at 0).
 */

/** One cumulative bucket: observations ≤ `le`. */
export interface Bucket {
  readonly le: number;
  readonly count: number;
}

/**
 * The `q`-quantile (0–1) of the observations, or undefined when there are none.
 * As in Prometheus: a rank in the `+Inf` bucket answers the highest finite bound;
 * buckets are sorted first, and non-monotonic counts (a scrape racing an observation)
 * are clamped to be monotonic.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number | undefined {
  if (buckets.length === 0 || Number.isNaN(q)) return undefined;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  if (sorted[sorted.length - 1]!.le !== Infinity) return undefined;
  let prev = 0;
  const cum = sorted.map((b) => (prev = Math.max(prev, b.count)));
  const total = cum[cum.length - 1]!;
  if (total === 0) return undefined;
  const rank = q * total;
  let i = cum.findIndex((c) => c >= rank);
  if (i < 0) i = cum.length - 1;
  if (sorted[i]!.le === Infinity) return sorted.length >= 2 ? sorted[sorted.length - 2]!.le : undefined;
  const lower = i === 0 ? 0 : sorted[i - 1]!.le;
  const below = i === 0 ? 0 : cum[i - 1]!;
  const inBucket = cum[i]! - below;
  if (inBucket === 0) return sorted[i]!.le;
  return lower + (sorted[i]!.le - lower) * ((rank - below) / inBucket);
}
