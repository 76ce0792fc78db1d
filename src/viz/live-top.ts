/**
 * `weft viz top` from tap events: the busiest paths — authority, method and path
 * (without its query) — over a sliding window. Each request counts once, as the
 * callee's proxy saw it (inbound events); outbound events are ignored.
 */
import type { TapEvent } from './tap-events.ts';

/** One row of live `top`. */
export interface LiveTopRow {
  readonly authority: string;
  readonly method: string;
  readonly path: string;
  readonly count: number;
  readonly rps: number;
  readonly successRate: number;
  /** Lowest and highest latency in the window, ms. */
  readonly minMs: number;
  readonly maxMs: number;
}

/** Keeps the recent inbound tap events and ranks their paths. */
export class LiveTop {
  readonly #windowMs: number;
  readonly #events: TapEvent[] = [];

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** Records one event (outbound ones are dropped: the callee's proxy reports the same request). */
  add(e: TapEvent): void {
    if (e.direction === 'inbound') this.#events.push(e);
  }

  /** The `limit` busiest paths in the window ending at `nowMs`, busiest first. */
  rows(nowMs: number, limit = 20): LiveTopRow[] {
    const from = nowMs - this.#windowMs;
    let drop = 0;
    while (drop < this.#events.length && this.#events[drop]!.timeMs < from) drop++;
    this.#events.splice(0, drop);
    const sums = new Map<string, { authority: string; method: string; path: string; count: number; ok: number; min: number; max: number }>();
    for (const e of this.#events) {
      const path = (e.path ?? '').split('?')[0]!;
      const method = e.method ?? '';
      const key = `${e.authority}\u0000${method}\u0000${path}`;
      let s = sums.get(key);
      if (s === undefined) sums.set(key, (s = { authority: e.authority, method, path, count: 0, ok: 0, min: Infinity, max: 0 }));
      s.count++;
      if (e.classification === 'success') s.ok++;
      const ms = e.latencyMs ?? 0;
      s.min = Math.min(s.min, ms);
      s.max = Math.max(s.max, ms);
    }
    return [...sums.values()]
      .map((s) => ({ authority: s.authority, method: s.method, path: s.path, count: s.count, rps: s.count / (this.#windowMs / 1000), successRate: s.ok / s.count, minMs: s.min, maxMs: s.max }))
      .sort((a, b) => b.count - a.count || a.path.localeCompare(b.path))
      .slice(0, limit);
  }
}
