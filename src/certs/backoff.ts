/**
 * How long to wait before retrying a failed issuance: cert-manager's schedule,
 * 1h × 2^(failures−1), capped at 32h. An issuer that keeps failing is not hammered,
 * yet a transient failure is retried within the hour.
 */
export interface BackoffOptions {
  /** Delay after the first failure, ms. Default 1h. */
  initial?: number;
  /** The longest delay, ms. Default 32h. */
  max?: number;
}

const HOUR = 3_600_000;

/** The delay after `failures` consecutive failed issuances (0 failures → 0). */
export function backoff(failures: number, options: BackoffOptions = {}): number {
  if (failures <= 0) return 0;
  const initial = options.initial ?? HOUR;
  const max = options.max ?? 32 * HOUR;
  // 2^(n-1) overflows nothing we care about before the cap bites; clamp the exponent.
  return Math.min(max, initial * 2 ** Math.min(failures - 1, 40));
}
