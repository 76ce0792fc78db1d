import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renewalTime } from './renewal-time.ts';

const H = 3_600_000;
const t0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

test('renewalTime() renews at notAfter minus renewBefore, from the real lifetime', () => {
  const cases: Array<{ name: string; lifetime: number; opts: Parameters<typeof renewalTime>[1]; want: Date }> = [
    { name: "the article's 48h/25h issuer renews 23h in", lifetime: 48 * H, opts: { renewBefore: 25 * H }, want: at(23 * H) },
    { name: 'no renewBefore renews two thirds through', lifetime: 90 * H, opts: {}, want: at(60 * H) },
    { name: 'renewBeforePercentage 25 renews three quarters through', lifetime: 60 * 60_000, opts: { renewBeforePercentage: 25 }, want: at(45 * 60_000) },
    { name: 'renewBefore not shorter than the lifetime falls back to a third', lifetime: 3 * H, opts: { renewBefore: 5 * H }, want: at(2 * H) },
    { name: 'an issuer that shortened the lifetime is honoured (24h issued for 48h asked)', lifetime: 24 * H, opts: { renewBefore: 25 * H }, want: at(16 * H) },
  ];
  for (const c of cases) {
    assert.deepEqual(renewalTime({ notBefore: t0, notAfter: at(c.lifetime) }, c.opts), c.want, c.name);
  }
});

test('renewalTime() truncates to the second, as cert-manager does', () => {
  const got = renewalTime({ notBefore: t0, notAfter: at(10_000) }); // a third of 10s = 3333.3ms
  assert.deepEqual(got, at(6_000));
});
