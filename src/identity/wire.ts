/**
 * Protocol Buffers encoding of the three identity messages (see identity.proto),
 * and the Certify method's path. The path lives here, not in grpc-service.ts, so
 * the sidecar's client (rpc-client.ts) never loads the server's @grpc/grpc-js side.
 *
 * Hand-written over src/protobuf rather than generated: the API is three messages
 * of bytes, a string and a Timestamp, so a few lines here beat a code generator in
 * the build or a runtime .proto parser (protobufjs) on the Certify hot path.
 * Decoding follows proto3: unknown fields are skipped, the last value of a repeated
 * scalar field wins, and absent fields take their defaults.
 */
import { WeftError } from '../errors/index.ts';
import { ProtoReader, ProtoWriter, WireType } from '../protobuf/index.ts';

const { varint: VARINT, lengthDelimited: LENGTH_DELIMITED } = WireType;
const fail = (message: string): WireError => new WireError(message);

/** The full path of `io.linkerd.proxy.identity.Identity/Certify`, as on the wire. */
export const CERTIFY_PATH = '/io.linkerd.proxy.identity.Identity/Certify';

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

/** Encodes a {@link CertifyRequest}. */
export function encodeCertifyRequest(msg: CertifyRequest): Uint8Array {
  const w = new ProtoWriter();
  // proto3 omits fields that hold their default value.
  if (msg.identity !== '') w.bytes(1, Buffer.from(msg.identity, 'utf8'));
  if (msg.token.length > 0) w.bytes(2, msg.token);
  if (msg.certificateSigningRequest.length > 0) w.bytes(3, msg.certificateSigningRequest);
  return w.finish();
}

/** Decodes a {@link CertifyRequest}; throws {@link WireError} on malformed input. */
export function decodeCertifyRequest(buf: Uint8Array): CertifyRequest {
  const r = new ProtoReader(buf, fail);
  let identity = '';
  let token: Uint8Array = new Uint8Array(0);
  let csr: Uint8Array = new Uint8Array(0);
  for (const { field, wireType } of r.fields()) {
    if (field === 1) {
      r.expect(wireType, LENGTH_DELIMITED, 'identity');
      identity = Buffer.from(r.bytes()).toString('utf8');
    } else if (field === 2) {
      r.expect(wireType, LENGTH_DELIMITED, 'token');
      token = r.bytes();
    } else if (field === 3) {
      r.expect(wireType, LENGTH_DELIMITED, 'certificate_signing_request');
      csr = r.bytes();
    } else {
      r.skip(wireType);
    }
  }
  return { identity, token, certificateSigningRequest: csr };
}

function encodeTimestamp(at: Date): Uint8Array {
  const w = new ProtoWriter();
  const ms = at.getTime();
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms - seconds * 1000) * 1_000_000;
  if (seconds !== 0) {
    w.tag(1, VARINT);
    w.varint(seconds);
  }
  if (nanos !== 0) {
    w.tag(2, VARINT);
    w.varint(nanos);
  }
  return w.finish();
}

function decodeTimestamp(buf: Uint8Array): Date {
  const r = new ProtoReader(buf, fail);
  let seconds = 0n;
  let nanos = 0n;
  for (const { field, wireType } of r.fields()) {
    if (field === 1) {
      r.expect(wireType, VARINT, 'seconds');
      seconds = BigInt.asIntN(64, r.varint());
    } else if (field === 2) {
      r.expect(wireType, VARINT, 'nanos');
      nanos = BigInt.asIntN(32, r.varint());
    } else {
      r.skip(wireType);
    }
  }
  return new Date(Number(seconds) * 1000 + Math.floor(Number(nanos) / 1_000_000));
}

/** Encodes a {@link CertifyResponse}. */
export function encodeCertifyResponse(msg: CertifyResponse): Uint8Array {
  const w = new ProtoWriter();
  if (msg.leafCertificate.length > 0) w.bytes(1, msg.leafCertificate);
  for (const der of msg.intermediateCertificates) w.bytes(2, der);
  w.bytes(3, encodeTimestamp(msg.validUntil));
  return w.finish();
}

/** Decodes a {@link CertifyResponse}; throws {@link WireError} on malformed input. */
export function decodeCertifyResponse(buf: Uint8Array): CertifyResponse {
  const r = new ProtoReader(buf, fail);
  let leaf: Uint8Array = new Uint8Array(0);
  const intermediates: Uint8Array[] = [];
  let validUntil = new Date(0);
  for (const { field, wireType } of r.fields()) {
    if (field === 1) {
      r.expect(wireType, LENGTH_DELIMITED, 'leaf_certificate');
      leaf = r.bytes();
    } else if (field === 2) {
      r.expect(wireType, LENGTH_DELIMITED, 'intermediate_certificates');
      intermediates.push(r.bytes());
    } else if (field === 3) {
      r.expect(wireType, LENGTH_DELIMITED, 'valid_until');
      validUntil = decodeTimestamp(r.bytes());
    } else {
      r.skip(wireType);
    }
  }
  return { leafCertificate: leaf, intermediateCertificates: intermediates, validUntil };
}
