/**
 * Identity names. A workload's identity is its ServiceAccount, written the way
 * Linkerd writes it so that Linkerd proxies and weft proxies understand each other:
 * `<sa>.<ns>.serviceaccount.identity.<control-plane-ns>.<trust-domain>`, and as a
 * SPIFFE ID `spiffe://<trust-domain>/ns/<ns>/sa/<sa>`.
 */

/** Where identities live: defaults `weft` and `cluster.local`. */
export interface IdentityDomain {
  /** Namespace of the control plane (default `weft`). */
  readonly controlPlaneNamespace: string;
  /** The mesh's trust domain (default `cluster.local`). */
  readonly trustDomain: string;
}

/** The defaults, as `weft install` and the embedded platform use them. */
export const DEFAULT_IDENTITY_DOMAIN: IdentityDomain = { controlPlaneNamespace: 'weft', trustDomain: 'cluster.local' };

/** A workload's ServiceAccount. */
export interface ServiceAccountRef {
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** `<sa>.<ns>.serviceaccount.identity.<cp-ns>.<trust-domain>`. */
export function identityName(sa: ServiceAccountRef, domain: IdentityDomain = DEFAULT_IDENTITY_DOMAIN): string {
  return `${sa.serviceAccount}.${sa.namespace}.serviceaccount.identity.${domain.controlPlaneNamespace}.${domain.trustDomain}`;
}

/** `spiffe://<trust-domain>/ns/<ns>/sa/<sa>`. */
export function spiffeId(sa: ServiceAccountRef, domain: IdentityDomain = DEFAULT_IDENTITY_DOMAIN): string {
  return `spiffe://${domain.trustDomain}/ns/${sa.namespace}/sa/${sa.serviceAccount}`;
}

// Kubernetes names: namespaces are DNS labels, ServiceAccount names DNS subdomains,
// but a dot in the SA name would make the identity ambiguous, so we take labels.
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The ServiceAccount an identity name stands for, or null when `name` is not an
 * identity of `domain` (another trust domain, another control plane, malformed).
 */
export function parseIdentityName(name: string, domain: IdentityDomain = DEFAULT_IDENTITY_DOMAIN): ServiceAccountRef | null {
  const suffix = `.serviceaccount.identity.${domain.controlPlaneNamespace}.${domain.trustDomain}`;
  if (!name.endsWith(suffix)) return null;
  const parts = name.slice(0, -suffix.length).split('.');
  if (parts.length !== 2) return null;
  const [serviceAccount, namespace] = parts as [string, string];
  if (!LABEL.test(serviceAccount) || !LABEL.test(namespace)) return null;
  return { namespace, serviceAccount };
}

/**
 * The domain an identity name belongs to (its control-plane namespace and trust
 * domain), or null when `name` is not an identity name: what a client that knows
 * only its own identity needs to name the control plane's services.
 */
export function identityDomainOf(name: string): IdentityDomain | null {
  const m = /^[^.]+\.[^.]+\.serviceaccount\.identity\.([^.]+)\.(.+)$/.exec(name);
  return m === null ? null : { controlPlaneNamespace: m[1] as string, trustDomain: m[2] as string };
}

/** The identity service's own ServiceAccount name, in the control-plane namespace. */
export const IDENTITY_SERVICE_ACCOUNT = 'weft-identity';

/** The name the identity service's serving certificate carries, and clients verify. */
export function identityServiceName(domain: IdentityDomain = DEFAULT_IDENTITY_DOMAIN): string {
  return identityName({ namespace: domain.controlPlaneNamespace, serviceAccount: IDENTITY_SERVICE_ACCOUNT }, domain);
}
