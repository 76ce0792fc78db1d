/**
 * Finds where an HTTP/1 body ends without copying or re-encoding it: the proxy
 * forwards the body bytes as they arrived and only tracks Content-Length countdowns
 * and chunk boundaries.
 */
import type { BodyKind } from './h1-head.ts';

const S_SIZE = 0;
const S_EXT = 1;
const S_DATA = 2;
const S_DATA_END = 3;
const S_TRAILER_START = 4;
const S_TRAILER_LINE = 5;
const S_DONE = 6;
/** Whitespace after a chunk size: only `;` (an extension) or the end of the line may follow. */
const S_SIZE_WS = 7;

/** Hex digits allowed in a chunk size: 12 is 256 TiB, far above any real chunk. */
const MAX_SIZE_DIGITS = 12;

/** Tracks one body's framing; reuse it across messages with `reset`. */
export class BodyFramer {
  #kind: BodyKind = 'none';
  #remaining = 0;
  #state = S_DONE;
  #digits = 0;

  /** Starts a body of `kind` (`length` bytes long for `length`). */
  reset(kind: BodyKind, length: number): void {
    this.#kind = kind;
    this.#remaining = length;
    this.#digits = 0;
    this.#state = kind === 'none' || (kind === 'length' && length === 0) ? S_DONE : kind === 'chunked' ? S_SIZE : S_DATA;
  }

  /** True once the whole body has been seen. `eof` bodies end only at close. */
  get done(): boolean {
    return this.#state === S_DONE;
  }

  /** True for a body delimited by connection close. */
  get untilClose(): boolean {
    return this.#kind === 'eof';
  }

  /**
   * Consumes body bytes from `buf[off…]`; returns how many belong to this body
   * (the rest is the next message), or -1 when the chunked framing is malformed.
   */
  consume(buf: Buffer, off: number): number {
    const kind = this.#kind;
    if (this.#state === S_DONE) return 0;
    if (kind === 'eof') return buf.length - off;
    if (kind === 'length') {
      const n = Math.min(this.#remaining, buf.length - off);
      this.#remaining -= n;
      if (this.#remaining === 0) this.#state = S_DONE;
      return n;
    }
    let i = off;
    const len = buf.length;
    while (i < len) {
      const st = this.#state;
      if (st === S_DATA) {
        const n = Math.min(this.#remaining, len - i);
        i += n;
        this.#remaining -= n;
        if (this.#remaining === 0) this.#state = S_DATA_END;
        continue;
      }
      const c = buf[i++]!;
      switch (st) {
        case S_SIZE: {
          const h = hexValue(c);
          if (h >= 0) {
            if (++this.#digits > MAX_SIZE_DIGITS) return -1;
            this.#remaining = this.#remaining * 16 + h;
          } else if (c === 0x0a) {
            if (this.#digits === 0) return -1;
            this.#digits = 0;
            this.#state = this.#remaining === 0 ? S_TRAILER_START : S_DATA;
          } else if (c === 0x3b) {
            this.#state = S_EXT;
          } else if (c === 0x20 || c === 0x09) {
            // Whitespace after the size may only lead to an extension (`;`) or the line's end.
            this.#state = S_SIZE_WS;
          } else if (c !== 0x0d) {
            return -1;
          }
          break;
        }
        case S_SIZE_WS:
          if (c === 0x3b) this.#state = S_EXT;
          else if (c === 0x0a) {
            if (this.#digits === 0) return -1;
            this.#digits = 0;
            this.#state = this.#remaining === 0 ? S_TRAILER_START : S_DATA;
          } else if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return -1;
          break;
        case S_EXT:
          if (c === 0x0a) {
            if (this.#digits === 0) return -1;
            this.#digits = 0;
            this.#state = this.#remaining === 0 ? S_TRAILER_START : S_DATA;
          }
          break;
        case S_DATA_END:
          if (c === 0x0a) this.#state = S_SIZE;
          else if (c !== 0x0d) return -1;
          break;
        case S_TRAILER_START:
          if (c === 0x0a) {
            this.#state = S_DONE;
            return i - off;
          }
          if (c !== 0x0d) this.#state = S_TRAILER_LINE;
          break;
        case S_TRAILER_LINE:
          if (c === 0x0a) this.#state = S_TRAILER_START;
          break;
      }
    }
    return i - off;
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
