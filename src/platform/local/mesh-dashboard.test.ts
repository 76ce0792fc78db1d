import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../store/index.ts';
import { startMeshDashboard } from './mesh-dashboard.ts';

async function takenPort(t: { after(fn: () => unknown): void }): Promise<number> {
  const holder = createServer();
  holder.listen(0, '127.0.0.1');
  await once(holder, 'listening');
  t.after(() => holder.close());
  return (holder.address() as AddressInfo).port;
}

test('startMeshDashboard() serves the API at once and stops with close()', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-mesh-dash-'));
  const store = openStore({ stateDir: dir });
  t.after(() => { store.close(); rmSync(dir, { recursive: true, force: true }); });
  const dashboard = await startMeshDashboard(store, { host: '127.0.0.1', port: 0 }, () => {});
  assert.ok(dashboard !== undefined);
  assert.match(dashboard.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const res = await fetch(new URL('api/overview', dashboard.url));
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  await dashboard.close();
  await assert.rejects(fetch(new URL('api/overview', dashboard.url)));
});

test('startMeshDashboard() on a taken default address logs and runs without a dashboard; on a chosen one it fails with what to do', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-mesh-dash-'));
  const store = openStore({ stateDir: dir });
  t.after(() => { store.close(); rmSync(dir, { recursive: true, force: true }); });
  const port = await takenPort(t);
  const lines: string[] = [];
  assert.equal(await startMeshDashboard(store, { host: '127.0.0.1', port, optional: true }, (l) => lines.push(l)), undefined);
  assert.deepEqual(lines, [`dashboard: not started, 127.0.0.1:${port} is in use (pass --dashboard-addr 127.0.0.1:0 for a free port)`]);
  await assert.rejects(startMeshDashboard(store, { host: '127.0.0.1', port }, () => {}), {
    code: 'WEFT_ERR_PLATFORM_DASHBOARD',
    message: `Pass another --dashboard-addr (or --no-dashboard): cannot listen on "127.0.0.1:${port}": address in use`,
  });
});
