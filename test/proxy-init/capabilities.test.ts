/**
 * Without CAP_NET_ADMIN (root under setpriv dropping it), proxy-init fails
 * before touching anything, with a message naming the capability and the fix —
 * never iptables' "Permission denied (you must be root)".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { netns, weftIn, weftRules } from './netns.ts';

const DROP_NET_ADMIN = ['setpriv', '--inh-caps=-net_admin', '--bounding-set=-net_admin'];
const DROP_BOTH = ['setpriv', '--inh-caps=-net_admin,-net_raw', '--bounding-set=-net_admin,-net_raw'];

for (const backend of ['auto', 'legacy', 'nft'] as const) {
  test(`proxy-init --backend ${backend} without CAP_NET_ADMIN names the capability and applies nothing`, (t) => {
    const ns = netns(t, `cap-${backend}`);
    const r = weftIn(ns, ['proxy-init', '--backend', backend], DROP_NET_ADMIN);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: Grant CAP_NET_ADMIN to weft proxy-init: .* Run it as root, or in a pod add securityContext.capabilities.add \["NET_ADMIN", "NET_RAW"\]; nothing was changed\n$/);
    assert.doesNotMatch(r.stderr, /you must be root|Permission denied/);
    assert.equal(r.stdout, '');
    assert.deepEqual(weftRules(ns, 'legacy'), []);
    assert.deepEqual(weftRules(ns, 'nft'), []);
  });
}

test('proxy-init without CAP_NET_ADMIN and CAP_NET_RAW names both', (t) => {
  const ns = netns(t, 'cap-both');
  const r = weftIn(ns, ['proxy-init', '--clean'], DROP_BOTH);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: Grant CAP_NET_ADMIN and CAP_NET_RAW to weft proxy-init/);
});

test('proxy-init --dry-run with an explicit backend needs no capabilities', (t) => {
  const ns = netns(t, 'cap-dry');
  const r = weftIn(ns, ['proxy-init', '--dry-run', '--backend', 'nft', '--ipv6', 'off'], DROP_BOTH);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^iptables-nft -t nat -A OUTPUT -p tcp -j WEFT_OUTPUT$/m);
});
