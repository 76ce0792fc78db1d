/**
 * Metrics stage: a small Prometheus registry and the proxy's Linkerd-named families.
 */
export { Registry, HistogramSample, labelString, LATENCY_BUCKETS_MS } from './registry.ts';
export type { Sample } from './registry.ts';
export { ProxyMetrics, RouteStats, TcpStats } from './proxy-metrics.ts';
export type { Direction, Peer, TapRoute, TlsLabel } from './proxy-metrics.ts';
export { Tap, TAP_MAX_BUFFERED_BYTES } from './tap.ts';
export type { TapEvent, TapSink } from './tap.ts';
