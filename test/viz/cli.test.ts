/**
 * `weft viz stat` and `weft viz edges` as a user runs them, against fake proxy
 * admin endpoints (real HTTP servers on 127.0.0.x serving the recorded emojivoto
 * metrics, one scrape per request) and a store holding the demo's Pods and Deployments.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { assertGolden, emojivotoStore, runWeft, startFakeProxies } from './helpers.ts';

test('weft viz stat deploy -n emojivoto prints a row per deployment with the doughnut failures', async (t) => {
  const fake = await startFakeProxies(t, 20);
  const { stateDir } = await emojivotoStore(t, fake.ips);
  // Two scrapes: recorded 0 and 1, 10 s apart by their timestamps: one interval of demo traffic.
  const r = await runWeft(['viz', 'stat', 'deploy', '-n', 'emojivoto', '--state-dir', stateDir, '--admin-port', String(fake.port), '-t', '50ms']);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assertGolden('stat-deploy.txt', r.stdout);
  assert.match(r.stdout, /^web\s+1\/1\s+95\.00%\s+2\.0rps/m);
  assert.match(r.stdout, /^voting\s+1\/1\s+90\.00%\s+1\.0rps/m);
});

test('weft viz stat -o json gives the same numbers as data', async (t) => {
  const fake = await startFakeProxies(t, 30);
  const { stateDir } = await emojivotoStore(t, fake.ips);
  const r = await runWeft(['viz', 'stat', 'deploy', 'web', '-n', 'emojivoto', '-o', 'json', '--state-dir', stateDir, '--admin-port', String(fake.port), '-t', '50ms']);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as Array<{ name: string; successRate: number; rps: number; responses: number }>;
  assert.deepEqual(rows.map((x) => [x.name, x.successRate, x.rps, x.responses]), [['web', 0.95, 2, 20]]);
});

test('weft viz edges deploy -n emojivoto prints every hop as secured with both identities', async (t) => {
  const fake = await startFakeProxies(t, 40);
  const { stateDir } = await emojivotoStore(t, fake.ips);
  const r = await runWeft(['viz', 'edges', 'deploy', '-n', 'emojivoto', '--state-dir', stateDir, '--admin-port', String(fake.port), '-t', '50ms']);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assertGolden('edges-deploy.txt', r.stdout);
});

test('weft viz stat refuses an unknown kind with a one-line hint and exit code 2', async (t) => {
  const fake = await startFakeProxies(t, 50);
  const { stateDir } = await emojivotoStore(t, fake.ips);
  const r = await runWeft(['viz', 'stat', 'widgets', '--state-dir', stateDir]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'error: Use one of deploy, po, ns, svc as the resource kind: got "widgets"\n');
});

test('weft viz tap streams the failures of an interval, and refuses --method until proxies have a tap endpoint', async (t) => {
  const fake = await startFakeProxies(t, 60);
  const { stateDir } = await emojivotoStore(t, fake.ips);
  const r = await runWeft(['viz', 'tap', 'deploy/voting', '-n', 'emojivoto', '-o', 'json', '--count', '1', '--interval', '10ms', '--state-dir', stateDir, '--admin-port', String(fake.port)]);
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { classification: string; count: number; dst: string });
  assert.deepEqual(events.map((e) => [e.dst, e.classification, e.count]).sort(), [['emojivoto/voting', 'failure', 1], ['emojivoto/voting', 'success', 9]]);
  const refused = await runWeft(['viz', 'tap', 'deploy/web', '--method', 'GET', '--state-dir', stateDir]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /^error: Drop --method and --path/);
});

test('weft viz dashboard on an address in use (weft up\'s own dashboard, say) says where to look and what to pass, with exit code 2', async (t) => {
  const fake = await startFakeProxies(t, 80);
  const { stateDir } = await emojivotoStore(t, fake.ips);
  const holder = createServer().listen(0, '127.0.0.1');
  await once(holder, 'listening');
  t.after(() => holder.close());
  const port = (holder.address() as AddressInfo).port;
  const r = await runWeft(['viz', 'dashboard', '--address', `127.0.0.1:${port}`, '--state-dir', stateDir]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, `error: Open http://127.0.0.1:${port}/ if weft up serves the dashboard there, or pass --address HOST:PORT (port 0 picks a free one): the address is in use\n`);
});
