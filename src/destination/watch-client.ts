/**
 * The destination client a proxy runs: one Get stream per watched address, kept
 * open for the life of the watch, with the set it describes held in memory.
 *
 *   watch ─▶ connect (cert from tls()) ─▶ first update = whole set ─▶ publish ─┐
 *     ▲            │                       later updates ─▶ apply ─▶ publish ───┤
 *     │            └─ error / end ─▶ keep the last set ─▶ wait retryDelay ──────┘
 *     └──────────────────────────────── (1 s … 60 s, doubling, jittered; reset by a message)
 *
 * While disconnected the last known set stays in force: a control-plane restart
 * must not take traffic away from endpoints that are still there.
 *
 * Get goes over node:http2 (src/grpc-client), so the sidecar loads no gRPC library.
 */
import { WeftError } from '../errors/index.ts';
import { GrpcChannel, GrpcCode, type GrpcCall } from '../grpc-client/index.ts';
import {
  DEFAULT_IDENTITY_DOMAIN, DEFAULT_REFRESH_POLICY, retryDelay, systemClock, type Clock, type IdentityDomain, type TimerHandle,
} from '../identity/client.ts';
import { applyUpdate } from './diff.ts';
import type { Resolution } from './resolve.ts';
import { destinationServiceName } from './service-name.ts';
import { decodeUpdate, encodeGetDestination, GET_PATH } from './wire.ts';

const KEEPALIVE_MS = 30_000;
const KEEPALIVE_TIMEOUT_MS = 10_000;

/** The set an address has, as the client holds it. */
export type DestinationView = Resolution;

/** What the client presents and trusts; an `IdentityMaterial` from the identity client fits. */
export interface ClientTlsMaterial {
  /** The workload's private key, PEM. */
  readonly keyPem: string;
  /** Leaf then intermediates, PEM. */
  readonly certChainPem: string;
  /** Trust anchors the service's certificate must chain to, PEM. */
  readonly trustAnchorsPem: string;
}

/** Options of {@link startDestinationClient}. */
export interface DestinationClientOptions {
  /** `host:port` of the destination service. */
  readonly addr: string;
  /**
   * The certificate to connect with, read at every (re)connect so a renewed one is
   * used from the next connection on; undefined: none yet (retry later). Usually
   * `() => identityClient.current()`.
   */
  readonly tls: () => ClientTlsMaterial | undefined;
  /** Identity domain of the control plane (default `weft`, `cluster.local`): names the service's certificate. */
  readonly domain?: IdentityDomain;
  /** The name on the service's certificate; default `weft-destination.<cp-ns>.serviceaccount.identity.<cp-ns>.<td>`. */
  readonly serverName?: string;
  /** Sent with every Get: JSON `{"ns":"<pod namespace>","pod":"<pod name>"}` lets `name:port` resolve. Default empty. */
  readonly contextToken?: string;
  /** First reconnect delay, ms (default 1 000); doubles per failure. */
  readonly backoffBaseMs?: number;
  /** Longest reconnect delay, ms (default 60 000). */
  readonly backoffMaxMs?: number;
  readonly clock?: Clock;
  /** Source of randomness for jitter, in [0, 1) (default Math.random). */
  readonly random?: () => number;
}

/** One watched address. Iterate it for every new set (the latest first), or read {@link current}. */
export interface DestinationWatch extends AsyncIterable<DestinationView> {
  readonly authority: string;
  /** The last set received; undefined before the first. Kept while disconnected. */
  current(): DestinationView | undefined;
  /** Resolves with the first set. */
  whenReady(): Promise<DestinationView>;
  /** True while a stream is open and has delivered its first set. */
  connected(): boolean;
  /** Why the last stream ended, for logs and `/ready`; undefined while connected. */
  lastError(): Error | undefined;
  /** Ends the watch; iterators finish. */
  close(): void;
}

/** A running destination client. */
export interface DestinationClient {
  /** Watches `authority` (`name.ns.svc.cluster.local:port` or `ip:port`); `onUpdate` hears every new set. */
  watch(authority: string, onUpdate?: (view: DestinationView) => void): DestinationWatch;
  /** Ends every watch. */
  close(): void;
}

/** A Get stream ended; `grpcCode` is its gRPC status. */
export class DestinationStreamError extends WeftError {
  readonly grpcCode: number | undefined;

  constructor(message: string, grpcCode?: number) {
    super('WEFT_ERR_DESTINATION_STREAM', message);
    this.name = 'DestinationStreamError';
    this.grpcCode = grpcCode;
  }
}

/** Starts a client. Nothing connects until the first {@link DestinationClient.watch}. */
export function startDestinationClient(opts: DestinationClientOptions): DestinationClient {
  const watches = new Set<DestinationWatch>();
  const serverName = opts.serverName ?? destinationServiceName(opts.domain ?? DEFAULT_IDENTITY_DOMAIN);
  let shared: { key: string; channel: GrpcChannel } | undefined;
  // One connection per certificate, shared by every watch: a new certificate opens a
  // new one for the streams that (re)start from then on, and the old one closes
  // once its streams have ended.
  const channelFor = (material: ClientTlsMaterial): GrpcChannel => {
    const key = material.keyPem + material.certChainPem + material.trustAnchorsPem;
    if (shared?.key !== key) {
      shared?.channel.close();
      shared = {
        key,
        channel: new GrpcChannel({
          addr: opts.addr,
          // We dial an address but verify a name: the service's identity, as Linkerd's proxy does.
          serverName,
          trustAnchorsPem: material.trustAnchorsPem,
          keyPem: material.keyPem,
          certChainPem: material.certChainPem,
          // A stream can sit idle for hours: pings find a control plane that vanished
          // without closing the connection (a killed VM, a dropped route) within ~40 s.
          keepaliveMs: KEEPALIVE_MS,
          keepaliveTimeoutMs: KEEPALIVE_TIMEOUT_MS,
        }),
      };
    }
    return shared.channel;
  };
  return {
    watch(authority, onUpdate) {
      const w = openWatch(authority, opts, channelFor, onUpdate, () => watches.delete(w));
      watches.add(w);
      return w;
    },
    close() {
      for (const w of [...watches]) w.close();
      shared?.channel.close();
      shared = undefined;
    },
  };
}

function openWatch(
  authority: string,
  opts: DestinationClientOptions,
  channelFor: (material: ClientTlsMaterial) => GrpcChannel,
  onUpdate: ((view: DestinationView) => void) | undefined,
  onClose: () => void,
): DestinationWatch {
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? Math.random;
  const policy = {
    ...DEFAULT_REFRESH_POLICY,
    ...(opts.backoffBaseMs === undefined ? {} : { backoffBaseMs: opts.backoffBaseMs }),
    ...(opts.backoffMaxMs === undefined ? {} : { backoffMaxMs: opts.backoffMaxMs }),
  };
  const waiters = new Set<() => void>();
  let view: DestinationView | undefined;
  let viewText = '';
  let version = 0;
  let closed = false;
  let isConnected = false;
  let lastError: Error | undefined;
  let failures = 0;
  let timer: TimerHandle | undefined;
  let call: GrpcCall | undefined;

  const publish = (next: DestinationView): void => {
    const text = JSON.stringify(next);
    if (text === viewText) return;
    view = next;
    viewText = text;
    version++;
    onUpdate?.(next);
    for (const w of waiters) w();
    waiters.clear();
  };

  const retry = (err: Error): void => {
    isConnected = false;
    lastError = err;
    if (closed) return;
    failures++;
    timer?.cancel();
    timer = clock.setTimer(retryDelay(failures, random(), policy), connect);
  };

  function connect(): void {
    if (closed) return;
    const material = opts.tls();
    if (material === undefined) {
      retry(new DestinationStreamError('Wait for a workload certificate: the identity client has none yet'));
      return;
    }
    // Each stream starts from nothing: its first update is the whole set, and only
    // then does it replace what the previous stream left.
    let streamSet: DestinationView | undefined;
    const c = channelFor(material).call({ path: GET_PATH, message: encodeGetDestination({ authority, contextToken: opts.contextToken ?? '' }) }, {
      onMessage(bytes) {
        // A message that does not decode ends the call INTERNAL, with the decoder's reason.
        streamSet = applyUpdate(streamSet, decodeUpdate(bytes));
        isConnected = true;
        lastError = undefined;
        failures = 0;
        publish(streamSet);
      },
      onEnd(status) {
        if (call === c) call = undefined;
        if (closed) return;
        retry(status.code === GrpcCode.OK
          ? new DestinationStreamError(`Get "${authority}" ended by the server`)
          : new DestinationStreamError(`Get "${authority}" failed: ${status.details}`, status.code));
      },
    });
    call = c;
  }

  const watch: DestinationWatch = {
    authority,
    current: () => view,
    whenReady: () => (view !== undefined
      ? Promise.resolve(view)
      : new Promise((resolve, reject) => {
        const w = (): void => (view !== undefined ? resolve(view) : reject(new DestinationStreamError(`Watch of "${authority}" closed before any set arrived`)));
        waiters.add(w);
      })),
    connected: () => isConnected,
    lastError: () => lastError,
    close() {
      if (closed) return;
      closed = true;
      isConnected = false;
      timer?.cancel();
      call?.cancel();
      for (const w of waiters) w();
      waiters.clear();
      onClose();
    },
    [Symbol.asyncIterator](): AsyncIterator<DestinationView> {
      let seen = 0;
      return {
        async next(): Promise<IteratorResult<DestinationView>> {
          // Coalescing: a slow reader skips to the latest set, which is all a balancer needs.
          while (!closed && version === seen) await new Promise<void>((resolve) => waiters.add(resolve));
          if (closed || view === undefined) return { done: true, value: undefined };
          seen = version;
          return { done: false, value: view };
        },
        async return(): Promise<IteratorResult<DestinationView>> {
          return { done: true, value: undefined };
        },
      };
    },
  };
  connect();
  return watch;
}
