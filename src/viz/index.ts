/**
 * Visibility: scrape every proxy's `/metrics` into a bounded window, answer
 * `stat`/`edges`/`top`/`tap` queries as pure functions of the recorded samples, and
 * serve the dashboard (front-end in `web/`) with a JSON API.
 */
export { certificateChain, parseAnchors, readChainInput, type ChainInput, type ChainView } from './certificate-chain.ts';
export { Collector, fetchText, type CollectorOptions } from './collector.ts';
export { counterIncrease, spanSeconds } from './counter-increase.ts';
export { DEFAULT_DASHBOARD_ADDRESS, parseDashboardAddress } from './dashboard-address.ts';
export { startDashboard, type Dashboard, type DashboardOptions } from './dashboard-server.ts';
export { authorityKeys, edgeRows, type EdgeQuery, type EdgeRow } from './edge-rows.ts';
export { goldenStats, type GoldenStats } from './golden-metrics.ts';
export { histogramQuantile, type Bucket } from './histogram-quantile.ts';
export { parseResourceKind, parseResourceRef, type MeshData, type ResourceKind, type ResourceRef } from './mesh-view.ts';
export { parsePrometheusText, type MetricSample } from './prometheus-text.ts';
export { ScrapeHistory, type Scrape, type TargetHistory } from './scrape-history.ts';
export { PROXY_ADMIN_PORT, readInventory, scrapeTargets, type Inventory, type ScrapeTarget } from './scrape-targets.ts';
export { statRows, type StatQuery, type StatRow } from './stat-rows.ts';
export { shortName, tapEvents, type TapEvent, type TapFilter } from './tap-events.ts';
export { DEFAULT_TAP_CONNECT_TIMEOUT_MS, openTapStreams, tapLineEvent, tapTargets, type TapStreamFilter, type TapStreamOptions, type TapStreams } from './tap-stream.ts';
export { LiveTop, type LiveTopRow } from './live-top.ts';
export { topPaths, type TopRow } from './top-paths.ts';
export { ensureWebBundle, webBundleStale, WEB_ROOT } from './web-bundle.ts';
export { proxyCertExpiry, workloadSeries, type GoldenSeries } from './workload-series.ts';
