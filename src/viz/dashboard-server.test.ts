import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../store/index.ts';
import { Collector } from './collector.ts';
import { startDashboard } from './dashboard-server.ts';

test('startDashboard() answers a malformed path with 400 and keeps serving (regression: it threw URIError and ended the process)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-viz-dash-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const webDir = join(dir, 'web');
  mkdirSync(webDir);
  writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>weft</title>\n');
  const store = openStore({ stateDir: join(dir, 'state') });
  t.after(() => store.close());
  const dashboard = await startDashboard({ store, collector: new Collector(store), webDir, port: 0 });
  t.after(() => dashboard.close());

  const bad = await fetch(new URL('/%E0%A4%A', dashboard.url));
  assert.equal(bad.status, 400);
  await bad.arrayBuffer();
  const page = await fetch(dashboard.url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>weft<\/title>/);
});
