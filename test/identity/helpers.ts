/**
 * Shared fixtures for identity's integration tests and benchmark: a manual clock,
 * a fresh store, a trust anchor and issuers, and bounded polls.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  exportPrivateKey, generateKeyPair, importPrivateKey, issueCertificate, parseCertificates,
  type Certificate, type CryptoKey,
} from '../../src/pki/index.ts';
import { openStore, type ResourceStore } from '../../src/store/index.ts';
import {
  bootstrapControlPlane, DEFAULT_IDENTITY_CONFIG, TRUST_ANCHOR_SECRET, type Clock, type IdentityConfig, type TimerHandle,
} from '../../src/identity/index.ts';

/** A clock that moves only when told; timers fire in due order on {@link ManualClock.advance}. */
export class ManualClock implements Clock {
  #now: number;
  #timers: Array<{ at: number; fn: () => void; id: number }> = [];
  #seq = 0;

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const t = { at: this.#now + Math.max(0, ms), fn, id: this.#seq++ };
    this.#timers.push(t);
    return { cancel: () => { this.#timers = this.#timers.filter((x) => x !== t); } };
  }

  /** Delays (from now) of the pending timers, soonest first. */
  pending(): number[] {
    return this.#timers.map((t) => t.at - this.#now).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = end;
  }
}

/** Polls `cond` every 10 ms until it holds; fails after `timeoutMs` (default 10 s) naming `what`. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A temporary directory removed by `cleanup`. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `weft-identity-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A CA: certificate and key. */
export interface Ca {
  readonly certificate: Certificate;
  readonly privateKey: CryptoKey;
}

/** Options of {@link makeIssuer}. */
export interface IssuerOptions {
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly isCA?: boolean;
  readonly subject?: string;
}

/** Signs an intermediate (identity issuer) under `parent`. */
export async function makeIssuer(parent: Ca, opts: IssuerOptions): Promise<Ca> {
  const keys = await generateKeyPair();
  const isCA = opts.isCA ?? true;
  const certificate = await issueCertificate({
    subject: opts.subject ?? 'identity.weft.cluster.local',
    publicKey: keys.publicKey,
    issuer: parent,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    isCA,
    ...(isCA ? { pathLen: 0, keyUsage: ['keyCertSign', 'cRLSign'] } : { keyUsage: ['digitalSignature'] }),
  });
  return { certificate, privateKey: keys.privateKey };
}

/** A self-signed root. */
export async function makeRoot(now: number, subject = 'root.other.cluster.local'): Promise<Ca> {
  const keys = await generateKeyPair();
  const certificate = await issueCertificate({
    subject, publicKey: keys.publicKey, issuer: { selfSigned: keys.privateKey },
    notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 10 * 365 * 86_400_000),
    isCA: true, pathLen: 1, keyUsage: ['keyCertSign', 'cRLSign'],
  });
  return { certificate, privateKey: keys.privateKey };
}

/** Writes the issuer Secret as the certificate controller would (`kubernetes.io/tls`). */
export async function writeIssuerSecret(store: ResourceStore, issuer: Ca, root: Certificate, opts: { keyOf?: Ca; config?: IdentityConfig } = {}): Promise<void> {
  const config = opts.config ?? DEFAULT_IDENTITY_CONFIG;
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  await store.apply({
    apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
    metadata: { name: config.issuerSecretName, namespace: config.controlPlaneNamespace },
    data: {
      'tls.crt': b64(issuer.certificate.pem),
      'tls.key': b64(await exportPrivateKey((opts.keyOf ?? issuer).privateKey)),
      'ca.crt': b64(root.pem),
    },
  });
}

/** A bootstrapped store with its trust anchor and a first issuer written, plus a ServiceAccount. */
export interface ControlPlaneFixture {
  readonly store: ResourceStore;
  readonly anchor: Ca;
  readonly issuer: Ca;
  readonly config: IdentityConfig;
  readonly dir: string;
  cleanup(): void;
}

/** Bootstraps a fresh store at `clock`'s time and writes a 48 h issuer under the bootstrap's anchor. */
export async function controlPlane(clock: Clock, config: Partial<IdentityConfig> = {}): Promise<ControlPlaneFixture> {
  const { dir, cleanup } = tempDir('store');
  const store = openStore({ stateDir: dir, clock: () => new Date(clock.now()) });
  const result = await bootstrapControlPlane(store, { config, clock });
  const anchorSecret = await store.get('Secret', TRUST_ANCHOR_SECRET, result.config.controlPlaneNamespace);
  const pem = (k: string): string => Buffer.from(anchorSecret?.data?.[k] ?? '', 'base64').toString('utf8');
  const anchor: Ca = {
    certificate: parseCertificates(pem('tls.crt'))[0] as Certificate,
    privateKey: (await importPrivateKey(pem('tls.key'))).privateKey,
  };
  const now = clock.now();
  const issuer = await makeIssuer(anchor, { notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 48 * 3_600_000) });
  await writeIssuerSecret(store, issuer, anchor.certificate, { config: result.config });
  for (const ns of ['emojivoto']) await store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (const sa of ['web', 'voting']) await store.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: 'emojivoto' } });
  return {
    store, anchor, issuer, config: result.config, dir,
    cleanup: () => {
      store.close();
      cleanup();
    },
  };
}
