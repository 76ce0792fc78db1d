import assert from 'node:assert/strict';
import { test } from 'node:test';
import { histogramQuantile } from './histogram-quantile.ts';

const b = (pairs: Array<[number, number]>): Array<{ le: number; count: number }> => pairs.map(([le, count]) => ({ le, count }));

test('histogramQuantile() interpolates inside the bucket the rank falls in, as Prometheus does', () => {
  // 100 observations: 50 in (0,10], 40 in (10,20], 10 in (20,50].
  const h = b([[10, 50], [20, 90], [50, 100], [Infinity, 100]]);
  const cases: Array<[number, number]> = [[0.5, 10], [0.25, 5], [0.75, 10 + 10 * (25 / 40)], [0.95, 20 + 30 * (5 / 10)], [0.99, 20 + 30 * (9 / 10)]];
  for (const [q, want] of cases) assert.ok(Math.abs(histogramQuantile(q, h)! - want) < 1e-9, `q=${q}: ${histogramQuantile(q, h)} ≠ ${want}`);
});

test('histogramQuantile() answers the highest finite bound when the rank falls in +Inf', () => {
  assert.equal(histogramQuantile(0.99, b([[10, 1], [100, 2], [Infinity, 10]])), 100);
});

test('histogramQuantile() is undefined without observations or without a +Inf bucket', () => {
  assert.equal(histogramQuantile(0.5, b([[10, 0], [Infinity, 0]])), undefined);
  assert.equal(histogramQuantile(0.5, b([[10, 5]])), undefined);
  assert.equal(histogramQuantile(0.5, []), undefined);
});

test('histogramQuantile() sorts buckets and clamps counts that go down', () => {
  const h = b([[Infinity, 10], [20, 8], [10, 9]]);
  // Monotonic after clamping: 10→9, 20→9, +Inf→10; rank 5 falls in the first bucket.
  assert.ok(Math.abs(histogramQuantile(0.5, h)! - 10 * (5 / 9)) < 1e-9);
});

test('histogramQuantile() returns ±Infinity outside 0–1, as Prometheus does', () => {
  const h = b([[10, 1], [Infinity, 1]]);
  assert.equal(histogramQuantile(-0.1, h), -Infinity);
  assert.equal(histogramQuantile(1.1, h), Infinity);
});
