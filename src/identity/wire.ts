/**
 * Protocol Buffers encoding of the three identity messages (see identity.proto).
 *
 * Hand-written rather than generated: the API is three messages of bytes, a string
 * and a Timestamp, so ~100 lines here beat a code generator in the build or a
 * runtime .proto parser (protobufjs) on the Certify hot path. Decoding follows the
 * proto3 rules a generated decoder follows: unknown fields are skipped, the last
 * value of a repeated scalar field wins, and absent fields take their defaults.
 */
import { WeftError } from '../errors/index.ts';

/** `io.linkerd.proxy.identity.CertifyRequest`. */
export interface CertifyRequest {
  /** Field 1: the identity name requested. */
  readonly identity: string;
  /** Field 2: the service-account token. */
  readonly token: Uint8Array;
  /** Field 3: the CSR, DER. */
  readonly certificateSigningRequest: Uint8Array;
}

/** `io.linkerd.proxy.identity.CertifyResponse`. */
export interface CertifyResponse {
  /** Field 1: the leaf certificate, DER. */
  readonly leafCertificate: Uint8Array;
  /** Field 2: the issuer chain, DER, leaf's issuer first. */
  readonly intermediateCertificates: readonly Uint8Array[];
  /** Field 3: `google.protobuf.Timestamp`, millisecond precision here. */
  readonly validUntil: Date;
}

/** The bytes on the wire could not be read as the message they claim to be. */
export class WireError extends WeftError {
  constructor(message: string) {
    super('WEFT_ERR_IDENTITY_WIRE', message);
    this.name = 'WireError';
  }
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

class Writer {
  readonly #parts: Uint8Array[] = [];

  varint(value: bigint): void {
    // Negative int64 values are ten bytes of two's complement, as protobuf encodes them.
    let v = BigInt.asUintN(64, value);
    const bytes: number[] = [];
    while (v >= 0x80n) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.#parts.push(Uint8Array.from(bytes));
  }

  tag(field: number, wireType: number): void {
    this.varint(BigInt((field << 3) | wireType));
  }

  bytes(field: number, value: Uint8Array): void {
    this.tag(field, LENGTH_DELIMITED);
    this.varint(BigInt(value.length));
    this.#parts.push(value);
  }

  finish(): Uint8Array {
    return Buffer.concat(this.#parts);
  }
}

class Reader {
  readonly #buf: Uint8Array;
  #pos = 0;

  constructor(buf: Uint8Array) {
    this.#buf = buf;
  }

  get done(): boolean {
    return this.#pos >= this.#buf.length;
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.#buf[this.#pos++];
      if (b === undefined) throw new WireError('Send a complete message: a varint is cut short');
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    throw new WireError('Send a valid message: a varint is longer than ten bytes');
  }

  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (this.#pos + len > this.#buf.length) throw new WireError('Send a complete message: a field is cut short');
    const out = this.#buf.subarray(this.#pos, this.#pos + len);
    this.#pos += len;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === VARINT) this.varint();
    else if (wireType === LENGTH_DELIMITED) this.bytes();
    else if (wireType === FIXED64) this.#advance(8);
    else if (wireType === FIXED32) this.#advance(4);
    else throw new WireError(`Send a valid message: unsupported wire type "${wireType}"`);
  }

  #advance(n: number): void {
    if (this.#pos + n > this.#buf.length) throw new WireError('Send a complete message: a field is cut short');
    this.#pos += n;
  }

  /** Each field of the message in order: its number and wire type. */
  *fields(): Generator<{ field: number; wireType: number }> {
    while (!this.done) {
      const key = Number(this.varint());
      yield { field: key >>> 3, wireType: key & 7 };
    }
  }
}

function expectWireType(got: number, want: number, name: string): void {
  if (got !== want) throw new WireError(`Send a valid message: field "${name}" has wire type ${got}, expected ${want}`);
}

/** Encodes a {@link CertifyRequest}. */
export function encodeCertifyRequest(msg: CertifyRequest): Uint8Array {
  const w = new Writer();
  // proto3 omits fields that hold their default value.
  if (msg.identity !== '') w.bytes(1, Buffer.from(msg.identity, 'utf8'));
  if (msg.token.length > 0) w.bytes(2, msg.token);
  if (msg.certificateSigningRequest.length > 0) w.bytes(3, msg.certificateSigningRequest);
  return w.finish();
}

/** Decodes a {@link CertifyRequest}; throws {@link WireError} on malformed input. */
export function decodeCertifyRequest(buf: Uint8Array): CertifyRequest {
  const r = new Reader(buf);
  let identity = '';
  let token: Uint8Array = new Uint8Array(0);
  let csr: Uint8Array = new Uint8Array(0);
  for (const { field, wireType } of r.fields()) {
    if (field === 1) {
      expectWireType(wireType, LENGTH_DELIMITED, 'identity');
      identity = Buffer.from(r.bytes()).toString('utf8');
    } else if (field === 2) {
      expectWireType(wireType, LENGTH_DELIMITED, 'token');
      token = r.bytes();
    } else if (field === 3) {
      expectWireType(wireType, LENGTH_DELIMITED, 'certificate_signing_request');
      csr = r.bytes();
    } else {
      r.skip(wireType);
    }
  }
  return { identity, token, certificateSigningRequest: csr };
}

function encodeTimestamp(at: Date): Uint8Array {
  const w = new Writer();
  const ms = at.getTime();
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms - seconds * 1000) * 1_000_000;
  if (seconds !== 0) {
    w.tag(1, VARINT);
    w.varint(BigInt(seconds));
  }
  if (nanos !== 0) {
    w.tag(2, VARINT);
    w.varint(BigInt(nanos));
  }
  return w.finish();
}

function decodeTimestamp(buf: Uint8Array): Date {
  const r = new Reader(buf);
  let seconds = 0n;
  let nanos = 0n;
  for (const { field, wireType } of r.fields()) {
    if (field === 1) {
      expectWireType(wireType, VARINT, 'seconds');
      seconds = BigInt.asIntN(64, r.varint());
    } else if (field === 2) {
      expectWireType(wireType, VARINT, 'nanos');
      nanos = BigInt.asIntN(32, r.varint());
    } else {
      r.skip(wireType);
    }
  }
  return new Date(Number(seconds) * 1000 + Math.floor(Number(nanos) / 1_000_000));
}

/** Encodes a {@link CertifyResponse}. */
export function encodeCertifyResponse(msg: CertifyResponse): Uint8Array {
  const w = new Writer();
  if (msg.leafCertificate.length > 0) w.bytes(1, msg.leafCertificate);
  for (const der of msg.intermediateCertificates) w.bytes(2, der);
  w.bytes(3, encodeTimestamp(msg.validUntil));
  return w.finish();
}

/** Decodes a {@link CertifyResponse}; throws {@link WireError} on malformed input. */
export function decodeCertifyResponse(buf: Uint8Array): CertifyResponse {
  const r = new Reader(buf);
  let leaf: Uint8Array = new Uint8Array(0);
  const intermediates: Uint8Array[] = [];
  let validUntil = new Date(0);
  for (const { field, wireType } of r.fields()) {
    if (field === 1) {
      expectWireType(wireType, LENGTH_DELIMITED, 'leaf_certificate');
      leaf = r.bytes();
    } else if (field === 2) {
      expectWireType(wireType, LENGTH_DELIMITED, 'intermediate_certificates');
      intermediates.push(r.bytes());
    } else if (field === 3) {
      expectWireType(wireType, LENGTH_DELIMITED, 'valid_until');
      validUntil = decodeTimestamp(r.bytes());
    } else {
      r.skip(wireType);
    }
  }
  return { leafCertificate: leaf, intermediateCertificates: intermediates, validUntil };
}
