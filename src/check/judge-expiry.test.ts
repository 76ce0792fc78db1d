import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeExpiry, type ManagedRenewal } from './judge-expiry.ts';
import { durationText } from './format.ts';

const H = 3_600_000;
const now = new Date('2026-12-01T00:00:00Z');
const at = (hours: number): Date => new Date(now.getTime() + hours * H);
const renewing: ManagedRenewal = {
  certificate: 'linkerd/linkerd-identity-issuer', renewalTime: at(23), ready: true, readyText: '',
  failedAttempts: 0, lastFailureTime: undefined, failureMessage: undefined, coverageProblem: undefined,
};
const base = { what: 'issuer "CN=x"', now, thresholdMs: 60 * 24 * H, longestChildLifetimeMs: 24 * H };

test("judgeExpiry() passes the article's 48h issuer renewed 25h before expiry (regression: Linkerd's 60-day false alarm)", () => {
  assert.deepEqual(judgeExpiry({ ...base, notAfter: at(48), managed: renewing }), {
    kind: 'ok', detail: 'Issuer "CN=x" rotates automatically; next renewal 2026-12-01T23:00:00Z, 25h before expiry',
  });
});

test('judgeExpiry() makes an unmanaged certificate inside the threshold an error, and outside it ok', () => {
  assert.equal(judgeExpiry({ ...base, notAfter: at(48) }).kind, 'error');
  assert.deepEqual(judgeExpiry({ ...base, notAfter: at(61 * 24) }), { kind: 'ok' });
});

test('judgeExpiry() warns about a managed certificate whose renewal fails, is overdue, or is too late for its children', () => {
  const failing = judgeExpiry({ ...base, notAfter: at(48), managed: { ...renewing, failedAttempts: 2, lastFailureTime: at(-1) } });
  assert.equal(failing.kind, 'warning');
  const overdue = judgeExpiry({ ...base, now: at(24), notAfter: at(48), managed: renewing });
  assert.match(overdue.kind === 'warning' ? overdue.message : '', /renewal was due at 2026-12-01T23:00:00Z and has not happened/);
  const late = judgeExpiry({ ...base, notAfter: at(48), managed: { ...renewing, renewalTime: at(36) } });
  assert.match(late.kind === 'warning' ? late.message : '', /renews 12h before it expires, but certificates it signs live 24h/);
});

test('judgeExpiry() makes anything expired an error, managed or not', () => {
  assert.equal(judgeExpiry({ ...base, notAfter: at(-1), managed: renewing }).kind, 'error');
});

test('durationText() writes days from 3 days up and at most two units', () => {
  assert.deepEqual([60 * 24 * H, 73 * H, 25 * H, 1.5 * H, 45 * 60_000, 30_000].map(durationText), ['60d', '3d1h', '25h', '1h30m', '45m', '30s']);
});
