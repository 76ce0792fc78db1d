/**
 * weft's sidecar proxy: mutual TLS between workloads (certificates from the identity
 * client or files), protocol detection, discovery (the destination service or a static
 * table), transparent mode, Linkerd-compatible metrics and admin.
 * `weft proxy` (src/cli/proxy.ts) is its command; docs/proxy.md its manual.
 */
export { startProxy } from './proxy.ts';
export type { RunningProxy } from './proxy.ts';
export { PROXY_DEFAULTS, DEFAULT_OPAQUE_PORTS } from './config.ts';
export type { ProxyConfig, ListenAddress, OutboundTarget, OriginalDestination } from './config.ts';
export { fileCredentials, identityCredentials, MeshTls, MESH_ALPN, MESH_ALPN_MUX } from './tls/index.ts';
export type { Credentials, CredentialsProvider, CredentialFiles, FileCredentials, IdentitySource } from './tls/index.ts';
export { parseDestinationEntry, normalizeAuthority, destinationFromView, READINESS_PROBE_AUTHORITY } from './outbound/index.ts';
export type { Destination, Endpoint, ProtocolHint } from './outbound/index.ts';
export { Logger, LOG_LEVELS } from './log.ts';
export { startPageRelease } from './page-release.ts';
export type { PageRelease } from './page-release.ts';
export type { LogLevel, LogSink } from './log.ts';
export { detect } from './detect/index.ts';
export { ProxyMetrics } from './metrics/index.ts';
export type { Detection, DetectOutcome } from './detect/index.ts';
