import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:http2';
import { decodeGrpcMessage, GrpcCode, grpcCodeName, grpcCodeOfHttpStatus, grpcCodeOfReset, GrpcStatusError, statusOfTrailers } from './status.ts';

test('statusOfTrailers() reads grpc-status and the percent-encoded grpc-message', () => {
  assert.deepEqual(statusOfTrailers({ 'grpc-status': '0' }), { code: 0, details: '' });
  assert.deepEqual(statusOfTrailers({ 'grpc-status': '7', 'grpc-message': 'identity %22w%C3%A9b%22 denied: 100%25' }), { code: 7, details: 'identity "wéb" denied: 100%' });
  assert.equal(statusOfTrailers({ ':status': '200' }), undefined);
  assert.deepEqual(statusOfTrailers({ 'grpc-status': 'x' }), { code: GrpcCode.UNKNOWN, details: 'malformed grpc-status "x"' });
});

test('decodeGrpcMessage() keeps a malformed escape as sent', () => {
  assert.equal(decodeGrpcMessage('50%'), '50%');
});

test('a non-200 HTTP status and an HTTP/2 reset map to the gRPC codes the spec gives them', () => {
  const http: Array<[number, number]> = [[400, 13], [401, 16], [403, 7], [404, 12], [429, 14], [502, 14], [503, 14], [504, 14], [500, 2]];
  for (const [h, g] of http) assert.equal(grpcCodeOfHttpStatus(h), g, `HTTP ${h}`);
  assert.equal(grpcCodeOfReset(constants.NGHTTP2_REFUSED_STREAM), GrpcCode.UNAVAILABLE);
  assert.equal(grpcCodeOfReset(constants.NGHTTP2_CANCEL), GrpcCode.CANCELLED);
  assert.equal(grpcCodeOfReset(constants.NGHTTP2_ENHANCE_YOUR_CALM), GrpcCode.RESOURCE_EXHAUSTED);
  assert.equal(grpcCodeOfReset(constants.NGHTTP2_PROTOCOL_ERROR), GrpcCode.INTERNAL);
});

test('GrpcStatusError names the code and keeps the details', () => {
  const err = new GrpcStatusError({ code: 14, details: 'connect ECONNREFUSED' });
  assert.equal(err.code, 'WEFT_ERR_GRPC_STATUS');
  assert.equal(err.grpcCode, 14);
  assert.equal(err.message, 'gRPC call failed with UNAVAILABLE: connect ECONNREFUSED');
  assert.equal(grpcCodeName(99), '99');
});
