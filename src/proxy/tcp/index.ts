/**
 * TCP stage: the mesh transport header, opaque pipes and the upstream connection pool.
 */
export { encodeTransportHeader, decodeTransportHeader, TRANSPORT_HEADER_LENGTH, TransportProtocol } from './transport-header.ts';
export type { TransportHeader, TransportProtocolName } from './transport-header.ts';
export { pipeSockets, pipeWhenOpen } from './pipe.ts';
/**
 * Fast reads for any connected `net.Socket` / `tls.TLSSocket` (accepted, connected, or
 * TLS over an accepted socket): the handle reads into one shared buffer and a callback
 * sees each chunk synchronously, without `Readable`'s per-read 64 KiB allocation and
 * event machinery. Copy what must outlive the callback; return false to pause until
 * `socket.resume()`. `readFast` returns false (touching nothing) when unsupported;
 * then use 'data' events.
 */
export { readFast, fastReadSupported } from './fast-read.ts';
export type { FastReadCallback } from './fast-read.ts';
/**
 * Direct writes to a plain TCP socket's handle when nothing is queued in its Writable:
 * `done` (kernel took it all), `pending` (stop producing until `onComplete`), or
 * `unavailable` (use `socket.write`). Never for TLS sockets.
 */
export { writeDirect, directWriteSupported } from './direct-write.ts';
export { ConnectionPool, PooledConnection } from './pool.ts';
export type { Opener, PoolOwner } from './pool.ts';
