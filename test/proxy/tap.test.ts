/**
 * The admin tap stream: one JSON line per finished request, with method, path,
 * status and both identities, and nothing built while nobody is tapping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { TestContext } from 'node:test';
import { listen, request, startMesh, waitFor } from './harness.ts';

type Line = Record<string, unknown>;

/** Opens `/tap` on an admin port and collects its lines until the test ends. */
async function tap(t: TestContext, port: number): Promise<Line[]> {
  const lines: Line[] = [];
  await new Promise<void>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/tap' }, (res) => {
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'application/x-ndjson');
      let rest = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        rest += c;
        let nl: number;
        while ((nl = rest.indexOf('\n')) >= 0) {
          lines.push(JSON.parse(rest.slice(0, nl)) as Line);
          rest = rest.slice(nl + 1);
        }
      });
      res.on('error', () => {});
      resolve();
    });
    req.on('error', reject);
    t.after(() => req.destroy());
  });
  return lines;
}

test('the tap stream reports each request with method, path, status and both identities, and builds nothing untapped', async (t) => {
  const app = http.createServer((req, res) => {
    res.writeHead(req.url === '/api/fail' ? 503 : 200);
    res.end('ok');
  });
  const appPort = await listen(t, app);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`web.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`web.test:${appPort}`],
  });
  const port = m.a.ports.targets[0]!;
  assert.equal((await request({ port, path: '/before' })).status, 200);
  assert.equal(m.a.metrics.tap.emitted + m.b.metrics.tap.emitted, 0, 'no subscriber: no event is built');

  const outbound = await tap(t, m.a.ports.admin);
  const inbound = await tap(t, m.b.ports.admin);
  await waitFor(() => m.a.metrics.tap.size === 1 && m.b.metrics.tap.size === 1, 'both taps subscribed');
  assert.equal((await request({ port, path: '/api/items?x=1', method: 'GET' })).status, 200);
  assert.equal((await request({ port, path: '/api/fail', method: 'POST', body: 'x' })).status, 503);
  await waitFor(() => outbound.length === 2 && inbound.length === 2, 'two events on each tap');

  const aId = m.aLeaf.identity;
  const bId = m.bLeaf.identity;
  for (const [lines, direction] of [[outbound, 'outbound'], [inbound, 'inbound']] as const) {
    assert.deepEqual(lines.map((l) => [l['direction'], l['method'], l['path'], l['status'], l['tls'], l['clientId'], l['serverId']]), [
      [direction, 'GET', '/api/items?x=1', 200, true, aId, bId],
      [direction, 'POST', '/api/fail', 503, true, aId, bId],
    ]);
    for (const l of lines) {
      assert.match(String(l['authority']), /:\d+$/, 'the authority, as in the metrics labels');
      assert.equal(typeof l['latencyMs'], 'number');
      assert.ok(Math.abs((l['ts'] as number) - Date.now()) < 60_000);
    }
  }
});
