import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { parseTarget, startVoteBot, type VoteBot } from './vote-bot.ts';
import { seededRandom } from './choose-vote.ts';

/** A stand-in for web with the same API: it counts what it is asked. */
async function fakeWeb(t: { after(fn: () => unknown): void }, answer?: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen = { list: 0, votes: [] as string[] };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api/list') {
      seen.list++;
      res.end(JSON.stringify([':joy:', ':doughnut:', ':owl:'].map((shortcode) => ({ shortcode, unicode: '?' }))));
      return;
    }
    seen.votes.push(url.searchParams.get('choice') ?? '');
    if (answer !== undefined) answer(req, res);
    else {
      res.statusCode = url.searchParams.get('choice') === ':doughnut:' ? 500 : 200;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const address = server.address();
  assert.ok(typeof address === 'object' && address !== null);
  return { seen, target: `127.0.0.1:${address.port}` };
}

/** Waits (bounded) until `cond` holds. */
async function until(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(2);
  }
}

test('the vote bot votes once per tick of its rate, and reports each period', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const web = await fakeWeb(t);
  const lines: string[] = [];
  const bot: VoteBot = startVoteBot({
    webTarget: web.target, ratePerSecond: 10, reportEveryMs: 1000, random: seededRandom(1), log: (l) => lines.push(l),
  });
  t.after(() => bot.close());
  await until(() => web.seen.list === 1 && bot.stats().inFlight === 0, 'the list');
  // Ten simulated seconds at 10/s, one 100 ms tick at a time.
  for (let i = 0; i < 100; i++) {
    t.mock.timers.tick(100);
    await until(() => bot.stats().inFlight === 0, 'the votes of a tick');
  }
  const stats = bot.stats();
  assert.equal(stats.votes, 100);
  assert.equal(web.seen.votes.length, 100);
  assert.equal(stats.listCalls, 1);
  assert.equal((stats.outcomes['200'] ?? 0) + (stats.outcomes['500'] ?? 0), 100);
  assert.equal(stats.outcomes['500'], stats.doughnut);
  const reports = lines.filter((l) => l.includes('in the last 1s'));
  assert.equal(reports.length, 10);
  // A report counts answered votes: the vote of the tick it shares a moment with may land in the next one.
  for (const r of reports) assert.match(r, /^vote-bot: (9|10|11) votes in the last 1s: 200=\d+( 500=\d+)? \(\d+ for :doughnut:\); since start \d+: /);
  await bot.close();
  assert.match(lines.at(-1) ?? '', /^vote-bot: stopped after 100 votes: 200=\d+ 500=\d+ \(\d+ for :doughnut:\)$/);
});

test('the vote bot skips ticks while maxInFlight calls are waiting, and counts them', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const held: ServerResponse[] = [];
  const web = await fakeWeb(t, (_req, res) => held.push(res));
  const bot = startVoteBot({ webTarget: web.target, ratePerSecond: 10, maxInFlight: 2, random: seededRandom(2) });
  await until(() => web.seen.list === 1 && bot.stats().inFlight === 0, 'the list');
  for (let i = 0; i < 5; i++) t.mock.timers.tick(100);
  await until(() => held.length === 2, 'two held votes');
  assert.equal(bot.stats().outcomes['skipped'], 3);
  for (const res of held) res.end('{}');
  await bot.close();
  assert.equal(bot.stats().outcomes['200'], 2);
});

test('the vote bot counts an unreachable web as error and keeps asking for the list', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const web = await fakeWeb(t);
  const port = Number(web.target.split(':')[1]);
  // A port that was just free: nothing listens there.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const address = closed.address();
  assert.ok(typeof address === 'object' && address !== null);
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  assert.notEqual(address.port, port);
  const bot = startVoteBot({ webTarget: `127.0.0.1:${address.port}`, ratePerSecond: 10 });
  await until(() => bot.stats().inFlight === 0, 'the first list call');
  t.mock.timers.tick(100);
  await until(() => bot.stats().listCalls === 2 && bot.stats().inFlight === 0, 'a second list call');
  assert.equal(bot.stats().votes, 0);
  await bot.close();
});

test('parseTarget() splits HOST:PORT, with port 80 by default', () => {
  assert.deepEqual(parseTarget('web-svc.emojivoto:80'), { host: 'web-svc.emojivoto', port: 80 });
  assert.deepEqual(parseTarget('web-svc'), { host: 'web-svc', port: 80 });
  assert.deepEqual(parseTarget('[::1]:8080'), { host: '::1', port: 8080 });
  assert.throws(() => parseTarget('web:99999'), /HOST:PORT/);
  assert.throws(() => parseTarget('http://web'), /HOST:PORT/);
});
