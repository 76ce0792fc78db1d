/**
 * The server's gRPC method definition of `weft.destination.v1.Destination/Get`
 * for @grpc/grpc-js, with the hand-written codec of wire.ts. The client does not
 * come here: it calls over node:http2 (src/grpc-client) with wire.ts alone.
 */
import type { MethodDefinition } from '@grpc/grpc-js';
import { decodeUpdate, encodeUpdate, GET_PATH, type Update } from './wire.ts';

/**
 * The request stays raw bytes so the handler, not the framework, decides what a
 * malformed message gets (INVALID_ARGUMENT with a reason).
 */
export const getServerMethod: MethodDefinition<Buffer, Update> = {
  path: GET_PATH,
  requestStream: false,
  responseStream: true,
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (m: Update) => Buffer.from(encodeUpdate(m)),
  responseDeserialize: (b: Buffer) => decodeUpdate(b),
};
