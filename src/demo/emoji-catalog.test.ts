import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DOUGHNUT, EMOJI_CATALOG, findEmoji, voteMethodName } from './emoji-catalog.ts';
import { PROTO_DIR, serviceDefinitions } from './service-definitions.ts';

test('voteMethodName() turns a shortcode into the voting RPC name', () => {
  const cases: Array<[string, string]> = [
    [':doughnut:', 'VoteDoughnut'],
    [':joy:', 'VoteJoy'],
    [':stuck_out_tongue_winking_eye:', 'VoteStuckOutTongueWinkingEye'],
    [':100:', 'Vote100'],
  ];
  for (const [shortcode, name] of cases) assert.equal(voteMethodName(shortcode), name, shortcode);
});

test('the catalog has unique, well-formed shortcodes and includes :doughnut:', () => {
  const codes = EMOJI_CATALOG.map((e) => e.shortcode);
  assert.equal(new Set(codes).size, codes.length);
  for (const c of codes) assert.match(c, /^:[a-z0-9_]+:$/);
  assert.equal(new Set(codes.map(voteMethodName)).size, codes.length, 'two shortcodes map to one RPC');
  assert.equal(findEmoji(DOUGHNUT)?.unicode, '🍩');
  assert.equal(findEmoji(':nope:'), undefined);
});

test('voting.proto has exactly one Vote RPC per catalog emoji, plus Results', () => {
  const proto = readFileSync(`${PROTO_DIR}/voting.proto`, 'utf8');
  const rpcs = [...proto.matchAll(/^\s*rpc\s+(\w+)\s*\(/gm)].map((m) => m[1]);
  assert.deepEqual(rpcs, [...EMOJI_CATALOG.map((e) => voteMethodName(e.shortcode)), 'Results']);
  const loaded = Object.keys(serviceDefinitions().voting);
  assert.deepEqual(loaded.sort(), [...(rpcs as string[])].sort());
});

test('the loaded services have the wire paths of emojivoto.v1', () => {
  const { emoji, voting } = serviceDefinitions();
  assert.equal(emoji['ListAll']?.path, '/emojivoto.v1.EmojiService/ListAll');
  assert.equal(emoji['FindByShortcode']?.path, '/emojivoto.v1.EmojiService/FindByShortcode');
  assert.equal(voting['VoteDoughnut']?.path, '/emojivoto.v1.VotingService/VoteDoughnut');
  assert.equal(voting['Results']?.path, '/emojivoto.v1.VotingService/Results');
});
