/**
 * Fixtures for the viz tests: the emojivoto demo's resources (Deployments, Pods,
 * Services) and its proxies' recorded `/metrics` (fixtures/emojivoto, made by
 * fixtures/record-emojivoto.ts), served by real HTTP servers on 127.0.0.x as fake
 * proxy admin endpoints.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Deployment, Pod, ResourceInput, Service } from '../../src/api/index.ts';
import { openStore, type SqliteStore } from '../../src/store/index.ts';
import {
  parsePrometheusText, ScrapeHistory, scrapeTargets, type Inventory, type MeshData,
} from '../../src/viz/index.ts';
import { PODS, T0 } from './fixtures/record-emojivoto.ts';

export { DOUGHNUTS, PODS, T0 } from './fixtures/record-emojivoto.ts';

type T = { after: (fn: () => void | Promise<void>) => void };

/** The number of recorded scrapes per pod (0…6, 10 s apart). */
export const SCRAPES = 7;
const DIR = join(import.meta.dirname, 'fixtures', 'emojivoto');

/** Recorded scrape `n` of a pod's proxy. */
export function fixtureText(pod: string, n: number): string {
  return readFileSync(join(DIR, pod, `${n}.prom`), 'utf8');
}

const APPS = Object.keys(PODS) as Array<keyof typeof PODS>;

/** The demo's resources, with each pod's IP from `ips` (default 10.244.0.10…). */
export function emojivotoResources(ips: Readonly<Record<string, string>> = {}): { deployments: Deployment[]; pods: Pod[]; services: Service[] } {
  const deployments: Deployment[] = APPS.map((app) => ({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: app, namespace: 'emojivoto' },
    spec: {
      replicas: 1, selector: { matchLabels: { 'app.kubernetes.io/name': app } },
      template: { metadata: { labels: { 'app.kubernetes.io/name': app } }, spec: { serviceAccountName: app, containers: [{ name: app, command: ['true'] }] } },
    },
  }));
  const pods: Pod[] = APPS.map((app, i) => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: PODS[app], namespace: 'emojivoto', labels: { 'app.kubernetes.io/name': app, 'weft.dev/deployment': app } },
    spec: { serviceAccountName: app, containers: [{ name: app, command: ['true'] }] },
    status: { phase: 'Running', podIP: ips[app] ?? `10.244.0.${10 + i}`, meshed: true },
  }));
  const services: Service[] = (['web', 'emoji', 'voting'] as const).map((app, i) => ({
    apiVersion: 'v1', kind: 'Service', metadata: { name: `${app}-svc`, namespace: 'emojivoto' },
    spec: { clusterIP: `10.96.0.${10 + i}`, selector: { 'app.kubernetes.io/name': app }, ports: [{ port: app === 'web' ? 80 : 8080 }] },
  }));
  return { deployments, pods, services };
}

/** The demo's inventory, as the collector reads it from the store. */
export function emojivotoInventory(ips: Readonly<Record<string, string>> = {}): Inventory {
  return { ...emojivotoResources(ips), identity: { trustDomain: 'cluster.local', controlPlaneNamespace: 'weft' } };
}

/** Every pod's recorded scrapes `from`…`to` in a history, as the collector would have recorded them. */
export function emojivotoData(options: { from?: number; to?: number } = {}): MeshData {
  const inventory = emojivotoInventory();
  const history = new ScrapeHistory({ windowMs: 3_600_000 });
  const to = options.to ?? SCRAPES - 1;
  for (const target of scrapeTargets(inventory)) {
    for (let n = options.from ?? 0; n <= to; n++) {
      history.record(target, { timeMs: T0 + n * 10_000, samples: parsePrometheusText(fixtureText(target.pod, n)) });
    }
  }
  return { inventory, histories: history.histories(), nowMs: T0 + to * 10_000 };
}

/** A temporary store holding the demo's resources (pods at `ips`), closed and removed after the test. */
export async function emojivotoStore(t: T, ips: Readonly<Record<string, string>>): Promise<{ store: SqliteStore; stateDir: string }> {
  const stateDir = mkdtempSync(join(tmpdir(), 'weft-viz-'));
  const store = openStore({ stateDir });
  t.after(() => {
    store.close();
    rmSync(stateDir, { recursive: true, force: true });
  });
  await store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'emojivoto' } } as ResourceInput);
  const { deployments, pods, services } = emojivotoResources(ips);
  for (const o of [...deployments, ...services]) await store.apply(o as unknown as ResourceInput);
  for (const p of pods) {
    await store.apply({ ...p, status: undefined } as unknown as ResourceInput);
    await store.updateStatus({ kind: 'Pod', metadata: { name: p.metadata.name, namespace: 'emojivoto' }, status: p.status });
  }
  return { store, stateDir };
}

/** Fake proxy admin endpoints, one per demo pod, each on its own 127.0.0.x with one shared port. */
export interface FakeProxies {
  readonly ips: Readonly<Record<string, string>>;
  readonly port: number;
  /** Serve scrape `n` from now on (default: each GET serves the next scrape, stopping at the last). */
  pin(n: number | undefined): void;
}

/** Starts the fake endpoints (closed after the test). `base` picks the 127.0.0.x range so test files can run at once. */
export async function startFakeProxies(t: T, base: number): Promise<FakeProxies> {
  const ips: Record<string, string> = {};
  let pinned: number | undefined;
  let port = 0;
  const servers: http.Server[] = [];
  t.after(async () => { await Promise.all(servers.map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); }))); });
  for (const [i, app] of APPS.entries()) {
    const ip = `127.0.0.${base + i}`;
    ips[app] = ip;
    let next = 0;
    const server = http.createServer((req, res) => {
      if (req.url !== '/metrics') { res.writeHead(404).end(); return; }
      const n = pinned ?? Math.min(next++, SCRAPES - 1);
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(fixtureText(PODS[app], n));
    });
    servers.push(server);
    server.listen(port, ip);
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
  }
  return { ips, port, pin: (n) => { pinned = n; } };
}

/** The repository root, for running bin/weft.js. */
export const ROOT = join(import.meta.dirname, '..', '..');
const GOLDEN = join(import.meta.dirname, 'golden');

/** Compares `actual` with golden file `name`; WEFT_UPDATE_GOLDEN=1 rewrites it. */
export function assertGolden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (process.env['WEFT_UPDATE_GOLDEN'] === '1') {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
  }
  assert.ok(existsSync(file), `Golden file ${file} is missing: run with WEFT_UPDATE_GOLDEN=1 to create it`);
  assert.equal(actual, readFileSync(file, 'utf8'), `Output differs from ${file} (WEFT_UPDATE_GOLDEN=1 rewrites it)`);
}

/** Runs `weft ARGS…` as a user does (without blocking this process's fake servers); resolves to its exit code and output. */
export function runWeft(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'weft.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
