/**
 * Discovery through the destination service (src/destination's client): one watch
 * per authority, opened on first use, kept live, closed when idle.
 *
 *   resolve(authority) ─▶ handle ─(first use)─▶ watch ─▶ first set ─▶ Destination ─▶ waiters
 *                                                 └─ later sets ─▶ new Destination object
 *                                                    (the outbound stage rebuilds its targets)
 *
 * Answers map to destinations as Linkerd's proxy maps them:
 * - endpoints: meshed ones are reached at their proxy's inbound port with mTLS and
 *   the transport header naming the endpoint's port; the others in plain text;
 * - `no_endpoints` for a Service that exists: no endpoints (the client gets 503);
 * - `no_endpoints` for an unknown name or IP: the address itself, plain text.
 *
 * If the first answer does not come within `timeoutMs` (the control plane is
 * unreachable), an IP is forwarded as it is (biased towards availability: in the
 * embedded platform the ClusterIP's own DNAT still reaches an endpoint) and a name
 * gets 503; the answer replaces that as soon as it arrives.
 */
import { isIP } from 'node:net';
import type { DestinationClient, DestinationView, DestinationWatch } from '../../destination/client.ts';
import type { Logger } from '../log.ts';
import { normalizeAuthority, passthrough, type Destination, type DestinationHandle, type Discovery } from './discovery.ts';

/**
 * Watched only to tell `/ready` whether the destination service answers: a name
 * outside any cluster domain, which the service answers with `no_endpoints`.
 */
export const READINESS_PROBE_AUTHORITY = 'weft-proxy-readiness.invalid:4143';

/** Options of {@link DestinationDiscovery}. */
export type DestinationDiscoveryOptions = {
  log: Logger;
  /** How long a request waits for an authority's first answer (default 5000 ms). */
  timeoutMs?: number;
  /** An authority unused this long has its watch closed (default 60000 ms). */
  idleMs?: number;
  /** Proxy inbound port of a meshed endpoint without a hint (default 4143). */
  defaultInboundPort?: number;
};

/** Maps one answer of the destination service to where traffic goes. */
export function destinationFromView(view: DestinationView, host: string, port: number, authority: string, defaultInboundPort = 4143): Destination {
  if (view.kind === 'no_endpoints') {
    return view.exists ? { authority, port, endpoints: [], reason: `no endpoints for "${authority}"` } : passthrough(host, port, authority);
  }
  return {
    authority,
    port,
    endpoints: view.endpoints.map((e) => ({
      host: e.ip,
      port: e.identity === undefined ? e.port : (e.inboundPort ?? defaultInboundPort),
      identity: e.identity,
      targetPort: e.port,
      protocol: e.protocol,
    })),
  };
}

class Entry implements DestinationHandle {
  readonly #owner: DestinationDiscovery;
  readonly key: string;
  readonly #host: string;
  readonly #port: number;
  #dest: Destination | undefined;
  #watch: DestinationWatch | undefined;
  #waiters: Array<(d: Destination) => void> = [];
  #timer: NodeJS.Timeout | undefined;
  used = true;

  constructor(owner: DestinationDiscovery, host: string, port: number, key: string) {
    this.#owner = owner;
    this.#host = host;
    this.#port = port;
    this.key = key;
  }

  current(): Destination | undefined {
    this.used = true;
    if (this.#watch === undefined) this.#open();
    return this.#dest;
  }

  whenKnown(cb: (d: Destination) => void): void {
    const d = this.current();
    if (d !== undefined) {
      cb(d);
      return;
    }
    this.#waiters.push(cb);
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      if (this.#dest !== undefined) return;
      const reason = `discovery of "${this.key}" did not answer within ${this.#owner.timeoutMs} ms`;
      this.#owner.log.warn('discovery timed out', { authority: this.key, fallback: isIP(this.#host) !== 0 ? 'forward as addressed' : '503' });
      this.#set(isIP(this.#host) !== 0 ? passthrough(this.#host, this.#port, this.key) : { authority: this.key, port: this.#port, endpoints: [], reason });
    }, this.#owner.timeoutMs);
    this.#timer.unref();
  }

  #set(d: Destination): void {
    this.#dest = d;
    const w = this.#waiters;
    this.#waiters = [];
    for (const cb of w) cb(d);
  }

  #open(): void {
    this.#watch = this.#owner.client.watch(this.key, (view) => {
      const d = destinationFromView(view, this.#host, this.#port, this.key, this.#owner.defaultInboundPort);
      this.#owner.log.debug('discovery update', { authority: this.key, endpoints: d.endpoints.length });
      if (this.#timer !== undefined) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
      }
      this.#set(d);
    });
  }

  /** True while a watch is open. */
  get open(): boolean {
    return this.#watch !== undefined;
  }

  /** Closes the watch; the next `current()` opens a new one. */
  close(): void {
    this.#watch?.close();
    this.#watch = undefined;
    this.#dest = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** Discovery backed by the destination service. */
export class DestinationDiscovery implements Discovery {
  /** @internal */
  readonly client: DestinationClient;
  /** @internal */
  readonly log: Logger;
  /** @internal */
  readonly timeoutMs: number;
  /** @internal */
  readonly defaultInboundPort: number;
  readonly #entries = new Map<string, Entry>();
  readonly #probe: DestinationWatch;
  readonly #sweeper: NodeJS.Timeout;

  constructor(client: DestinationClient, options: DestinationDiscoveryOptions) {
    this.client = client;
    this.log = options.log;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.defaultInboundPort = options.defaultInboundPort ?? 4143;
    this.#probe = client.watch(READINESS_PROBE_AUTHORITY);
    const idleMs = options.idleMs ?? 60_000;
    // Two sweeps per idle period: an entry unused for a whole period is closed.
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(1, idleMs / 2));
    this.#sweeper.unref();
  }

  resolve(authority: string, defaultPort: number): DestinationHandle | undefined {
    const a = normalizeAuthority(authority, defaultPort);
    if (a === undefined) return undefined;
    let e = this.#entries.get(a.authority);
    if (e === undefined) {
      e = new Entry(this, a.host, a.port, a.authority);
      this.#entries.set(a.authority, e);
    }
    return e;
  }

  notReadyReasons(): string[] {
    if (this.#probe.connected()) return [];
    return [`destination service not connected${this.#probe.lastError() === undefined ? '' : `: ${this.#probe.lastError()!.message}`}`];
  }

  /** Authorities currently watched (for tests and logs). */
  watched(): string[] {
    return [...this.#entries.values()].filter((e) => e.open).map((e) => e.key);
  }

  #sweep(): void {
    // Idle watches close; their entries stay (the outbound stage may hold them, and
    // reopens on next use) unless endlessly many authorities pile up.
    const prune = this.#entries.size > 10_000;
    for (const e of [...this.#entries.values()]) {
      if (e.used) {
        e.used = false;
        continue;
      }
      e.close();
      if (prune) this.#entries.delete(e.key);
    }
  }

  close(): void {
    clearInterval(this.#sweeper);
    for (const e of this.#entries.values()) e.close();
    this.#entries.clear();
    this.#probe.close();
    this.client.close();
  }
}
