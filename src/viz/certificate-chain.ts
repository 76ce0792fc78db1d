/**
 * The certificate page's data: the trust chain on one timeline — trust anchors,
 * the Certificates cert-manager-style (the identity issuer among them) with their
 * next renewal and past rotations, and each proxy's workload certificate — plus
 * warnings where a renewal failed or would come late.
 *
 *   anchors (trust-roots ConfigMap) ─▶ issuer Certificate (status, Events) ─▶ workload certs (proxy metrics)
 */
import { X509Certificate } from 'node:crypto';
import type { Certificate, ConfigMap, Event } from '../api/index.ts';
import { parseDuration } from '../pki/index.ts';
import type { ResourceStore } from '../store/index.ts';
import { namespaceOf } from './scrape-targets.ts';

/** A validity interval, ms since the epoch. */
export interface Validity {
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

/** A trust anchor from the bundle proxies trust. */
export interface AnchorView extends Validity {
  readonly subject: string;
  readonly fingerprint: string;
}

/** A past issuance or reload. */
export interface Rotation {
  readonly timeMs: number;
  readonly reason: string;
  readonly message: string;
  readonly type: string;
}

/** A Certificate resource on the timeline. */
export interface IssuerView extends Partial<Validity> {
  readonly namespace: string;
  readonly name: string;
  readonly secretName: string;
  readonly isCA: boolean;
  readonly ready: boolean;
  readonly renewalTimeMs?: number;
  readonly revision?: number;
  readonly rotations: readonly Rotation[];
  readonly warnings: readonly string[];
}

/**
 * One proxy's current workload certificate. The proxy reports only its expiry
 * (`identity_cert_expiration_timestamp_seconds`); the start of its validity and its
 * renewal follow from the lifetime identity issues (`issuanceLifetime`), so the page
 * never has to assume one (it assumed 24 h, and drew the demo's one-minute
 * certificates a day long).
 */
export interface WorkloadCertView {
  /** `namespace/pod`. */
  readonly pod: string;
  readonly identity: string;
  /** When it was issued: `notAfterMs - lifetimeMs` (identity back-dates notBefore by its clock-skew allowance besides). */
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** The lifetime identity issues workload certificates with: `issuanceLifetime` in `weft/weft-config`, else 24 h. */
  readonly lifetimeMs: number;
  /** When the proxy renews it: {@link WORKLOAD_RENEW_FRACTION} through its lifetime. */
  readonly renewalTimeMs: number;
  readonly warnings: readonly string[];
}

/** Everything the certificate page shows. */
export interface ChainView {
  readonly nowMs: number;
  readonly anchors: readonly AnchorView[];
  readonly issuers: readonly IssuerView[];
  readonly workloads: readonly WorkloadCertView[];
  /** Every warning above, each once, most urgent first. */
  readonly warnings: readonly string[];
}

/** What {@link certificateChain} reads. */
export interface ChainInput {
  readonly anchorsPem?: string;
  readonly certificates: readonly Certificate[];
  readonly events: readonly Event[];
  /** Each proxy's certificate expiry from its metrics (unix seconds), by `namespace/pod`, with its identity. */
  readonly proxies: ReadonlyArray<{ readonly pod: string; readonly identity: string; readonly notAfterSeconds: number }>;
  /** Workload certificates' lifetime (`issuanceLifetime` in `weft/weft-config`). Default 24 h. */
  readonly workloadLifetimeMs?: number;
}

/** How late a renewal may be before it is flagged: the controller's resync is well within this. */
export const LATE_RENEWAL_GRACE_MS = 5 * 60_000;
/** Proxies renew their certificate at this fraction of its lifetime (identity's refresh policy). */
export const WORKLOAD_RENEW_FRACTION = 0.7;
/** A proxy retries a failed renewal with backoff up to this; a renewal later than that (plus a tenth of the lifetime) is stuck. */
export const WORKLOAD_RETRY_MAX_MS = 60_000;
const DEFAULT_WORKLOAD_LIFETIME_MS = 24 * 3_600_000;

const EVENT_REASONS = new Set(['Issued', 'Failed', 'IssuerUpdated', 'IssuerRefused', 'TrustAnchorsUpdated', 'TrustAnchorsRefused', 'Reused', 'Requested']);

/** Splits a PEM bundle and reads each certificate's subject and validity; unreadable blocks are skipped. */
export function parseAnchors(pem: string): AnchorView[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const out: AnchorView[] = [];
  for (const b of blocks) {
    try {
      const c = new X509Certificate(b);
      out.push({ subject: c.subject.replace(/\n/g, ', '), fingerprint: c.fingerprint256, notBeforeMs: Date.parse(c.validFrom), notAfterMs: Date.parse(c.validTo) });
    } catch {
      // A damaged block is identity's to report (TrustAnchorsRefused); show the others.
    }
  }
  return out;
}

function time(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** Builds the chain view at `nowMs`. Pure. */
export function certificateChain(input: ChainInput, nowMs: number): ChainView {
  const anchors = input.anchorsPem === undefined ? [] : parseAnchors(input.anchorsPem);
  const warnings: string[] = [];
  for (const a of anchors) {
    if (a.notAfterMs <= nowMs) warnings.push(`Trust anchor "${a.subject}" expired at ${iso(a.notAfterMs)}`);
  }
  const issuers: IssuerView[] = input.certificates.map((c) => {
    const ns = namespaceOf(c);
    const st = c.status ?? {};
    const w: string[] = [];
    const ready = st.conditions?.find((x) => x.type === 'Ready');
    const coverage = st.conditions?.find((x) => x.type === 'RenewalCoverage');
    const notAfterMs = time(st.notAfter);
    const notBeforeMs = time(st.notBefore);
    const renewalTimeMs = time(st.renewalTime);
    const label = `Certificate "${ns}/${c.metadata.name}"`;
    if (ready !== undefined && ready.status !== 'True') w.push(`${label} is not ready (${ready.reason ?? 'Unknown'}): ${ready.message ?? ''}`.replace(/: $/, ''));
    if ((st.failedIssuanceAttempts ?? 0) > 0) {
      w.push(`${label} renewal failed ${st.failedIssuanceAttempts} time(s)${st.lastFailureTime === undefined ? '' : `, last at ${st.lastFailureTime}`}`);
    }
    if (renewalTimeMs !== undefined && renewalTimeMs + LATE_RENEWAL_GRACE_MS < nowMs) w.push(`${label} renewal is late: it was due at ${iso(renewalTimeMs)}`);
    if (coverage !== undefined && coverage.status === 'False') w.push(`${label} renewal would come late (${coverage.reason ?? ''}): ${coverage.message ?? ''}`);
    if (notAfterMs !== undefined && notAfterMs <= nowMs) w.push(`${label} expired at ${iso(notAfterMs)}`);
    for (const a of anchors) {
      if (notAfterMs !== undefined && a.notAfterMs < notAfterMs && a.notAfterMs > nowMs) w.push(`${label} outlives trust anchor "${a.subject}" (expires ${iso(a.notAfterMs)})`);
    }
    const rotations = input.events
      .filter((e) => EVENT_REASONS.has(e.reason ?? '') && namespaceOf({ metadata: { ...(e.involvedObject.namespace === undefined ? {} : { namespace: e.involvedObject.namespace }) } }) === ns
        && ((e.involvedObject.kind === 'Certificate' && e.involvedObject.name === c.metadata.name) || (e.involvedObject.kind === 'Secret' && e.involvedObject.name === c.spec.secretName)))
      .map((e) => ({ timeMs: time(e.lastTimestamp ?? e.firstTimestamp ?? e.metadata.creationTimestamp) ?? 0, reason: e.reason ?? '', message: e.message ?? '', type: e.type ?? 'Normal' }))
      .sort((a, b) => a.timeMs - b.timeMs);
    return {
      namespace: ns, name: c.metadata.name, secretName: c.spec.secretName, isCA: c.spec.isCA === true,
      ready: ready?.status === 'True',
      ...(notBeforeMs === undefined ? {} : { notBeforeMs }),
      ...(notAfterMs === undefined ? {} : { notAfterMs }),
      ...(renewalTimeMs === undefined ? {} : { renewalTimeMs }),
      ...(st.revision === undefined ? {} : { revision: st.revision }),
      rotations, warnings: w,
    };
  });
  const lifetime = input.workloadLifetimeMs ?? DEFAULT_WORKLOAD_LIFETIME_MS;
  const workloads: WorkloadCertView[] = input.proxies.map((p) => {
    const notAfterMs = p.notAfterSeconds * 1000;
    const w: string[] = [];
    // Judged by the proxy's renewal schedule, not by a fixed "within the hour": with the
    // demo's 1-2 minute certificates every proxy is always within the hour of expiry
    // (regression: the certificate page warned about every healthy demo proxy).
    const notBeforeMs = notAfterMs - lifetime;
    const dueMs = Math.round(notBeforeMs + WORKLOAD_RENEW_FRACTION * lifetime);
    if (notAfterMs <= nowMs) w.push(`Proxy "${p.pod}" serves an expired certificate (expired ${iso(notAfterMs)})`);
    else if (nowMs > dueMs + WORKLOAD_RETRY_MAX_MS + lifetime / 10) {
      w.push(`Proxy "${p.pod}" should have renewed its certificate at ${iso(dueMs)} and has not; it expires at ${iso(notAfterMs)}`);
    }
    return { pod: p.pod, identity: p.identity, notBeforeMs, notAfterMs, lifetimeMs: lifetime, renewalTimeMs: dueMs, warnings: w };
  }).sort((a, b) => a.pod.localeCompare(b.pod));
  for (const i of issuers) warnings.push(...i.warnings);
  for (const wl of workloads) warnings.push(...wl.warnings);
  return { nowMs, anchors, issuers, workloads, warnings: [...new Set(warnings)] };
}

/** Reads the chain's inputs that live in the store (anchors, Certificates, Events, the workload-certificate lifetime). */
export async function readChainInput(store: ResourceStore, controlPlaneNamespace: string): Promise<Omit<ChainInput, 'proxies'>> {
  const [roots, certs, events, config] = await Promise.all([
    // identity's trust bundle ConfigMap and key, named by value: viz must not import identity.
    store.get('ConfigMap', 'weft-identity-trust-roots', controlPlaneNamespace),
    store.list('Certificate'),
    store.list('Event'),
    store.get('ConfigMap', 'weft-config', 'weft'),
  ]);
  const pem = (roots as ConfigMap | undefined)?.data?.['ca-bundle.crt'];
  const lifetimeText = (config as ConfigMap | undefined)?.data?.['issuanceLifetime'];
  let workloadLifetimeMs: number | undefined;
  try {
    workloadLifetimeMs = lifetimeText === undefined ? undefined : parseDuration(lifetimeText.trim());
  } catch {
    // An unreadable value is identity's (and weft check's) to report; judge by the default.
  }
  return {
    ...(pem === undefined ? {} : { anchorsPem: pem }),
    ...(workloadLifetimeMs === undefined || !(workloadLifetimeMs > 0) ? {} : { workloadLifetimeMs }),
    certificates: certs.items as Certificate[],
    events: events.items as Event[],
  };
}
