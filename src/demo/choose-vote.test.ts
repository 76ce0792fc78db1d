import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseVote, seededRandom } from './choose-vote.ts';
import { DOUGHNUT, EMOJI_CATALOG } from './emoji-catalog.ts';

const shortcodes = EMOJI_CATALOG.map((e) => e.shortcode);

test('chooseVote() picks :doughnut: about 15% of the time with a seeded generator', () => {
  const random = seededRandom(7);
  const draws = 20_000;
  let doughnut = 0;
  for (let i = 0; i < draws; i++) if (chooseVote(shortcodes, random) === DOUGHNUT) doughnut++;
  const share = doughnut / draws;
  // 20 000 draws: one standard deviation is 0.25 points, so ±1.5 points is a wide bound.
  assert.ok(share > 0.135 && share < 0.165, `doughnut share ${share}`);
});

test('chooseVote() spreads the other votes over every other emoji', () => {
  const random = seededRandom(11);
  const seen = new Map<string, number>();
  for (let i = 0; i < 20_000; i++) {
    const c = chooseVote(shortcodes, random);
    seen.set(c, (seen.get(c) ?? 0) + 1);
  }
  assert.equal(seen.size, shortcodes.length);
  const expected = (20_000 * 0.85) / (shortcodes.length - 1);
  for (const [code, n] of seen) if (code !== DOUGHNUT) assert.ok(n > expected * 0.7 && n < expected * 1.3, `${code}: ${n}`);
});

test('chooseVote() follows the share it is given, 0 and 1 included', () => {
  const random = seededRandom(3);
  for (let i = 0; i < 1000; i++) assert.notEqual(chooseVote(shortcodes, random, 0), DOUGHNUT);
  for (let i = 0; i < 1000; i++) assert.equal(chooseVote(shortcodes, random, 1), DOUGHNUT);
});

test('chooseVote() votes :doughnut: when the list has nothing else', () => {
  assert.equal(chooseVote([DOUGHNUT], () => 0.99), DOUGHNUT);
  assert.equal(chooseVote([], () => 0.99), DOUGHNUT);
});

test('seededRandom() repeats its sequence for the same seed and stays in [0, 1)', () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const c = seededRandom(43);
  const xs = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b()));
  assert.notDeepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => c()));
  for (const x of xs) assert.ok(x >= 0 && x < 1);
});
