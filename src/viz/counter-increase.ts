/**
 * How much counters grew over a run of scrapes, per group of series, with counter
 * resets handled as Prometheus does: a value lower than the one before means the
 * process restarted and counted up from zero, so the whole new value is growth.
 */
import type { MetricSample } from './prometheus-text.ts';
import type { Scrape } from './scrape-history.ts';

/** The identity of one series: its name and labels (proxies render labels in a stable order). */
export function seriesKey(s: MetricSample): string {
  let k = s.name;
  for (const l in s.labels) k += `\u0000${l}=${s.labels[l]}`;
  return k;
}

/**
 * Sums, per group, the growth of each counter series that `pick` assigns to a group
 * (undefined skips the sample), between the first and the last of `scrapes` (oldest
 * first). A series missing from an earlier scrape of the same run counted from 0 —
 * a route first used inside the window — but a series in the very first scrape only
 * sets the baseline.
 */
export function counterIncrease(scrapes: readonly Scrape[], pick: (s: MetricSample) => string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  const last = new Map<string, number>();
  scrapes.forEach((scrape, i) => {
    for (const s of scrape.samples) {
      const g = pick(s);
      if (g === undefined) continue;
      const k = seriesKey(s);
      const prev = last.get(k) ?? (i === 0 ? undefined : 0);
      last.set(k, s.value);
      if (prev === undefined) continue;
      const inc = s.value >= prev ? s.value - prev : s.value;
      out.set(g, (out.get(g) ?? 0) + inc);
    }
  });
  return out;
}

/** Seconds between the first and last scrape, 0 for fewer than two. */
export function spanSeconds(scrapes: readonly Scrape[]): number {
  return scrapes.length < 2 ? 0 : (scrapes[scrapes.length - 1]!.timeMs - scrapes[0]!.timeMs) / 1000;
}

/** The scrapes at or after `fromMs`. */
export function scrapesSince(scrapes: readonly Scrape[], fromMs: number): readonly Scrape[] {
  let i = 0;
  while (i < scrapes.length && scrapes[i]!.timeMs < fromMs) i++;
  return i === 0 ? scrapes : scrapes.slice(i);
}
