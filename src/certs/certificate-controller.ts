import type { ResourceStore } from '../store/index.ts';
import type { ControllerContext } from './context.ts';
import { processIssuer } from './issuer-readiness.ts';
import { processIssuing } from './issuing.ts';
import { PemCache } from './pem-cache.ts';
import { processReadiness, type ExtraChildLifetime } from './readiness.ts';
import { processTrigger, requestRenewal } from './trigger.ts';

/** Options of {@link CertificateController}; every field documents its default. */
export interface CertificateControllerOptions {
  /** The clock. Default: the store's clock. */
  readonly clock?: () => Date;
  /** Namespace of ClusterIssuer CA Secrets. Default `cert-manager`, as cert-manager's. */
  readonly clusterResourceNamespace?: string;
  /** notBefore back-dating, ms. Default 20 s. */
  readonly clockSkew?: number;
  /** First retry delay after a failure, ms. Default 1 h. */
  readonly backoffInitial?: number;
  /** Longest retry delay, ms. Default 32 h. */
  readonly backoffMax?: number;
  /** Real-time interval between full passes when nothing changes, ms. Default 30 s. */
  readonly resyncInterval?: number;
  /** Lifetimes of certificates signed outside the store (identity), for RenewalCoverage. */
  readonly extraChildLifetime?: ExtraChildLifetime;
  /** Called with errors of one object's reconcile; the loop goes on. Default: ignore. */
  readonly onError?: (error: unknown, object: string) => void;
}

// Kinds whose changes can change what the controller would do.
const WATCHED = new Set(['Certificate', 'CertificateRequest', 'Issuer', 'ClusterIssuer', 'Secret']);

/**
 * weft's certificate controller, with cert-manager's semantics. Small controllers
 * with one job each (issuer readiness, trigger, issuing with request signing,
 * readiness) run in that order over every object on each pass. Passes are level-
 * triggered — they read the store and converge — so a pass after a restart resumes
 * whatever a killed process left half-done, without re-issuing what is valid.
 */
export class CertificateController {
  readonly #store: ResourceStore;
  readonly #ctx: ControllerContext;
  readonly #resync: number;
  readonly #extra: ExtraChildLifetime | undefined;
  readonly #onError: (error: unknown, object: string) => void;

  constructor(store: ResourceStore, options: CertificateControllerOptions = {}) {
    this.#store = store;
    this.#ctx = {
      store,
      now: options.clock ?? (() => store.now()),
      clusterResourceNamespace: options.clusterResourceNamespace ?? 'cert-manager',
      clockSkew: options.clockSkew ?? 20_000,
      backoffInitial: options.backoffInitial ?? 3_600_000,
      backoffMax: options.backoffMax ?? 32 * 3_600_000,
      pem: new PemCache(),
    };
    this.#resync = options.resyncInterval ?? 30_000;
    this.#extra = options.extraChildLifetime;
    this.#onError = options.onError ?? (() => {});
  }

  /**
   * One full pass: issuers, then each Certificate (trigger → issuing → readiness).
   * Resolves to the earliest time something becomes due (a renewal or the end of a
   * backoff), so the caller knows when to pass again.
   */
  async reconcileAll(): Promise<Date | undefined> {
    this.#ctx.pem.clear();
    try {
      return await this.#pass();
    } finally {
      this.#ctx.pem.clear();
    }
  }

  async #pass(): Promise<Date | undefined> {
    for (const kind of ['Issuer', 'ClusterIssuer'] as const) {
      for (const issuer of (await this.#store.list(kind)).items) {
        await this.#guard(`${kind}/${issuer.metadata.name}`, () => processIssuer(this.#ctx, issuer));
      }
    }
    let wakeAt: Date | undefined;
    for (const cert of (await this.#store.list('Certificate')).items) {
      const key = { name: cert.metadata.name, namespace: cert.metadata.namespace ?? 'default' };
      await this.#guard(`Certificate/${key.namespace}/${key.name}`, async () => {
        const due = await processTrigger(this.#ctx, key);
        await processIssuing(this.#ctx, key);
        await processReadiness(this.#ctx, key, this.#extra);
        // After an issuance the trigger knows the new renewal time.
        const next = due ?? (await processTrigger(this.#ctx, key));
        if (next !== undefined && (wakeAt === undefined || next < wakeAt)) wakeAt = next;
      });
    }
    return wakeAt;
  }

  /** Asks for a Certificate to be re-issued now (`weft certs renew`). False when it is already issuing. */
  async renew(name: string, namespace: string): Promise<boolean> {
    const asked = await requestRenewal(this.#ctx, { name, namespace });
    if (asked) await this.reconcileAll();
    return asked;
  }

  /**
   * Runs until `signal` aborts: a pass now, then a pass whenever a watched kind
   * changes, something becomes due, or `resyncInterval` passes.
   */
  async run(signal: AbortSignal): Promise<void> {
    let wake: (() => void) | undefined;
    let dirty = true;
    const watching = (async () => {
      for await (const event of this.#store.watch({ fromResourceVersion: await this.#store.resourceVersion(), signal })) {
        if (WATCHED.has(event.object.kind)) {
          dirty = true;
          wake?.();
        }
      }
    })().catch((err: unknown) => { if (!signal.aborted) this.#onError(err, 'watch'); });
    while (!signal.aborted) {
      dirty = false;
      let due: Date | undefined;
      try {
        due = await this.reconcileAll();
      } catch (err) {
        this.#onError(err, 'pass');
      }
      if (dirty) continue;
      const untilDue = due === undefined ? this.#resync : Math.max(0, due.getTime() - this.#ctx.now().getTime());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(this.#resync, untilDue + 1000));
        wake = () => { clearTimeout(timer); resolve(); };
        signal.addEventListener('abort', wake, { once: true });
      });
      wake = undefined;
    }
    await watching;
  }

  async #guard(object: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (err) {
      this.#onError(err, object);
    }
  }
}
