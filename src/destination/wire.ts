/**
 * Protocol Buffers encoding of the destination messages (see destination.proto),
 * and the Get method's path. The path lives here, not in grpc-service.ts, so the
 * sidecar's client (watch-client.ts) never loads the server's @grpc/grpc-js side.
 *
 * Hand-written, as src/identity does for Certify: a handful of small messages
 * beat a code generator in the build or a runtime .proto parser. Decoding follows
 * proto3's rules: unknown fields are skipped, the last value of a scalar wins,
 * absent fields take their defaults, and an unknown enum value reads as UNKNOWN.
 */
import { WeftError } from '../errors/index.ts';
import { ProtoReader, ProtoWriter, WireType } from '../protobuf/index.ts';

const { varint: VARINT, lengthDelimited: LENGTH_DELIMITED } = WireType;
const fail = (message: string): DestinationWireError => new DestinationWireError(message);
/** A reader whose failures are DestinationWireErrors. */
const reader = (buf: Uint8Array): ProtoReader => new ProtoReader(buf, fail);

/** The full path of `weft.destination.v1.Destination/Get`, as on the wire. */
export const GET_PATH = '/weft.destination.v1.Destination/Get';

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


/** Encodes a {@link GetDestination}. */
export function encodeGetDestination(msg: GetDestination): Uint8Array {
  const w = new ProtoWriter();
  w.string(1, msg.authority);
  w.string(2, msg.contextToken);
  return w.finish();
}

/** Decodes a {@link GetDestination}; throws {@link DestinationWireError} on malformed input. */
export function decodeGetDestination(buf: Uint8Array): GetDestination {
  const r = reader(buf);
  let authority = '';
  let contextToken = '';
  for (const { field, wireType } of r.fields()) {
    if (field === 1) {
      r.expect(wireType, LENGTH_DELIMITED, 'authority');
      authority = r.string();
    } else if (field === 2) {
      r.expect(wireType, LENGTH_DELIMITED, 'context_token');
      contextToken = r.string();
    } else {
      r.skip(wireType);
    }
  }
  return { authority, contextToken };
}

function encodeTcpAddress(a: TcpAddress): Uint8Array {
  const w = new ProtoWriter();
  w.string(1, a.ip);
  w.uint(2, a.port);
  return w.finish();
}

function decodeTcpAddress(buf: Uint8Array): TcpAddress {
  const r = reader(buf);
  let ip = '';
  let port = 0;
  for (const { field, wireType } of r.fields()) {
    if (field === 1) {
      r.expect(wireType, LENGTH_DELIMITED, 'ip');
      ip = r.string();
    } else if (field === 2) {
      r.expect(wireType, VARINT, 'port');
      port = r.uint32();
    } else {
      r.skip(wireType);
    }
  }
  return { ip, port };
}

function encodeWeightedAddr(e: Endpoint): Uint8Array {
  const w = new ProtoWriter();
  w.bytes(1, encodeTcpAddress(e));
  w.uint(2, e.weight);
  w.string(3, e.identity ?? '');
  const hint = new ProtoWriter();
  hint.uint(1, PROTOCOL_NUMBERS.indexOf(e.protocol));
  hint.uint(2, e.inboundPort ?? 0);
  w.bytes(4, hint.finish());
  // Sorted, so the same set always encodes to the same bytes.
  for (const key of Object.keys(e.labels).sort()) {
    const entry = new ProtoWriter();
    entry.string(1, key);
    entry.string(2, e.labels[key] ?? '');
    w.bytes(5, entry.finish());
  }
  return w.finish();
}

function decodeWeightedAddr(buf: Uint8Array): Endpoint {
  const r = reader(buf);
  let addr: TcpAddress = { ip: '', port: 0 };
  let weight = 0;
  let identity = '';
  let protocol: Protocol = Protocol.unknown;
  let inboundPort = 0;
  const labels: Record<string, string> = {};
  for (const { field, wireType } of r.fields()) {
    if (field === 1) {
      r.expect(wireType, LENGTH_DELIMITED, 'addr');
      addr = decodeTcpAddress(r.bytes());
    } else if (field === 2) {
      r.expect(wireType, VARINT, 'weight');
      weight = r.uint32();
    } else if (field === 3) {
      r.expect(wireType, LENGTH_DELIMITED, 'tls_identity');
      identity = r.string();
    } else if (field === 4) {
      r.expect(wireType, LENGTH_DELIMITED, 'protocol_hint');
      const h = reader(r.bytes());
      for (const f of h.fields()) {
        if (f.field === 1) {
          h.expect(f.wireType, VARINT, 'protocol');
          protocol = PROTOCOL_NUMBERS[h.uint32()] ?? Protocol.unknown;
        } else if (f.field === 2) {
          h.expect(f.wireType, VARINT, 'inbound_port');
          inboundPort = h.uint32();
        } else {
          h.skip(f.wireType);
        }
      }
    } else if (field === 5) {
      r.expect(wireType, LENGTH_DELIMITED, 'metric_labels');
      const m = reader(r.bytes());
      let key = '';
      let value = '';
      for (const f of m.fields()) {
        if (f.field === 1) {
          m.expect(f.wireType, LENGTH_DELIMITED, 'key');
          key = m.string();
        } else if (f.field === 2) {
          m.expect(f.wireType, LENGTH_DELIMITED, 'value');
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
  const w = new ProtoWriter();
  const inner = new ProtoWriter();
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
  const r = reader(buf);
  let update: Update | undefined;
  for (const { field, wireType } of r.fields()) {
    if (field === 1) {
      r.expect(wireType, LENGTH_DELIMITED, 'add');
      const inner = reader(r.bytes());
      const endpoints: Endpoint[] = [];
      for (const f of inner.fields()) {
        if (f.field === 1) {
          inner.expect(f.wireType, LENGTH_DELIMITED, 'addrs');
          endpoints.push(decodeWeightedAddr(inner.bytes()));
        } else {
          inner.skip(f.wireType);
        }
      }
      update = { kind: 'add', endpoints };
    } else if (field === 2) {
      r.expect(wireType, LENGTH_DELIMITED, 'remove');
      const inner = reader(r.bytes());
      const addresses: TcpAddress[] = [];
      for (const f of inner.fields()) {
        if (f.field === 1) {
          inner.expect(f.wireType, LENGTH_DELIMITED, 'addrs');
          addresses.push(decodeTcpAddress(inner.bytes()));
        } else {
          inner.skip(f.wireType);
        }
      }
      update = { kind: 'remove', addresses };
    } else if (field === 3) {
      r.expect(wireType, LENGTH_DELIMITED, 'no_endpoints');
      const inner = reader(r.bytes());
      let exists = false;
      for (const f of inner.fields()) {
        if (f.field === 1) {
          inner.expect(f.wireType, VARINT, 'exists');
          exists = inner.uint32() !== 0;
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
