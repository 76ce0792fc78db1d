/**
 * HTTP/2 stage: the frame-level relay (HTTP/2 and gRPC between clients, proxies and
 * applications), its connections and its HPACK codec.
 */
export { H2Relay } from './relay.ts';
export type { H2ConnectionOptions, H2Target } from './relay.ts';
export { H2Connection } from './connection.ts';
