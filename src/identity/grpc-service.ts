/**
 * The gRPC method definition of `io.linkerd.proxy.identity.Identity/Certify`,
 * shared by the server and the client, with the hand-written codec of wire.ts.
 */
import type { MethodDefinition } from '@grpc/grpc-js';
import { decodeCertifyResponse, encodeCertifyRequest, encodeCertifyResponse, type CertifyRequest, type CertifyResponse } from './wire.ts';

/** The full method path, as on the wire. */
export const CERTIFY_PATH = '/io.linkerd.proxy.identity.Identity/Certify';

/**
 * Server side: the request stays raw bytes so the handler, not the framework,
 * decides what a malformed message gets (INVALID_ARGUMENT with a reason).
 */
export const certifyServerMethod: MethodDefinition<Buffer, CertifyResponse> = {
  path: CERTIFY_PATH,
  requestStream: false,
  responseStream: false,
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (m: CertifyResponse) => Buffer.from(encodeCertifyResponse(m)),
  responseDeserialize: (b: Buffer) => decodeCertifyResponse(b),
};

/** Client side codec of Certify. */
export const certifyClientCodec = {
  serialize: (m: CertifyRequest): Buffer => Buffer.from(encodeCertifyRequest(m)),
  deserialize: (b: Buffer): CertifyResponse => decodeCertifyResponse(b),
};
