import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inPortRanges, parsePortRanges } from './port-ranges.ts';

test('parsePortRanges() reads ports and ranges, skipping bad entries it reports', () => {
  assert.deepEqual(parsePortRanges('25, 587,3306,4444-4450'), { ranges: [[25, 25], [587, 587], [3306, 3306], [4444, 4450]], invalid: [] });
  assert.deepEqual(parsePortRanges(undefined), { ranges: [], invalid: [] });
  assert.deepEqual(parsePortRanges(''), { ranges: [], invalid: [] });
  assert.deepEqual(parsePortRanges('80,http,0,70000,9-3,5-,6379'), { ranges: [[80, 80], [6379, 6379]], invalid: ['http', '0', '70000', '9-3', '5-'] });
});

test('inPortRanges() includes both ends of a range', () => {
  const r = parsePortRanges('4444-4450,25');
  for (const [p, want] of [[4443, false], [4444, true], [4450, true], [4451, false], [25, true], [26, false]] as const) {
    assert.equal(inPortRanges(r, p), want, String(p));
  }
});
