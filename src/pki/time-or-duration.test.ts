import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTimeOrDuration } from './time-or-duration.ts';

const NOW = new Date('2026-11-28T00:00:00Z');

test('parseTimeOrDuration() reads durations from now and RFC 3339 times, as step flags do', () => {
  const cases: Array<[string, string]> = [
    // Ten 365-day years; 2028, 2032 and 2036 are leap years.
    ['87600h', '2036-11-25T00:00:00.000Z'],
    ['30m', '2026-11-28T00:30:00.000Z'],
    ['-5m', '2026-11-27T23:55:00.000Z'],
    ['0', '2026-11-28T00:00:00.000Z'],
    ['2030-01-01T00:00:00Z', '2030-01-01T00:00:00.000Z'],
    ['2030-01-01T02:00:00+02:00', '2030-01-01T00:00:00.000Z'],
    ['2030-01-01T00:00:00.250Z', '2030-01-01T00:00:00.250Z'],
  ];
  for (const [text, iso] of cases) assert.equal(parseTimeOrDuration(text, { now: NOW }).toISOString(), iso, text);
});

test('parseTimeOrDuration() refuses other text, naming the flag and the text', () => {
  for (const text of ['', 'tomorrow', '10d', '2030-01-01', '2030-01-01T00:00:00', '2030-13-45T99:00:00Z']) {
    assert.throws(() => parseTimeOrDuration(text, { now: NOW, flag: '--not-after' }), /for --not-after: cannot read/, text);
  }
});
