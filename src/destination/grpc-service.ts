/**
 * The gRPC method definition of `weft.destination.v1.Destination/Get`, shared by
 * the server and the client, with the hand-written codec of wire.ts.
 */
import type { MethodDefinition } from '@grpc/grpc-js';
import { decodeUpdate, encodeGetDestination, encodeUpdate, type GetDestination, type Update } from './wire.ts';

/** The full method path, as on the wire. */
export const GET_PATH = '/weft.destination.v1.Destination/Get';

/**
 * Server side: the request stays raw bytes so the handler, not the framework,
 * decides what a malformed message gets (INVALID_ARGUMENT with a reason).
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

/** Client side codec of Get. */
export const getClientCodec = {
  serialize: (m: GetDestination): Buffer => Buffer.from(encodeGetDestination(m)),
  deserialize: (b: Buffer): Update => decodeUpdate(b),
};
