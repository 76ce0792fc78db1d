/**
 * The frames of a multiplexed opaque-TCP mesh connection (transport protocol `mux`):
 * many TCP connections carried over one mTLS connection between two proxies.
 *
 *   0            4      5              8
 *   stream id    type   length (u24)   payload (length bytes)
 *
 * - DATA (0): bytes of the stream, at most what the receiver's credit allows.
 * - OPEN (1): the client starts stream `id` (ids increase); no payload. The port is
 *   the one the connection's transport header named.
 * - FIN (2): the sender's side of the stream ended (TCP half-close); no payload.
 * - RST (3): the stream is gone (its socket failed or closed early); 4-byte code.
 * - CREDIT (4): the receiver wrote `n` more bytes out; the sender may send that many
 *   more (4-byte `n`).
 * - PING (5), PONG (6): on stream 0; a PING is answered with a PONG at once (the client
 *   checks that the far proxy still answers: a dead peer must not swallow new streams).
 * - GOAWAY (7): on stream 0; the sender takes no new streams (it is draining): open
 *   them on another connection.
 */

/** Bytes of a frame header. */
export const MUX_HEADER_BYTES = 8;
/** Frame types. */
export const MuxFrame = { data: 0, open: 1, fin: 2, rst: 3, credit: 4, ping: 5, pong: 6, goaway: 7 } as const;
/** Bytes a sender may have unacknowledged per stream: the receiver's memory bound per stream. */
export const MUX_STREAM_WINDOW = 256 * 1024;
/** The receiver grants credit once this much was written out (fewer, larger CREDIT frames). */
export const MUX_CREDIT_THRESHOLD = MUX_STREAM_WINDOW / 2;
/** Streams one connection carries at once; past that the client opens another connection. */
export const MUX_MAX_STREAMS = 1024;
/**
 * OPENs past this many streams are refused by the server: twice the client's limit,
 * because a stream the client has finished may not have ended on the server yet (its
 * application socket still closing), so the server's count runs behind the client's.
 */
export const MUX_SERVER_MAX_STREAMS = 2 * MUX_MAX_STREAMS;
/** Bytes a connection keeps for streams whose application connection is still being made: past it, the peer is cut. */
export const MUX_MAX_EARLY_BYTES = 16 * 1024 * 1024;

/** RST codes: why a stream ended abruptly. */
export const MuxReset = { closed: 0, connectFailed: 1, refused: 2 } as const;

/** The total length (header and payload) of a control frame of `type`, or -1 for DATA and unknown types. */
export function controlFrameBytes(type: number): number {
  if (type === MuxFrame.open || type === MuxFrame.fin || type === MuxFrame.ping || type === MuxFrame.pong || type === MuxFrame.goaway) return MUX_HEADER_BYTES;
  if (type === MuxFrame.rst || type === MuxFrame.credit) return MUX_HEADER_BYTES + 4;
  return -1;
}

/** Writes a frame header for `type` on stream `id` with `length` payload bytes at `b[off]`. */
export function writeMuxHeader(b: Buffer, off: number, id: number, type: number, length: number): void {
  b.writeUInt32BE(id, off);
  b[off + 4] = type;
  b[off + 5] = (length >>> 16) & 0xff;
  b[off + 6] = (length >>> 8) & 0xff;
  b[off + 7] = length & 0xff;
}
