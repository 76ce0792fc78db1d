/**
 * What the running-mesh checks look at, loaded once per run and shared: the store,
 * identity's settings, the trust anchors, the issuer and the Certificates. Loading
 * is lazy and memoised, so a check that needs the anchors loads them the first time
 * and every later check reuses them (and a failure is reported by the check whose
 * job it is to report it, not by whichever ran first).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { conditionOf, type Certificate as CertificateResource, type Secret } from '../api/index.ts';
import {
  identityConfigFrom, issuerSecretKeys, TRUST_ROOTS_CONFIG_MAP, TRUST_ROOTS_KEY, WEFT_CONFIG_NAME, WEFT_CONFIG_NAMESPACE,
  type IdentityConfig,
} from '../identity/index.ts';
import { RENEWAL_COVERAGE } from '../certs/index.ts';
import { importPrivateKey, parseCertificates, type Certificate, type CryptoKey } from '../pki/index.ts';
import { openStore, STORE_FILE, type ResourceStore } from '../store/index.ts';
import type { ManagedRenewal } from './judge-expiry.ts';

/** Options of {@link MeshContext}; every field documents its default. */
export interface MeshContextOptions {
  /** The state directory holding `store.db`. */
  readonly stateDir: string;
  /** The time checks judge at. Default: real time (`--at` moves it). */
  readonly now?: () => Date;
  /** Unmanaged anchors and issuers expiring within this fail (`--expiry-threshold`). Default 60 days. */
  readonly expiryThresholdMs?: number;
  /** Control-plane admin addresses whose `/ready` must answer 200. Default `127.0.0.1:9990`. */
  readonly controlPlaneAdmin?: readonly string[];
  /** Deadline of one HTTP or TLS probe, ms. Default 2000. */
  readonly timeoutMs?: number;
  /** An already open store (tests); the context then does not close it. */
  readonly store?: ResourceStore;
}

/** The issuer as read from its Secret. */
export interface IssuerMaterial {
  /** `namespace/name` of the Secret. */
  readonly secretRef: string;
  /** The Secret's key names for the certificate and key. */
  readonly crtKey: string;
  readonly keyKey: string;
  /** The issuer certificate, then any intermediates. */
  readonly chain: readonly Certificate[];
  readonly certificate: Certificate;
  readonly privateKey: CryptoKey;
  /** The PEM text of the certificate key (chain), to hand to TLS. */
  readonly chainPem: string;
  readonly keyPem: string;
}

/** Default of `--expiry-threshold`: Linkerd's 60 days. */
export const DEFAULT_EXPIRY_THRESHOLD_MS = 60 * 86_400_000;
/** Default control-plane admin address (`weft control-plane --admin-addr`). */
export const DEFAULT_CONTROL_PLANE_ADMIN = '127.0.0.1:9990';

/** Loads and memoises what the running-mesh checks need. Close it after the run. */
export class MeshContext {
  readonly stateDir: string;
  readonly now: () => Date;
  readonly expiryThresholdMs: number;
  readonly controlPlaneAdmin: readonly string[];
  readonly timeoutMs: number;
  #store: ResourceStore | undefined;
  readonly #ownsStore: boolean;
  readonly #memo = new Map<string, Promise<unknown>>();

  constructor(options: MeshContextOptions) {
    this.stateDir = options.stateDir;
    this.now = options.now ?? (() => new Date());
    this.expiryThresholdMs = options.expiryThresholdMs ?? DEFAULT_EXPIRY_THRESHOLD_MS;
    this.controlPlaneAdmin = options.controlPlaneAdmin ?? [DEFAULT_CONTROL_PLANE_ADMIN];
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.#store = options.store;
    this.#ownsStore = options.store === undefined;
  }

  #once<T>(key: string, load: () => Promise<T>): Promise<T> {
    let p = this.#memo.get(key) as Promise<T> | undefined;
    if (p === undefined) {
      p = load();
      this.#memo.set(key, p);
    }
    return p;
  }

  /** The store; throws when the state directory holds none (opening would create an empty one). */
  store(): Promise<ResourceStore> {
    return this.#once('store', async () => {
      if (this.#store !== undefined) return this.#store;
      const file = join(this.stateDir, STORE_FILE);
      if (!existsSync(file)) {
        throw new Error(`No store at "${file}": start the mesh with "weft up", or pass --state-dir (or WEFT_STATE_DIR) where it runs`);
      }
      this.#store = openStore({ stateDir: this.stateDir, clock: this.now });
      return this.#store;
    });
  }

  /** Identity's settings from ConfigMap `weft/weft-config`; throws when it is missing or unreadable. */
  config(): Promise<IdentityConfig> {
    return this.#once('config', async () => {
      const store = await this.store();
      const cm = await store.get('ConfigMap', WEFT_CONFIG_NAME, WEFT_CONFIG_NAMESPACE);
      if (cm === undefined) {
        throw new Error(`ConfigMap "${WEFT_CONFIG_NAMESPACE}/${WEFT_CONFIG_NAME}" does not exist: run "weft up" to bootstrap the control plane, or apply it`);
      }
      return identityConfigFrom(cm);
    });
  }

  /** The trust anchors from ConfigMap `<cp-ns>/weft-identity-trust-roots`, key `ca-bundle.crt`. */
  anchors(): Promise<Certificate[]> {
    return this.#once('anchors', async () => {
      const config = await this.config();
      const ref = `${config.controlPlaneNamespace}/${TRUST_ROOTS_CONFIG_MAP}`;
      const cm = await (await this.store()).get('ConfigMap', TRUST_ROOTS_CONFIG_MAP, config.controlPlaneNamespace);
      if (cm === undefined) throw new Error(`ConfigMap "${ref}" does not exist: identity has no trust anchors to verify against`);
      const pem = cm.data?.[TRUST_ROOTS_KEY];
      if (pem === undefined || pem.trim() === '') throw new Error(`ConfigMap "${ref}" has no "${TRUST_ROOTS_KEY}": put the trust anchors' PEM there`);
      try {
        return parseCertificates(pem);
      } catch (err) {
        throw new Error(`Cannot read "${TRUST_ROOTS_KEY}" of ConfigMap "${ref}": ${(err as Error).message}`, { cause: err });
      }
    });
  }

  /** The issuer Secret's certificate chain and key; throws naming what is missing or unreadable. */
  issuer(): Promise<IssuerMaterial> {
    return this.#once('issuer', async () => {
      const config = await this.config();
      const ns = config.controlPlaneNamespace;
      const secretRef = `${ns}/${config.issuerSecretName}`;
      const secret = await (await this.store()).get('Secret', config.issuerSecretName, ns);
      if (secret === undefined) throw new Error(`Secret "${secretRef}" does not exist: the identity issuer has not been issued`);
      const { crt: crtKey, key: keyKey } = issuerSecretKeys(config.issuerScheme);
      const chainPem = decoded(secret, crtKey);
      const keyPem = decoded(secret, keyKey);
      if (chainPem === undefined || keyPem === undefined) {
        throw new Error(`Secret "${secretRef}" (scheme "${config.issuerScheme}") must hold "${crtKey}" and "${keyKey}"`);
      }
      let chain: Certificate[];
      try {
        chain = parseCertificates(chainPem);
      } catch (err) {
        throw new Error(`Cannot read "${crtKey}" of Secret "${secretRef}": ${(err as Error).message}`, { cause: err });
      }
      let privateKey: CryptoKey;
      try {
        privateKey = (await importPrivateKey(keyPem)).privateKey;
      } catch (err) {
        throw new Error(`Cannot read "${keyKey}" of Secret "${secretRef}": ${(err as Error).message}`, { cause: err });
      }
      return { secretRef, crtKey, keyKey, chain, certificate: chain[0] as Certificate, privateKey, chainPem, keyPem };
    });
  }

  /** Every Certificate in the store. */
  certificates(): Promise<CertificateResource[]> {
    return this.#once('certificates', async () => (await (await this.store()).list('Certificate')).items);
  }

  /**
   * The Certificate whose Secret holds `cert` (the same DER as its `tls.crt`), as a
   * renewal schedule: how the rotation-aware checks know something renews it.
   */
  managedRenewalOf(cert: Certificate): Promise<ManagedRenewal | undefined> {
    return this.#once(`managed:${Buffer.from(cert.der).toString('base64')}`, async () => {
      const store = await this.store();
      for (const c of await this.certificates()) {
        const ns = c.metadata.namespace ?? 'default';
        const secret = await store.get('Secret', c.spec.secretName, ns);
        const pem = secret === undefined ? undefined : decoded(secret, 'tls.crt');
        if (pem === undefined) continue;
        let leaf: Certificate | undefined;
        try {
          leaf = parseCertificates(pem)[0];
        } catch {
          continue;
        }
        if (leaf === undefined || !Buffer.from(leaf.der).equals(Buffer.from(cert.der))) continue;
        return renewalOf(c);
      }
      return undefined;
    });
  }

  /** Releases the store when this context opened it. */
  close(): void {
    if (this.#ownsStore) this.#store?.close();
  }
}

/** A Certificate's renewal state as {@link ManagedRenewal}. */
export function renewalOf(c: CertificateResource): ManagedRenewal {
  const ready = conditionOf(c, 'Ready');
  const issuing = conditionOf(c, 'Issuing');
  const coverage = conditionOf(c, RENEWAL_COVERAGE);
  const time = (s: string | undefined): Date | undefined => (s === undefined ? undefined : new Date(s));
  return {
    certificate: `${c.metadata.namespace ?? 'default'}/${c.metadata.name}`,
    renewalTime: time(c.status?.renewalTime),
    ready: ready?.status === 'True',
    readyText: ready === undefined ? 'no Ready condition yet' : `${ready.reason ?? ''}: ${ready.message ?? ''}`,
    failedAttempts: c.status?.failedIssuanceAttempts ?? 0,
    lastFailureTime: time(c.status?.lastFailureTime),
    failureMessage: issuing?.status === 'False' || (c.status?.failedIssuanceAttempts ?? 0) > 0 ? issuing?.message : undefined,
    coverageProblem: coverage?.status === 'False' ? coverage.message : undefined,
  };
}

function decoded(secret: Secret, key: string): string | undefined {
  const b64 = secret.data?.[key];
  return b64 === undefined || b64 === '' ? undefined : Buffer.from(b64, 'base64').toString('utf8');
}
