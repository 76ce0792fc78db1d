/**
 * HTTP/2 frames on the wire (RFC 9113 §4, §6): the numbers the relay speaks and the
 * few frames it writes itself. A frame is a 9-byte header (24-bit length, type,
 * flags, 31-bit stream id) and its payload.
 */

/** Bytes in a frame header. */
export const FRAME_HEADER_LENGTH = 9;

/** Frame types (RFC 9113 §6). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flags (RFC 9113 §6). ACK and END_STREAM share a bit on different frame types. */
export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** Error codes of RST_STREAM and GOAWAY (RFC 9113 §7). */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  ENHANCE_YOUR_CALM: 0xb,
} as const;

/** SETTINGS identifiers (RFC 9113 §6.5.2). */
export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** What a client sends first (RFC 9113 §3.4). */
export const CLIENT_PREFACE: Buffer = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Every window starts at this size; SETTINGS change only the streams' (RFC 9113 §6.9.2). */
export const DEFAULT_WINDOW = 65_535;
/** The largest window and window increment (RFC 9113 §6.9.1). */
export const MAX_WINDOW = 0x7fff_ffff;
/** The frame size every peer accepts until it says more (RFC 9113 §4.2). */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;

/** A frame header for a payload of `length` bytes, in a buffer of its own. */
export function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_LENGTH);
  writeFrameHeader(b, 0, length, type, flags, streamId);
  return b;
}

/** Writes a frame header into `b` at `at`. */
export function writeFrameHeader(b: Buffer, at: number, length: number, type: number, flags: number, streamId: number): void {
  b[at] = length >>> 16;
  b[at + 1] = (length >>> 8) & 0xff;
  b[at + 2] = length & 0xff;
  b[at + 3] = type;
  b[at + 4] = flags;
  b.writeUInt32BE(streamId, at + 5);
}

/** A SETTINGS frame carrying `[id, value]` pairs. */
export function settingsFrame(settings: ReadonlyArray<readonly [number, number]>): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + 6 * settings.length);
  writeFrameHeader(b, 0, 6 * settings.length, FrameType.SETTINGS, 0, 0);
  let at = FRAME_HEADER_LENGTH;
  for (const [id, value] of settings) {
    b.writeUInt16BE(id, at);
    b.writeUInt32BE(value, at + 2);
    at += 6;
  }
  return b;
}

/** The acknowledgement of the peer's SETTINGS. */
export const SETTINGS_ACK: Buffer = frameHeader(0, FrameType.SETTINGS, Flag.ACK, 0);

/** A WINDOW_UPDATE granting `increment` bytes on `streamId` (0: the connection). */
export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + 4);
  writeFrameHeader(b, 0, 4, FrameType.WINDOW_UPDATE, 0, streamId);
  b.writeUInt32BE(increment, FRAME_HEADER_LENGTH);
  return b;
}

/** An RST_STREAM ending `streamId` with `code`. */
export function rstStreamFrame(streamId: number, code: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + 4);
  writeFrameHeader(b, 0, 4, FrameType.RST_STREAM, 0, streamId);
  b.writeUInt32BE(code, FRAME_HEADER_LENGTH);
  return b;
}

/** A GOAWAY: streams above `lastStreamId` were not processed and may be retried. */
export function goawayFrame(lastStreamId: number, code: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + 8);
  writeFrameHeader(b, 0, 8, FrameType.GOAWAY, 0, 0);
  b.writeUInt32BE(lastStreamId, FRAME_HEADER_LENGTH);
  b.writeUInt32BE(code, FRAME_HEADER_LENGTH + 4);
  return b;
}

/** A PING carrying 8 bytes, to be echoed in its ACK. */
export function pingFrame(payload: Buffer): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + 8);
  writeFrameHeader(b, 0, 8, FrameType.PING, 0, 0);
  payload.copy(b, FRAME_HEADER_LENGTH, 0, 8);
  return b;
}

/** The ACK of a PING, echoing its 8 bytes. */
export function pingAckFrame(payload: Buffer): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + 8);
  writeFrameHeader(b, 0, 8, FrameType.PING, Flag.ACK, 0);
  payload.copy(b, FRAME_HEADER_LENGTH, 0, 8);
  return b;
}

/** A protocol violation that ends the whole connection with GOAWAY and `code`. */
export class H2ConnectionError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}
