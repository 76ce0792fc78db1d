import type { ResourceStore } from '../store/index.ts';
import type { PemCache } from './pem-cache.ts';

/** What every small controller of the certificate controller shares. */
export interface ControllerContext {
  readonly store: ResourceStore;
  /** The injected clock; tests move it to renew without waiting. */
  readonly now: () => Date;
  /** Namespace of ClusterIssuer CA Secrets. */
  readonly clusterResourceNamespace: string;
  /** How far notBefore is back-dated, ms, so a peer whose clock is behind still accepts. */
  readonly clockSkew: number;
  /** First retry delay after a failed issuance, ms. */
  readonly backoffInitial: number;
  /** Longest retry delay, ms. */
  readonly backoffMax: number;
  /** Secret contents parsed in this pass (see PemCache). */
  readonly pem: PemCache;
}

/** Component name on Events the controller records. */
export const COMPONENT = 'weft-certs';
