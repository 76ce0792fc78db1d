/**
 * The Protocol Buffers wire format, by hand: enough for weft's small gRPC messages
 * (identity's Certify, destination's Get). Each API writes its messages with these
 * two classes instead of a code generator or a runtime `.proto` parser on its hot
 * path. Decoding follows what generated decoders do: unknown fields are skipped.
 */

/** Wire types (the low three bits of a field key). */
export const WireType = { varint: 0, fixed64: 1, lengthDelimited: 2, fixed32: 5 } as const;

/** Writes one message; `finish()` returns its bytes. */
export class ProtoWriter {
  readonly #parts: Uint8Array[] = [];

  /** A raw varint. Negative int64 values become ten bytes of two's complement, as protobuf encodes them. */
  varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    const bytes: number[] = [];
    while (v >= 0x80n) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.#parts.push(Uint8Array.from(bytes));
  }

  /** A field key. */
  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** An unsigned varint field, omitted when 0 (proto3 default). */
  uint(field: number, value: number | bigint): void {
    if (value === 0 || value === 0n) return;
    this.tag(field, WireType.varint);
    this.varint(value);
  }

  /** A length-delimited field (bytes, or an embedded message), always written. */
  bytes(field: number, value: Uint8Array): void {
    this.tag(field, WireType.lengthDelimited);
    this.varint(value.length);
    this.#parts.push(value);
  }

  /** A string field, omitted when empty (proto3 default). */
  string(field: number, value: string): void {
    if (value !== '') this.bytes(field, Buffer.from(value, 'utf8'));
  }

  finish(): Uint8Array {
    return Buffer.concat(this.#parts);
  }
}

/** Reads one message; every malformation becomes the error `fail` makes. */
export class ProtoReader {
  readonly #buf: Uint8Array;
  readonly #fail: (message: string) => Error;
  #pos = 0;

  constructor(buf: Uint8Array, fail: (message: string) => Error) {
    this.#buf = buf;
    this.#fail = fail;
  }

  /** A varint as an unsigned 64-bit value. */
  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.#buf[this.#pos++];
      if (b === undefined) throw this.#fail('Send a complete message: a varint is cut short');
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    throw this.#fail('Send a valid message: a varint is longer than ten bytes');
  }

  /** A uint32 field: the low 32 bits of the varint, as generated decoders keep. */
  uint32(): number {
    return Number(BigInt.asUintN(32, this.varint()));
  }

  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (this.#pos + len > this.#buf.length) throw this.#fail('Send a complete message: a field is cut short');
    const out = this.#buf.subarray(this.#pos, this.#pos + len);
    this.#pos += len;
    return out;
  }

  string(): string {
    return Buffer.from(this.bytes()).toString('utf8');
  }

  /** Skips a field of an unknown number. */
  skip(wireType: number): void {
    if (wireType === WireType.varint) this.varint();
    else if (wireType === WireType.lengthDelimited) this.bytes();
    else if (wireType === WireType.fixed64) this.#advance(8);
    else if (wireType === WireType.fixed32) this.#advance(4);
    else throw this.#fail(`Send a valid message: unsupported wire type "${wireType}"`);
  }

  /** Fails unless a known field came with the wire type its schema gives it. */
  expect(got: number, want: number, name: string): void {
    if (got !== want) throw this.#fail(`Send a valid message: field "${name}" has wire type ${got}, expected ${want}`);
  }

  #advance(n: number): void {
    if (this.#pos + n > this.#buf.length) throw this.#fail('Send a complete message: a field is cut short');
    this.#pos += n;
  }

  /** Each field of the message in order: its number and wire type. */
  *fields(): Generator<{ field: number; wireType: number }> {
    while (this.#pos < this.#buf.length) {
      const key = this.uint32();
      yield { field: key >>> 3, wireType: key & 7 };
    }
  }
}
