import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Script } from 'node:vm';
import { status } from '@grpc/grpc-js';
import { WEB_PAGE } from './web-page.ts';
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

test('the page\'s inline script compiles, and the page loads nothing from elsewhere', () => {
  const scripts = [...WEB_PAGE.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
  assert.equal(scripts.length, 1);
  assert.doesNotThrow(() => new Script(scripts[0] ?? ''));
  assert.doesNotMatch(WEB_PAGE, /https?:\/\/|src=|href=|@import|url\(/);
});
