/**
 * Issuer hot-reload. Watches the issuer Secret and the trust-roots ConfigMap in the
 * control-plane namespace and, on every change, re-reads both and decides:
 *
 *   change ─▶ read anchors ─▶ valid bundle? ── no ─▶ keep anchors, Event AnchorsRefused
 *                  │ yes
 *                  ▼
 *            read issuer ─▶ loadIssuer() valid? ── no ─▶ keep current issuer (if it still
 *                  │ yes                                  chains to the anchors), Event IssuerRefused
 *                  ▼
 *            swap atomically, Event IssuerUpdated
 *
 * Level-triggered (reads both objects, not the event's copy) so that a burst of
 * changes collapses into one decision and nothing depends on event order.
 */
import type { ConfigMap, Resource, Secret } from '../api/index.ts';
import { parseCertificates, type Certificate } from '../pki/index.ts';
import { GoneError, recordEvent, type ResourceStore } from '../store/index.ts';
import type { Clock } from './clock.ts';
import { TRUST_ROOTS_CONFIG_MAP, TRUST_ROOTS_KEY, type IdentityConfig } from './config.ts';
import { checkIssuer, loadIssuer, type Issuer } from './issuer.ts';
import { Counter, Gauge } from './metrics.ts';

/** Event reasons identity records, as exported constants. */
export const IdentityEventReason = {
  issuerUpdated: 'IssuerUpdated',
  issuerRefused: 'IssuerRefused',
  anchorsUpdated: 'TrustAnchorsUpdated',
  anchorsRefused: 'TrustAnchorsRefused',
} as const;

/** Result label of `identity_issuer_reloads_total`: every value is exported from the start, at 0. */
export const IssuerReloadResult = {
  accepted: 'accepted',
  refused: 'refused',
  unchanged: 'unchanged',
} as const;

/** The component name on identity's Events. */
export const IDENTITY_COMPONENT = 'weft-identity';

/** Options of {@link IssuerSource}. */
export interface IssuerSourceOptions {
  readonly store: ResourceStore;
  readonly config: IdentityConfig;
  readonly clock: Clock;
}

/** What an Event can be about: any stored object's envelope. */
type EventSubject = Pick<Resource, 'apiVersion' | 'kind' | 'metadata'>;

function sameCert(a: Certificate | undefined, b: Certificate | undefined): boolean {
  return a !== undefined && b !== undefined && Buffer.from(a.der).equals(Buffer.from(b.der));
}

function sameBundle(a: readonly Certificate[], b: readonly Certificate[]): boolean {
  return a.length === b.length && a.every((c, i) => sameCert(c, b[i]));
}

/** The current issuer and trust anchors, kept up to date from the store. */
export class IssuerSource {
  /** `identity_issuer_reloads_total{result}`: accepted, refused, unchanged. */
  readonly reloads = new Counter('identity_issuer_reloads_total', 'Issuer Secret loads by result.');
  /** `identity_issuer_expiration_timestamp_seconds`: the current issuer chain's earliest notAfter. */
  readonly expiry = new Gauge('identity_issuer_expiration_timestamp_seconds', 'When the current issuer expires (Unix seconds).');

  readonly #opts: IssuerSourceOptions;
  readonly #abort = new AbortController();
  readonly #listeners = new Set<() => void>();
  #issuer: Issuer | undefined;
  #anchors: readonly Certificate[] = [];
  #anchorsVersion: string | undefined;
  #issuerVersion: string | undefined;
  #queue: Promise<void> = Promise.resolve();
  #pending = false;
  #watching: Promise<void> | undefined;

  constructor(opts: IssuerSourceOptions) {
    this.#opts = opts;
    for (const result of Object.values(IssuerReloadResult)) this.reloads.inc({ result }, 0);
  }

  /** Loads the issuer and anchors once, then follows changes until {@link close}. */
  async start(): Promise<void> {
    const from = await this.#opts.store.resourceVersion();
    await this.reconcile();
    this.#watching = this.#watch(from);
  }

  /** Stops watching. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.#watching?.catch(() => {});
    await this.#queue;
  }

  /** Calls `cb` after the issuer or the anchors changed. */
  onChange(cb: () => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  /** The issuer to sign with at `now`: undefined when there is none, or it has expired. */
  current(now: Date): Issuer | undefined {
    const issuer = this.#issuer;
    if (issuer === undefined) return undefined;
    if (now.getTime() >= issuer.notAfter.getTime() || now.getTime() < issuer.certificate.notBefore.getTime()) return undefined;
    return issuer;
  }

  /** The trust anchors in force. */
  anchors(): readonly Certificate[] {
    return this.#anchors;
  }

  async #watch(from: string): Promise<void> {
    const { store, config } = this.#opts;
    let rv = from;
    while (!this.#abort.signal.aborted) {
      try {
        for await (const ev of store.watch({ namespace: config.controlPlaneNamespace, fromResourceVersion: rv, signal: this.#abort.signal })) {
          rv = ev.object.metadata.resourceVersion ?? rv;
          if (this.#relevant(ev.object)) void this.reconcile();
        }
      } catch (err) {
        if (this.#abort.signal.aborted) return;
        if (!(err instanceof GoneError)) throw err;
        // We fell behind the change log: read everything again and carry on from now.
        rv = await store.resourceVersion();
        void this.reconcile();
      }
    }
  }

  #relevant(o: Resource): boolean {
    const { config } = this.#opts;
    return (o.kind === 'Secret' && o.metadata.name === config.issuerSecretName)
      || (o.kind === 'ConfigMap' && o.metadata.name === TRUST_ROOTS_CONFIG_MAP);
  }

  /**
   * Re-reads the anchors and the issuer Secret and applies them. Calls made while
   * one runs collapse into one more run. Resolves when the state reflects the store
   * as of (at least) the call.
   */
  reconcile(): Promise<void> {
    if (this.#pending) return this.#queue;
    this.#pending = true;
    this.#queue = this.#queue.then(async () => {
      this.#pending = false;
      await this.#reconcileOnce();
    }).catch(() => {});
    return this.#queue;
  }

  async #reconcileOnce(): Promise<void> {
    const { store, config } = this.#opts;
    const now = new Date(this.#opts.clock.now());
    let changed = false;
    const cm = await store.get('ConfigMap', TRUST_ROOTS_CONFIG_MAP, config.controlPlaneNamespace);
    const anchorsChanged = cm?.metadata.resourceVersion !== this.#anchorsVersion;
    if (anchorsChanged) {
      this.#anchorsVersion = cm?.metadata.resourceVersion;
      changed = (await this.#applyAnchors(cm)) || changed;
    }
    const secret = await store.get('Secret', config.issuerSecretName, config.controlPlaneNamespace);
    if (anchorsChanged || secret?.metadata.resourceVersion !== this.#issuerVersion) {
      this.#issuerVersion = secret?.metadata.resourceVersion;
      changed = (await this.#applyIssuer(secret, now)) || changed;
    }
    if (changed) for (const cb of this.#listeners) cb();
  }

  async #applyAnchors(cm: ConfigMap | undefined): Promise<boolean> {
    const pem = cm?.data?.[TRUST_ROOTS_KEY];
    if (pem === undefined || pem.trim() === '') {
      if (cm !== undefined) await this.#event(cm, 'Warning', IdentityEventReason.anchorsRefused, `Keeping the current trust anchors: "${TRUST_ROOTS_KEY}" is empty`);
      return false;
    }
    let anchors: Certificate[];
    try {
      anchors = parseCertificates(pem);
    } catch (err) {
      await this.#event(cm as ConfigMap, 'Warning', IdentityEventReason.anchorsRefused,
        `Keeping the current trust anchors: cannot read "${TRUST_ROOTS_KEY}": ${(err as Error).message}`);
      return false;
    }
    const notCa = anchors.find((a) => !a.isCA);
    if (notCa !== undefined) {
      await this.#event(cm as ConfigMap, 'Warning', IdentityEventReason.anchorsRefused,
        `Keeping the current trust anchors: "${notCa.subject}" is not a CA certificate`);
      return false;
    }
    if (sameBundle(anchors, this.#anchors)) return false;
    this.#anchors = anchors;
    await this.#event(cm as ConfigMap, 'Normal', IdentityEventReason.anchorsUpdated, `Trust anchors updated: ${anchors.length} root(s)`);
    return true;
  }

  async #applyIssuer(secret: Secret | undefined, now: Date): Promise<boolean> {
    const { config } = this.#opts;
    const load = await loadIssuer(secret, this.#anchors, now, config.issuerScheme);
    if (load.kind === 'valid') {
      const same = sameCert(load.issuer.certificate, this.#issuer?.certificate) && sameBundle(load.issuer.chain, this.#issuer?.chain ?? []);
      this.#issuer = load.issuer;
      this.expiry.set(load.issuer.notAfter.getTime() / 1000);
      if (same) {
        this.reloads.inc({ result: IssuerReloadResult.unchanged });
        return false;
      }
      this.reloads.inc({ result: IssuerReloadResult.accepted });
      await this.#event(secret as Secret, 'Normal', IdentityEventReason.issuerUpdated,
        `Issuer updated: "${load.issuer.certificate.subject}" serial ${load.issuer.certificate.serialNumber}, valid until ${load.issuer.notAfter.toISOString()}`);
      return true;
    }
    this.reloads.inc({ result: IssuerReloadResult.refused });
    let kept = 'no issuer is in use';
    let dropped = false;
    if (this.#issuer !== undefined) {
      // The current issuer stays only while it still chains to the anchors in force.
      const still = checkIssuer(this.#issuer, this.#anchors, now);
      if (still.kind === 'valid') {
        kept = `keeping issuer serial ${this.#issuer.certificate.serialNumber}`;
      } else {
        kept = `no issuer is in use (the current one is no longer valid: ${still.message})`;
        this.#issuer = undefined;
        this.expiry.set(0);
        dropped = true;
      }
    }
    const target: EventSubject = secret ?? {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: config.issuerSecretName, namespace: config.controlPlaneNamespace },
    };
    await this.#event(target, 'Warning', IdentityEventReason.issuerRefused, `Refused issuer Secret (${load.reason}): ${load.message}; ${kept}`);
    return dropped;
  }

  async #event(object: EventSubject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    try {
      await recordEvent(this.#opts.store, object as unknown as Resource, { type, reason, message, component: IDENTITY_COMPONENT });
    } catch {
      // An Event is a report, not a decision: failing to write one must not block a reload.
    }
  }
}
