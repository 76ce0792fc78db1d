/**
 * The proxy as the platform runs it (`node src/cli/proxy.ts`) gives back the pages
 * of the node binary that start-up touched (--page-release-interval, on by default)
 * and keeps proxying: two proxies, one with the release turned off, carry the same
 * traffic, and the one that releases maps far less of its files.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { listen, request, waitFor } from './harness.ts';
import { TestPki } from './pki-fixture.ts';

const ENTRY = new URL('../../src/cli/proxy.ts', import.meta.url).pathname;

type LogLine = { msg: string; level: string; inbound?: string; mb?: number };

/** Starts `node src/cli/proxy.ts` with `extra` flags; resolves with its pid, inbound port and log lines. */
async function startProxy(t: TestContext, pki: TestPki, appPort: number, extra: string[]): Promise<{ pid: number; inbound: number; lines: LogLine[] }> {
  const leaf = pki.leaf('web');
  const child = spawn(process.execPath, [ENTRY, '--log-level', 'info', '--key-file', leaf.keyFile, '--cert-file', leaf.certFile,
    '--trust-anchors-file', leaf.trustAnchorsFile, '--inbound-addr', '127.0.0.1:0', '--outbound-addr', '127.0.0.1:0',
    '--admin-addr', '127.0.0.1:0', '--inbound-forward-port', String(appPort), ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => { child.kill('SIGKILL'); });
  const lines: LogLine[] = [];
  let partial = '';
  child.stderr.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as LogLine);
  });
  await waitFor(() => lines.some((l) => l.msg === 'proxy started'), 'the proxy to start', 15_000);
  return { pid: child.pid!, inbound: Number(lines.find((l) => l.msg === 'proxy started')!.inbound), lines };
}

const rssFileKb = (pid: number): number => Number(/RssFile:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

test('the proxy gives back its start-up pages once listening and still proxies afterwards', async (t) => {
  const pki = new TestPki('pages');
  t.after(() => pki.remove());
  const app = http.createServer((_q, s) => s.end('ok'));
  const appPort = await listen(t, app);
  const releasing = await startProxy(t, pki, appPort, []);
  const keeping = await startProxy(t, pki, appPort, ['--page-release-interval', '0']);
  await waitFor(() => releasing.lines.some((l) => l.msg === 'unused pages released'), 'the first release', 10_000);

  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  t.after(() => agent.destroy());
  for (const p of [releasing, keeping]) {
    const replies = await Promise.all(Array.from({ length: 200 }, () => request({ port: p.inbound, agent })));
    assert.deepEqual(new Set(replies.map((r) => `${r.status} ${r.body}`)), new Set(['200 ok']));
  }

  const released = releasing.lines.find((l) => l.msg === 'unused pages released')!;
  assert.equal(released.level, 'info');
  assert.ok((released.mb ?? 0) > 20, `released ${released.mb} MB of file pages`);
  assert.ok(!keeping.lines.some((l) => l.msg === 'unused pages released'), '--page-release-interval 0 turns it off');
  const [a, b] = [rssFileKb(releasing.pid), rssFileKb(keeping.pid)];
  assert.ok(b - a > 10_000, `after the same traffic, file pages mapped: ${a} kB releasing, ${b} kB not`);
});

test('a bad --page-release-interval is refused before the proxy starts', async () => {
  for (const [value, message] of [
    ['often', /Set --page-release-interval to a duration such as "10s"/],
    ['100ms', /Set --page-release-interval between 1s and 24h, or 0 to turn it off: got "100ms"/],
    ['600h', /Set --page-release-interval between 1s and 24h/],
  ] as const) {
    const child = spawn(process.execPath, [ENTRY, '--page-release-interval', value], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const code = await new Promise<number | null>((r) => child.on('close', r));
    assert.equal(code, 2, value);
    assert.match(err, message);
  }
});
