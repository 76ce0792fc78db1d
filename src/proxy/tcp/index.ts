/**
 * TCP stage: the mesh transport header, opaque pipes and the upstream connection pool.
 */
export { encodeTransportHeader, decodeTransportHeader, TRANSPORT_HEADER_LENGTH, TransportProtocol } from './transport-header.ts';
export type { TransportHeader, TransportProtocolName } from './transport-header.ts';
export { pipeSockets, pipeWhenOpen } from './pipe.ts';
export { ConnectionPool, PooledConnection } from './pool.ts';
export type { Opener, PoolOwner } from './pool.ts';
