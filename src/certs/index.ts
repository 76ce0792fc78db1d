/**
 * The certificate controller, with cert-manager semantics: CA and SelfSigned
 * Issuers/ClusterIssuers, Certificates renewed on time, CertificateRequests kept as
 * history — plus what cert-manager users lost certificates to: no certificate
 * outlives its CA, a renewed CA re-issues what it signed, notBefore is back-dated,
 * and a CA that renews too late for what it signs is flagged.
 */
export { backoff, type BackoffOptions } from './backoff.ts';
export { CertificateController, type CertificateControllerOptions } from './certificate-controller.ts';
export { evaluate, issuancePolicies, readinessPolicies, type PolicyInput, type PolicyViolation } from './policies.ts';
export { RENEWAL_COVERAGE, type ExtraChildLifetime } from './readiness.ts';
export { Reason } from './reasons.ts';
export { renewalTime, type RenewalTimeOptions } from './renewal-time.ts';
export { requestRenewal } from './trigger.ts';
export { Annotation } from './request-names.ts';
