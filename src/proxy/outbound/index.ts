/**
 * Outbound stage: the application's connections to other workloads, and discovery
 * (a static table, or the destination service).
 */
export { Outbound } from './outbound.ts';
export { StaticDiscovery, parseDestinationEntry } from './static-discovery.ts';
export { DestinationDiscovery, destinationFromView, READINESS_PROBE_AUTHORITY } from './destination-discovery.ts';
export type { DestinationDiscoveryOptions } from './destination-discovery.ts';
export { normalizeAuthority, passthrough } from './discovery.ts';
export type { Destination, DestinationHandle, Discovery, Endpoint, ProtocolHint } from './discovery.ts';
