/**
 * `weft check --pre` on this machine (root, iptables, namespaces): the real CLI
 * under setpriv without CAP_NET_ADMIN fails the capabilities check with its hint;
 * the checks in-process with the real host see a busy port and a read-only state
 * directory, and judge ports at the bridge address weft up binds, not 127.0.0.1. Backend detection is proxy-init's own, so its verdict is compared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PreContext, preChecks, runChecks, type CheckResult } from '../../src/check/index.ts';
import { addressPlan, controlPlaneAddresses, plannedControlPlaneAddresses } from '../../src/platform/index.ts';
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
  assert.match(ports.outcome.kind === 'error' ? ports.outcome.message : '', new RegExp(`^Free 127\\.0\\.0\\.1:${port} \\(control-plane admin\\): something already listens on "127\\.0\\.0\\.1:${port}"$`));
  assert.equal(ports.hint, 'docs/check.md#pre-ports');
  const state = result(report.results, 'the state directory is writable');
  assert.equal(state.outcome.kind, 'error');
  assert.equal(state.hint, 'docs/check.md#pre-state-dir');
});

async function listen(t: { after: (fn: () => void) => void }, host: string): Promise<number> {
  const server = createServer().listen(0, host);
  t.after(() => server.close());
  await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as AddressInfo).port;
}

test('the ports check judges the bridge address weft up binds: a listener on 127.0.0.1 leaves it free, one on 0.0.0.0 takes it (regression: it probed 127.0.0.1)', async (t) => {
  const gateway = controlPlaneAddresses(addressPlan(231)).admin.split(':')[0] ?? '';
  const loopbackOnly = await listen(t, '127.0.0.1');
  const wildcard = await listen(t, '0.0.0.0');
  const ports = async (port: number) => result((await runChecks(preChecks(), new PreContext({
    host: systemHost(), stateDir: join(tempDir(t), 'state'), ports: [{ host: gateway, port, what: 'identity' }],
  }))).results, 'control-plane ports are free').outcome;
  assert.deepEqual(await ports(loopbackOnly), { kind: 'ok', detail: `the control plane will listen on ${gateway}:${loopbackOnly}` });
  const taken = await ports(wildcard);
  assert.equal(taken.kind, 'error');
  assert.equal(taken.kind === 'error' ? taken.message : '', `Free ${gateway}:${wildcard} (identity): something already listens on "0.0.0.0:${wildcard}"`);
});

test('weft check --pre names the addresses weft up would bind for its state directory: the bridge gateway, not 127.0.0.1', async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const planned = await plannedControlPlaneAddresses(stateDir);
  assert.match(planned.admin, /^10\.244\.\d+\.1:9990$/);
  const r = await weft(['check', '--pre', '--state-dir', stateDir, '-o', 'json']);
  const checks = JSON.parse(r.stdout).categories[0].checks as Array<{ description: string; result: string; detail?: string; error?: string }>;
  const ports = checks.find((c) => c.description === 'control-plane ports are free');
  assert.equal(ports?.detail, `the control plane will listen on ${planned.admin}, ${planned.identity}, ${planned.destination}`);
});
