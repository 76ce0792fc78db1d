/**
 * HPACK (RFC 7541): the header compression of HTTP/2, for the frame-level relay.
 *
 * One HpackDecoder per receiving connection (it mirrors the peer's dynamic table)
 * and one HpackEncoder per sending connection (it keeps its own dynamic table, which
 * the peer's decoder mirrors, sized by the peer's SETTINGS_HEADER_TABLE_SIZE). Both
 * are complete: dynamic table, size updates, Huffman (off by default when encoding).
 * The encoder indexes because a relay that sends literals writes many times the
 * bytes a client sent when that client references its own table.
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

/**
 * The largest dynamic table the encoder keeps, whatever the peer allows: 4 KiB per
 * connection, as nghttp2 and Go's hpack cap theirs. A larger table would save little
 * (the fields that repeat fit) and cost memory on every connection.
 */
const DEFAULT_ENCODER_TABLE_SIZE = 4096;

/**
 * Names whose values change with almost every message (nghttp2's list without
 * `:path` and `content-length`, plus request ids, trace context and gRPC's deadline):
 * inserting them would only push out the fields that do repeat. `:path` and
 * `content-length` are indexed: gRPC repeats a handful of paths, and RPC answers
 * repeat their lengths.
 */
const VARYING_NAMES: ReadonlySet<string> = new Set([
  'age', 'etag', 'if-modified-since', 'if-none-match', 'last-modified', 'location', 'set-cookie',
  'grpc-timeout', 'x-request-id', 'traceparent', 'tracestate', 'x-b3-traceid', 'x-b3-spanid',
  'x-b3-parentspanid', 'x-b3-sampled', 'x-amzn-trace-id',
]);

/**
 * A varying field longer than this is indexed all the same. Why: a client can index
 * a long value in its own table and reference it with one byte per request; sent on
 * as a literal it would cost its whole length each time (the amplification the
 * dynamic table is for), while a short one costs a few bytes.
 */
const VARYING_MAX_LITERAL = 64;

/** Dynamic-table entries of one name: the newest one's insertion number, and per value its newest. */
interface DynamicName {
  newest: number;
  /** value → insertion number of its newest entry, and that entry's ring slot. */
  readonly values: Map<string, DynamicEntry>;
}

/** Where one field of the dynamic table is. */
interface DynamicEntry {
  n: number;
  slot: number;
}

/** Options of HpackEncoder. */
export interface HpackEncoderOptions {
  /**
   * Huffman-code literal names and values when that makes them shorter. Default
   * false: see bench/README.md for what it costs and saves.
   */
  huffman?: boolean;
  /**
   * The largest dynamic table to keep, in RFC 7541 bytes, whatever the peer's
   * SETTINGS_HEADER_TABLE_SIZE allows (default 4096). 0 keeps no table: every block
   * is static-table indices and literals, and the first one starts with a size
   * update to 0.
   */
  maxTableSize?: number;
}

/**
 * Encodes header lists for one peer (one encoder per sending connection), with a
 * dynamic table (RFC 7541 §2.3) that mirrors the peer decoder's:
 *
 * - a field in the static or dynamic table is one index (§6.1);
 * - any other field is a literal with incremental indexing (§6.2.1), its name an
 *   index when the name is known, and goes into the table, evicting the oldest
 *   entries (§4.4); except
 * - a short field of a name that varies per message (etag, trace ids…), a field
 *   larger than the table, and a field whose insertion would evict more bytes of
 *   entries used in this block or the one before than it adds: a literal without
 *   indexing (§6.2.2). The last rule stops thrashing: with FIFO eviction, a set of
 *   fields slightly larger than the table would otherwise miss on every block (each
 *   insertion evicting the next field needed), and a client could make us write
 *   ~4 KB per request it sent in 26 bytes;
 * - sensitive fields (authorization, proxy-authorization, cookie shorter than 20
 *   bytes, as nghttp2 decides) and the fields named in `neverIndexed`: never-indexed
 *   literals (§6.2.3, §7.1.3), never a full match, so later hops keep them out of
 *   their tables too.
 *
 * The table follows the peer's SETTINGS_HEADER_TABLE_SIZE (setMaxTableSize, capped
 * at maxTableSize): after a change the next block starts with size updates (§4.2,
 * §6.3), the smallest size since the last block first when the table shrank and
 * grew again. Each block must reach the peer, in the order encoded: a block encoded
 * and not sent leaves the two tables apart.
 *
 * Cost: lookups are two Map reads per field (name, then value) with no key string
 * built; an insertion allocates one small record (and a Map for a name not yet in
 * the table); a hit allocates nothing.
 */
export class HpackEncoder {
  readonly #huffman: boolean;
  readonly #cap: number;
  #buf: Buffer = Buffer.allocUnsafe(1024);
  /** The table's size limit, as the peer's decoder knows it once our pending updates arrive. */
  #limit: number;
  /** Whether the next block starts with size updates. */
  #updatePending = false;
  /** The smallest limit since the last block (§4.2: sent first when below #limit). */
  #minLimit: number;
  /** The peer's last SETTINGS_HEADER_TABLE_SIZE (4096 until it says otherwise). */
  #peerSize = DEFAULT_TABLE_SIZE;
  #tableSize = 0;
  /** Blocks encoded, this one included: the clock of #used. */
  #block = 0;
  // The dynamic table as a ring: the oldest entry at #head, #count entries; #used
  // holds the block that last used (inserted or referenced) each entry.
  #names: string[] = new Array<string>(16).fill('');
  #values: string[] = new Array<string>(16).fill('');
  #used: number[] = new Array<number>(16).fill(0);
  #mask = 15;
  #head = 0;
  #count = 0;
  /**
   * Entries ever inserted. Entry number n (0-based, in insertion order) has dynamic
   * index #inserted - n (1 is the newest, §2.3.3), wire index 61 + that.
   */
  #inserted = 0;
  /** name → its entries, for exact and name matches without building a key string. */
  readonly #byName = new Map<string, DynamicName>();

  /** @param options see HpackEncoderOptions (Huffman off, table of at most 4096 bytes). */
  constructor(options: HpackEncoderOptions = {}) {
    this.#huffman = options.huffman ?? false;
    this.#cap = options.maxTableSize ?? DEFAULT_ENCODER_TABLE_SIZE;
    // The peer's decoder starts at the protocol's 4096; a smaller cap is announced.
    this.#limit = Math.min(this.#cap, DEFAULT_TABLE_SIZE);
    this.#minLimit = this.#limit;
    this.#updatePending = this.#limit !== DEFAULT_TABLE_SIZE;
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
   * Applies the peer's SETTINGS_HEADER_TABLE_SIZE (call it when its SETTINGS arrive,
   * before encoding the next block). The table shrinks at once, evicting; the next
   * block tells the peer (the size capped at maxTableSize) whenever the setting
   * changed, as nghttp2 and Go do: a decoder may insist on an update after any
   * change, and one costs a byte or three.
   */
  setMaxTableSize(size: number): void {
    if (size === this.#peerSize) return;
    this.#peerSize = size;
    const limit = Math.min(size, this.#cap);
    this.#limit = limit;
    if (!this.#updatePending || limit < this.#minLimit) this.#minLimit = limit;
    this.#updatePending = true;
    this.#evictTo(limit);
  }

  /**
   * Encodes [name0, value0, …] (names lower case, latin1 strings) as one header
   * block, in order, updating the dynamic table. The returned Buffer is the
   * caller's. Fields named in `neverIndexed` (HpackDecoder#neverIndexed of the block
   * being forwarded) are sent never-indexed as well, as RFC 7541 §6.2.3 requires of
   * an intermediary.
   */
  encode(headers: readonly string[], neverIndexed: readonly string[] = NONE): Buffer {
    // Upper bound: 6 bytes per string for the integer before it (an index or a
    // length, at most 5 bytes below 2^31), the raw strings (Huffman is used only when
    // shorter), and two size updates.
    let bound = 12;
    for (let i = 0; i < headers.length; i++) bound += headers[i]!.length + 6;
    if (this.#buf.length < bound) this.#buf = Buffer.allocUnsafe(Math.max(bound, this.#buf.length * 2));
    const buf = this.#buf;
    const block = ++this.#block;
    let o = 0;
    if (this.#updatePending) {
      // §4.2: the smallest size first when it is below the final one, then the final one.
      if (this.#minLimit < this.#limit) o = writeInteger(buf, o, 0x20, 0x1f, this.#minLimit);
      o = writeInteger(buf, o, 0x20, 0x1f, this.#limit);
      this.#updatePending = false;
    }
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1]!;
      const sensitive =
        name === 'authorization' ||
        name === 'proxy-authorization' ||
        (name === 'cookie' && value.length < 20) ||
        (neverIndexed.length > 0 && neverIndexed.includes(name));
      const dynamic = this.#count > 0 ? this.#byName.get(name) : undefined;
      if (!sensitive) {
        const full = STATIC_FIELD_INDEX.get(name)?.get(value);
        if (full !== undefined) {
          o = writeInteger(buf, o, 0x80, 0x7f, full);
          continue;
        }
        if (dynamic !== undefined) {
          const entry = dynamic.values.get(value);
          if (entry !== undefined) {
            o = writeInteger(buf, o, 0x80, 0x7f, STATIC_TABLE_LENGTH + this.#inserted - entry.n);
            this.#used[entry.slot] = block;
            continue;
          }
        }
      }
      // The name as an index when known: the static table's (smaller) first.
      let nameIndex = STATIC_NAME_INDEX.get(name) ?? 0;
      if (nameIndex === 0 && dynamic !== undefined) nameIndex = STATIC_TABLE_LENGTH + this.#inserted - dynamic.newest;
      const size = name.length + value.length + ENTRY_OVERHEAD;
      if (
        !sensitive &&
        size <= this.#limit &&
        (value.length > VARYING_MAX_LITERAL || !VARYING_NAMES.has(name)) &&
        (this.#tableSize + size <= this.#limit || this.#worthEvicting(size, block))
      ) {
        // §6.2.1 with incremental indexing: 01xxxxxx, a 6-bit index. The name index
        // is taken before the insertion, as the decoder reads it.
        o = writeInteger(buf, o, 0x40, 0x3f, nameIndex);
        if (nameIndex === 0) o = this.#writeString(buf, o, name);
        o = this.#writeString(buf, o, value);
        this.#insert(name, value, size, block);
        continue;
      }
      // 0001xxxx never indexed, 0000xxxx without indexing; both with a 4-bit index.
      o = writeInteger(buf, o, sensitive ? 0x10 : 0x00, 0x0f, nameIndex);
      if (nameIndex === 0) o = this.#writeString(buf, o, name);
      o = this.#writeString(buf, o, value);
    }
    const out = Buffer.allocUnsafe(o);
    buf.copy(out, 0, 0, o);
    return out;
  }

  /**
   * Whether inserting `size` bytes may evict what it must: yes unless the entries it
   * would push out that this block or the one before used add up to `size` or more.
   * Two blocks, not one: a field early in a block would otherwise evict one the same
   * block needs later (not used yet this block), and the set would thrash.
   */
  #worthEvicting(size: number, block: number): boolean {
    let left = this.#tableSize + size - this.#limit;
    let recent = 0;
    for (let i = 0; left > 0; i++) {
      const slot = (this.#head + i) & this.#mask;
      const entrySize = this.#names[slot]!.length + this.#values[slot]!.length + ENTRY_OVERHEAD;
      if (this.#used[slot]! >= block - 1) {
        recent += entrySize;
        if (recent >= size) return false;
      }
      left -= entrySize;
    }
    return true;
  }

  /** Adds an entry of `size` ≤ #limit bytes, evicting the oldest ones to fit (RFC 7541 §4.4). */
  #insert(name: string, value: string, size: number, block: number): void {
    this.#evictTo(this.#limit - size);
    if (this.#count === this.#names.length) this.#grow();
    const slot = (this.#head + this.#count) & this.#mask;
    this.#names[slot] = name;
    this.#values[slot] = value;
    this.#used[slot] = block;
    this.#count++;
    this.#tableSize += size;
    const n = this.#inserted++;
    const dynamic = this.#byName.get(name);
    if (dynamic === undefined) {
      this.#byName.set(name, { newest: n, values: new Map([[value, { n, slot }]]) });
    } else {
      dynamic.newest = n;
      const entry = dynamic.values.get(value);
      if (entry === undefined) {
        dynamic.values.set(value, { n, slot });
      } else {
        entry.n = n;
        entry.slot = slot;
      }
    }
  }

  /** Evicts the oldest entries until the table size is at most `target`. */
  #evictTo(target: number): void {
    while (this.#tableSize > target) {
      const slot = this.#head;
      const name = this.#names[slot]!;
      const value = this.#values[slot]!;
      const n = this.#inserted - this.#count;
      this.#tableSize -= name.length + value.length + ENTRY_OVERHEAD;
      this.#names[slot] = '';
      this.#values[slot] = '';
      this.#head = (slot + 1) & this.#mask;
      this.#count--;
      // Only the lookups that still point at this entry go: a newer copy of the
      // same field (or name) keeps its own. When the name's newest entry goes, every
      // other entry of that name (older) has gone before it.
      const dynamic = this.#byName.get(name)!;
      if (dynamic.newest === n) {
        this.#byName.delete(name);
      } else if (dynamic.values.get(value)?.n === n) {
        dynamic.values.delete(value);
      }
    }
  }

  /** Doubles the ring, oldest entry first at slot 0 (and the lookups' slots with it). */
  #grow(): void {
    const capacity = this.#names.length * 2;
    const names = new Array<string>(capacity).fill('');
    const values = new Array<string>(capacity).fill('');
    const used = new Array<number>(capacity).fill(0);
    for (let i = 0; i < this.#count; i++) {
      const slot = (this.#head + i) & this.#mask;
      names[i] = this.#names[slot]!;
      values[i] = this.#values[slot]!;
      used[i] = this.#used[slot]!;
    }
    this.#names = names;
    this.#values = values;
    this.#used = used;
    this.#mask = capacity - 1;
    this.#head = 0;
    for (const dynamic of this.#byName.values()) {
      for (const entry of dynamic.values.values()) entry.slot = entry.n - (this.#inserted - this.#count);
    }
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
