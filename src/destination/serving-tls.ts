/**
 * The destination service's TLS: its own workload certificate
 * (`weft-destination.<cp-ns>.serviceaccount.identity.<cp-ns>.<td>`) issued from the
 * identity issuer, and the trust anchors that client certificates must chain to.
 * Both change without a restart: a grpc-js CertificateProvider for each side.
 *
 *   IssuerSource ──onChange──▶ renew leaf (issueLeaf) ──▶ identity listeners
 *        │                        ▲ timer at 70% of life
 *        └── anchors() ───────────┴────────────────────▶ CA listeners (client verification)
 */
import type { experimental } from '@grpc/grpc-js';
import { exportPrivateKey, generateKeyPair, type Certificate } from '../pki/index.ts';
import {
  identityName, issueLeaf, refreshDelay, type Clock, type IdentityConfig, type IssuerSource, type TimerHandle,
} from '../identity/index.ts';

type CertificateProvider = experimental.CertificateProvider;
type CaCertificateUpdate = experimental.CaCertificateUpdate;
type CaCertificateUpdateListener = experimental.CaCertificateUpdateListener;
type IdentityCertificateUpdate = experimental.IdentityCertificateUpdate;
type IdentityCertificateUpdateListener = experimental.IdentityCertificateUpdateListener;

/** The destination service's ServiceAccount, in the control-plane namespace. */
export const DESTINATION_SERVICE_ACCOUNT = 'weft-destination';

/** The name the destination service's certificate carries, and clients verify. */
export function destinationServiceName(domain: { controlPlaneNamespace: string; trustDomain: string }): string {
  return identityName({ namespace: domain.controlPlaneNamespace, serviceAccount: DESTINATION_SERVICE_ACCOUNT }, domain);
}

// After a failed renewal, try again this soon: the current certificate serves meanwhile.
const RETRY_MS = 10_000;

/** Serving certificate and client trust anchors for the destination gRPC server. */
export class ServingTls implements CertificateProvider {
  readonly #identityListeners = new Set<IdentityCertificateUpdateListener>();
  readonly #caListeners = new Set<CaCertificateUpdateListener>();
  readonly #issuers: IssuerSource;
  readonly #config: IdentityConfig;
  readonly #clock: Clock;
  #identity: IdentityCertificateUpdate | null = null;
  #ca: CaCertificateUpdate | null = null;
  #caPem = '';
  #timer: TimerHandle | undefined;
  #renewing: Promise<void> = Promise.resolve();
  #closed = false;
  #unsubscribe: (() => void) | undefined;
  /** The leaf being served. */
  leaf: Certificate | undefined;

  constructor(opts: { issuers: IssuerSource; config: IdentityConfig; clock: Clock }) {
    this.#issuers = opts.issuers;
    this.#config = opts.config;
    this.#clock = opts.clock;
  }

  /** Issues the first certificate and follows issuer and anchor changes. */
  async start(): Promise<void> {
    this.#unsubscribe = this.#issuers.onChange(() => void this.renew());
    await this.renew();
  }

  /** Stops renewing. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe?.();
    this.#timer?.cancel();
    await this.#renewing;
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

  /** Re-reads the anchors and issues a fresh leaf; serialised, so changes during a renewal run one more. */
  renew(): Promise<void> {
    this.#renewing = this.#renewing.then(() => this.#renewOnce()).catch(() => {
      if (!this.#closed) this.#timer = this.#clock.setTimer(RETRY_MS, () => void this.renew());
    });
    return this.#renewing;
  }

  async #renewOnce(): Promise<void> {
    if (this.#closed) return;
    this.#timer?.cancel();
    const anchors = this.#issuers.anchors().map((c) => c.pem).join('');
    if (anchors !== '' && anchors !== this.#caPem) {
      this.#caPem = anchors;
      this.#ca = { caCertificate: Buffer.from(anchors) };
      for (const l of this.#caListeners) l(this.#ca);
    }
    const now = new Date(this.#clock.now());
    const issuer = this.#issuers.current(now);
    if (issuer === undefined) return;
    const keys = await generateKeyPair();
    const leaf = await issueLeaf(issuer, {
      serviceAccount: { namespace: this.#config.controlPlaneNamespace, serviceAccount: DESTINATION_SERVICE_ACCOUNT },
      domain: this.#config,
      publicKey: keys.publicKey,
      now,
      lifetimeMs: this.#config.issuanceLifetimeMs,
      clockSkewMs: this.#config.clockSkewMs,
    });
    const chainPem = [leaf, ...issuer.chain].map((c) => c.pem).join('');
    this.#identity = { certificate: Buffer.from(chainPem), privateKey: Buffer.from(await exportPrivateKey(keys.privateKey)) };
    this.leaf = leaf;
    for (const l of this.#identityListeners) l(this.#identity);
    this.#timer = this.#clock.setTimer(refreshDelay(leaf.notAfter.getTime(), this.#clock.now(), Math.random()), () => void this.renew());
  }
}
