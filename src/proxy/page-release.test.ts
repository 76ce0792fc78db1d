import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from './log.ts';
import { startPageRelease } from './page-release.ts';
import type { ReleasedPages } from '../native/index.ts';

/** A logger that keeps its lines. */
function recordingLogger(): { logger: Logger; lines: Array<{ level: string; msg: string }> } {
  const lines: Array<{ level: string; msg: string }> = [];
  return { logger: new Logger('debug', { sink: (l) => { lines.push(JSON.parse(l) as { level: string; msg: string }); } }), lines };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

test('page release runs at once and then on every interval, logging the first at info and the rest at debug', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const { logger, lines } = recordingLogger();
  let calls = 0;
  const pages = startPageRelease({ intervalMs: 1000, logger, release: () => { calls++; return Promise.resolve({ mappings: 3, fileBytes: 30e6 }); } });
  await settle();
  assert.equal(calls, 1);
  t.mock.timers.tick(1000);
  await settle();
  t.mock.timers.tick(1000);
  await settle();
  assert.equal(calls, 3);
  pages.stop();
  t.mock.timers.tick(5000);
  assert.equal(calls, 3, 'no release after stop');
  assert.deepEqual(lines.map((l) => `${l.level} ${l.msg}`), ['info unused pages released', 'debug unused pages released', 'debug unused pages released']);
});

test('a release that is still running is not started twice', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const { logger } = recordingLogger();
  let calls = 0;
  let finish: (r: ReleasedPages) => void = () => {};
  const pages = startPageRelease({ intervalMs: 10, logger, release: () => { calls++; return new Promise((r) => { finish = r; }); } });
  t.mock.timers.tick(50);
  assert.equal(calls, 1);
  finish({ mappings: 0, fileBytes: 0 });
  await settle();
  t.mock.timers.tick(10);
  assert.equal(calls, 2);
  pages.stop();
});

test('a failed release is one warning and stops the schedule; the proxy goes on', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  for (const release of [
    (): Promise<ReleasedPages> => { throw new Error('addon not built'); },
    (): Promise<ReleasedPages> => Promise.reject(new Error('EINVAL')),
  ]) {
    const { logger, lines } = recordingLogger();
    let calls = 0;
    startPageRelease({ intervalMs: 100, logger, release: () => { calls++; return release(); } });
    await settle();
    t.mock.timers.tick(1000);
    await settle();
    assert.equal(calls, 1);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, 'warn');
    assert.match(lines[0]!.msg, /not released/);
  }
});
