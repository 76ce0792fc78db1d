/**
 * `weft check --pre` on this machine (root, iptables, namespaces): the real CLI
 * under setpriv without CAP_NET_ADMIN fails the capabilities check with its hint;
 * the checks in-process with the real host see a busy port and a read-only state
 * directory. Backend detection is proxy-init's own, so its verdict is compared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PreContext, preChecks, runChecks, type CheckResult } from '../../src/check/index.ts';
import { chooseBackend, gatherEvidence, systemHost } from '../../src/proxy-init/index.ts';
import { section, tempDir, weft } from './helpers.ts';

const DROP_NET_ADMIN = ['setpriv', '--inh-caps=-net_admin', '--bounding-set=-net_admin'];

function result(results: readonly CheckResult[], description: string): CheckResult {
  const r = results.find((x) => x.description === description);
  assert.ok(r, `no check "${description}"`);
  return r;
}

test('weft check --pre without CAP_NET_ADMIN fails the capabilities check with its hint and exit 1', async (t) => {
  const dir = tempDir(t);
  const r = await weft(['check', '--pre', '--state-dir', join(dir, 'state')], { wrapper: DROP_NET_ADMIN });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const s = section(r.stdout, 'has CAP_NET_ADMIN and CAP_NET_RAW');
  assert.match(s, /^× has CAP_NET_ADMIN and CAP_NET_RAW\n    Grant CAP_NET_ADMIN: weft creates network namespaces and NAT rules\. Run it as root/);
  assert.match(s, /see docs\/check\.md#pre-capabilities for hints/);
  assert.match(section(r.stdout, 'runs on Linux with network namespaces'), /^✓/);
});

test('weft check --pre as root passes the capability, iptables and backend checks, naming the backend auto picks', async (t) => {
  const dir = tempDir(t);
  const r = await weft(['check', '--pre', '--state-dir', join(dir, 'state'), '-o', 'json']);
  const checks = JSON.parse(r.stdout).categories[0].checks as Array<{ description: string; result: string; detail?: string; error?: string }>;
  const by = (d: string) => checks.find((c) => c.description === d);
  assert.equal(by('has CAP_NET_ADMIN and CAP_NET_RAW')?.result, 'success');
  assert.equal(by('iptables is installed')?.result, 'success');
  assert.equal(by('the kernel supports NAT')?.result, 'success');
  assert.equal(by('the state directory is writable')?.result, 'success');
  const expected = chooseBackend(await gatherEvidence(systemHost(), false));
  assert.match(by('the iptables backend is known')?.detail ?? by('the iptables backend is known')?.error ?? '', new RegExp(`--backend auto picks ${expected.backend}: `));
});

test('a busy control-plane port and a read-only state directory fail their checks', async (t) => {
  const server = createServer().listen(0, '127.0.0.1');
  t.after(() => server.close());
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  // Root ignores mode bits: a directory under /proc/sys, where nothing can be created, stands for a read-only mount.
  const report = await runChecks(preChecks(), new PreContext({
    host: systemHost(), stateDir: join('/proc/sys', 'weft-check-state'),
    ports: [{ host: '127.0.0.1', port, what: 'control-plane admin' }],
  }));
  const ports = result(report.results, 'control-plane ports are free');
  assert.equal(ports.outcome.kind, 'error');
  assert.match(ports.outcome.kind === 'error' ? ports.outcome.message : '', new RegExp(`^Free 127\\.0\\.0\\.1:${port} \\(control-plane admin\\): something already listens there$`));
  assert.equal(ports.hint, 'docs/check.md#pre-ports');
  const state = result(report.results, 'the state directory is writable');
  assert.equal(state.outcome.kind, 'error');
  assert.equal(state.hint, 'docs/check.md#pre-state-dir');
});
