/**
 * Time, injected. Nothing in src/identity reads the wall clock or starts a timer
 * except through a {@link Clock}, so tests move time instead of waiting for it.
 */

/** A cancellable timer handle. */
export interface TimerHandle {
  cancel(): void;
}

/** The clock and timers the identity service and client use. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimer(ms: number, fn: () => void): TimerHandle;
}

/** The real clock: `Date.now()` and unref'd `setTimeout` (a timer never keeps the process alive). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};
