/**
 * The recent past of every proxy's metrics, in memory with a bound: per target, the
 * scrapes of the last `windowMs` and never more than `maxScrapes` of them.
 *
 * Memory: a proxy in the demo exposes about 150 samples (≈ 25 KB as objects), so
 * the default hour at a 10 s interval is ≈ 9 MB per proxy. A 6 h window is an
 * option away; past that, point weft at Prometheus instead (docs/viz.md).
 */
import type { MetricSample } from './prometheus-text.ts';
import type { ScrapeTarget } from './scrape-targets.ts';

/** One successful scrape of a target. */
export interface Scrape {
  /** When the scrape happened (or the samples' own timestamp, when they carry one). */
  readonly timeMs: number;
  readonly samples: readonly MetricSample[];
}

/** What is known about one target: its scrapes in the window, oldest first, and its last failure. */
export interface TargetHistory {
  readonly target: ScrapeTarget;
  readonly scrapes: readonly Scrape[];
  /** The last failed scrape, cleared by the next success. */
  readonly lastError?: { readonly timeMs: number; readonly message: string };
}

/** Options of {@link ScrapeHistory}; each field documents its default. */
export interface ScrapeHistoryOptions {
  /** How far back to keep scrapes. Default one hour. */
  readonly windowMs?: number;
  /** Upper bound on scrapes kept per target, whatever the window. Default 720 (1 h at 5 s). */
  readonly maxScrapes?: number;
}

type Entry = { target: ScrapeTarget; scrapes: Scrape[]; lastError?: { timeMs: number; message: string } };

/** The bounded in-memory window of scrapes, by target key. */
export class ScrapeHistory {
  readonly windowMs: number;
  readonly #max: number;
  readonly #byKey = new Map<string, Entry>();

  constructor(options: ScrapeHistoryOptions = {}) {
    this.windowMs = options.windowMs ?? 3_600_000;
    this.#max = options.maxScrapes ?? 720;
  }

  /** Records a successful scrape; drops what fell out of the window. */
  record(target: ScrapeTarget, scrape: Scrape): void {
    const e = this.#entry(target);
    // A restarted pod with the same name is a new proxy: counters restart, which the queries handle as a reset.
    e.scrapes.push(scrape);
    delete e.lastError;
    this.#trim(e, scrape.timeMs);
  }

  /** Records a failed scrape (the target keeps its past scrapes). */
  fail(target: ScrapeTarget, timeMs: number, message: string): void {
    const e = this.#entry(target);
    e.lastError = { timeMs, message };
    this.#trim(e, timeMs);
  }

  /** Forgets targets no longer discovered (deleted pods). */
  retain(keys: ReadonlySet<string>): void {
    for (const k of this.#byKey.keys()) if (!keys.has(k)) this.#byKey.delete(k);
  }

  /** Every target's history, sorted by key. */
  histories(): TargetHistory[] {
    return [...this.#byKey.values()].sort((a, b) => a.target.key.localeCompare(b.target.key));
  }

  #entry(target: ScrapeTarget): Entry {
    let e = this.#byKey.get(target.key);
    if (e === undefined) {
      e = { target, scrapes: [] };
      this.#byKey.set(target.key, e);
    }
    e.target = target;
    return e;
  }

  #trim(e: Entry, nowMs: number): void {
    const cutoff = nowMs - this.windowMs;
    let drop = 0;
    while (drop < e.scrapes.length && e.scrapes[drop]!.timeMs < cutoff) drop++;
    drop = Math.max(drop, e.scrapes.length - this.#max);
    if (drop > 0) e.scrapes.splice(0, drop);
  }
}
