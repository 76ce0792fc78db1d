/**
 * The identity area's client door: what a process that only calls the identity
 * service imports — the sidecar proxy, and the destination client's retry timing.
 * Nothing here loads the service side (store, resources, issuer, tokens), which
 * would cost every sidecar ~25 MB of memory (measured in bench/README.md), nor
 * src/pki or a gRPC library: the CSR is a few lines of DER over node:crypto and
 * Certify goes over node:http2 (src/grpc-client).
 * `index.ts` re-exports all of it for everyone else.
 */
export { systemClock, type Clock, type TimerHandle } from './clock.ts';
export {
  DEFAULT_IDENTITY_DOMAIN, identityDomainOf, identityName, identityServiceName, type IdentityDomain,
} from './names.ts';
export { DEFAULT_REFRESH_POLICY, refreshDelay, retryDelay, type RefreshPolicy } from './refresh-time.ts';
export { CertifyCallError, IdentityRpcClient, type IdentityRpcClientOptions } from './rpc-client.ts';
export { startIdentityClient, type IdentityClient, type IdentityClientOptions, type IdentityMaterial } from './workload-client.ts';
export type { WorkloadLeaf } from './workload-leaf.ts';
