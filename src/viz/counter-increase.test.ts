import assert from 'node:assert/strict';
import { test } from 'node:test';
import { counterIncrease, spanSeconds } from './counter-increase.ts';
import { parsePrometheusText } from './prometheus-text.ts';

const scrape = (timeMs: number, text: string) => ({ timeMs, samples: parsePrometheusText(text) });
const all = (): string => 'all';

test('counterIncrease() sums the growth between the first and the last scrape', () => {
  const s = [scrape(0, 'request_total{a="x"} 10'), scrape(10_000, 'request_total{a="x"} 15'), scrape(20_000, 'request_total{a="x"} 30')];
  assert.deepEqual(counterIncrease(s, all), new Map([['all', 20]]));
  assert.equal(spanSeconds(s), 20);
});

test('counterIncrease() counts a reset as growth from zero (a restarted proxy)', () => {
  // 10 → 40 (+30), restart, 5 (+5), 12 (+7): 42, not 2.
  const s = [scrape(0, 'c 10'), scrape(1, 'c 40'), scrape(2, 'c 5'), scrape(3, 'c 12')];
  assert.equal(counterIncrease(s, all).get('all'), 42);
});

test('counterIncrease() counts a series that first appears inside the window from zero', () => {
  const s = [scrape(0, 'c{r="a"} 3'), scrape(1, 'c{r="a"} 4\nc{r="b"} 6')];
  assert.equal(counterIncrease(s, all).get('all'), 7);
});

test('counterIncrease() keeps series apart: a reset of one does not hide the growth of another', () => {
  const s = [scrape(0, 'c{r="a"} 100\nc{r="b"} 1'), scrape(1, 'c{r="a"} 2\nc{r="b"} 50')];
  assert.deepEqual(counterIncrease(s, (x) => x.labels['r']), new Map([['a', 2], ['b', 49]]));
});

test('counterIncrease() skips what pick leaves out, and one scrape only sets the baseline', () => {
  assert.equal(counterIncrease([scrape(0, 'c 5')], all).size, 0);
  assert.equal(counterIncrease([scrape(0, 'c 5\nd 1'), scrape(1, 'c 6\nd 9')], (x) => (x.name === 'c' ? 'c' : undefined)).get('c'), 1);
});
