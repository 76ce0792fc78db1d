/**
 * Protocol Buffers encoding of the destination messages (see destination.proto).
 *
 * Hand-written, as src/identity does for Certify: a handful of small messages
 * beat a code generator in the build or a runtime .proto parser. Decoding follows
 * proto3's rules: unknown fields are skipped, the last value of a scalar wins,
 * absent fields take their defaults, and an unknown enum value reads as UNKNOWN.
 */
import { WeftError } from '../errors/index.ts';

/** How a proxy should treat traffic to an endpoint (`ProtocolHint.Protocol`). */
export const Protocol = {
  /** Detect on the connection. */
  unknown: 'unknown',
  /** Opaque TCP: no detection. */
  opaque: 'opaque',
  /** HTTP/1 by the Service's appProtocol. */
  http1: 'http1',
  /** HTTP/2 by the Service's appProtocol. */
  http2: 'http2',
} as const;

/** One of the {@link Protocol} values. */
export type Protocol = (typeof Protocol)[keyof typeof Protocol];

const PROTOCOL_NUMBERS: readonly Protocol[] = [Protocol.unknown, Protocol.opaque, Protocol.http1, Protocol.http2];

/** `GetDestination`: the address asked about, and who asks. */
export interface GetDestination {
  /** Field 1. */
  readonly authority: string;
  /** Field 2: JSON `{"ns": …, "pod": …}`, or empty. */
  readonly contextToken: string;
}

/** One place to send traffic for an address (`WeightedAddr`). */
export interface Endpoint {
  readonly ip: string;
  readonly port: number;
  /** Relative weight (1 today). */
  readonly weight: number;
  /** The DNS-SAN identity the endpoint must present; undefined: not meshed (plain text). */
  readonly identity: string | undefined;
  readonly protocol: Protocol;
  /** The endpoint's proxy inbound port when meshed (default 4143); undefined when not meshed. */
  readonly inboundPort: number | undefined;
  /** Metric labels: `namespace`, `service`, `pod`, `serviceaccount` where known. */
  readonly labels: Readonly<Record<string, string>>;
}

/** An address without the rest: what a removal names. */
export interface TcpAddress {
  readonly ip: string;
  readonly port: number;
}

/** `Update`: one change to the set a stream describes. */
export type Update =
  | { readonly kind: 'add'; readonly endpoints: readonly Endpoint[] }
  | { readonly kind: 'remove'; readonly addresses: readonly TcpAddress[] }
  | { readonly kind: 'no_endpoints'; readonly exists: boolean };

/** The bytes on the wire could not be read as the message they claim to be. */
export class DestinationWireError extends WeftError {
  constructor(message: string) {
    super('WEFT_ERR_DESTINATION_WIRE', message);
    this.name = 'DestinationWireError';
  }
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

class Writer {
  readonly #parts: Uint8Array[] = [];

  varint(value: number): void {
    // Every varint here is a field key, a length, a port or an enum: non-negative and < 2^32.
    let v = value >>> 0;
    const bytes: number[] = [];
    while (v >= 0x80) {
      bytes.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    bytes.push(v);
    this.#parts.push(Uint8Array.from(bytes));
  }

  uint(field: number, value: number): void {
    // proto3 omits fields that hold their default value.
    if (value === 0) return;
    this.varint((field << 3) | VARINT);
    this.varint(value);
  }

  bytes(field: number, value: Uint8Array): void {
    this.varint((field << 3) | LENGTH_DELIMITED);
    this.varint(value.length);
    this.#parts.push(value);
  }

  string(field: number, value: string): void {
    if (value !== '') this.bytes(field, Buffer.from(value, 'utf8'));
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

  varint(): number {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.#buf[this.#pos++];
      if (b === undefined) throw new DestinationWireError('Send a complete message: a varint is cut short');
      result |= BigInt(b & 0x7f) << shift;
      // uint32 fields keep the low 32 bits of a longer varint, as generated decoders do.
      if ((b & 0x80) === 0) return Number(BigInt.asUintN(32, result));
    }
    throw new DestinationWireError('Send a valid message: a varint is longer than ten bytes');
  }

  bytes(): Uint8Array {
    const len = this.varint();
    if (this.#pos + len > this.#buf.length) throw new DestinationWireError('Send a complete message: a field is cut short');
    const out = this.#buf.subarray(this.#pos, this.#pos + len);
    this.#pos += len;
    return out;
  }

  string(): string {
    return Buffer.from(this.bytes()).toString('utf8');
  }

  skip(wireType: number): void {
    if (wireType === VARINT) this.varint();
    else if (wireType === LENGTH_DELIMITED) this.bytes();
    else if (wireType === FIXED64) this.#advance(8);
    else if (wireType === FIXED32) this.#advance(4);
    else throw new DestinationWireError(`Send a valid message: unsupported wire type "${wireType}"`);
  }

  #advance(n: number): void {
    if (this.#pos + n > this.#buf.length) throw new DestinationWireError('Send a complete message: a field is cut short');
    this.#pos += n;
  }

  /** Each field of the message in order: its number and wire type. */
  *fields(): Generator<{ field: number; wireType: number }> {
    while (this.#pos < this.#buf.length) {
      const key = this.varint();
      yield { field: key >>> 3, wireType: key & 7 };
    }
  }
}

function expect(got: number, want: number, name: string): void {
  if (got !== want) throw new DestinationWireError(`Send a valid message: field "${name}" has wire type ${got}, expected ${want}`);
}

/** Encodes a {@link GetDestination}. */
export function encodeGetDestination(msg: GetDestination): Uint8Array {
  const w = new Writer();
  w.string(1, msg.authority);
  w.string(2, msg.contextToken);
  return w.finish();
}

/** Decodes a {@link GetDestination}; throws {@link DestinationWireError} on malformed input. */
export function decodeGetDestination(buf: Uint8Array): GetDestination {
  const r = new Reader(buf);
  let authority = '';
  let contextToken = '';
  for (const { field, wireType } of r.fields()) {
    if (field === 1) {
      expect(wireType, LENGTH_DELIMITED, 'authority');
      authority = r.string();
    } else if (field === 2) {
      expect(wireType, LENGTH_DELIMITED, 'context_token');
      contextToken = r.string();
    } else {
      r.skip(wireType);
    }
  }
  return { authority, contextToken };
}

function encodeTcpAddress(a: TcpAddress): Uint8Array {
  const w = new Writer();
  w.string(1, a.ip);
  w.uint(2, a.port);
  return w.finish();
}

function decodeTcpAddress(buf: Uint8Array): TcpAddress {
  const r = new Reader(buf);
  let ip = '';
  let port = 0;
  for (const { field, wireType } of r.fields()) {
    if (field === 1) {
      expect(wireType, LENGTH_DELIMITED, 'ip');
      ip = r.string();
    } else if (field === 2) {
      expect(wireType, VARINT, 'port');
      port = r.varint();
    } else {
      r.skip(wireType);
    }
  }
  return { ip, port };
}

function encodeWeightedAddr(e: Endpoint): Uint8Array {
  const w = new Writer();
  w.bytes(1, encodeTcpAddress(e));
  w.uint(2, e.weight);
  w.string(3, e.identity ?? '');
  const hint = new Writer();
  hint.uint(1, PROTOCOL_NUMBERS.indexOf(e.protocol));
  hint.uint(2, e.inboundPort ?? 0);
  w.bytes(4, hint.finish());
  // Sorted, so the same set always encodes to the same bytes.
  for (const key of Object.keys(e.labels).sort()) {
    const entry = new Writer();
    entry.string(1, key);
    entry.string(2, e.labels[key] ?? '');
    w.bytes(5, entry.finish());
  }
  return w.finish();
}

function decodeWeightedAddr(buf: Uint8Array): Endpoint {
  const r = new Reader(buf);
  let addr: TcpAddress = { ip: '', port: 0 };
  let weight = 0;
  let identity = '';
  let protocol: Protocol = Protocol.unknown;
  let inboundPort = 0;
  const labels: Record<string, string> = {};
  for (const { field, wireType } of r.fields()) {
    if (field === 1) {
      expect(wireType, LENGTH_DELIMITED, 'addr');
      addr = decodeTcpAddress(r.bytes());
    } else if (field === 2) {
      expect(wireType, VARINT, 'weight');
      weight = r.varint();
    } else if (field === 3) {
      expect(wireType, LENGTH_DELIMITED, 'tls_identity');
      identity = r.string();
    } else if (field === 4) {
      expect(wireType, LENGTH_DELIMITED, 'protocol_hint');
      const h = new Reader(r.bytes());
      for (const f of h.fields()) {
        if (f.field === 1) {
          expect(f.wireType, VARINT, 'protocol');
          protocol = PROTOCOL_NUMBERS[h.varint()] ?? Protocol.unknown;
        } else if (f.field === 2) {
          expect(f.wireType, VARINT, 'inbound_port');
          inboundPort = h.varint();
        } else {
          h.skip(f.wireType);
        }
      }
    } else if (field === 5) {
      expect(wireType, LENGTH_DELIMITED, 'metric_labels');
      const m = new Reader(r.bytes());
      let key = '';
      let value = '';
      for (const f of m.fields()) {
        if (f.field === 1) {
          expect(f.wireType, LENGTH_DELIMITED, 'key');
          key = m.string();
        } else if (f.field === 2) {
          expect(f.wireType, LENGTH_DELIMITED, 'value');
          value = m.string();
        } else {
          m.skip(f.wireType);
        }
      }
      labels[key] = value;
    } else {
      r.skip(wireType);
    }
  }
  return {
    ip: addr.ip,
    port: addr.port,
    weight,
    identity: identity === '' ? undefined : identity,
    protocol,
    inboundPort: inboundPort === 0 ? undefined : inboundPort,
    labels,
  };
}

/** Encodes an {@link Update}. */
export function encodeUpdate(update: Update): Uint8Array {
  const w = new Writer();
  const inner = new Writer();
  if (update.kind === 'add') {
    for (const e of update.endpoints) inner.bytes(1, encodeWeightedAddr(e));
    w.bytes(1, inner.finish());
  } else if (update.kind === 'remove') {
    for (const a of update.addresses) inner.bytes(1, encodeTcpAddress(a));
    w.bytes(2, inner.finish());
  } else {
    inner.uint(1, update.exists ? 1 : 0);
    w.bytes(3, inner.finish());
  }
  return w.finish();
}

/** Decodes an {@link Update}; throws {@link DestinationWireError} on malformed input or when no variant is set. */
export function decodeUpdate(buf: Uint8Array): Update {
  const r = new Reader(buf);
  let update: Update | undefined;
  for (const { field, wireType } of r.fields()) {
    if (field === 1) {
      expect(wireType, LENGTH_DELIMITED, 'add');
      const inner = new Reader(r.bytes());
      const endpoints: Endpoint[] = [];
      for (const f of inner.fields()) {
        if (f.field === 1) {
          expect(f.wireType, LENGTH_DELIMITED, 'addrs');
          endpoints.push(decodeWeightedAddr(inner.bytes()));
        } else {
          inner.skip(f.wireType);
        }
      }
      update = { kind: 'add', endpoints };
    } else if (field === 2) {
      expect(wireType, LENGTH_DELIMITED, 'remove');
      const inner = new Reader(r.bytes());
      const addresses: TcpAddress[] = [];
      for (const f of inner.fields()) {
        if (f.field === 1) {
          expect(f.wireType, LENGTH_DELIMITED, 'addrs');
          addresses.push(decodeTcpAddress(inner.bytes()));
        } else {
          inner.skip(f.wireType);
        }
      }
      update = { kind: 'remove', addresses };
    } else if (field === 3) {
      expect(wireType, LENGTH_DELIMITED, 'no_endpoints');
      const inner = new Reader(r.bytes());
      let exists = false;
      for (const f of inner.fields()) {
        if (f.field === 1) {
          expect(f.wireType, VARINT, 'exists');
          exists = inner.varint() !== 0;
        } else {
          inner.skip(f.wireType);
        }
      }
      update = { kind: 'no_endpoints', exists };
    } else {
      r.skip(wireType);
    }
  }
  if (update === undefined) throw new DestinationWireError('Send an update with one of add, remove or no_endpoints set');
  return update;
}
