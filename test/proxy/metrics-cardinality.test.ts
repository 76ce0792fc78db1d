import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { listen, metrics, sample, startMesh } from './harness.ts';

test('Inbound requests under more distinct authorities than the bound share one authority="other" series', async (t) => {
  const app = http.createServer((_req, res) => res.end('ok'));
  const appPort = await listen(t, app);
  const m = await startMesh(t, { destinations: () => [], forwardPort: appPort });
  // The authority is the client's to choose: 600 of them, with keep-alive.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  t.after(() => agent.destroy());
  const get = (host: string): Promise<number> => new Promise((resolve, reject) => {
    http.get({ port: m.b.ports.inbound, path: '/', headers: { host }, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
  for (let i = 0; i < 600; i += 50) {
    const statuses = await Promise.all(Array.from({ length: 50 }, (_, j) => get(`svc-${i + j}.test`)));
    assert.ok(statuses.every((s) => s === 200));
  }
  const text = await metrics(m.b);
  const series = text.split('\n').filter((l) => l.startsWith('request_total{direction="inbound"'));
  assert.equal(series.length, 501, 'one series per authority up to 500, then one for the rest');
  assert.equal(sample(text, 'request_total', 'direction="inbound"', 'authority="other"'), 100);
  assert.equal(sample(text, 'request_total', 'direction="inbound"'), 600);
});
