/**
 * Both backends for real, each in a namespace of its own: rules applied,
 * re-applied without duplicates, removed; auto-detection; rollback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { proxyInit, proxyInitOptions, systemHost, type Host } from '../../src/proxy-init/index.ts';
import { netns, sh, weftIn, weftRules } from './netns.ts';

/** What `iptables-save -t nat` shows of weft's rules with the defaults, per family. */
function expectedRules(): string[] {
  const lines = [
    ':WEFT_INBOUND -',
    ':WEFT_OUTPUT -',
    '-A PREROUTING -p tcp -j WEFT_INBOUND',
    '-A OUTPUT -p tcp -j WEFT_OUTPUT',
    '-A WEFT_INBOUND -p tcp -m multiport --dports 4190,4191 -j RETURN',
    '-A WEFT_INBOUND -p tcp -j REDIRECT --to-ports 4143',
    '-A WEFT_OUTPUT -m owner --uid-owner 2102 -j RETURN',
    '-A WEFT_OUTPUT -o lo -j RETURN',
    '-A WEFT_OUTPUT -p tcp -j REDIRECT --to-ports 4140',
  ];
  return [...lines.map((l) => `4 ${l}`), ...lines.map((l) => `6 ${l}`)].sort();
}

for (const backend of ['legacy', 'nft'] as const) {
  const other = backend === 'nft' ? 'legacy' : 'nft';

  test(`proxy-init --backend ${backend} applies, re-applies idempotently and cleans`, (t) => {
    const ns = netns(t, backend);
    const first = weftIn(ns, ['proxy-init', '--backend', backend, '--ipv6', 'on']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`backend ${backend} \\(chosen with --backend\\)`));
    assert.deepEqual(weftRules(ns, backend).sort(), expectedRules());
    assert.deepEqual(weftRules(ns, other), []);

    const again = weftIn(ns, ['proxy-init', '--backend', backend, '--ipv6', 'on']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(weftRules(ns, backend).sort(), expectedRules(), 'same rules, no duplicates');

    const changed = weftIn(ns, ['proxy-init', '--backend', backend, '--ipv6', 'on', '--outbound-port', '5140']);
    assert.equal(changed.code, 0, changed.stderr);
    const rules = weftRules(ns, backend);
    assert.equal(rules.filter((l) => l.includes('REDIRECT --to-ports 5140')).length, 2);
    assert.equal(rules.filter((l) => l.includes('--to-ports 4140')).length, 0, 'the chains were replaced');

    const clean = weftIn(ns, ['proxy-init', '--backend', backend, '--clean']);
    assert.equal(clean.code, 0, clean.stderr);
    assert.deepEqual(weftRules(ns, backend), []);
    const cleanAgain = weftIn(ns, ['proxy-init', '--backend', backend, '--clean']);
    assert.equal(cleanAgain.code, 0, 'cleaning twice is fine');
  });

  test(`proxy-init auto picks ${backend} when the namespace already has rules there`, (t) => {
    const ns = netns(t, `auto-${backend}`);
    // Someone else's rule (a firewall, kube-proxy…) marks the backend in use.
    sh(['ip', 'netns', 'exec', ns, `iptables-${backend}`, '-t', 'filter', '-A', 'INPUT', '-p', 'tcp', '--dport', '9', '-j', 'ACCEPT']);
    const r = weftIn(ns, ['proxy-init']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`backend ${backend} \\(the ${backend} tables hold 1 rule\\(s\\) and the ${other} tables none\\)`));
    assert.ok(weftRules(ns, backend).length > 0);
    assert.deepEqual(weftRules(ns, other), []);

    const clean = weftIn(ns, ['proxy-init', '--clean']);
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stdout, new RegExp(`backend ${backend} \\(weft's chains from an earlier run are in the ${backend} tables\\)`));
    assert.deepEqual(weftRules(ns, backend), []);
  });

  test(`proxy-init auto re-runs in ${backend} when weft's chains are there`, (t) => {
    const ns = netns(t, `rerun-${backend}`);
    assert.equal(weftIn(ns, ['proxy-init', '--backend', backend]).code, 0);
    const r = weftIn(ns, ['proxy-init']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`backend ${backend} \\(weft's chains from an earlier run are in the ${backend} tables\\)`));
    assert.deepEqual(weftRules(ns, other), []);
  });

  test(`proxy-init --backend ${backend} rolls back when a rule fails half-way`, async (t) => {
    const ns = netns(t, `rollback-${backend}`);
    const real = systemHost({ netns: ns });
    // The real host, except that the last IPv6 jump fails, after every IPv4 rule is in.
    const failing: Host = {
      ...real,
      run: (argv) => argv[0] === `ip6tables-${backend}` && argv.includes('-A') && argv.includes('OUTPUT')
        ? Promise.resolve({ code: 1, stdout: '', stderr: 'ip6tables: injected failure.' })
        : real.run(argv),
    };
    await assert.rejects(proxyInit(proxyInitOptions({ backend, ipv6: 'on' }), { host: failing }), {
      code: 'WEFT_ERR_PROXY_INIT_APPLY',
      message: `Cannot apply rule "ip6tables-${backend} -t nat -A OUTPUT -p tcp -j WEFT_OUTPUT" (rolled back what was applied): ip6tables: injected failure.`,
    });
    assert.deepEqual(weftRules(ns, backend), []);
  });
}

test('proxy-init auto says when weft chains are left in the other backend', (t) => {
  const ns = netns(t, 'both');
  assert.equal(weftIn(ns, ['proxy-init', '--backend', 'legacy', '--ipv6', 'off']).code, 0);
  // Many more rules in nft: auto must still follow weft's own chains.
  for (let port = 1; port <= 3; port += 1) {
    sh(['ip', 'netns', 'exec', ns, 'iptables-nft', '-A', 'INPUT', '-p', 'tcp', '--dport', String(port), '-j', 'ACCEPT']);
  }
  const r = weftIn(ns, ['proxy-init', '--ipv6', 'off']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /backend legacy \(weft's chains from an earlier run are in the legacy tables\)/);
});

test('proxy-init --ipv6 auto skips IPv6 rules in a namespace with IPv6 disabled, and says so', (t) => {
  const ns = netns(t, 'no6');
  sh(['ip', 'netns', 'exec', ns, 'sysctl', '-q', 'net.ipv6.conf.all.disable_ipv6=1']);
  const r = weftIn(ns, ['proxy-init', '--backend', 'nft']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /note: IPv6 rules skipped: IPv6 is disabled in this namespace/);
  assert.match(r.stdout, /redirecting IPv4 TCP/);
  assert.ok(weftRules(ns, 'nft').every((l) => l.startsWith('4 ')));
  const on = weftIn(ns, ['proxy-init', '--backend', 'nft', '--ipv6', 'on']);
  assert.equal(on.code, 2);
  assert.match(on.stderr, /^error: Enable IPv6 in this namespace \(sysctl net.ipv6.conf.all.disable_ipv6=0\)/);
});
