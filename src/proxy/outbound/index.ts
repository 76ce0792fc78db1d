/**
 * Outbound stage: the application's connections to other workloads, and static discovery.
 */
export { Outbound } from './outbound.ts';
export { StaticDiscovery, parseDestinationEntry, normalizeAuthority } from './static-discovery.ts';
export type { Destination, Endpoint } from './static-discovery.ts';
