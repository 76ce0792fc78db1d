/**
 * gRPC's length-prefixed messages on an HTTP/2 stream: a compressed-flag byte, a
 * 4-byte big-endian length, the message. DATA frames cut them anywhere, so the
 * reader buffers across chunks.
 */

/** The 5-byte prefix: flag, then length. */
const PREFIX = 5;

/** One uncompressed message, framed. */
export function frameMessage(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(PREFIX + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, PREFIX);
  return out;
}

/** Why a stream's bytes are not gRPC messages we can read. */
export type FrameProblem =
  | { kind: 'compressed' }
  | { kind: 'too-large'; length: number; max: number };

/** Reads framed messages from the chunks of one stream. */
export class MessageReader {
  readonly #maxLength: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  /** `maxLength`: the largest message accepted, bytes (gRPC's default receive limit is 4 MiB). */
  constructor(maxLength: number) {
    this.#maxLength = maxLength;
  }

  /** Bytes of a message not yet complete; non-zero at the stream's end means it was cut short. */
  get buffered(): number {
    return this.#pendingBytes;
  }

  /**
   * Adds `chunk` and returns the messages it completed, or the problem with the
   * stream (a compressed message we never asked for, or one over the limit).
   */
  push(chunk: Buffer): Buffer[] | FrameProblem {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    const messages: Buffer[] = [];
    while (this.#pendingBytes >= PREFIX) {
      // Join chunks only to read a prefix cut in two, and once per complete message:
      // a 4 MiB message in 16 KiB DATA frames is copied once, not once per frame.
      if ((this.#pending[0] as Buffer).length < PREFIX) this.#pending = [Buffer.concat(this.#pending)];
      const head = this.#pending[0] as Buffer;
      // We send no grpc-accept-encoding, so a server must not compress.
      if (head[0] !== 0) return { kind: 'compressed' };
      const length = head.readUInt32BE(1);
      if (length > this.#maxLength) return { kind: 'too-large', length, max: this.#maxLength };
      if (this.#pendingBytes < PREFIX + length) break;
      const all = this.#pending.length === 1 ? head : Buffer.concat(this.#pending);
      messages.push(all.subarray(PREFIX, PREFIX + length));
      const rest = all.subarray(PREFIX + length);
      this.#pending = rest.length === 0 ? [] : [rest];
      this.#pendingBytes = rest.length;
    }
    return messages;
  }
}
