/**
 * Identity's settings, read from the `weft-config` ConfigMap in namespace `weft`
 * (what `weft control-plane` runs with), with the defaults Linkerd users expect.
 */
import type { ConfigMap } from '../api/index.ts';
import { formatDuration, parseDuration } from '../pki/index.ts';
import { WeftError } from '../errors/index.ts';
import type { IdentityDomain } from './names.ts';

/** Namespace of the `weft-config` ConfigMap: fixed, so the control plane can find its config. */
export const WEFT_CONFIG_NAMESPACE = 'weft';
/** Name of the control plane's ConfigMap. */
export const WEFT_CONFIG_NAME = 'weft-config';
/** Name of the trust-roots ConfigMap, in the control-plane namespace. */
export const TRUST_ROOTS_CONFIG_MAP = 'weft-identity-trust-roots';
/** Key of the PEM bundle in the trust-roots ConfigMap. */
export const TRUST_ROOTS_KEY = 'ca-bundle.crt';

/** How the issuer Secret lays out its data. */
export const IssuerScheme = {
  /** `tls.crt` (issuer, then intermediates), `tls.key`, `ca.crt`: what cert-manager and weft's controller write. */
  kubernetesTls: 'kubernetes.io/tls',
  /** `crt.pem`, `key.pem`: Linkerd's own scheme for an issuer given by hand. */
  weftTls: 'weft.dev/tls',
} as const;

/** One of the {@link IssuerScheme} values. */
export type IssuerScheme = (typeof IssuerScheme)[keyof typeof IssuerScheme];

/** The data keys of an issuer Secret of `scheme`: its certificate chain and its private key. */
export function issuerSecretKeys(scheme: IssuerScheme): { readonly crt: string; readonly key: string } {
  return scheme === IssuerScheme.kubernetesTls ? { crt: 'tls.crt', key: 'tls.key' } : { crt: 'crt.pem', key: 'key.pem' };
}

/** Everything identity is configured with. */
export interface IdentityConfig extends IdentityDomain {
  /** Name of the issuer Secret in the control-plane namespace (default `weft-identity-issuer`). */
  readonly issuerSecretName: string;
  /** Layout of the issuer Secret (default `kubernetes.io/tls`). */
  readonly issuerScheme: IssuerScheme;
  /** Lifetime of a workload certificate, ms (default 24 h; `--issuance-lifetime`). */
  readonly issuanceLifetimeMs: number;
  /** How far notBefore is back-dated, ms (default 20 s). */
  readonly clockSkewMs: number;
}

/** The defaults of {@link IdentityConfig}. */
export const DEFAULT_IDENTITY_CONFIG: IdentityConfig = {
  controlPlaneNamespace: 'weft',
  trustDomain: 'cluster.local',
  issuerSecretName: 'weft-identity-issuer',
  issuerScheme: IssuerScheme.kubernetesTls,
  issuanceLifetimeMs: 24 * 3_600_000,
  clockSkewMs: 20_000,
};

/** Keys of `weft-config` data, and the field each sets. */
const KEYS = {
  trustDomain: 'trustDomain',
  controlPlaneNamespace: 'controlPlaneNamespace',
  issuerSecretName: 'identityIssuerSecret',
  issuerScheme: 'identityIssuerScheme',
  issuanceLifetimeMs: 'issuanceLifetime',
  clockSkewMs: 'clockSkewAllowance',
} as const;

/** The `weft-config` data for `config`, as the bootstrap writes it. */
export function configMapData(config: IdentityConfig): Record<string, string> {
  return {
    [KEYS.trustDomain]: config.trustDomain,
    [KEYS.controlPlaneNamespace]: config.controlPlaneNamespace,
    [KEYS.issuerSecretName]: config.issuerSecretName,
    [KEYS.issuerScheme]: config.issuerScheme,
    [KEYS.issuanceLifetimeMs]: formatDuration(config.issuanceLifetimeMs),
    [KEYS.clockSkewMs]: formatDuration(config.clockSkewMs),
  };
}

/**
 * Reads identity settings from a `weft-config` ConfigMap; absent keys take the
 * defaults. Throws a WeftError naming the key when a value is unusable.
 */
export function identityConfigFrom(configMap: ConfigMap | undefined, base: IdentityConfig = DEFAULT_IDENTITY_CONFIG): IdentityConfig {
  const data = configMap?.data ?? {};
  const text = (key: string): string | undefined => {
    const v = data[key]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const duration = (key: string, fallback: number): number => {
    const v = text(key);
    if (v === undefined) return fallback;
    try {
      return parseDuration(v);
    } catch (err) {
      throw new WeftError('WEFT_ERR_IDENTITY_CONFIG', `Set "${key}" in ConfigMap "weft/${WEFT_CONFIG_NAME}" to a duration such as "24h": cannot read "${v}"`, { cause: err });
    }
  };
  const scheme = text(KEYS.issuerScheme) ?? base.issuerScheme;
  if (scheme !== IssuerScheme.kubernetesTls && scheme !== IssuerScheme.weftTls) {
    throw new WeftError('WEFT_ERR_IDENTITY_CONFIG',
      `Set "${KEYS.issuerScheme}" in ConfigMap "weft/${WEFT_CONFIG_NAME}" to "kubernetes.io/tls" or "weft.dev/tls": cannot use "${scheme}"`);
  }
  const config: IdentityConfig = {
    trustDomain: text(KEYS.trustDomain) ?? base.trustDomain,
    controlPlaneNamespace: text(KEYS.controlPlaneNamespace) ?? base.controlPlaneNamespace,
    issuerSecretName: text(KEYS.issuerSecretName) ?? base.issuerSecretName,
    issuerScheme: scheme,
    issuanceLifetimeMs: duration(KEYS.issuanceLifetimeMs, base.issuanceLifetimeMs),
    clockSkewMs: duration(KEYS.clockSkewMs, base.clockSkewMs),
  };
  if (config.issuanceLifetimeMs <= 0) {
    throw new WeftError('WEFT_ERR_IDENTITY_CONFIG', `Set "${KEYS.issuanceLifetimeMs}" to a positive duration such as "24h"`);
  }
  return config;
}
