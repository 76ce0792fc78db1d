/**
 * The Protocol Buffers wire format for weft's hand-encoded gRPC messages.
 * Imports nothing of ours.
 */
export { ProtoReader, ProtoWriter, WireType } from './wire.ts';
