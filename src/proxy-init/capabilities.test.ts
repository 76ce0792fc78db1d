import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveCapabilities, missingCapabilities } from './capabilities.ts';

test('effectiveCapabilities() reads the CapEff line of /proc/self/status', () => {
  assert.equal(effectiveCapabilities('Name:\tnode\nCapPrm:\t0\nCapEff:\t000001fffeffefff\nCapBnd:\t0\n'), 0x1fffeffefffn);
  assert.equal(effectiveCapabilities('Name:\tnode\n'), 0n);
});

test('missingCapabilities() names what a root process under setpriv -net_admin lacks', () => {
  assert.deepEqual(missingCapabilities(0x1fffeffefffn), ['CAP_NET_ADMIN']);
  assert.deepEqual(missingCapabilities(0x1fffeffffffn), []);
  assert.deepEqual(missingCapabilities(0n), ['CAP_NET_ADMIN', 'CAP_NET_RAW']);
});
