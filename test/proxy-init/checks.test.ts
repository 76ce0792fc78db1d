/**
 * The checks before anything is applied, with the real host in a real namespace
 * wrapped to stand for a machine that lacks something.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { proxyInit, proxyInitOptions, systemHost, type Host } from '../../src/proxy-init/index.ts';
import { netns, weftRules } from './netns.ts';

test('proxy-init --backend nft names the missing iptables-nft binary and the package to install', async (t) => {
  const ns = netns(t, 'nobin');
  const real = systemHost({ netns: ns });
  const host: Host = { ...real, findBinary: (name) => name.includes('-nft') ? Promise.resolve(undefined) : real.findBinary(name) };
  await assert.rejects(proxyInit(proxyInitOptions({ backend: 'nft' }), { host }), {
    code: 'WEFT_ERR_PROXY_INIT_MISSING_BINARY',
    message: 'Install "iptables-nft" for --backend nft: it is not on the PATH (Debian/Ubuntu: apt-get install iptables), or use --backend legacy',
  });
  assert.deepEqual(weftRules(ns, 'nft'), []);
});

test('proxy-init auto uses legacy when only iptables-legacy is installed', async (t) => {
  const ns = netns(t, 'onlylegacy');
  const real = systemHost({ netns: ns });
  const host: Host = { ...real, findBinary: (name) => name.includes('-nft') ? Promise.resolve(undefined) : real.findBinary(name) };
  const report = await proxyInit(proxyInitOptions({ ipv6: 'off' }), { host });
  assert.equal(report.backend, 'legacy');
  assert.equal(report.reason, 'only iptables-legacy is installed (no iptables-nft)');
  assert.ok(weftRules(ns, 'legacy').length > 0);
});

test('proxy-init explains a sandbox that refuses nf_tables despite the capabilities, instead of "you must be root"', async (t) => {
  const ns = netns(t, 'seccomp');
  const real = systemHost({ netns: ns });
  // What iptables-nft prints when seccomp or an LSM blocks netlink (the article's error).
  const refused = 'iptables v1.8.8 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)';
  const host: Host = {
    ...real,
    run: (argv) => argv[0] === 'iptables-nft' ? Promise.resolve({ code: 4, stdout: '', stderr: refused }) : real.run(argv),
  };
  const err = await proxyInit(proxyInitOptions({ backend: 'nft' }), { host }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof Error);
  assert.equal((err as Error & { code: string }).code, 'WEFT_ERR_PROXY_INIT_KERNEL');
  assert.match(err.message, /^Allow netfilter in this sandbox: the kernel refused iptables-nft although this process has CAP_NET_ADMIN and CAP_NET_RAW/);
  assert.doesNotMatch(err.message, /you must be root/);
  assert.deepEqual(weftRules(ns, 'nft'), []);
});

test('proxy-init --ipv6 auto skips IPv6 and says why when ip6tables cannot open its nat table', async (t) => {
  const ns = netns(t, 'no6nat');
  const real = systemHost({ netns: ns });
  const host: Host = {
    ...real,
    run: (argv) => argv[0] === 'ip6tables-legacy' && argv.includes('-L') && !argv.includes('WEFT_INBOUND') && !argv.includes('WEFT_OUTPUT')
      ? Promise.resolve({ code: 3, stdout: '', stderr: "ip6tables v1.8.9 (legacy): can't initialize ip6tables table `nat': Table does not exist (do you need to insmod?)" })
      : real.run(argv),
  };
  const report = await proxyInit(proxyInitOptions({ backend: 'legacy' }), { host });
  assert.deepEqual(report.families, [4]);
  assert.deepEqual(report.notes, [
    "IPv6 rules skipped: Load the legacy nat table (modprobe ip6table_nat), or use --backend nft: the kernel does not offer it (ip6tables v1.8.9 (legacy): can't initialize ip6tables table `nat': Table does not exist (do you need to insmod?))",
  ]);
});
