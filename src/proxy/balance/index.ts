/**
 * Balance stage: power of two choices over peak-EWMA load, as Linkerd balances.
 */
export { ewmaCost, initialEwma, observeEwma, PEAK_EWMA_DEFAULTS } from './peak-ewma.ts';
export type { EwmaState, PeakEwmaOptions } from './peak-ewma.ts';
export { pickP2c } from './p2c.ts';
export type { Choice } from './p2c.ts';
export { EndpointLoad } from './endpoint-load.ts';
