import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoff } from './backoff.ts';

const H = 3_600_000;

test('backoff() doubles from 1h and stops at 32h', () => {
  const cases: Array<[number, number]> = [[0, 0], [1, H], [2, 2 * H], [3, 4 * H], [6, 32 * H], [7, 32 * H], [500, 32 * H]];
  for (const [failures, want] of cases) assert.equal(backoff(failures), want, `${failures} failures`);
});

test('backoff() takes its initial delay and cap from options', () => {
  assert.equal(backoff(3, { initial: 1000, max: 3000 }), 3000);
  assert.equal(backoff(2, { initial: 1000 }), 2000);
});
