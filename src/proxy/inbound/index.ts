/**
 * Inbound stage: connections from other workloads to the local application.
 */
export { Inbound } from './inbound.ts';
