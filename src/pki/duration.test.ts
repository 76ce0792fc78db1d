import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from './duration.ts';

test('parseDuration() reads Go durations as step and cert-manager write them', () => {
  const cases: Array<[string, number]> = [
    ['87600h', 87600 * 3_600_000],
    ['48h', 48 * 3_600_000],
    ['2160h0m0s', 2160 * 3_600_000],
    ['1h30m', 90 * 60_000],
    ['90s', 90_000],
    ['1.5h', 90 * 60_000],
    ['250ms', 250],
    ['-5m', -300_000],
    ['0', 0],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('parseDuration() refuses text that is not a duration, naming it', () => {
  for (const text of ['', '48', 'h', '10d', '1h 30m', 'abc']) {
    assert.throws(() => parseDuration(text), /cannot read/, text);
  }
});

test('formatDuration() prints what cert-manager prints', () => {
  assert.equal(formatDuration(48 * 3_600_000), '48h0m0s');
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(5_000), '5s');
});
