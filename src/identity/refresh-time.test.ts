import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_REFRESH_POLICY, refreshDelay, retryDelay } from './refresh-time.ts';

const H = 3_600_000;
const now = Date.parse('2030-01-01T00:00:00Z');

test('refreshDelay() renews at 70% of the remaining lifetime without jitter', () => {
  assert.equal(refreshDelay(now + 24 * H, now, 0), 60_480_000); // 16.8 h
});

test('refreshDelay() clamps to 10 seconds and to 24 hours', () => {
  const cases: Array<[string, number, number]> = [
    ['a 5-second certificate', now + 5_000, 10_000],
    ['an expired certificate', now - 1, 10_000],
    ['a year-long certificate', now + 365 * 24 * H, 24 * H],
  ];
  for (const [name, validUntil, want] of cases) assert.equal(refreshDelay(validUntil, now, 0), want, name);
});

test('refreshDelay() jitter only shortens the wait, by at most 10%', () => {
  const plain = refreshDelay(now + 24 * H, now, 0);
  const jittered = refreshDelay(now + 24 * H, now, 0.999);
  assert.ok(jittered < plain && jittered >= plain * 0.9);
});

test('retryDelay() doubles from 1 second and stops at 60 seconds', () => {
  assert.deepEqual([1, 2, 3, 7, 8, 50].map((a) => retryDelay(a, 1)), [1_000, 2_000, 4_000, 60_000, 60_000, 60_000]);
  assert.equal(retryDelay(1, 0), 500);
  assert.equal(DEFAULT_REFRESH_POLICY.fraction, 0.7);
});
