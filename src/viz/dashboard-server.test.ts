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

test('startDashboard() with a lazy webDir builds the bundle only on the first page request, once, and answers the API without it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-viz-lazy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openStore({ stateDir: join(dir, 'state') });
  t.after(() => store.close());
  let builds = 0;
  let fail = true;
  const build = async (): Promise<string> => {
    builds++;
    if (fail) throw new Error('Install the dashboard\'s build tools with "npm ci": vite is missing');
    const webDir = join(dir, 'web');
    mkdirSync(webDir, { recursive: true });
    writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>lazy</title>\n');
    return webDir;
  };
  const dashboard = await startDashboard({ store, collector: new Collector(store), webDir: build, port: 0 });
  t.after(() => dashboard.close());

  const overview = await fetch(new URL('/api/overview', dashboard.url));
  assert.equal(overview.status, 200);
  await overview.arrayBuffer();
  assert.equal(builds, 0, 'the API needs no bundle');
  const broken = await fetch(dashboard.url);
  assert.deepEqual({ status: broken.status, body: await broken.text() }, { status: 503, body: 'Install the dashboard\'s build tools with "npm ci": vite is missing\n' });
  fail = false;
  const pages = await Promise.all([fetch(dashboard.url), fetch(new URL('/index.html', dashboard.url))]);
  for (const p of pages) assert.match(await p.text(), /<title>lazy<\/title>/);
  assert.equal(builds, 2, 'a failed build is retried; concurrent requests share one build');
});
