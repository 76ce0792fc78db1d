import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { credentials, loadPackageDefinition, status, type GrpcObject, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { setTimeout as delay } from 'node:timers/promises';
import { DOUGHNUT, EMOJI_CATALOG, PROTO_DIR } from '../../src/demo/index.ts';
import { startDemoProcess, startListening, type DemoProcess } from './demo-process.ts';

/** A grpc-js client built from the .proto files alone, as any other gRPC user would. */
function protoClient(service: 'EmojiService' | 'VotingService', port: number) {
  const def = loadSync(['emoji.proto', 'voting.proto'], { includeDirs: [PROTO_DIR], keepCase: true, defaults: true });
  const pkg = loadPackageDefinition(def) as { emojivoto: { v1: GrpcObject } };
  const Ctor = pkg.emojivoto.v1[service] as ServiceClientConstructor;
  const client = new Ctor(`127.0.0.1:${port}`, credentials.createInsecure());
  const call = <T>(method: string, req: object) => new Promise<T>((resolve, reject) => {
    const fn = (client as unknown as Record<string, (r: object, cb: (e: ServiceError | null, v: T) => void) => void>)[method];
    if (fn === undefined) throw new Error(`no method ${method}`);
    fn.call(client, req, (err, res) => (err === null ? resolve(res) : reject(err)));
  });
  return { call, close: () => client.close() };
}

/** `200=17 500=3` → `{ '200': 17, '500': 3 }`. */
function parseOutcomes(text: string): Record<string, number> {
  return Object.fromEntries(text.split(' ').filter((kv) => kv.includes('=')).map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
}

/** Waits (bounded) until `cond` holds, showing the process's output if it never does. */
async function until(cond: () => boolean, what: string, p: DemoProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${p.output()}`);
    await delay(50);
  }
}

type Json = { status: number; body: unknown };

async function get(port: number, path: string, init?: RequestInit): Promise<Json> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
  const text = await res.text();
  return { status: res.status, body: res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text };
}

describe('the demo app on 127.0.0.1', () => {
  let emoji: DemoProcess & { port: number };
  let voting: DemoProcess & { port: number };
  let web: DemoProcess & { port: number };
  const started: DemoProcess[] = [];
  const local = { BIND_HOST: '127.0.0.1' };

  before(async () => {
    [emoji, voting] = await Promise.all([
      startListening('emoji', { ...local, GRPC_PORT: '0' }),
      startListening('voting', { ...local, GRPC_PORT: '0' }),
    ]);
    started.push(emoji, voting);
    web = await startListening('web', {
      ...local, WEB_PORT: '0', EMOJISVC_HOST: `127.0.0.1:${emoji.port}`, VOTINGSVC_HOST: `127.0.0.1:${voting.port}`,
    });
    started.push(web);
  });

  // Whatever happened, no process outlives the suite.
  after(async () => {
    await Promise.all(started.map((p) => p.terminate()));
  });

  test('web lists every emoji of the catalog at /api/list', async () => {
    const res = await get(web.port, '/api/list');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, EMOJI_CATALOG.map((e) => ({ shortcode: e.shortcode, unicode: e.unicode })));
  });

  test('web answers its readiness path and serves a page that loads nothing from elsewhere', async () => {
    assert.deepEqual(await get(web.port, '/ready'), { status: 200, body: 'ready\n' });
    const page = await get(web.port, '/');
    assert.equal(page.status, 200);
    const html = String(page.body);
    assert.match(html, /<title>Emoji vote/);
    assert.doesNotMatch(html, /https?:\/\/|src=|href=|@import|url\(/);
  });

  test('a vote succeeds with 200, a vote for :doughnut: fails with 500, and the leaderboard counts', async () => {
    for (let i = 0; i < 3; i++) assert.deepEqual(await get(web.port, '/api/vote?choice=:owl:'), { status: 200, body: { voted: ':owl:' } });
    assert.equal((await get(web.port, '/api/vote?choice=:pizza:', { method: 'POST' })).status, 200);
    const doughnut = await get(web.port, `/api/vote?choice=${encodeURIComponent(DOUGHNUT)}`);
    assert.equal(doughnut.status, 500);
    assert.match(String((doughnut.body as { error: string }).error), /:doughnut: always fails/);
    assert.equal((await get(web.port, '/api/vote?choice=:nope:')).status, 404);
    assert.equal((await get(web.port, '/api/vote')).status, 400);
    assert.equal((await get(web.port, '/api/vote?choice=:owl:', { method: 'DELETE' })).status, 405);
    assert.equal((await get(web.port, '/nowhere')).status, 404);
    const board = await get(web.port, '/api/leaderboard');
    assert.equal(board.status, 200);
    assert.deepEqual(board.body, [
      { shortcode: ':owl:', unicode: '🦉', votes: 3 },
      { shortcode: ':pizza:', unicode: '🍕', votes: 1 },
    ]);
  });

  test('the gRPC services answer a grpc-js client built from the .proto files', async () => {
    const e = protoClient('EmojiService', emoji.port);
    const v = protoClient('VotingService', voting.port);
    try {
      const all = await e.call<{ list: Array<{ shortcode: string; unicode: string }> }>('ListAll', {});
      assert.equal(all.list.length, EMOJI_CATALOG.length);
      assert.deepEqual(await e.call('FindByShortcode', { shortcode: ':joy:' }), { emoji: { unicode: '😂', shortcode: ':joy:' } });
      await assert.rejects(e.call('FindByShortcode', { shortcode: ':nope:' }), (err: ServiceError) => err.code === status.NOT_FOUND);
      assert.deepEqual(await v.call('VoteJoy', {}), {});
      assert.deepEqual(await v.call('Vote100', {}), {});
      assert.deepEqual(await v.call('Vote100', {}), {});
      await assert.rejects(v.call('VoteDoughnut', {}), (err: ServiceError) => err.code === status.UNKNOWN && /always fails/.test(err.details));
      const { results } = await v.call<{ results: Array<{ shortcode: string; votes: number }> }>('Results', {});
      const byCode = new Map(results.map((r) => [r.shortcode, r.votes]));
      assert.equal(byCode.get(':100:'), 2);
      assert.equal(byCode.get(':joy:'), 1);
      assert.equal(byCode.has(DOUGHNUT), false);
      const votes = results.map((r) => r.votes);
      assert.deepEqual(votes, [...votes].sort((a, b) => b - a), 'results are sorted, most votes first');
    } finally {
      e.close();
      v.close();
    }
  });

  test('vote-bot votes through web, :doughnut: about 15% of the time, and every 200 is counted by voting', async () => {
    const before = await get(web.port, '/api/leaderboard');
    const tallied = (rows: unknown): number => (rows as Array<{ votes: number }>).reduce((n, r) => n + r.votes, 0);
    const bot = startDemoProcess('vote-bot', {
      WEB_HOST: `127.0.0.1:${web.port}`, VOTE_BOT_RATE: '100', VOTE_BOT_REPORT_SECONDS: '0.25', VOTE_BOT_SEED: '1',
    });
    started.push(bot);
    await bot.waitFor(/voting at 100\/s on 127\.0\.0\.1:\d+, 15% for :doughnut:/);
    // Enough answered votes for a statistical check: wait for a report past 300.
    const answered = (): number => {
      const reports = [...bot.output().matchAll(/since start \d+: (.*)$/gm)];
      const last = parseOutcomes(reports.at(-1)?.[1] ?? '');
      return (last['200'] ?? 0) + (last['500'] ?? 0);
    };
    await until(() => answered() >= 300, '300 answered votes', bot, 60_000);
    const exit = await bot.terminate();
    assert.deepEqual(exit, { code: 0, signal: null });
    const m = bot.output().match(/vote-bot: stopped after (\d+) votes: (.*) \((\d+) for :doughnut:\)/);
    assert.ok(m !== null, bot.output());
    const [votes, doughnut] = [Number(m[1]), Number(m[3])];
    const outcomes = parseOutcomes(m[2] ?? '');
    assert.equal((outcomes['200'] ?? 0) + (outcomes['500'] ?? 0) + (outcomes['skipped'] ?? 0), votes, bot.output());
    // A slow machine may skip ticks (too many calls waiting); those vote for nothing.
    const sent = votes - (outcomes['skipped'] ?? 0);
    assert.ok(sent >= 300, bot.output());
    // Wide bound: at 300+ votes one standard deviation is about 2 points.
    assert.ok(doughnut / sent > 0.08 && doughnut / sent < 0.22, `doughnut ${doughnut} of ${sent}`);
    assert.equal(outcomes['500'], doughnut, 'every :doughnut: vote failed with 500, and only those');
    const after = await get(web.port, '/api/leaderboard');
    assert.equal(tallied(after.body) - tallied(before.body), outcomes['200']);
  });

  test('SIGTERM stops web, emoji and voting cleanly, and their ports close', async () => {
    for (const p of [web, emoji, voting]) {
      const exit = await p.terminate();
      assert.deepEqual(exit, { code: 0, signal: null }, p.output());
      assert.match(p.output(), /SIGTERM received, stopping\n.*: stopped\n$/);
    }
    await assert.rejects(fetch(`http://127.0.0.1:${web.port}/ready`));
  });
});

test('weft demo-app says what to set, and exits 2, when its environment is incomplete', async () => {
  const p = startDemoProcess('web', { EMOJISVC_HOST: '', VOTINGSVC_HOST: '' });
  assert.deepEqual(await p.exited, { code: 2, signal: null });
  assert.equal(p.output(), 'error: Set EMOJISVC_HOST to HOST:PORT, e.g. "emoji-svc.emojivoto:8080"\n');
});
