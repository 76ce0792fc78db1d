/**
 * weft's sidecar proxy: mutual TLS between workloads, protocol detection, static
 * discovery (the destination client later), Linkerd-compatible metrics and admin.
 * `weft proxy` (src/cli/proxy.ts) is its command; docs/proxy.md its manual.
 */
export { startProxy } from './proxy.ts';
export type { RunningProxy } from './proxy.ts';
export { PROXY_DEFAULTS, DEFAULT_OPAQUE_PORTS } from './config.ts';
export type { ProxyConfig, ListenAddress, OutboundTarget } from './config.ts';
export { fileCredentials, MeshTls, MESH_ALPN } from './tls/index.ts';
export type { Credentials, CredentialsProvider, CredentialFiles, FileCredentials } from './tls/index.ts';
export { parseDestinationEntry, normalizeAuthority } from './outbound/index.ts';
export { Logger, LOG_LEVELS } from './log.ts';
export type { LogLevel, LogSink } from './log.ts';
export { detect } from './detect/index.ts';
export { ProxyMetrics } from './metrics/index.ts';
export type { Detection, DetectOutcome } from './detect/index.ts';
