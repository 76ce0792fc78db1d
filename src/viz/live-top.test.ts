import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LiveTop } from './live-top.ts';
import type { TapEvent } from './tap-events.ts';

const ev = (timeMs: number, path: string, status: number, direction: 'inbound' | 'outbound' = 'inbound'): TapEvent => ({
  timeMs, proxy: 'ns/p', direction, src: '-', dst: 'ns/web', authority: 'web:80', statusCode: String(status),
  classification: status >= 500 ? 'failure' : 'success', tls: true, count: 1, method: 'GET', path, latencyMs: timeMs % 7,
});

test('live top ranks paths by requests in the window, query stripped, outbound and old events left out', () => {
  const top = new LiveTop(10_000);
  for (const e of [ev(0, '/old', 200), ev(5_000, '/a?x=1', 200), ev(6_000, '/a?x=2', 500), ev(7_000, '/b', 200), ev(7_000, '/b', 200, 'outbound'), ev(8_000, '/a', 200)]) top.add(e);
  const rows = top.rows(12_000);
  assert.deepEqual(rows.map((r) => [r.method, r.path, r.count, r.rps, Math.round(r.successRate * 100)]), [['GET', '/a', 3, 0.3, 67], ['GET', '/b', 1, 0.1, 100]]);
});
