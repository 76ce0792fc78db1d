/**
 * The identity service's own TLS certificate: a workload leaf for its own identity
 * (`weft-identity.<cp-ns>.serviceaccount.identity.<cp-ns>.<td>`), issued from the
 * current issuer, renewed at 70% of its life and whenever the issuer changes, and
 * handed to the gRPC server without a restart (a grpc-js CertificateProvider).
 */
import type { experimental } from '@grpc/grpc-js';
import { exportPrivateKey, generateKeyPair, type Certificate } from '../pki/index.ts';
import type { Issuer } from './issuer.ts';
import { issueLeaf } from './leaf.ts';
import { IDENTITY_SERVICE_ACCOUNT, type IdentityDomain } from './names.ts';

type CertificateProvider = experimental.CertificateProvider;
type IdentityCertificateUpdate = experimental.IdentityCertificateUpdate;
type IdentityCertificateUpdateListener = experimental.IdentityCertificateUpdateListener;

/** A CertificateProvider whose identity certificate we set from code. */
export class ServingCertProvider implements CertificateProvider {
  readonly #listeners = new Set<IdentityCertificateUpdateListener>();
  #latest: IdentityCertificateUpdate | null = null;
  /** The certificate being served, for renewal decisions and tests. */
  leaf: Certificate | undefined;

  addCaCertificateListener(): void {}
  removeCaCertificateListener(): void {}

  addIdentityCertificateListener(listener: IdentityCertificateUpdateListener): void {
    this.#listeners.add(listener);
    // Deliver the current value on the next tick, not now: grpc-js registers its own
    // server watcher only after this call returns, and would miss a synchronous update.
    queueMicrotask(() => {
      if (this.#latest !== null && this.#listeners.has(listener)) listener(this.#latest);
    });
  }

  removeIdentityCertificateListener(listener: IdentityCertificateUpdateListener): void {
    this.#listeners.delete(listener);
  }

  /** Issues a fresh key and leaf from `issuer` and starts serving them. */
  async renew(issuer: Issuer, opts: { domain: IdentityDomain; now: Date; lifetimeMs: number; clockSkewMs: number }): Promise<Certificate> {
    const keys = await generateKeyPair();
    const leaf = await issueLeaf(issuer, {
      serviceAccount: { namespace: opts.domain.controlPlaneNamespace, serviceAccount: IDENTITY_SERVICE_ACCOUNT },
      domain: opts.domain,
      publicKey: keys.publicKey,
      now: opts.now,
      lifetimeMs: opts.lifetimeMs,
      clockSkewMs: opts.clockSkewMs,
    });
    const chainPem = [leaf, ...issuer.chain].map((c) => c.pem).join('');
    this.#latest = { certificate: Buffer.from(chainPem), privateKey: Buffer.from(await exportPrivateKey(keys.privateKey)) };
    this.leaf = leaf;
    for (const l of this.#listeners) l(this.#latest);
    return leaf;
  }
}
