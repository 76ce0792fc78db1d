import type { MetricSample } from '../viz/index.ts';

/**
 * The value of the first sample named `name` that holds a number, or undefined.
 * Samples come from viz's `parsePrometheusText`, the one reader of admin `/metrics`.
 */
export function metricValue(samples: readonly MetricSample[], name: string): number | undefined {
  return samples.find((s) => s.name === name && !Number.isNaN(s.value))?.value;
}
