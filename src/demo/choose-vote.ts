/**
 * What the vote bot votes for: :doughnut: a fixed share of the time (15%, as in the
 * original), otherwise any other emoji with equal chance. Pure: randomness comes in.
 */
import { DOUGHNUT } from './emoji-catalog.ts';

/** Share of votes that go to :doughnut: by default. */
export const DEFAULT_DOUGHNUT_SHARE = 0.15;

/**
 * Picks a shortcode from `shortcodes` (which may or may not include :doughnut:).
 * `random` returns numbers in [0, 1), like `Math.random`.
 */
export function chooseVote(shortcodes: readonly string[], random: () => number, doughnutShare = DEFAULT_DOUGHNUT_SHARE): string {
  if (random() < doughnutShare) return DOUGHNUT;
  const others = shortcodes.filter((s) => s !== DOUGHNUT);
  if (others.length === 0) return DOUGHNUT;
  return others[Math.min(others.length - 1, Math.floor(random() * others.length))] ?? DOUGHNUT;
}

/**
 * A small seeded generator (mulberry32): the same seed gives the same votes, so a
 * run can be repeated. Not for anything secret.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
