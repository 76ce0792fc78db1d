/**
 * `weft viz stat` and `weft viz edges` as a user runs them, against fake proxy
 * admin endpoints (real HTTP servers on 127.0.0.x serving the recorded emojivoto
 * metrics, one scrape per request) and a store holding the demo's Pods and Deployments.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import http from 'node:http';
import { listen, request, startMesh, waitFor } from '../../test/proxy/harness.ts';
import { assertGolden, emojivotoStore, PODS, runWeft, startFakeProxies } from './helpers.ts';

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

test('weft viz tap --method GET --path /api -o json streams the matching requests from the proxies\' real /tap, both directions', async (t) => {
  // Two real proxies: vote-bot's (A, the client) and web's (B), each with its admin on its pod IP and one shared port.
  const probe = createServer().listen(0, '127.0.0.91');
  await once(probe, 'listening');
  const adminPort = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const app = http.createServer((_req, res) => res.writeHead(200).end('ok'));
  const appPort = await listen(t, app);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`web.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`web.test:${appPort}`],
    a: { admin: { host: '127.0.0.91', port: adminPort } },
    b: { admin: { host: '127.0.0.92', port: adminPort } },
  });
  // emoji's and voting's pods have IPs where nothing listens: tap says so and goes on with the others.
  const { stateDir } = await emojivotoStore(t, { 'vote-bot': '127.0.0.91', web: '127.0.0.92', emoji: '127.0.0.93', voting: '127.0.0.94' });
  const run = runWeft(['viz', 'tap', '-n', 'emojivoto', '--method', 'GET', '--path', '/api', '-o', 'json', '--count', '2', '--duration', '20s',
    '--state-dir', stateDir, '--admin-port', String(adminPort)]);
  await waitFor(() => m.a.metrics.tap.size === 1 && m.b.metrics.tap.size === 1, 'weft viz tap subscribed to both proxies', 10_000);
  const port = m.a.ports.targets[0]!;
  assert.equal((await request({ port, path: '/other' })).status, 200);
  assert.equal((await request({ port, path: '/api/votes', method: 'POST', body: 'x' })).status, 200);
  assert.equal((await request({ port, path: '/api/list?all=1' })).status, 200);
  const r = await run;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /cannot tap emojivoto\/emoji/);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(events.map((e) => [e['proxy'], e['direction'], e['method'], e['path'], e['statusCode'], e['tls'], e['clientId'], e['serverId']]).sort(), [
    [`emojivoto/${PODS.web}`, 'inbound', 'GET', '/api/list?all=1', '200', true, m.aLeaf.identity, m.bLeaf.identity],
    [`emojivoto/${PODS['vote-bot']}`, 'outbound', 'GET', '/api/list?all=1', '200', true, m.aLeaf.identity, m.bLeaf.identity],
  ].sort());
  for (const e of events) assert.match(String(e['authority']), /:\d+$/, 'the authority the client asked for');
});

test('weft viz tap and top on a proxy that accepts and never answers name it, give up after the connect timeout and exit 1 (regression: they hung)', async (t) => {
  const sockets = new Set<Socket>();
  const silent = createServer((s) => { sockets.add(s); s.on('error', () => {}); }).listen(0, '127.0.0.173');
  await once(silent, 'listening');
  t.after(() => { for (const s of sockets) s.destroy(); silent.close(); });
  const adminPort = String((silent.address() as AddressInfo).port);
  const { stateDir } = await emojivotoStore(t, { web: '127.0.0.173' });
  for (const sub of ['tap', 'top']) {
    // --duration/--count far beyond the test's patience: only the connect timeout can end the command.
    const r = await runWeft(['viz', sub, 'deploy/web', '-n', 'emojivoto', '--state-dir', stateDir, '--admin-port', adminPort,
      ...(sub === 'tap' ? ['--duration', '1h'] : [])]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, `weft: cannot tap emojivoto/${PODS.web} at 127.0.0.173: no answer within 2000 ms\n`
      + 'weft: tapped nothing: no proxy answered (1 tried, see above)\n', sub);
  }
});

test('weft viz tap on a resource with no meshed pod says what to check, with exit code 2', async (t) => {
  const fake = await startFakeProxies(t, 60);
  const { stateDir } = await emojivotoStore(t, fake.ips);
  const r = await runWeft(['viz', 'tap', 'deploy/nothing', '-n', 'emojivoto', '--state-dir', stateDir]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'error: Check the resource and namespace: no meshed pod with an IP in "deployment/nothing"\n');
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
