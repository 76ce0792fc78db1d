/**
 * A control-plane server's own TLS: a workload leaf for one of its ServiceAccounts
 * (`weft-identity`, `weft-destination`: `<sa>.<cp-ns>.serviceaccount.identity.<cp-ns>.<td>`)
 * issued from the current issuer, and the trust anchors that client certificates must
 * chain to. Both change without a restart: a grpc-js CertificateProvider for each side.
 *
 *   IssuerSource ──onChange──▶ renew leaf (issueLeaf) ──▶ identity listeners, onRenewed
 *        │                        ▲ timer at 70% of life; 10 s after a failure
 *        └── anchors() ───────────┴────────────────────▶ CA listeners (client verification)
 */
import type { experimental } from '@grpc/grpc-js';
import { exportPrivateKey, generateKeyPair, type Certificate } from '../pki/index.ts';
import type { Clock, TimerHandle } from './clock.ts';
import type { IdentityConfig } from './config.ts';
import type { IssuerSource } from './issuer-source.ts';
import { issueLeaf } from './leaf.ts';
import { refreshDelay } from './refresh-time.ts';

type CertificateProvider = experimental.CertificateProvider;
type CaCertificateUpdate = experimental.CaCertificateUpdate;
type CaCertificateUpdateListener = experimental.CaCertificateUpdateListener;
type IdentityCertificateUpdate = experimental.IdentityCertificateUpdate;
type IdentityCertificateUpdateListener = experimental.IdentityCertificateUpdateListener;

// After a failed renewal, try again this soon: the current certificate serves meanwhile.
const RETRY_MS = 10_000;

/** Options of {@link ServingCertProvider}. */
export interface ServingCertOptions {
  /** Where the issuer and the anchors come from. */
  readonly issuers: IssuerSource;
  /** Trust domain, control-plane namespace, lifetime and clock-skew allowance of the leaf. */
  readonly config: IdentityConfig;
  /** The ServiceAccount, in the control-plane namespace, whose identity the leaf carries. */
  readonly serviceAccount: string;
  readonly clock: Clock;
  /** Jitter of the renewal time, in [0, 1) (default Math.random). */
  readonly random?: () => number;
}

/** Serving certificate and client trust anchors of a control-plane gRPC server, renewed on their own. */
export class ServingCertProvider implements CertificateProvider {
  readonly #opts: ServingCertOptions;
  readonly #identityListeners = new Set<IdentityCertificateUpdateListener>();
  readonly #caListeners = new Set<CaCertificateUpdateListener>();
  readonly #renewedListeners = new Set<(leaf: Certificate) => void>();
  #identity: IdentityCertificateUpdate | null = null;
  #ca: CaCertificateUpdate | null = null;
  #caPem = '';
  #timer: TimerHandle | undefined;
  #renewing: Promise<void> = Promise.resolve();
  #closed = false;
  #unsubscribe: (() => void) | undefined;
  /** The leaf being served; undefined until the first renewal succeeds. */
  leaf: Certificate | undefined;

  constructor(opts: ServingCertOptions) {
    this.#opts = opts;
  }

  /** Issues the first certificate (when an issuer is valid) and follows issuer and anchor changes. */
  async start(): Promise<void> {
    this.#unsubscribe = this.#opts.issuers.onChange(() => void this.renew());
    await this.renew();
  }

  /** Stops renewing; resolves after a renewal in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe?.();
    this.#timer?.cancel();
    await this.#renewing;
  }

  /** Calls `cb` with every newly served leaf; returns the unsubscribe function. */
  onRenewed(cb: (leaf: Certificate) => void): () => void {
    this.#renewedListeners.add(cb);
    return () => this.#renewedListeners.delete(cb);
  }

  addCaCertificateListener(listener: CaCertificateUpdateListener): void {
    this.#caListeners.add(listener);
    this.#replay(() => this.#ca, listener);
  }

  removeCaCertificateListener(listener: CaCertificateUpdateListener): void {
    this.#caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityCertificateUpdateListener): void {
    this.#identityListeners.add(listener);
    this.#replay(() => this.#identity, listener);
  }

  removeIdentityCertificateListener(listener: IdentityCertificateUpdateListener): void {
    this.#identityListeners.delete(listener);
  }

  // The current value goes to a new listener on the next microtask, not at once:
  // grpc-js registers listeners before the server's own watcher, so a value given
  // synchronously is lost and the server drops every connection ("unloaded
  // credentials") until the next renewal.
  #replay<T>(current: () => T | null, listener: (value: T) => void): void {
    queueMicrotask(() => {
      const value = current();
      if (value !== null) listener(value);
    });
  }

  /** Re-reads the anchors and issues a fresh key and leaf; serialised, so a change during a renewal runs one more. */
  renew(): Promise<void> {
    this.#renewing = this.#renewing.then(() => this.#renewOnce()).catch(() => {
      if (!this.#closed) this.#timer = this.#opts.clock.setTimer(RETRY_MS, () => void this.renew());
    });
    return this.#renewing;
  }

  async #renewOnce(): Promise<void> {
    if (this.#closed) return;
    const { issuers, config, clock } = this.#opts;
    this.#timer?.cancel();
    const anchors = issuers.anchors().map((c) => c.pem).join('');
    if (anchors !== '' && anchors !== this.#caPem) {
      this.#caPem = anchors;
      this.#ca = { caCertificate: Buffer.from(anchors) };
      for (const l of this.#caListeners) l(this.#ca);
    }
    const now = new Date(clock.now());
    const issuer = issuers.current(now);
    if (issuer === undefined) return;
    const keys = await generateKeyPair();
    const leaf = await issueLeaf(issuer, {
      serviceAccount: { namespace: config.controlPlaneNamespace, serviceAccount: this.#opts.serviceAccount },
      domain: config,
      publicKey: keys.publicKey,
      now,
      lifetimeMs: config.issuanceLifetimeMs,
      clockSkewMs: config.clockSkewMs,
    });
    const chainPem = [leaf, ...issuer.chain].map((c) => c.pem).join('');
    this.#identity = { certificate: Buffer.from(chainPem), privateKey: Buffer.from(await exportPrivateKey(keys.privateKey)) };
    this.leaf = leaf;
    for (const l of this.#identityListeners) l(this.#identity);
    this.#timer = clock.setTimer(refreshDelay(leaf.notAfter.getTime(), clock.now(), (this.#opts.random ?? Math.random)()), () => void this.renew());
    for (const cb of this.#renewedListeners) cb(leaf);
  }
}
