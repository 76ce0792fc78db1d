/**
 * Finds where an HTTP/1 body ends without copying or re-encoding it: the proxy
 * forwards the body bytes as they arrived and only tracks Content-Length countdowns
 * and chunk boundaries.
 */
import { fieldLineColon, type BodyKind } from './h1-head.ts';

const S_SIZE = 0;
const S_EXT = 1;
const S_DATA = 2;
const S_DATA_END = 3;
const S_TRAILER_START = 4;
const S_TRAILER_LINE = 5;
const S_DONE = 6;
/** Whitespace after a chunk size: only `;` (an extension) or the end of the line may follow. */
const S_SIZE_WS = 7;
/** A CR where a trailer line would start: the LF ending the body must follow. */
const S_TRAILER_END = 8;

/** The trailer bound when none is given: the default head limit (--max-header-bytes). */
const DEFAULT_MAX_TRAILER_BYTES = 64 * 1024;
/** A trailer line buffer beyond this is dropped once its section ends (rare; don't keep it per connection). */
const KEEP_LINE_BYTES = 1024;

/** Hex digits allowed in a chunk size: 12 is 256 TiB, far above any real chunk. */
const MAX_SIZE_DIGITS = 12;

/**
 * Tracks one body's framing; reuse it across messages with `reset`. A chunked body's
 * trailer section is checked line by line with the rule of header lines
 * (`fieldLineColon`), each line ending in CRLF, the section at most `maxTrailerBytes`:
 * trailers are forwarded as they arrived, so a line the proxy reads one way and the
 * server another would smuggle a header (or a request) past it. Bodies without
 * trailers never touch that code.
 */
export class BodyFramer {
  readonly #maxTrailerBytes: number;
  #kind: BodyKind = 'none';
  #remaining = 0;
  #state = S_DONE;
  #digits = 0;
  /** The trailer line being read (it may span reads), allocated when a body has trailers. */
  #line: Buffer | undefined;
  #lineLength = 0;
  /** Trailer bytes seen in this body, lines and their CRLFs. */
  #trailerBytes = 0;
  #error = '';

  /**
   * `maxTrailerBytes` bounds a chunked body's trailer section: the sessions pass their
   * head limit (--max-header-bytes); the default is that option's default.
   */
  constructor(maxTrailerBytes = DEFAULT_MAX_TRAILER_BYTES) {
    this.#maxTrailerBytes = maxTrailerBytes;
  }

  /** Starts a body of `kind` (`length` bytes long for `length`). */
  reset(kind: BodyKind, length: number): void {
    this.#kind = kind;
    this.#remaining = length;
    this.#digits = 0;
    this.#lineLength = 0;
    this.#trailerBytes = 0;
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

  /** Why `consume` last answered -1, for the error the session sends. */
  get error(): string {
    return this.#error;
  }

  /**
   * Consumes body bytes from `buf[off…]`; returns how many belong to this body
   * (the rest is the next message), or -1 when the chunked framing or the trailer
   * section is malformed (`error` says which).
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
      if (st === S_TRAILER_LINE) {
        const lf = buf.indexOf(0x0a, i);
        const stop = lf < 0 ? len : lf;
        if (!this.#appendLine(buf, i, stop)) return this.#bad('trailer section too large');
        if (lf < 0) return len - off;
        i = lf + 1;
        if (!this.#lineValid()) return this.#bad('malformed trailer line');
        this.#state = S_TRAILER_START;
        continue;
      }
      const c = buf[i++]!;
      switch (st) {
        case S_SIZE: {
          const h = hexValue(c);
          if (h >= 0) {
            if (++this.#digits > MAX_SIZE_DIGITS) return this.#bad('chunk size too long');
            this.#remaining = this.#remaining * 16 + h;
          } else if (c === 0x0a) {
            if (this.#digits === 0) return this.#bad('malformed chunk size');
            this.#digits = 0;
            this.#state = this.#remaining === 0 ? S_TRAILER_START : S_DATA;
          } else if (c === 0x3b) {
            this.#state = S_EXT;
          } else if (c === 0x20 || c === 0x09) {
            // Whitespace after the size may only lead to an extension (`;`) or the line's end.
            this.#state = S_SIZE_WS;
          } else if (c !== 0x0d) {
            return this.#bad('malformed chunk size');
          }
          break;
        }
        case S_SIZE_WS:
          if (c === 0x3b) this.#state = S_EXT;
          else if (c === 0x0a) {
            if (this.#digits === 0) return this.#bad('malformed chunk size');
            this.#digits = 0;
            this.#state = this.#remaining === 0 ? S_TRAILER_START : S_DATA;
          } else if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return this.#bad('malformed chunk size');
          break;
        case S_EXT:
          if (c === 0x0a) {
            if (this.#digits === 0) return this.#bad('malformed chunk size');
            this.#digits = 0;
            this.#state = this.#remaining === 0 ? S_TRAILER_START : S_DATA;
          }
          break;
        case S_DATA_END:
          if (c === 0x0a) this.#state = S_SIZE;
          else if (c !== 0x0d) return this.#bad('malformed chunk end');
          break;
        case S_TRAILER_START:
          // The blank line ending the body (CRLF, or a bare LF as chunk lines allow), else a trailer line.
          if (c === 0x0a) return this.#end(i - off);
          if (c === 0x0d) this.#state = S_TRAILER_END;
          else {
            this.#state = S_TRAILER_LINE;
            if (!this.#appendLine(buf, i - 1, i)) return this.#bad('trailer section too large');
          }
          break;
        case S_TRAILER_END:
          if (c !== 0x0a) return this.#bad('malformed trailer line');
          return this.#end(i - off);
      }
    }
    return i - off;
  }

  #end(n: number): number {
    this.#state = S_DONE;
    if (this.#line !== undefined && this.#line.length > KEEP_LINE_BYTES) this.#line = undefined;
    return n;
  }

  #bad(reason: string): number {
    this.#error = reason;
    return -1;
  }

  /** Adds `buf[from, to)` to the trailer line; false when the section grows past its bound. */
  #appendLine(buf: Buffer, from: number, to: number): boolean {
    const n = to - from;
    // The line's LF counts too: the bound covers the section as it travels.
    if (this.#trailerBytes + n + 1 > this.#maxTrailerBytes) return false;
    this.#trailerBytes += n;
    let line = this.#line;
    const need = this.#lineLength + n;
    if (line === undefined || line.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(128, need, 2 * (line?.length ?? 0)));
      if (line !== undefined) line.copy(grown, 0, 0, this.#lineLength);
      this.#line = line = grown;
    }
    buf.copy(line, this.#lineLength, from, to);
    this.#lineLength = need;
    return true;
  }

  /** Checks the trailer line just read (its LF consumed): CRLF-terminated and shaped like a header line. */
  #lineValid(): boolean {
    this.#trailerBytes++;
    const n = this.#lineLength;
    this.#lineLength = 0;
    const line = this.#line!;
    return n >= 2 && line[n - 1] === 0x0d && fieldLineColon(line, 0, n - 1) > 0;
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
