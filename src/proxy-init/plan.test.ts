import { test } from 'node:test';
import assert from 'node:assert/strict';
import { proxyInitOptions, resolveConfig } from './config.ts';
import { iptablesPlan, renderPlan } from './plan.ts';
import { multiportChunks, parsePorts } from './ports.ts';

const config = (overrides: Parameters<typeof proxyInitOptions>[0] = {}, ipv6 = false) =>
  resolveConfig(proxyInitOptions(overrides), { backend: 'legacy', ipv6 });

test('iptablesPlan() exempts the proxy uid and loopback before redirecting outbound TCP to 4140', () => {
  const apply = iptablesPlan(config()).apply.map((s) => s.argv.join(' '));
  const out = apply.filter((l) => l.includes('-A WEFT_OUTPUT'));
  assert.deepEqual(out, [
    'iptables-legacy -t nat -A WEFT_OUTPUT -m owner --uid-owner 2102 -j RETURN',
    'iptables-legacy -t nat -A WEFT_OUTPUT -o lo -j RETURN',
    'iptables-legacy -t nat -A WEFT_OUTPUT -p tcp -j REDIRECT --to-ports 4140',
  ]);
});

test('iptablesPlan() always leaves inbound 4190 and 4191 alone, once each', () => {
  const apply = iptablesPlan(config({ inboundPortsToIgnore: parsePorts(['4191,22'], 'x') })).apply.map((s) => s.argv.join(' '));
  assert.ok(apply.includes('iptables-legacy -t nat -A WEFT_INBOUND -p tcp -m multiport --dports 4190,4191,22 -j RETURN'));
});

test('iptablesPlan() fills the chains before hooking them in', () => {
  const apply = iptablesPlan(config()).apply.map((s) => s.argv.join(' '));
  const firstJump = apply.findIndex((l) => l.includes('-A PREROUTING') || l.includes('-A OUTPUT '));
  const lastChainRule = apply.findLastIndex((l) => l.includes('-A WEFT_'));
  assert.ok(firstJump > lastChainRule);
});

test('iptablesPlan() sends each ignored subnet only to its own family', () => {
  const plan = iptablesPlan(config({ subnetsToIgnore: ['10.0.0.0/8', 'fd00::/8'] }, true));
  const lines = plan.apply.map((s) => s.argv.join(' '));
  assert.ok(lines.includes('iptables-legacy -t nat -A WEFT_OUTPUT -d 10.0.0.0/8 -j RETURN'));
  assert.ok(lines.includes('ip6tables-legacy -t nat -A WEFT_OUTPUT -d fd00::/8 -j RETURN'));
  assert.ok(lines.includes('ip6tables-legacy -t nat -A WEFT_INBOUND -s fd00::/8 -j RETURN'));
  assert.ok(!lines.some((l) => l.startsWith('iptables-legacy') && l.includes('fd00::/8')));
  assert.ok(!lines.some((l) => l.startsWith('ip6tables-legacy') && l.includes('10.0.0.0/8')));
});

test('iptablesPlan() uses iptables-nft binaries for the nft backend', () => {
  const plan = iptablesPlan(resolveConfig(proxyInitOptions(), { backend: 'nft', ipv6: true }));
  const binaries = new Set([...plan.clean, ...plan.apply].map((s) => s.argv[0]));
  assert.deepEqual([...binaries].sort(), ['ip6tables-nft', 'iptables-nft']);
});

test('iptablesPlan() cleans every chain and jump that apply creates, each behind a guard', () => {
  const plan = iptablesPlan(config({}, true));
  assert.ok(plan.clean.every((s) => s.guard !== undefined));
  const created = plan.apply.filter((s) => s.argv.includes('-N')).map((s) => `${s.argv[0]} ${s.argv.at(-1)}`);
  const removed = plan.clean.filter((s) => s.argv.includes('-X')).map((s) => `${s.argv[0]} ${s.argv.at(-1)}`);
  assert.deepEqual(removed, created);
});

test('renderPlan() prints guards as shell conditions', () => {
  const text = renderPlan(iptablesPlan(config()), 'clean');
  assert.match(text, /^iptables-legacy -t nat -C PREROUTING -p tcp -j WEFT_INBOUND >\/dev\/null 2>&1 && iptables-legacy -t nat -D PREROUTING -p tcp -j WEFT_INBOUND$/m);
  assert.doesNotMatch(text, /-N WEFT/);
});

test('multiportChunks() splits at 15 slots, a range counting as two', () => {
  const ports = parsePorts([Array.from({ length: 16 }, (_, i) => String(i + 1)).join(',')], 'x');
  assert.deepEqual(multiportChunks(ports), ['1,2,3,4,5,6,7,8,9,10,11,12,13,14,15', '16']);
  const ranges = parsePorts(['1-2,3-4,5-6,7-8,9-10,11-12,13-14,15'], 'x');
  assert.deepEqual(multiportChunks(ranges), ['1:2,3:4,5:6,7:8,9:10,11:12,13:14,15']);
  const over = parsePorts(['1-2,3-4,5-6,7-8,9-10,11-12,13-14,15-16'], 'x');
  assert.deepEqual(multiportChunks(over), ['1:2,3:4,5:6,7:8,9:10,11:12,13:14', '15:16']);
});

test('parsePorts() rejects a port out of range, naming the flag and the value', () => {
  assert.throws(() => parsePorts(['80,70000'], '--outbound-ports-to-ignore'),
    { code: 'WEFT_ERR_USAGE', message: 'Give --outbound-ports-to-ignore ports between 1 and 65535, ranges as "1000-2000": got "70000"' });
  assert.throws(() => parsePorts(['20-10'], '--x'), { code: 'WEFT_ERR_USAGE' });
});

test('proxyInitOptions() rejects a bad subnet and uid 0', () => {
  assert.throws(() => proxyInitOptions({ subnetsToIgnore: ['10.0.0.0/33'] }), { code: 'WEFT_ERR_USAGE' });
  assert.throws(() => proxyInitOptions({ subnetsToIgnore: ['nope'] }), { code: 'WEFT_ERR_USAGE' });
  assert.throws(() => proxyInitOptions({ proxyUid: 0 }), { code: 'WEFT_ERR_USAGE' });
  assert.throws(() => proxyInitOptions({ inboundPort: 4140 }), { code: 'WEFT_ERR_USAGE' });
});
