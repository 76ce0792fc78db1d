import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoConfigFromEnv, type DemoConfigResult } from './demo-config.ts';

test('demoConfigFromEnv() reads each app from the variables the manifests set', () => {
  const cases: Array<[string, Record<string, string>, DemoConfigResult]> = [
    ['emoji', {}, { ok: true, config: { app: 'emoji', host: '0.0.0.0', port: 8080 } }],
    ['voting', { GRPC_PORT: '9090', BIND_HOST: '127.0.0.1' }, { ok: true, config: { app: 'voting', host: '127.0.0.1', port: 9090 } }],
    ['web', { WEB_PORT: '0', EMOJISVC_HOST: 'emoji-svc.emojivoto:8080', VOTINGSVC_HOST: '[::1]:8081' },
      { ok: true, config: { app: 'web', host: '0.0.0.0', port: 0, emojiTarget: 'emoji-svc.emojivoto:8080', votingTarget: '[::1]:8081' } }],
    ['vote-bot', { WEB_HOST: 'web-svc.emojivoto:80' },
      { ok: true, config: { app: 'vote-bot', webTarget: 'web-svc.emojivoto:80', ratePerSecond: 2, doughnutShare: 0.15, reportEveryMs: 10_000 } }],
    ['vote-bot', { WEB_HOST: '127.0.0.1:8080', VOTE_BOT_RATE: '0.5', VOTE_BOT_DOUGHNUT_SHARE: '0.3', VOTE_BOT_REPORT_SECONDS: '1.5', VOTE_BOT_SEED: '7' },
      { ok: true, config: { app: 'vote-bot', webTarget: '127.0.0.1:8080', ratePerSecond: 0.5, doughnutShare: 0.3, reportEveryMs: 1500, seed: 7 } }],
  ];
  for (const [app, env, want] of cases) assert.deepEqual(demoConfigFromEnv(app, env), want, `${app} ${JSON.stringify(env)}`);
});

test('demoConfigFromEnv() says which variable to set when one is missing or wrong', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['nope', {}, /^Name a demo app: one of emoji, voting, web, vote-bot; got "nope"$/],
    ['emoji', { GRPC_PORT: '70000' }, /^Set GRPC_PORT to a port .*got "70000"$/],
    ['emoji', { GRPC_PORT: 'http' }, /^Set GRPC_PORT/],
    ['web', { VOTINGSVC_HOST: 'voting-svc:8080' }, /^Set EMOJISVC_HOST to HOST:PORT, e\.g\. "emoji-svc\.emojivoto:8080"$/],
    ['web', { EMOJISVC_HOST: 'emoji-svc:8080' }, /^Set VOTINGSVC_HOST to HOST:PORT/],
    ['web', { EMOJISVC_HOST: 'http://emoji-svc:8080', VOTINGSVC_HOST: 'voting-svc:8080' }, /^Set EMOJISVC_HOST .*got "http:\/\/emoji-svc:8080"$/],
    ['vote-bot', {}, /^Set WEB_HOST to HOST:PORT/],
    ['vote-bot', { WEB_HOST: 'web:80', VOTE_BOT_RATE: '0' }, /^Set VOTE_BOT_RATE/],
    ['vote-bot', { WEB_HOST: 'web:80', VOTE_BOT_RATE: 'fast' }, /^Set VOTE_BOT_RATE/],
    ['vote-bot', { WEB_HOST: 'web:80', VOTE_BOT_DOUGHNUT_SHARE: '15' }, /^Set VOTE_BOT_DOUGHNUT_SHARE/],
    ['vote-bot', { WEB_HOST: 'web:80', VOTE_BOT_REPORT_SECONDS: '-1' }, /^Set VOTE_BOT_REPORT_SECONDS/],
    ['vote-bot', { WEB_HOST: 'web:80', VOTE_BOT_SEED: '1.5' }, /^Set VOTE_BOT_SEED to an integer/],
  ];
  for (const [app, env, want] of cases) {
    const got = demoConfigFromEnv(app, env);
    assert.equal(got.ok, false, `${app} ${JSON.stringify(env)}`);
    if (!got.ok) assert.match(got.problem, want);
  }
});
