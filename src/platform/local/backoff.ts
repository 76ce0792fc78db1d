/** Restart timing of a container that exited, as the kubelet's CrashLoopBackOff. */
export interface RestartBackoffOptions {
  /** First delay, ms (default 1 000; the kubelet uses 10 s, shortened because local pods start in milliseconds). */
  readonly initialMs?: number;
  /** Cap, ms (default 30 000; kubelet: 5 min). */
  readonly maxMs?: number;
  /** A container that ran this long is healthy again and starts from the first delay (default 60 000). */
  readonly resetAfterMs?: number;
}

/**
 * Delay before restart number `restarts` (0 for the first restart): doubling from
 * `initialMs` up to `maxMs`. Pure; the runner decides when to reset `restarts`.
 */
export function restartDelay(restarts: number, options: RestartBackoffOptions = {}): number {
  const initial = options.initialMs ?? 1000;
  const max = options.maxMs ?? 30_000;
  return Math.min(max, initial * 2 ** Math.min(restarts, 30));
}
