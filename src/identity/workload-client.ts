/**
 * The identity client a proxy runs: one P-256 key kept in memory for the life of
 * the process, one CSR for its identity, and a loop that keeps a valid certificate.
 *
 *   start ─▶ Certify ── ok ──▶ serve new cert ─▶ wait refreshDelay (70%, [10s, 24h], jitter) ─┐
 *     ▲          │                                                                            │
 *     │          └─ fail ─▶ keep current cert ─▶ wait retryDelay (1s … 60s, doubling) ────────┤
 *     └─────────────────────────────────────────────────────────────────────────────────────┘
 *
 * The token and the trust anchors are re-read from their files before every
 * call, so a rotated token (or a new anchor bundle) is used without a restart.
 */
import { readFile } from 'node:fs/promises';
import { systemClock, type Clock, type TimerHandle } from './clock.ts';
import { Counter, Gauge, renderMetrics } from './metrics.ts';
import { identityDomainOf, identityServiceName, type IdentityDomain } from './names.ts';
import { DEFAULT_REFRESH_POLICY, refreshDelay, retryDelay, type RefreshPolicy } from './refresh-time.ts';
import { IdentityRpcClient } from './rpc-client.ts';
import { workloadCsr } from './workload-csr.ts';
import { checkCertifyResponse, type WorkloadLeaf } from './workload-leaf.ts';
import { WeftError } from '../errors/index.ts';

/** What the client hands its user: everything a TLS endpoint needs. */
export interface IdentityMaterial {
  /** The private key, PKCS#8 PEM (in memory only). */
  readonly keyPem: string;
  /** Leaf then intermediates, PEM. */
  readonly certChainPem: string;
  /** The trust anchors the leaf was verified against, PEM. */
  readonly trustAnchorsPem: string;
  /** The leaf's notAfter. */
  readonly validUntil: Date;
  /** The leaf, read with node:crypto (src/pki's `parseCertificates(certChainPem)` gives every field). */
  readonly leaf: WorkloadLeaf;
}

/** Options of {@link startIdentityClient}. */
export interface IdentityClientOptions {
  /** `host:port` of the identity service. */
  readonly addr: string;
  /** The identity to request, `<sa>.<ns>.serviceaccount.identity.<cp-ns>.<td>`. */
  readonly identity: string;
  /** File holding the service-account token; re-read before every call. */
  readonly tokenFile: string;
  /** File holding the trust anchors (PEM); re-read before every call. Or give `trustAnchorsPem`. */
  readonly trustAnchorsFile?: string;
  /** Trust anchors as PEM, when not from a file. */
  readonly trustAnchorsPem?: string;
  /** Name on the identity service's certificate; default derived from `identity`'s domain. */
  readonly serverName?: string;
  /** Renewal and retry timing; defaults in {@link DEFAULT_REFRESH_POLICY}. */
  readonly policy?: Partial<RefreshPolicy>;
  /** Deadline of one Certify call, ms (default 10 000). */
  readonly timeoutMs?: number;
  readonly clock?: Clock;
  /** Source of randomness for jitter, in [0, 1) (default Math.random). */
  readonly random?: () => number;
}

/** A running identity client. */
export interface IdentityClient {
  /** The current certificate and key, or undefined when none is valid now. */
  current(): IdentityMaterial | undefined;
  /** Calls `cb` with every new certificate; returns an unsubscribe function. */
  onChange(cb: (material: IdentityMaterial) => void): () => void;
  /** True while a valid certificate is held. */
  ready(): boolean;
  /** Resolves when the first certificate arrives. */
  whenReady(): Promise<IdentityMaterial>;
  /** The last failure, for logs and `weft check`; undefined after a success. */
  lastError(): Error | undefined;
  /** Prometheus text: `identity_cert_expiration_timestamp_seconds`, `identity_cert_refresh_count{result}`. */
  metrics(): string;
  /** Asks for a new certificate now (tests, or after a trust-anchor change). */
  refreshNow(): Promise<void>;
  /** Stops renewing and closes the channel. */
  close(): void;
}

/** Derives the identity service's name's domain from a workload identity (same control plane, same trust domain). */
function domainOf(identity: string): IdentityDomain {
  const domain = identityDomainOf(identity);
  if (domain === null) {
    throw new WeftError('WEFT_ERR_IDENTITY_NAME', `Use an identity of the form "<sa>.<ns>.serviceaccount.identity.<cp-ns>.<trust-domain>": cannot read "${identity}"`);
  }
  return domain;
}

/**
 * Starts the client: makes the key and CSR, asks for the first certificate at once
 * and keeps one valid from then on. Never throws for an unreachable service: it
 * retries, and `ready()` stays false until a certificate arrives.
 */
export async function startIdentityClient(opts: IdentityClientOptions): Promise<IdentityClient> {
  if (opts.trustAnchorsFile === undefined && opts.trustAnchorsPem === undefined) {
    throw new WeftError('WEFT_ERR_IDENTITY_ANCHORS', 'Give the identity client trust anchors: a file or PEM text');
  }
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? Math.random;
  const policy: RefreshPolicy = { ...DEFAULT_REFRESH_POLICY, ...opts.policy };
  const serverName = opts.serverName ?? identityServiceName(domainOf(opts.identity));
  const { keyPem, spki, der: csrDer } = workloadCsr(opts.identity);

  const expiry = new Gauge('identity_cert_expiration_timestamp_seconds', 'When the current identity certificate expires (Unix seconds).');
  const refreshes = new Counter('identity_cert_refresh_count', 'Certificate refreshes by result.');
  refreshes.inc({ result: 'ok' }, 0);
  refreshes.inc({ result: 'failure' }, 0);
  const listeners = new Set<(m: IdentityMaterial) => void>();
  const readyWaiters = new Set<(m: IdentityMaterial) => void>();
  let material: IdentityMaterial | undefined;
  let lastError: Error | undefined;
  let failures = 0;
  let timer: TimerHandle | undefined;
  let rpc: { client: IdentityRpcClient; anchors: string } | undefined;
  let inFlight: Promise<void> | undefined;
  let closed = false;

  const current = (): IdentityMaterial | undefined =>
    material !== undefined && clock.now() < material.validUntil.getTime() ? material : undefined;

  const anchorsPem = async (): Promise<string> =>
    opts.trustAnchorsFile !== undefined ? readFile(opts.trustAnchorsFile, 'utf8') : (opts.trustAnchorsPem as string);

  const attempt = async (): Promise<void> => {
    const anchors = await anchorsPem();
    const token = (await readFile(opts.tokenFile, 'utf8')).trim();
    if (rpc === undefined || rpc.anchors !== anchors) {
      rpc?.client.close();
      rpc = { client: new IdentityRpcClient({ addr: opts.addr, serverName, trustAnchorsPem: anchors, clock, ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }) }), anchors };
    }
    const response = await rpc.client.certify({
      identity: opts.identity, token: Buffer.from(token), certificateSigningRequest: csrDer,
    });
    // Trust, but verify: the leaf must be for our key and our name, and chain to our anchors.
    const { leaf, certChainPem } = checkCertifyResponse(response, { spki, identity: opts.identity, trustAnchorsPem: anchors, now: new Date(clock.now()) });
    material = { keyPem, certChainPem, trustAnchorsPem: anchors, validUntil: leaf.notAfter, leaf };
  };

  const schedule = (ms: number): void => {
    timer?.cancel();
    if (!closed) timer = clock.setTimer(ms, () => void refresh());
  };

  const refresh = (): Promise<void> => {
    inFlight ??= (async () => {
      try {
        await attempt();
        failures = 0;
        lastError = undefined;
        refreshes.inc({ result: 'ok' });
        const m = material as IdentityMaterial;
        expiry.set(m.validUntil.getTime() / 1000);
        schedule(refreshDelay(m.validUntil.getTime(), clock.now(), random(), policy));
        for (const cb of listeners) cb(m);
        for (const w of readyWaiters) w(m);
        readyWaiters.clear();
      } catch (err) {
        failures++;
        lastError = err as Error;
        refreshes.inc({ result: 'failure' });
        // A fresh channel next time: our backoff decides when to retry, not grpc's reconnect backoff.
        rpc?.client.close();
        rpc = undefined;
        schedule(retryDelay(failures, random(), policy));
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };

  void refresh();

  return {
    current,
    onChange(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    ready: () => current() !== undefined,
    whenReady: () => {
      const m = current();
      return m !== undefined ? Promise.resolve(m) : new Promise((resolve) => readyWaiters.add(resolve));
    },
    lastError: () => lastError,
    metrics: () => renderMetrics([expiry, refreshes]),
    refreshNow: async () => {
      await inFlight;
      await refresh();
    },
    close() {
      closed = true;
      timer?.cancel();
      rpc?.client.close();
      rpc = undefined;
    },
  };
}
