import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProxyMetrics } from '../metrics/index.ts';
import { EndpointLoad, ewmaCost, initialEwma, observeEwma, pickP2c, type Choice } from './index.ts';

const opts = { decayMs: 10_000, defaultRttMs: 30 };

test('initialEwma() starts at the default latency with nothing pending', () => {
  assert.deepEqual(initialEwma(5, opts), { estimateMs: 30, at: 5, pending: 0 });
  assert.equal(ewmaCost(initialEwma(0, opts), 0, opts), 30);
});

test('observeEwma() jumps to a slower observation at once (the peak)', () => {
  const s = observeEwma(initialEwma(0, opts), 500, 1, opts);
  assert.equal(s.estimateMs, 500);
  assert.equal(s.at, 1);
});

test('observeEwma() moves towards a faster observation by the time-decay weight', () => {
  const cases: Array<{ name: string; elapsed: number; want: number }> = [
    { name: 'no time passed: the estimate stays', elapsed: 0, want: 100 },
    { name: 'one time constant: 1/e of the old estimate remains', elapsed: 10_000, want: 100 * Math.exp(-1) + 10 * (1 - Math.exp(-1)) },
    { name: 'long ago: the new observation dominates', elapsed: 1_000_000, want: 10 },
  ];
  for (const c of cases) {
    const s = { estimateMs: 100, at: 0, pending: 0 };
    observeEwma(s, 10, c.elapsed, opts);
    assert.ok(Math.abs(s.estimateMs - c.want) < 1e-6, `${c.name}: ${s.estimateMs} != ${c.want}`);
  }
});

test('ewmaCost() multiplies the estimate by requests in flight plus one', () => {
  assert.equal(ewmaCost({ estimateMs: 20, at: 0, pending: 0 }, 0, opts), 20);
  assert.equal(ewmaCost({ estimateMs: 20, at: 0, pending: 3 }, 0, opts), 80);
});

test('ewmaCost() decays while no response arrives, so a once-slow endpoint is tried again', () => {
  const slow = { estimateMs: 1000, at: 0, pending: 0 };
  const fast = { estimateMs: 10, at: 60_000, pending: 0 };
  assert.ok(ewmaCost(slow, 1, opts) > ewmaCost(fast, 60_000, opts));
  assert.ok(ewmaCost(slow, 60_000, opts) < ewmaCost(fast, 60_000, opts));
});

test('ewmaCost() prefers a fast endpoint to a slow one and a loaded fast one less', () => {
  const fast = { estimateMs: 5, at: 0, pending: 0 };
  const slow = { estimateMs: 50, at: 0, pending: 0 };
  assert.ok(ewmaCost(fast, 0, opts) < ewmaCost(slow, 0, opts));
  assert.ok(ewmaCost({ ...fast, pending: 20 }, 0, opts) > ewmaCost(slow, 0, opts));
});

const item = (name: string, cost: number, failedUntil = 0): Choice & { name: string } => ({ name, failedUntil, cost: () => cost });
/** A random source that returns `values` in turn. */
const seq = (...values: number[]): (() => number) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

test('pickP2c() returns undefined for no endpoints and the only one for one', () => {
  assert.equal(pickP2c([], 0), undefined);
  assert.equal(pickP2c([item('a', 9, 100)], 0)?.name, 'a');
});

test('pickP2c() picks two distinct endpoints and keeps the cheaper', () => {
  const items = [item('a', 5), item('b', 1), item('c', 3)];
  // i = floor(0.0·3) = 0 (a); j = floor(0.0·2) = 0, bumped past i to 1 (b).
  assert.equal(pickP2c(items, 0, seq(0, 0))?.name, 'b');
  // i = 2 (c); j = floor(0.99·2) = 1 (b).
  assert.equal(pickP2c(items, 0, seq(0.99, 0.99))?.name, 'b');
  // i = 0 (a); j = 1 → 2 (c).
  assert.equal(pickP2c(items, 0, seq(0, 0.6))?.name, 'c');
});

test('pickP2c() skips an endpoint that failed recently, whatever its cost', () => {
  const items = [item('down', 1, 1000), item('up', 50)];
  for (const r of [0, 0.5, 0.99]) assert.equal(pickP2c(items, 10, seq(r, r))?.name, 'up');
  // After the back-off it competes on cost again.
  assert.equal(pickP2c(items, 2000, seq(0, 0))?.name, 'down');
});

test('pickP2c() finds a healthy endpoint when both random picks are down', () => {
  const items = [item('a', 1, 1000), item('b', 1, 1000), item('c', 9)];
  assert.equal(pickP2c(items, 0, seq(0, 0))?.name, 'c');
});

test('pickP2c() still returns an endpoint when every one is down', () => {
  const items = [item('a', 2, 1000), item('b', 1, 1000)];
  assert.equal(pickP2c(items, 0, seq(0, 0))?.name, 'b');
});

test('pickP2c() spreads equal endpoints evenly over many picks', () => {
  const items = [item('a', 1), item('b', 1), item('c', 1)];
  const counts = new Map<string, number>();
  let x = 0;
  // A fixed low-discrepancy sequence instead of Math.random: deterministic.
  const r = (): number => (x = (x + 0.6180339887) % 1);
  for (let k = 0; k < 3000; k++) {
    const p = pickP2c(items, 0, r)!.name;
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  for (const [, n] of counts) assert.ok(n > 700 && n < 1300, JSON.stringify([...counts]));
});

test('EndpointLoad.moveTo() moves a request in flight to the endpoint that took its retry, counting it once', () => {
  const m = new ProxyMetrics();
  const a = new EndpointLoad(m, 'web:80', 'true', 'a.id');
  const b = new EndpointLoad(m, 'web:80', 'true', 'b.id');
  a.request();
  a.moveTo(b);
  assert.equal(a.pending, 0);
  assert.equal(b.pending, 1);
  b.response(503, true, 1);
  assert.equal(b.pending, 0);
  const text = m.registry.render();
  assert.match(text, /request_total\{[^}]*server_id="a\.id"[^}]*\} 1\n/);
  assert.match(text, /request_total\{[^}]*server_id="b\.id"[^}]*\} 0\n/);
});
