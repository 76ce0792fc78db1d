import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { httpStatusForGrpc } from './web-server.ts';

test('httpStatusForGrpc() maps a failed backend call to the HTTP status web answers', () => {
  const cases: Array<[number | undefined, number]> = [
    [status.UNKNOWN, 500], // the doughnut
    [status.NOT_FOUND, 404],
    [status.INVALID_ARGUMENT, 400],
    [status.UNAVAILABLE, 503],
    [status.DEADLINE_EXCEEDED, 504],
    [status.INTERNAL, 500],
    [undefined, 500], // not a gRPC error at all
  ];
  for (const [code, http] of cases) assert.equal(httpStatusForGrpc(code), http, String(code));
});
