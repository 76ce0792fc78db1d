/**
 * First start of the control plane on an empty store, as `linkerd install` plus the
 * article's cert-manager setup would leave a cluster:
 *
 *   Namespace weft ─ trust anchor (root-ca, Secret weft-trust-anchor)
 *                  ├ ConfigMap weft-identity-trust-roots (ca-bundle.crt = the anchor)
 *                  ├ Issuer ca (spec.ca.secretName: weft-trust-anchor)
 *                  ├ Certificate weft-identity-issuer (48h, renewBefore 25h, isCA) → the certs controller writes its Secret
 *                  ├ Secret weft-token-signing-key, ServiceAccount weft-identity
 *                  └ ConfigMap weft-config (identity settings)
 *
 * Each object is created only when missing, so an interrupted bootstrap completes on
 * the next start and a configured store is left alone.
 */
import { CERT_MANAGER_API_VERSION } from '../api/index.ts';
import { exportPrivateKey, generateKeyPair, issueCertificate, profileOptions } from '../pki/index.ts';
import type { ResourceStore } from '../store/index.ts';
import { systemClock, type Clock } from './clock.ts';
import {
  configMapData, DEFAULT_IDENTITY_CONFIG, TRUST_ROOTS_CONFIG_MAP, TRUST_ROOTS_KEY, WEFT_CONFIG_NAME, WEFT_CONFIG_NAMESPACE,
  type IdentityConfig,
} from './config.ts';
import { IDENTITY_SERVICE_ACCOUNT } from './names.ts';
import { ensureTokenSigningKey } from './token-key.ts';

/** Name of the trust anchor's Secret (what the `ca` Issuer signs with). */
export const TRUST_ANCHOR_SECRET = 'weft-trust-anchor';
/** Name of the cert-manager Issuer over the trust anchor. */
export const CA_ISSUER_NAME = 'ca';
/** The identity issuer Certificate's lifetime and renewBefore, as in the article. */
export const IDENTITY_ISSUER_DURATION = '48h';
export const IDENTITY_ISSUER_RENEW_BEFORE = '25h';

/** Options of {@link bootstrapControlPlane}. */
export interface BootstrapOptions {
  /** Settings to write into `weft-config` (defaults for what is left out). */
  readonly config?: Partial<IdentityConfig>;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /**
   * The identity issuer Certificate's `duration` and `renewBefore` (Go-style
   * durations). Default {@link IDENTITY_ISSUER_DURATION} and
   * {@link IDENTITY_ISSUER_RENEW_BEFORE}, as in the article; shorter ones let a demo
   * show rotation within minutes. Used only when the Certificate is created.
   */
  readonly issuer?: { readonly duration?: string; readonly renewBefore?: string };
}

/** What {@link bootstrapControlPlane} did. */
export interface BootstrapResult {
  /** False when the store already held a `weft-config`: nothing was touched. */
  readonly bootstrapped: boolean;
  readonly config: IdentityConfig;
  /** One sentence per object created, for the CLI to print ("and says so"). */
  readonly created: readonly string[];
}

const LABELS = { 'app.kubernetes.io/part-of': 'weft' };

/**
 * Bootstraps an empty store (no `weft/weft-config`): trust anchor, trust-roots
 * bundle, `ca` Issuer, identity-issuer Certificate, token signing key and config.
 */
export async function bootstrapControlPlane(store: ResourceStore, opts: BootstrapOptions = {}): Promise<BootstrapResult> {
  const config: IdentityConfig = { ...DEFAULT_IDENTITY_CONFIG, ...opts.config };
  if ((await store.get('ConfigMap', WEFT_CONFIG_NAME, WEFT_CONFIG_NAMESPACE)) !== undefined) {
    return { bootstrapped: false, config, created: [] };
  }
  const clock = opts.clock ?? systemClock;
  const ns = config.controlPlaneNamespace;
  const created: string[] = [];
  const ensure = async (kind: string, name: string, namespace: string | undefined, make: () => Promise<Record<string, unknown>>, what: string): Promise<void> => {
    if ((await store.get(kind, name, namespace)) !== undefined) return;
    const body = await make();
    await store.apply({ apiVersion: 'v1', kind, metadata: { name, ...(namespace === undefined ? {} : { namespace }), labels: LABELS }, ...body });
    created.push(what);
  };

  for (const name of new Set([WEFT_CONFIG_NAMESPACE, ns])) {
    await ensure('Namespace', name, undefined, async () => ({}), `Created namespace "${name}"`);
  }

  let anchorPem: string | undefined;
  const anchorSecret = await store.get('Secret', TRUST_ANCHOR_SECRET, ns);
  if (anchorSecret === undefined) {
    const profile = profileOptions('root-ca', 'EC');
    const keys = await generateKeyPair();
    const now = clock.now();
    const anchor = await issueCertificate({
      subject: `root.${ns}.${config.trustDomain}`,
      publicKey: keys.publicKey,
      issuer: { selfSigned: keys.privateKey },
      notBefore: new Date(now - config.clockSkewMs),
      notAfter: new Date(now + profile.lifetimeMs),
      isCA: true,
      ...(profile.pathLen === undefined ? {} : { pathLen: profile.pathLen }),
      keyUsage: profile.keyUsage,
    });
    anchorPem = anchor.pem;
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    await store.apply({
      apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
      metadata: { name: TRUST_ANCHOR_SECRET, namespace: ns, labels: LABELS },
      data: { 'tls.crt': b64(anchor.pem), 'tls.key': b64(await exportPrivateKey(keys.privateKey)), 'ca.crt': b64(anchor.pem) },
    });
    created.push(`Created trust anchor "${anchor.subject}" (root-ca, ECDSA P-256, valid until ${anchor.notAfter.toISOString()}) in Secret "${ns}/${TRUST_ANCHOR_SECRET}"`);
  } else {
    anchorPem = Buffer.from(anchorSecret.data?.['tls.crt'] ?? '', 'base64').toString('utf8');
  }

  await ensure('ConfigMap', TRUST_ROOTS_CONFIG_MAP, ns, async () => ({ data: { [TRUST_ROOTS_KEY]: anchorPem } }),
    `Created trust-roots bundle ConfigMap "${ns}/${TRUST_ROOTS_CONFIG_MAP}"`);

  if ((await store.get('Issuer', CA_ISSUER_NAME, ns)) === undefined) {
    await store.apply({
      apiVersion: CERT_MANAGER_API_VERSION, kind: 'Issuer',
      metadata: { name: CA_ISSUER_NAME, namespace: ns, labels: LABELS },
      spec: { ca: { secretName: TRUST_ANCHOR_SECRET } },
    });
    created.push(`Created Issuer "${ns}/${CA_ISSUER_NAME}" over the trust anchor`);
  }

  const issuerDuration = opts.issuer?.duration ?? IDENTITY_ISSUER_DURATION;
  const issuerRenewBefore = opts.issuer?.renewBefore ?? IDENTITY_ISSUER_RENEW_BEFORE;
  if ((await store.get('Certificate', config.issuerSecretName, ns)) === undefined) {
    await store.apply({
      apiVersion: CERT_MANAGER_API_VERSION, kind: 'Certificate',
      metadata: { name: config.issuerSecretName, namespace: ns, labels: LABELS },
      spec: {
        secretName: config.issuerSecretName,
        issuerRef: { name: CA_ISSUER_NAME, kind: 'Issuer' },
        commonName: `identity.${ns}.${config.trustDomain}`,
        dnsNames: [`identity.${ns}.${config.trustDomain}`],
        duration: issuerDuration,
        renewBefore: issuerRenewBefore,
        isCA: true,
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        usages: ['cert sign', 'crl sign', 'server auth', 'client auth'],
      },
    });
    created.push(`Created Certificate "${ns}/${config.issuerSecretName}" (${issuerDuration}, renewBefore ${issuerRenewBefore}) for the identity issuer`);
  }

  await ensure('ServiceAccount', IDENTITY_SERVICE_ACCOUNT, ns, async () => ({}), `Created ServiceAccount "${ns}/${IDENTITY_SERVICE_ACCOUNT}"`);
  if ((await ensureTokenSigningKey(store)).created) created.push(`Created token signing key Secret "${WEFT_CONFIG_NAMESPACE}/weft-token-signing-key"`);

  // Last: its presence means "bootstrapped", so an interrupted run starts over.
  await store.apply({
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name: WEFT_CONFIG_NAME, namespace: WEFT_CONFIG_NAMESPACE, labels: LABELS },
    data: configMapData(config),
  });
  created.push(`Created ConfigMap "${WEFT_CONFIG_NAMESPACE}/${WEFT_CONFIG_NAME}" (trust domain "${config.trustDomain}")`);
  return { bootstrapped: true, config, created };
}
