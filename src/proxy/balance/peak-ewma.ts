/**
 * Peak-EWMA load of one endpoint, as Linkerd's balancer (tower's `PeakEwma`) keeps it:
 * a latency estimate that jumps up at once to a slower observation (the peak) and
 * decays towards faster ones with time constant `decayMs`, multiplied by the
 * requests in flight. Pure: every function takes `now`; the balancer owns the state.
 *
 *   observe(rtt):  rtt > estimate ? estimate = rtt                       (peak: react at once)
 *                                 : estimate = estimate·w + rtt·(1 − w)   (w = e^(−Δt/decay))
 *   cost(now):     estimate·e^(−Δt/decay) · (pending + 1)
 *
 * The estimate also decays while no response arrives, so an endpoint that was slow
 * once is tried again after a while instead of being shunned forever (the same
 * trade-off tower makes).
 */

/** Timing of the estimate; defaults in {@link PEAK_EWMA_DEFAULTS}. */
export type PeakEwmaOptions = {
  /** Time constant of the decay, ms. */
  decayMs: number;
  /** Estimate of an endpoint that has not answered yet, ms. */
  defaultRttMs: number;
};

/**
 * Linkerd's defaults: 10 s decay, 30 ms for a new endpoint (an unknown endpoint is
 * assumed neither fast nor slow, so it gets traffic soon but is not flooded).
 */
export const PEAK_EWMA_DEFAULTS: PeakEwmaOptions = { decayMs: 10_000, defaultRttMs: 30 };

/** One endpoint's load state. */
export type EwmaState = {
  /** Latency estimate, ms. */
  estimateMs: number;
  /** When `estimateMs` was last updated (same clock as `now`). */
  at: number;
  /** Requests sent and not yet answered. */
  pending: number;
};

/** A fresh state at `now`: the default estimate, nothing pending. */
export function initialEwma(now: number, options: PeakEwmaOptions = PEAK_EWMA_DEFAULTS): EwmaState {
  return { estimateMs: options.defaultRttMs, at: now, pending: 0 };
}

function decayFactor(elapsedMs: number, decayMs: number): number {
  return elapsedMs <= 0 ? 1 : Math.exp(-elapsedMs / decayMs);
}

/** Folds one observed latency `rttMs` at `now` into `state` (mutates and returns it). */
export function observeEwma(state: EwmaState, rttMs: number, now: number, options: PeakEwmaOptions = PEAK_EWMA_DEFAULTS): EwmaState {
  const rtt = rttMs < 0 ? 0 : rttMs;
  if (rtt > state.estimateMs) {
    state.estimateMs = rtt;
  } else {
    const w = decayFactor(now - state.at, options.decayMs);
    state.estimateMs = state.estimateMs * w + rtt * (1 - w);
  }
  state.at = now;
  return state;
}

/** The endpoint's cost at `now`: decayed estimate times (pending + 1). Lower is better. */
export function ewmaCost(state: EwmaState, now: number, options: PeakEwmaOptions = PEAK_EWMA_DEFAULTS): number {
  return state.estimateMs * decayFactor(now - state.at, options.decayMs) * (state.pending + 1);
}
