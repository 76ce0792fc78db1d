/**
 * The header an outbound proxy writes first on every mesh connection, inside TLS:
 * what protocol follows and which port of the destination workload it is for. It
 * lets the inbound proxy forward to `127.0.0.1:<port>` without iptables' original
 * destination, and lets opaque TCP cross a single inbound listener. `mux`: opaque TCP
 * connections to that port, many per connection (mux.ts).
 *
 *   0      4        5          6        8
 *   "weft" | proto | reserved | port (u16, big-endian)
 */

/** Fixed length of the transport header in bytes. */
export const TRANSPORT_HEADER_LENGTH = 8;

/** Protocol codes carried in the header. */
export const TransportProtocol = { http1: 1, h2: 2, opaque: 3, mux: 4 } as const;
/** One of `TransportProtocol`'s keys. */
export type TransportProtocolName = keyof typeof TransportProtocol;

/** A decoded transport header. */
export type TransportHeader = { protocol: TransportProtocolName; port: number };

const MAGIC = 0x77656674; // "weft"

/** Encodes a transport header. */
export function encodeTransportHeader(h: TransportHeader): Buffer {
  const b = Buffer.allocUnsafe(TRANSPORT_HEADER_LENGTH);
  b.writeUInt32BE(MAGIC, 0);
  b[4] = TransportProtocol[h.protocol];
  b[5] = 0;
  b.writeUInt16BE(h.port, 6);
  return b;
}

/** Decodes the header at the start of `buf`: `incomplete` until 8 bytes, `invalid` for anything else. */
export function decodeTransportHeader(buf: Uint8Array): { kind: 'header'; header: TransportHeader } | { kind: 'incomplete' } | { kind: 'invalid' } {
  if (buf.length < TRANSPORT_HEADER_LENGTH) return { kind: 'incomplete' };
  const view = Buffer.from(buf.buffer, buf.byteOffset, TRANSPORT_HEADER_LENGTH);
  if (view.readUInt32BE(0) !== MAGIC) return { kind: 'invalid' };
  const protocol = view[4] === 1 ? 'http1' : view[4] === 2 ? 'h2' : view[4] === 3 ? 'opaque' : view[4] === 4 ? 'mux' : undefined;
  const port = view.readUInt16BE(6);
  if (protocol === undefined || port === 0) return { kind: 'invalid' };
  return { kind: 'header', header: { protocol, port } };
}
