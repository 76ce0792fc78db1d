import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Logger } from './log.ts';
import { PAGE_RELEASE_GROWTH_BYTES, residentFileBytes, startPageRelease } from './page-release.ts';
import type { ReleasedPages } from '../native/index.ts';

/** A logger that keeps its lines. */
function recordingLogger(): { logger: Logger; lines: Array<{ level: string; msg: string }> } {
  const lines: Array<{ level: string; msg: string }> = [];
  return { logger: new Logger('debug', { sink: (l) => { lines.push(JSON.parse(l) as { level: string; msg: string }); } }), lines };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
const MB = 1024 * 1024;

test('pages are released at once, then again whenever the mapped files grew past the margin since the last release', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const { logger, lines } = recordingLogger();
  let calls = 0;
  let rss = 40 * MB;
  const pages = startPageRelease({
    intervalMs: 1000, logger, residentFileBytes: () => rss,
    release: () => { calls++; rss = 5 * MB; return Promise.resolve({ mappings: 3, fileBytes: 30e6 }); },
  });
  await settle();
  assert.equal(calls, 1, 'released at start');
  rss = 5 * MB + PAGE_RELEASE_GROWTH_BYTES; // an idle proxy: grows, but not past the margin
  t.mock.timers.tick(5000);
  await settle();
  assert.equal(calls, 1, 'an idle proxy does not release again');
  rss += 20 * MB; // a busy one maps its hot code again within an interval
  t.mock.timers.tick(1000);
  await settle();
  assert.equal(calls, 2, 'released when the mapped files outgrew the margin');
  rss += 20 * MB;
  t.mock.timers.tick(1000);
  await settle();
  assert.equal(calls, 3, 'and again the next interval, while busy');
  pages.stop();
  rss = 500 * MB;
  t.mock.timers.tick(5000);
  assert.equal(calls, 3, 'no release after stop');
  assert.deepEqual(lines.map((l) => `${l.level} ${l.msg}`), ['info unused pages released', 'debug unused pages released', 'debug unused pages released']);
});

test('a release that is still running is not started twice', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const { logger } = recordingLogger();
  let calls = 0;
  let finish: (r: ReleasedPages) => void = () => {};
  let rss = 0;
  const pages = startPageRelease({
    intervalMs: 10, logger, residentFileBytes: () => (rss += 100 * MB),
    release: () => { calls++; return new Promise((r) => { finish = r; }); },
  });
  t.mock.timers.tick(50);
  assert.equal(calls, 1);
  finish({ mappings: 0, fileBytes: 0 });
  await settle();
  t.mock.timers.tick(20);
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
    let rss = 0;
    startPageRelease({ intervalMs: 100, logger, residentFileBytes: () => (rss += 100 * MB), release: () => { calls++; return release(); } });
    await settle();
    t.mock.timers.tick(1000);
    await settle();
    assert.equal(calls, 1);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, 'warn');
    assert.match(lines[0]!.msg, /not released/);
  }
});

test('the resident file bytes are this process\'s RssFile', () => {
  const kb = Number(/RssFile:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
  assert.ok(Math.abs(residentFileBytes() - kb * 1024) < 4 * MB);
});

test('running out of descriptors skips a release or a check, and the schedule goes on', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const { logger, lines } = recordingLogger();
  let calls = 0;
  let rss = 0;
  let readFails = true;
  const pages = startPageRelease({
    intervalMs: 100, logger,
    residentFileBytes: () => {
      if (readFails) throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
      return (rss += 100 * MB);
    },
    release: () => {
      calls++;
      return calls === 1 ? Promise.reject(Object.assign(new Error('open /proc/self/smaps: Too many open files'), { code: 'EMFILE' })) : Promise.resolve({ mappings: 1, fileBytes: 1 });
    },
  });
  await settle();
  t.mock.timers.tick(500); // every check throws: no crash, no release
  assert.equal(calls, 1);
  readFails = false;
  t.mock.timers.tick(200); // a working set, then growth: released again
  await settle();
  assert.equal(calls, 2);
  assert.ok(!lines.some((l) => l.level === 'warn'), 'a transient failure is not a warning');
  pages.stop();
});

test('a release that finishes after stop() logs nothing', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const { logger, lines } = recordingLogger();
  let finish: (r: ReleasedPages) => void = () => {};
  const pages = startPageRelease({ intervalMs: 100, logger, residentFileBytes: () => 0, release: () => new Promise((r) => { finish = r; }) });
  pages.stop();
  finish({ mappings: 1, fileBytes: 1 });
  await settle();
  assert.deepEqual(lines, []);
});
