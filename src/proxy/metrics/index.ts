/**
 * Metrics stage: a small Prometheus registry and the proxy's Linkerd-named families.
 */
export { Registry, HistogramSample, labelString, LATENCY_BUCKETS_MS } from './registry.ts';
export type { Sample } from './registry.ts';
export { ProxyMetrics, RouteStats, TcpStats } from './proxy-metrics.ts';
export type { Direction, Peer, TlsLabel } from './proxy-metrics.ts';
