/**
 * The server's gRPC method definition of `io.linkerd.proxy.identity.Identity/Certify`
 * for @grpc/grpc-js, with the hand-written codec of wire.ts. The client does not
 * come here: it calls over node:http2 (src/grpc-client) with wire.ts alone.
 */
import type { MethodDefinition } from '@grpc/grpc-js';
import { CERTIFY_PATH, decodeCertifyResponse, encodeCertifyResponse, type CertifyResponse } from './wire.ts';

/**
 * The request stays raw bytes so the handler, not the framework, decides what a
 * malformed message gets (INVALID_ARGUMENT with a reason).
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
