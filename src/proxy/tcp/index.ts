/**
 * TCP stage: the mesh transport header, opaque pipes and the upstream connection pool.
 */
export { encodeTransportHeader, decodeTransportHeader, TRANSPORT_HEADER_LENGTH, TransportProtocol } from './transport-header.ts';
export type { TransportHeader, TransportProtocolName } from './transport-header.ts';
export { pipeSockets, pipeWhenOpen } from './pipe.ts';
/**
 * Borrowed reads for any connected `net.Socket` / `tls.TLSSocket` (accepted, connected,
 * TLS over an accepted socket, or already read by another reader): one reused buffer
 * per socket, each chunk a view valid during the callback (copy it, or `retain()`
 * when a write queued it; `writeBorrowed` does that). `adopt` answers undefined
 * (touching nothing) when unsupported; then use 'data' events. `upstreamReader` is
 * the reader of a pooled upstream, dispatching to its owner of the moment.
 */
export { BorrowedReader, BORROWED_READ_BYTES, writeBorrowed, upstreamReader } from './borrowed-reader.ts';
export type { BorrowedDataHandler } from './borrowed-reader.ts';
/**
 * Direct writes to a plain TCP socket's handle when nothing is queued in its Writable:
 * `done` (kernel took it all), `pending` (stop producing until `onComplete`), or
 * `unavailable` (use `socket.write`). Never for TLS sockets.
 */
export { writeDirect, directWriteSupported } from './direct-write.ts';
/**
 * Direct writes to a TLS socket's TLSWrap (one writer per socket, which also holds
 * the socket's own Writable writes and shutdown behind a direct write in flight);
 * `writeOut` picks it for TLS sockets and `writeBorrowed` otherwise.
 */
export { TlsDirectWriter, writeOut } from './tls-direct-write.ts';
export { ConnectionPool, PooledConnection } from './pool.ts';
export type { Opener, PoolOwner } from './pool.ts';
/**
 * Opaque TCP multiplexed over one mesh connection per endpoint and port: the client
 * side `open`s a stream per accepted connection; the server side hears `onOpen` and
 * `attach`es the application connection (or `refuse`s the stream).
 */
export { MuxConnection, MuxStream } from './mux.ts';
export type { MuxOptions } from './mux.ts';
