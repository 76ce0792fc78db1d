/**
 * weft's gRPC client over node:http2: unary and server-streaming calls with one
 * request message, over TLS (mutual when given a certificate), for the sidecar's
 * control-plane clients (identity's Certify, destination's Get). Messages are
 * bytes: callers bring their own protobuf encoding. Imports nothing of ours but
 * errors, and no gRPC library, so the sidecar loads none.
 */
export {
  GrpcChannel, type GrpcCall, type GrpcCallHandlers, type GrpcChannelOptions, type GrpcRequest,
} from './channel.ts';
export { frameMessage, MessageReader, type FrameProblem } from './message-frames.ts';
export {
  decodeGrpcMessage, GrpcCode, grpcCodeName, grpcCodeOfHttpStatus, grpcCodeOfReset, GrpcStatusError, statusOfTrailers, type GrpcStatus,
} from './status.ts';
