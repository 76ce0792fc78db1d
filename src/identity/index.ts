/**
 * weft identity: the service that signs workload certificates
 * (`io.linkerd.proxy.identity.Identity/Certify`, wire-compatible with Linkerd),
 * its token validation and issuer hot-reload, the control-plane bootstrap, and the
 * client proxies use to keep a valid certificate.
 */
export {
  bootstrapControlPlane, CA_ISSUER_NAME, IDENTITY_ISSUER_DURATION, IDENTITY_ISSUER_RENEW_BEFORE, TRUST_ANCHOR_SECRET,
  type BootstrapOptions, type BootstrapResult,
} from './bootstrap.ts';
export { certify, CertifyResult, csrProblem, type CertifyDeps, type CertifyOutcome } from './certify.ts';
export { startIdentityClient, type IdentityClient, type IdentityClientOptions, type IdentityMaterial } from './workload-client.ts';
export type { WorkloadLeaf } from './workload-leaf.ts';
export { systemClock, type Clock, type TimerHandle } from './clock.ts';
export {
  configMapData, DEFAULT_IDENTITY_CONFIG, identityConfigFrom, IssuerScheme, issuerSecretKeys, TRUST_ROOTS_CONFIG_MAP, TRUST_ROOTS_KEY,
  WEFT_CONFIG_NAME, WEFT_CONFIG_NAMESPACE, type IdentityConfig,
} from './config.ts';
export { checkIssuer, IssuerRefusal, loadIssuer, type Issuer, type IssuerLoad } from './issuer.ts';
export { IDENTITY_COMPONENT, IdentityEventReason, IssuerReloadResult, IssuerSource, type IssuerSourceOptions } from './issuer-source.ts';
export { generateJwtSigningKey, type JwtSigningKey } from './jwt.ts';
export { issueLeaf, type LeafOptions } from './leaf.ts';
export {
  DEFAULT_IDENTITY_DOMAIN, IDENTITY_SERVICE_ACCOUNT, identityDomainOf, identityName, identityServiceName, parseIdentityName, spiffeId,
  type IdentityDomain, type ServiceAccountRef,
} from './names.ts';
export { DEFAULT_REFRESH_POLICY, refreshDelay, retryDelay, type RefreshPolicy } from './refresh-time.ts';
export { CertifyCallError, IdentityRpcClient, type IdentityRpcClientOptions } from './rpc-client.ts';
export { ServingCertProvider, type ServingCertOptions } from './serving-cert.ts';
export {
  DEFAULT_IDENTITY_ADDR, startIdentityService, type IdentityService, type IdentityServiceOptions,
} from './service.ts';
export {
  createServiceAccountToken, ensureTokenSigningKey, storeTokenValidator, TOKEN_SIGNING_KEY_SECRET,
} from './token-key.ts';
export {
  EmbeddedTokenValidator, mintToken, TOKEN_AUDIENCE, TOKEN_ISSUER, TokenRefusal,
  type EmbeddedTokenValidatorOptions, type MintTokenOptions, type TokenIdentity, type TokenValidation, type TokenValidator,
} from './token.ts';
export {
  CERTIFY_PATH, decodeCertifyRequest, decodeCertifyResponse, encodeCertifyRequest, encodeCertifyResponse,
  type CertifyRequest, type CertifyResponse,
} from './wire.ts';
