/**
 * HPACK (RFC 7541): the header compression of HTTP/2, for the frame-level relay.
 *
 * One HpackDecoder per receiving connection (it mirrors the peer's dynamic table)
 * and one HpackEncoder per sending connection. The encoder never inserts into the
 * dynamic table, so it keeps no state that must follow the peer's
 * SETTINGS_HEADER_TABLE_SIZE; the decoder is complete (dynamic table, size
 * updates, Huffman) because every common client uses all of it.
 *
 * Header lists are flat arrays `[name0, value0, name1, value1, …]` of latin1
 * strings (one char per byte), so any byte sequence round-trips exactly and no
 * object is allocated per field.
 */
import { WeftError } from '../../errors/index.ts';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength, huffmanMaxDecodedLength } from './hpack-huffman.ts';
import { STATIC_FIELD_INDEX, STATIC_NAME_INDEX, STATIC_TABLE, STATIC_TABLE_LENGTH } from './hpack-static-table.ts';

/** Code of HpackError. */
export const ERR_HPACK = 'WEFT_ERR_HPACK';
/** Code of HeaderListTooLargeError. */
export const ERR_HEADER_LIST_TOO_LARGE = 'WEFT_ERR_HEADER_LIST_TOO_LARGE';

/** A COMPRESSION_ERROR (RFC 9113 §4.3): the connection must end with GOAWAY. */
export class HpackError extends WeftError {
  constructor(message: string) {
    super(ERR_HPACK, message);
    this.name = 'HpackError';
  }
}

/**
 * The decoded list exceeded maxHeaderListSize. The block WAS fully decoded (dynamic
 * table in sync), only the list was dropped: a stream error, not a connection error.
 */
export class HeaderListTooLargeError extends WeftError {
  /** The RFC 9113 size of the whole list, in bytes. */
  readonly size: number;
  /** The limit it exceeded. */
  readonly limit: number;

  constructor(size: number, limit: number) {
    super(ERR_HEADER_LIST_TOO_LARGE, `Reject the header list: its size "${size}" exceeds the limit "${limit}"`);
    this.name = 'HeaderListTooLargeError';
    this.size = size;
    this.limit = limit;
  }
}

/** RFC 7541 §4.1: each table entry costs its name and value lengths plus 32 bytes. */
const ENTRY_OVERHEAD = 32;
/** The default SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2). */
const DEFAULT_TABLE_SIZE = 4096;
/**
 * Largest integer accepted in a representation. 2^31 - 1 covers every legitimate
 * index, length or table size; larger values are an attack or garbage, and
 * stopping there keeps the arithmetic exact.
 */
const MAX_INTEGER = 0x7fffffff;
/** Continuation bytes needed for MAX_INTEGER; more are over-long encodings. */
const MAX_INTEGER_CONTINUATIONS = 5;

/**
 * Decodes header blocks from one peer, keeping its dynamic table in sync.
 * Not re-entrant: one decode() at a time (the relay decodes blocks in order).
 */
export class HpackDecoder {
  readonly #maxHeaderListSize: number;
  /** The SETTINGS_HEADER_TABLE_SIZE we advertise: the ceiling of size updates. */
  #maxTableSize: number;
  /** The table's current limit, as the peer last set it (≤ #maxTableSize). */
  #tableLimit: number;
  /** Set when our advertised size fell below #tableLimit: the next block must start with an update. */
  #updateRequired = false;
  #tableSize = 0;
  // The dynamic table as a ring: the oldest entry at #head, #count entries.
  #names: string[] = new Array<string>(16).fill('');
  #values: string[] = new Array<string>(16).fill('');
  #mask = 15;
  #head = 0;
  #count = 0;
  // The block being decoded and the read position in it.
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;
  #end = 0;
  #neverIndexed: string[] = NONE;
  /** Reused output of the Huffman decoder; grows to the longest string seen. */
  #scratch: Buffer = Buffer.allocUnsafe(256);

  /**
   * @param maxHeaderListSize RFC 9113 size (sum of name.length + value.length + 32
   *   per field), in bytes.
   * @param maxTableSize the SETTINGS_HEADER_TABLE_SIZE we advertise (default 4096):
   *   a dynamic table size update above it is an HpackError.
   */
  constructor(maxHeaderListSize: number, maxTableSize: number = DEFAULT_TABLE_SIZE) {
    this.#maxHeaderListSize = maxHeaderListSize;
    this.#maxTableSize = maxTableSize;
    this.#tableLimit = maxTableSize;
  }

  /** The dynamic table's current size in bytes (RFC 7541 §4.1). */
  get tableSize(): number {
    return this.#tableSize;
  }

  /** Number of entries in the dynamic table. */
  get tableLength(): number {
    return this.#count;
  }

  /**
   * Names of the fields the last decoded block sent in the never-indexed form (RFC
   * 7541 §6.2.3), in order; empty (a shared array) in the usual case. An
   * intermediary must re-encode those fields the same way: pass this list to
   * HpackEncoder#encode for the forwarded block.
   */
  get neverIndexed(): readonly string[] {
    return this.#neverIndexed;
  }

  /**
   * Changes the SETTINGS_HEADER_TABLE_SIZE we advertise, once the peer acknowledged
   * it. When it is below the table's current limit the peer must start its next
   * block with a size update (RFC 7541 §4.2); a block without one is an HpackError.
   */
  setMaxTableSize(size: number): void {
    this.#maxTableSize = size;
    if (size < this.#tableLimit) this.#updateRequired = true;
  }

  /**
   * Decodes one complete header block (HEADERS + CONTINUATION fragments, already
   * joined; padding and priority already removed) into a flat array
   * [name0, value0, name1, value1, …], in order. Throws HpackError on malformed
   * input, HeaderListTooLargeError when the list exceeds maxHeaderListSize (after
   * decoding it all, so the table stays in sync).
   */
  decode(block: Buffer | Uint8Array): string[] {
    this.#buf = Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
    this.#pos = 0;
    this.#end = block.byteLength;
    try {
      return this.#decodeBlock();
    } finally {
      // Do not keep the caller's (possibly pooled, reused) buffer alive.
      this.#buf = EMPTY;
    }
  }

  #decodeBlock(): string[] {
    const buf = this.#buf;
    const end = this.#end;
    const out: string[] = [];
    const limit = this.#maxHeaderListSize;
    this.#neverIndexed = NONE;
    let listSize = 0;
    let fieldSeen = false;
    while (this.#pos < end) {
      const first = buf[this.#pos]!;
      let name: string;
      let value: string;
      if (first >= 0x80) {
        // §6.1 Indexed Header Field.
        const index = this.#integer(0x7f);
        if (index === 0) throw new HpackError('Close the connection: indexed header field with index "0"');
        if (index <= STATIC_TABLE_LENGTH) {
          name = STATIC_TABLE[2 * index - 2]!;
          value = STATIC_TABLE[2 * index - 1]!;
        } else {
          const slot = this.#slot(index);
          name = this.#names[slot]!;
          value = this.#values[slot]!;
        }
      } else if (first >= 0x40) {
        // §6.2.1 Literal Header Field with Incremental Indexing.
        const index = this.#integer(0x3f);
        name = index === 0 ? this.#string() : this.#name(index);
        value = this.#string();
        this.#insert(name, value);
      } else if (first >= 0x20) {
        // §6.3 Dynamic Table Size Update: only before the first field (§4.2).
        if (fieldSeen) throw new HpackError('Close the connection: dynamic table size update after a header field');
        const size = this.#integer(0x1f);
        if (size > this.#maxTableSize) {
          throw new HpackError(`Close the connection: dynamic table size update "${size}" exceeds the advertised "${this.#maxTableSize}"`);
        }
        this.#resize(size);
        this.#updateRequired = false;
        continue;
      } else {
        // §6.2.2 without indexing (0000) and §6.2.3 never indexed (0001): same shape.
        const index = this.#integer(0x0f);
        name = index === 0 ? this.#string() : this.#name(index);
        value = this.#string();
        if (first >= 0x10) {
          if (this.#neverIndexed === NONE) this.#neverIndexed = [];
          this.#neverIndexed.push(name);
        }
      }
      if (this.#updateRequired) {
        throw new HpackError('Close the connection: header block must start with a dynamic table size update');
      }
      fieldSeen = true;
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      // Past the limit the rest is still decoded (the table must follow the
      // peer), but no longer collected: the list is dropped anyway.
      if (listSize <= limit) out.push(name, value);
    }
    if (this.#updateRequired) {
      throw new HpackError('Close the connection: header block must start with a dynamic table size update');
    }
    if (listSize > limit) throw new HeaderListTooLargeError(listSize, limit);
    return out;
  }

  /** Reads an integer with an N-bit prefix (RFC 7541 §5.1) at #pos, which is in bounds. */
  #integer(prefixMask: number): number {
    const buf = this.#buf;
    let pos = this.#pos;
    let value = buf[pos++]! & prefixMask;
    if (value === prefixMask) {
      let multiplier = 1;
      let byte: number;
      let continuations = 0;
      do {
        if (pos >= this.#end) throw new HpackError('Close the connection: header block ends inside an integer');
        if (++continuations > MAX_INTEGER_CONTINUATIONS) {
          throw new HpackError('Close the connection: integer encoding is too long');
        }
        byte = buf[pos++]!;
        value += (byte & 0x7f) * multiplier;
        multiplier *= 128;
      } while (byte >= 0x80);
      if (value > MAX_INTEGER) throw new HpackError(`Close the connection: integer "${value}" exceeds 2^31 - 1`);
    }
    this.#pos = pos;
    return value;
  }

  /** Reads a string literal (RFC 7541 §5.2) at #pos as latin1. */
  #string(): string {
    if (this.#pos >= this.#end) throw new HpackError('Close the connection: header block ends before a string literal');
    const huffman = this.#buf[this.#pos]! >= 0x80;
    const length = this.#integer(0x7f);
    const start = this.#pos;
    if (length > this.#end - start) {
      throw new HpackError(`Close the connection: string literal of length "${length}" is longer than the rest of the block`);
    }
    this.#pos = start + length;
    if (!huffman) return this.#buf.toString('latin1', start, start + length);
    const max = huffmanMaxDecodedLength(length);
    if (this.#scratch.length < max) this.#scratch = Buffer.allocUnsafe(Math.max(max, this.#scratch.length * 2));
    const n = huffmanDecode(this.#buf, start, start + length, this.#scratch);
    if (n < 0) throw new HpackError('Close the connection: invalid Huffman-coded string (EOS symbol or bad padding)');
    return this.#scratch.toString('latin1', 0, n);
  }

  /** The name of the entry at a (static or dynamic) index ≥ 1. */
  #name(index: number): string {
    if (index <= STATIC_TABLE_LENGTH) return STATIC_TABLE[2 * index - 2]!;
    return this.#names[this.#slot(index)]!;
  }

  /** The ring slot of dynamic index `index` (> 61); HpackError when out of range. */
  #slot(index: number): number {
    const d = index - STATIC_TABLE_LENGTH;
    if (d > this.#count) {
      throw new HpackError(`Close the connection: header index "${index}" is beyond the table (${STATIC_TABLE_LENGTH + this.#count} entries)`);
    }
    // Dynamic index 1 is the newest entry (§2.3.3).
    return (this.#head + this.#count - d) & this.#mask;
  }

  /** Adds an entry, evicting the oldest ones to fit (RFC 7541 §4.4). */
  #insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (size > this.#tableLimit) {
      // §4.4: an entry larger than the table empties it and is not added.
      this.#evictTo(0);
      return;
    }
    this.#evictTo(this.#tableLimit - size);
    if (this.#count === this.#names.length) this.#grow();
    const slot = (this.#head + this.#count) & this.#mask;
    this.#names[slot] = name;
    this.#values[slot] = value;
    this.#count++;
    this.#tableSize += size;
  }

  #resize(limit: number): void {
    this.#tableLimit = limit;
    this.#evictTo(limit);
  }

  /** Evicts the oldest entries until the table size is at most `target`. */
  #evictTo(target: number): void {
    while (this.#tableSize > target) {
      const slot = this.#head;
      this.#tableSize -= this.#names[slot]!.length + this.#values[slot]!.length + ENTRY_OVERHEAD;
      this.#names[slot] = '';
      this.#values[slot] = '';
      this.#head = (slot + 1) & this.#mask;
      this.#count--;
    }
  }

  /** Doubles the ring, oldest entry first at slot 0. */
  #grow(): void {
    const capacity = this.#names.length * 2;
    const names = new Array<string>(capacity).fill('');
    const values = new Array<string>(capacity).fill('');
    for (let i = 0; i < this.#count; i++) {
      const slot = (this.#head + i) & this.#mask;
      names[i] = this.#names[slot]!;
      values[i] = this.#values[slot]!;
    }
    this.#names = names;
    this.#values = values;
    this.#mask = capacity - 1;
    this.#head = 0;
  }
}

const EMPTY = Buffer.alloc(0);
/** The shared empty HpackDecoder#neverIndexed: no allocation per block in the usual case. */
const NONE: string[] = [];

/**
 * Up to this length the encoder copies a string by hand. Measured against
 * Buffer#write: 19 vs 37 ns at 8 bytes, about even at 24, twice as slow at 48.
 */
const SHORT_STRING = 24;

/** Options of HpackEncoder. */
export interface HpackEncoderOptions {
  /**
   * Huffman-code literal names and values when that makes them shorter. Default
   * false: see bench/README.md for what it costs and saves.
   */
  huffman?: boolean;
}

/**
 * Encodes header lists for one peer (one encoder per sending connection). A full
 * static-table match is an indexed field, a static name match a literal without
 * indexing with an indexed name, anything else a literal without indexing with a
 * new name. It never inserts into the dynamic table. Sensitive fields
 * (authorization, proxy-authorization, cookie shorter than 20 bytes) use the
 * never-indexed form (RFC 7541 §7.1.3) so later hops keep them out of their tables.
 *
 * The first block starts with a dynamic table size update to 0 (one byte, once per
 * connection). Why: a peer that advertises a SETTINGS_HEADER_TABLE_SIZE below 4096
 * expects the next block to start with an update (RFC 7541 §4.2) and nghttp2 ends
 * the connection with COMPRESSION_ERROR otherwise; at 0 no later setting can be
 * lower, so the encoder needs no SETTINGS input and stays stateless afterwards.
 */
export class HpackEncoder {
  readonly #huffman: boolean;
  #buf: Buffer = Buffer.allocUnsafe(1024);
  /** Whether the table size update to 0 was sent (see the class comment). */
  #announced = false;

  /** @param options see HpackEncoderOptions (Huffman off by default). */
  constructor(options: HpackEncoderOptions = {}) {
    this.#huffman = options.huffman ?? false;
  }

  /**
   * Encodes [name0, value0, …] (names lower case, latin1 strings) as one header
   * block, in order. The returned Buffer is the caller's. Fields named in
   * `neverIndexed` (HpackDecoder#neverIndexed of the block being forwarded) are sent
   * never-indexed as well, as RFC 7541 §6.2.3 requires of an intermediary.
   */
  encode(headers: readonly string[], neverIndexed: readonly string[] = NONE): Buffer {
    // Upper bound: 6 bytes per string for the integer before it (a name index or a
    // length, at most 5 bytes below 2^31), the raw strings (Huffman is used only when
    // shorter), and 1 for the first block's size update.
    let bound = 1;
    for (let i = 0; i < headers.length; i++) bound += headers[i]!.length + 6;
    if (this.#buf.length < bound) this.#buf = Buffer.allocUnsafe(Math.max(bound, this.#buf.length * 2));
    const buf = this.#buf;
    let o = 0;
    if (!this.#announced) {
      buf[o++] = 0x20; // §6.3 Dynamic Table Size Update, max size 0
      this.#announced = true;
    }
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1]!;
      const sensitive =
        name === 'authorization' ||
        name === 'proxy-authorization' ||
        (name === 'cookie' && value.length < 20) ||
        (neverIndexed.length > 0 && neverIndexed.includes(name));
      if (!sensitive) {
        const full = STATIC_FIELD_INDEX.get(name)?.get(value);
        if (full !== undefined) {
          o = writeInteger(buf, o, 0x80, 0x7f, full);
          continue;
        }
      }
      // 0001xxxx never indexed, 0000xxxx without indexing; both with a 4-bit index.
      const nameIndex = STATIC_NAME_INDEX.get(name);
      o = writeInteger(buf, o, sensitive ? 0x10 : 0x00, 0x0f, nameIndex ?? 0);
      if (nameIndex === undefined) o = this.#writeString(buf, o, name);
      o = this.#writeString(buf, o, value);
    }
    const out = Buffer.allocUnsafe(o);
    buf.copy(out, 0, 0, o);
    return out;
  }

  #writeString(buf: Buffer, o: number, s: string): number {
    if (this.#huffman && s.length > 0) {
      const length = huffmanEncodedLength(s);
      if (length < s.length) {
        o = writeInteger(buf, o, 0x80, 0x7f, length);
        return huffmanEncode(s, buf, o);
      }
    }
    o = writeInteger(buf, o, 0x00, 0x7f, s.length);
    if (s.length > SHORT_STRING) return o + buf.write(s, o, 'latin1');
    // Header strings are mostly short: a loop beats the call into Buffer's native write.
    for (let i = 0; i < s.length; i++) buf[o++] = s.charCodeAt(i);
    return o;
  }
}

/**
 * Writes `value` as an integer with an N-bit prefix (RFC 7541 §5.1): `high` holds
 * the representation's pattern bits, `mask` is 2^N - 1. Returns the next offset.
 */
function writeInteger(buf: Buffer, o: number, high: number, mask: number, value: number): number {
  if (value < mask) {
    buf[o++] = high | value;
    return o;
  }
  buf[o++] = high | mask;
  let rest = value - mask;
  while (rest >= 128) {
    buf[o++] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  buf[o++] = rest;
  return o;
}
