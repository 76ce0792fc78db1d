/**
 * Power of two choices: pick two distinct endpoints at random and send to the
 * cheaper one. Pure over its inputs (randomness and `now` injected). Endpoints that
 * failed recently (`failedUntil > now`) lose to any healthy one; if both picks
 * failed, one of them is still returned, because a request with no healthy endpoint
 * is better tried than refused (the connect may well work now).
 */

/** What P2C needs to know about an endpoint. */
export type Choice = {
  /** Until when the endpoint is skipped after a failure (same clock as `now`). */
  failedUntil: number;
  /** Its current load (lower is better); see `ewmaCost`. */
  cost(now: number): number;
};

/**
 * Returns the chosen endpoint of `items`, or undefined when there is none.
 * `random()` returns a number in [0, 1).
 */
export function pickP2c<T extends Choice>(items: readonly T[], now: number, random: () => number = Math.random): T | undefined {
  const n = items.length;
  if (n <= 1) return items[0];
  const i = Math.floor(random() * n);
  let j = Math.floor(random() * (n - 1));
  if (j >= i) j++;
  const a = items[i]!;
  const b = items[j]!;
  const aDown = a.failedUntil > now;
  const bDown = b.failedUntil > now;
  if (aDown !== bDown) return aDown ? b : a;
  if (aDown && bDown && n > 2) {
    // Both picks are down: look for any healthy endpoint before giving up on health.
    for (const c of items) if (c.failedUntil <= now) return c;
  }
  return a.cost(now) <= b.cost(now) ? a : b;
}
