/**
 * The dashboard in Debian's Chromium (driven by playwright-core), served by the real
 * dashboard server over a collector that scrapes fake proxy admin endpoints (the
 * recorded emojivoto metrics) and a store with the demo's resources, the identity
 * issuer Certificate and its Events. Screenshots go to a temporary directory whose
 * path is printed; WEFT_UPDATE_SCREENSHOT=1 also refreshes docs/images/.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import type { ResourceInput } from '../../src/api/index.ts';
import { Collector, ensureWebBundle, startDashboard } from '../../src/viz/index.ts';
import { emojivotoStore, ROOT, SCRAPES, startFakeProxies, T0 } from './helpers.ts';

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const NOW = T0 + (SCRAPES - 2) * 10_000;

/** A self-signed root like the trust anchor (openssl: the independent maker). */
function anchorPem(dir: string): string {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=root.linkerd.cluster.local',
    '-days', '3650', '-keyout', join(dir, 'anchor.key'), '-out', join(dir, 'anchor.crt')], { stdio: 'pipe' });
  return readFileSync(join(dir, 'anchor.crt'), 'utf8');
}

test('the dashboard shows the demo topology with secured edges, the doughnut failures, the issuer\'s next renewal and workload certificates over their configured lifetime', async (t) => {
  const artifacts = mkdtempSync(join(tmpdir(), 'weft-viz-screens-'));
  process.stdout.write(`# dashboard screenshots: ${artifacts}\n`);
  const fake = await startFakeProxies(t, 70);
  const { store } = await emojivotoStore(t, fake.ips);

  // The control plane's part of the store: trust anchor, identity issuer Certificate, its issuances.
  await store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'weft' } } as ResourceInput);
  await store.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'weft-identity-trust-roots', namespace: 'weft' }, data: { 'ca-bundle.crt': anchorPem(artifacts) } } as ResourceInput);
  // Workload certificates live 30h here, not the 24h the page used to assume.
  await store.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'weft-config', namespace: 'weft' }, data: { issuanceLifetime: '30h' } } as ResourceInput);
  await store.apply({
    apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'weft-identity-issuer', namespace: 'weft' },
    spec: { secretName: 'weft-identity-issuer', issuerRef: { name: 'weft-trust-anchor', kind: 'Issuer' }, isCA: true, commonName: 'identity.weft.cluster.local', duration: '48h', renewBefore: '25h' },
  } as ResourceInput);
  const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
  const issued = NOW - 5 * 3_600_000;
  await store.updateStatus({
    kind: 'Certificate', metadata: { name: 'weft-identity-issuer', namespace: 'weft' },
    status: {
      notBefore: iso(issued), notAfter: iso(issued + 48 * 3_600_000), renewalTime: iso(issued + 23 * 3_600_000), revision: 2,
      conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'Certificate is up to date and has not expired' }],
    },
  });
  for (const [i, at] of [issued - 23 * 3_600_000, issued].entries()) {
    await store.apply({
      apiVersion: 'v1', kind: 'Event', metadata: { name: `weft-identity-issuer.${i}`, namespace: 'weft' },
      involvedObject: { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', name: 'weft-identity-issuer', namespace: 'weft' },
      reason: 'Issued', message: 'The certificate has been successfully issued', type: 'Normal', firstTimestamp: iso(at), lastTimestamp: iso(at),
    } as ResourceInput);
  }

  const collector = new Collector(store, { adminPort: fake.port, now: () => NOW, intervalMs: 1000 });
  for (let n = 0; n < SCRAPES - 2; n++) await collector.scrapeOnce();
  const dashboard = await startDashboard({ store, collector, webDir: await ensureWebBundle(), port: 0 });
  t.after(() => dashboard.close());

  const profile = mkdtempSync(join(tmpdir(), 'weft-viz-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS, viewport: { width: 1366, height: 860 } });
  t.after(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? await context.newPage();
  const foreign: string[] = [];
  page.on('request', (r) => { if (!r.url().startsWith(dashboard.url) && !r.url().startsWith('data:')) foreign.push(r.url()); });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));

  // Topology.
  await page.goto(dashboard.url);
  await page.locator('[data-testid=workloads] tr[data-workload=web]').waitFor({ timeout: 15_000 });
  const success = async (w: string): Promise<number> => Number((await page.locator(`[data-testid=workloads] tr[data-workload="${w}"] td.success`).innerText()).replace('%', ''));
  assert.ok(await success('web') < 100, 'web shows the doughnut failures');
  assert.ok(await success('voting') < 100, 'voting shows the doughnut failures');
  assert.equal(await success('emoji'), 100);
  assert.deepEqual(await page.locator('[data-testid=edges] tr[data-edge]').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-edge')} ${r.getAttribute('data-secured')}`)),
    ['vote-bot>web true', 'web>emoji true', 'web>voting true']);
  const graph = await page.waitForFunction(() => {
    const cy = (globalThis as unknown as { weftTopology?: { nodes(s: string): { length: number }; edges(): { length: number } } }).weftTopology;
    return cy !== undefined && cy.nodes('[ns]').length === 4 && cy.nodes('.lock').length === 3 ? { nodes: cy.nodes('[ns]').length, edges: cy.edges().length } : false;
  }, undefined, { timeout: 10_000 });
  assert.deepEqual(await graph.jsonValue(), { nodes: 4, edges: 3 });
  await page.screenshot({ path: join(artifacts, 'topology.png') });

  // Workload detail, by clicking through.
  await page.locator('[data-testid=workloads] a', { hasText: 'emojivoto/voting' }).click();
  await page.locator('[data-testid=golden]').waitFor();
  await page.locator('.chart canvas').first().waitFor();
  assert.match(await page.locator('body').innerText(), /web\.emojivoto\.serviceaccount\.identity\.weft\.cluster\.local/);
  await page.screenshot({ path: join(artifacts, 'workload-voting.png'), fullPage: true });

  // Certificates: the issuer with its next renewal.
  await page.goto(`${dashboard.url}#/certificates`);
  const issuer = page.locator('[data-testid=chain] tr[data-name=weft-identity-issuer]');
  await issuer.waitFor();
  const renewal = await issuer.locator('.renewal-cell').innerText();
  assert.match(renewal, new RegExp(iso(issued + 23 * 3_600_000).replace('T', ' ').replace('Z', '')));
  assert.match(renewal, /in 18h/);
  assert.equal(await page.locator('[data-testid=chain] tr[data-kind=anchor]').count(), 1);
  assert.equal(await page.locator('[data-testid=chain] tr[data-kind=workload]').count(), 4);
  // Each workload certificate spans the configured 30h (regression: drawn as notAfter - 24h): its dates,
  // its renewal at 70% of it, and its bar's width on the five-day timeline.
  const H = 3_600_000;
  const shown = (ms: number): string => iso(ms).replace('T', ' ');
  for (const row of await page.locator('[data-testid=chain] tr[data-kind=workload]').all()) {
    const [issuedText, untilText] = (await row.locator('td').nth(1).innerText()).split('\n');
    const notAfter = Date.parse(`${(untilText ?? '').replace('→ ', '').replace(' ', 'T')}`);
    assert.ok(Number.isFinite(notAfter), `a notAfter in "${untilText}"`);
    assert.equal(issuedText, shown(notAfter - 30 * H));
    assert.match(await row.locator('.renewal-cell').innerText(), new RegExp(`^${shown(notAfter - 9 * H)}\\n\\(in \\d+h \\d+m, at 70% of its lifetime\\)$`));
    assert.match(await row.locator('td').first().innerText(), /· 30h lifetime$/);
    const width = await row.locator('.validity').evaluate((el) => parseFloat((el as unknown as { style: { width: string } }).style.width));
    assert.ok(Math.abs(width - (30 / (5 * 24)) * 100) < 0.01, `bar width ${width}% is 30h of the 5-day timeline`);
  }
  await page.screenshot({ path: join(artifacts, 'certificates.png'), fullPage: true });

  // Live tap: the next scrape rounds stream in.
  await page.goto(`${dashboard.url}#/tap`);
  await page.getByText('streaming').waitFor();
  await collector.scrapeOnce();
  await page.locator('[data-testid=tap] tbody tr').first().waitFor({ timeout: 10_000 });
  assert.ok(await page.locator('[data-testid=tap] tbody tr.failure').count() >= 1, 'the doughnut failures stream as failures');
  await page.screenshot({ path: join(artifacts, 'tap.png') });

  assert.deepEqual(foreign, [], 'the page makes no request outside the dashboard');
  assert.deepEqual(pageErrors, []);
  if (process.env['WEFT_UPDATE_SCREENSHOT'] === '1') {
    mkdirSync(join(ROOT, 'docs', 'images'), { recursive: true });
    copyFileSync(join(artifacts, 'topology.png'), join(ROOT, 'docs', 'images', 'viz-topology.png'));
  }
});
