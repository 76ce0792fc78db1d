import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { openStore, type ResourceStore } from '../../src/store/index.ts';
import type { ResourceInput } from '../../src/api/index.ts';

/** The repository root, for running bin/weft.js. */
export const ROOT = join(import.meta.dirname, '..', '..');

/** A clock the test moves by hand. */
export class ManualClock {
  #now: number;
  constructor(start = Math.floor(Date.now() / 1000) * 1000) {
    this.#now = start;
  }
  now = (): Date => new Date(this.#now);
  advance(ms: number): void {
    this.#now += ms;
  }
  set(at: Date): void {
    this.#now = at.getTime();
  }
}

/** A temporary directory removed after the test. */
export function tempDir(t: { after: (fn: () => void) => void }, prefix = 'weft-certs-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Opens a store in `dir` with the manual clock; closed after the test. */
export function storeIn(t: { after: (fn: () => void) => void }, dir: string, clock: ManualClock): ResourceStore {
  const store = openStore({ stateDir: dir, clock: clock.now, pollIntervalMs: 20 });
  t.after(() => store.close());
  return store;
}

/** Runs `weft pki create` as a user would, with step's flags. */
export function pkiCreate(dir: string, args: string[]): void {
  execFileSync(process.execPath, [join(ROOT, 'bin', 'weft.js'), 'pki', 'create', ...args], { cwd: dir, stdio: 'pipe' });
}

/** Applies every document of a YAML text to the store. */
export async function applyYaml(store: ResourceStore, text: string): Promise<void> {
  for (const doc of parseAllDocuments(text)) {
    const object = doc.toJS() as ResourceInput | null;
    if (object !== null) await store.apply(object);
  }
}

/** `kubectl create secret tls NAME --cert --key -n NS`, into the store. */
export async function createTlsSecret(store: ResourceStore, name: string, namespace: string, crtFile: string, keyFile: string): Promise<void> {
  await store.apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': readFileSync(crtFile).toString('base64'),
      'tls.key': readFileSync(keyFile).toString('base64'),
    },
  });
}

/**
 * The article's objects in `store`: namespace `linkerd`, the trust anchor Secret from
 * `dir`'s ca.crt and ca.key (made by `weft pki create`), its Issuer and Certificate.
 */
export async function applyArticle(store: ResourceStore, dir: string): Promise<void> {
  await store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'linkerd' } });
  await createTlsSecret(store, 'linkerd-trust-anchor', 'linkerd', join(dir, 'ca.crt'), join(dir, 'ca.key'));
  await applyYaml(store, ARTICLE_YAML);
}

/** Writes a Secret's data keys as files into `dir` and returns their paths. */
export function writeSecretFiles(secret: { data?: Record<string, string> }, dir: string): Record<string, string> {
  const paths: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) {
    const path = join(dir, key);
    writeFileSync(path, Buffer.from(value, 'base64'));
    paths[key] = path;
  }
  return paths;
}

/** Runs openssl and returns stdout; throws with stderr when it fails. */
export function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The article's trust-anchor Issuer and identity-issuer Certificate, unchanged. */
export const ARTICLE_YAML = `
apiVersion: cert-manager.io/v1
kind: Issuer
metadata:
  name: linkerd-trust-anchor
  namespace: linkerd
spec:
  ca:
    secretName: linkerd-trust-anchor
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: linkerd-identity-issuer
  namespace: linkerd
spec:
  secretName: linkerd-identity-issuer
  duration: 48h
  renewBefore: 25h
  issuerRef:
    name: linkerd-trust-anchor
    kind: Issuer
  commonName: identity.linkerd.cluster.local
  dnsNames:
  - identity.linkerd.cluster.local
  isCA: true
  privateKey:
    algorithm: ECDSA
  usages:
  - cert sign
  - crl sign
  - server auth
  - client auth
`;
