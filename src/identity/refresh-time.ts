/**
 * When the identity client asks for its next certificate: pure functions of the
 * certificate's validity, `now` and a random number, so tests pin every case.
 */

/** How the client schedules renewals and retries (all milliseconds). */
export interface RefreshPolicy {
  /** Fraction of the remaining lifetime to wait before renewing (default 0.7, as Linkerd). */
  readonly fraction: number;
  /** Shortest wait before a renewal (default 10 s): a 1-minute certificate must not spin. */
  readonly minMs: number;
  /** Longest wait (default 24 h): even a year-long certificate is refreshed daily. */
  readonly maxMs: number;
  /** Jitter as a fraction of the wait, subtracted at random (default 0.1), so a fleet spreads out. */
  readonly jitter: number;
  /** First retry delay after a failure (default 1 s). */
  readonly backoffBaseMs: number;
  /** Longest retry delay (default 60 s). */
  readonly backoffMaxMs: number;
}

/** The defaults listed on {@link RefreshPolicy}. */
export const DEFAULT_REFRESH_POLICY: RefreshPolicy = {
  fraction: 0.7,
  minMs: 10_000,
  maxMs: 24 * 3_600_000,
  jitter: 0.1,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
};

/**
 * Milliseconds until the next renewal of a certificate valid until `validUntil`:
 * `fraction` of the remaining lifetime, clamped to [minMs, maxMs], minus up to
 * `jitter` of itself. Jitter only ever shortens the wait, so renewal never slips
 * past the 70% point. `random` is in [0, 1).
 */
export function refreshDelay(validUntil: number, now: number, random: number, policy: RefreshPolicy = DEFAULT_REFRESH_POLICY): number {
  const remaining = Math.max(0, validUntil - now);
  const base = Math.min(policy.maxMs, Math.max(policy.minMs, remaining * policy.fraction));
  return Math.max(0, Math.round(base * (1 - policy.jitter * random)));
}

/**
 * Milliseconds before retry number `attempt` (1 for the first retry): exponential
 * from `backoffBaseMs`, capped at `backoffMaxMs`, with "equal jitter" (half fixed,
 * half random) so retries neither synchronise nor collapse to zero.
 */
export function retryDelay(attempt: number, random: number, policy: RefreshPolicy = DEFAULT_REFRESH_POLICY): number {
  const exp = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.max(0, Math.min(30, attempt - 1)));
  return Math.round(exp / 2 + (exp / 2) * random);
}
