/**
 * Fixtures for `weft check` tests: the article's mesh in a temporary store (trust
 * anchor by `weft pki create --profile root-ca`, the 48h/25h issuer Certificate run
 * by the real certificate controller), the CLI run as a user runs it, and golden files.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import type { ResourceInput } from '../../src/api/index.ts';
import { CertificateController } from '../../src/certs/index.ts';
import { startIdentityService } from '../../src/identity/index.ts';
import { openStore, type ResourceStore } from '../../src/store/index.ts';
import { ARTICLE_YAML, ManualClock, ROOT, createTlsSecret, pkiCreate } from '../../test/certs/helpers.ts';

// The article's scenario is set up as the certificate controller's tests set it up.
export { ARTICLE_YAML, ManualClock, ROOT, createTlsSecret, pkiCreate };



type T = { after: (fn: () => void) => void };

/** A temporary directory removed after the test. */
export function tempDir(t: T, prefix = 'weft-check-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}




/** Every golden scenario starts at this instant: fixed, so output is byte-stable. */
export const T0 = new Date('2026-12-01T00:00:00Z');
/** One hour, in ms. */
export const H = 3_600_000;

/** The article's mesh, reconciled once at {@link T0}. */
export interface ArticleMesh {
  readonly dir: string;
  readonly stateDir: string;
  readonly clock: ManualClock;
  readonly store: ResourceStore;
  readonly controller: CertificateController;
}


/**
 * Builds the article's scenario in namespace `linkerd`: anchor (10 years, absolute
 * dates so output is stable), its Secret and CA Issuer, the identity issuer
 * Certificate (48h, renewBefore 25h), the trust-roots bundle, and `weft-config`
 * pointing identity at them; then one controller pass.
 */
export async function articleMesh(t: T, options: { anchorNotAfter?: string; start?: Date } = {}): Promise<ArticleMesh> {
  const dir = tempDir(t);
  const clock = new ManualClock(Math.floor((options.start ?? T0).getTime() / 1000) * 1000);
  pkiCreate(dir, [
    'root.linkerd.cluster.local', 'ca.crt', 'ca.key', '--profile', 'root-ca', '--no-password', '--insecure',
    `--not-before=${options.start === undefined ? '2026-11-01T00:00:00Z' : '-1h'}`,
    `--not-after=${options.anchorNotAfter ?? (options.start === undefined ? '2036-11-01T00:00:00Z' : '87600h')}`,
  ]);
  const stateDir = join(dir, 'state');
  const store = openStore({ stateDir, clock: clock.now, pollIntervalMs: 20 });
  t.after(() => store.close());
  for (const name of ['linkerd', 'weft']) await store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  await createTlsSecret(store, 'linkerd-trust-anchor', 'linkerd', join(dir, 'ca.crt'), join(dir, 'ca.key'));
  for (const doc of parseAllDocuments(ARTICLE_YAML)) await store.apply(doc.toJS() as ResourceInput);
  await store.apply({
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'weft-identity-trust-roots', namespace: 'linkerd' },
    data: { 'ca-bundle.crt': readFileSync(join(dir, 'ca.crt'), 'utf8') },
  });
  await store.apply({
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'weft-config', namespace: 'weft' },
    data: { trustDomain: 'cluster.local', controlPlaneNamespace: 'linkerd', identityIssuerSecret: 'linkerd-identity-issuer', identityIssuerScheme: 'kubernetes.io/tls', issuanceLifetime: '24h' },
  });
  const controller = new CertificateController(store, { clock: clock.now });
  await controller.reconcileAll();
  return { dir, stateDir, clock, store, controller };
}

/** What one CLI run printed and how it exited. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `weft ARGS` in a child process (asynchronously: the test process may be serving the endpoints it probes). */
export function weft(args: readonly string[], options: { wrapper?: readonly string[] } = {}): Promise<CliRun> {
  const argv = [...(options.wrapper ?? []), process.execPath, join(ROOT, 'bin', 'weft.js'), ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** `weft check` on the article's mesh, judged at the clock's time. */
export function check(mesh: ArticleMesh, controlPlaneAdmin: string, extra: readonly string[] = []): Promise<CliRun> {
  return weft(['check', '--state-dir', mesh.stateDir, '--at', mesh.clock.now().toISOString(), '--control-plane-admin', controlPlaneAdmin, ...extra]);
}

const GOLDEN = join(import.meta.dirname, 'golden');

/**
 * Compares `actual` with golden file `name`; with WEFT_UPDATE_GOLDEN=1 rewrites it
 * instead (then review the diff before committing).
 */
export function assertGolden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (process.env.WEFT_UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `Golden file ${file} is missing: run with WEFT_UPDATE_GOLDEN=1 to create it`);
  assert.equal(actual, readFileSync(file, 'utf8'), `Output differs from ${file} (WEFT_UPDATE_GOLDEN=1 rewrites it)`);
}

/**
 * Starts the real identity service over the mesh's store, on the mesh's clock, with
 * its admin listener: the control plane `weft check` asks `/ready`. Stopped after the test.
 */
export async function startControlPlane(t: { after: (fn: () => Promise<void> | void) => void }, mesh: ArticleMesh): Promise<string> {
  const identity = await startIdentityService(mesh.store, {
    addr: '127.0.0.1:0',
    adminAddr: '127.0.0.1:0',
    clock: { now: () => mesh.clock.now().getTime(), setTimer: () => ({ cancel: () => {} }) },
  });
  t.after(() => identity.close());
  await identity.whenReady();
  return identity.adminAddress as string;
}

/** The lines of a text report from the line starting with `mark description` up to the next check. */
export function section(stdout: string, description: string): string {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.slice(2) === description);
  assert.ok(at >= 0, `No check "${description}" in:\n${stdout}`);
  const end = lines.findIndex((l, i) => i > at && !l.startsWith('    '));
  return lines.slice(at, end).join('\n');
}

/** A port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
