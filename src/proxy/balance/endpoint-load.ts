/**
 * Per-endpoint request stats that also feed the balancer: a `RouteStats` (so the
 * HTTP stages count requests in the route's Linkerd series exactly as before) that
 * additionally tracks requests in flight and folds each response latency into the
 * endpoint's peak-EWMA estimate.
 */
import { labelString, RouteStats, type ProxyMetrics, type TlsLabel } from '../metrics/index.ts';
import { ewmaCost, initialEwma, observeEwma, PEAK_EWMA_DEFAULTS, type EwmaState, type PeakEwmaOptions } from './peak-ewma.ts';

/**
 * Stats of one outbound endpoint of one route. Several endpoints of a route share
 * the same Prometheus series (the registry returns the series for equal labels);
 * only the load is per endpoint.
 */
export class EndpointLoad extends RouteStats {
  readonly #ewma: EwmaState;
  readonly #options: PeakEwmaOptions;

  /** Stats in `metrics` labelled like `metrics.route('outbound', authority, tls, serverId)`. */
  constructor(metrics: ProxyMetrics, authority: string, tls: TlsLabel, serverId: string | undefined, options: PeakEwmaOptions = PEAK_EWMA_DEFAULTS) {
    const labels: Record<string, string> = { direction: 'outbound', authority, tls };
    if (serverId !== undefined) labels['server_id'] = serverId;
    super(metrics.registry, labelString(labels), { tap: metrics.tap, direction: 'outbound', authority, tls, peerId: serverId });
    this.#options = options;
    this.#ewma = initialEwma(performance.now(), options);
  }

  /** Requests in flight. */
  get pending(): number {
    return this.#ewma.pending;
  }

  override request(): void {
    super.request();
    this.#ewma.pending++;
  }

  override moveTo(to: RouteStats): void {
    if (to === this) return;
    if (this.#ewma.pending > 0) this.#ewma.pending--;
    if (to instanceof EndpointLoad) to.#ewma.pending++;
  }

  override response(status: number, failure: boolean, latencyMs: number, method = '', path = ''): void {
    super.response(status, failure, latencyMs, method, path);
    // Floor at 0: a response never makes the load negative, whatever the bookkeeping above did.
    if (this.#ewma.pending > 0) this.#ewma.pending--;
    observeEwma(this.#ewma, latencyMs, performance.now(), this.#options);
  }

  /** Balancer cost at `now` (performance.now() clock). */
  cost(now: number): number {
    return ewmaCost(this.#ewma, now, this.#options);
  }
}
