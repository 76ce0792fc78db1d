/**
 * `weft viz tap`/`top` and the dashboard's live tap: one connection to each proxy's
 * admin `GET /tap` (newline-delimited JSON, one line per finished request), merged
 * into one stream of {@link TapEvent}s named by the resources at both ends.
 * A proxy answering 404 predates `/tap`: it is reported, so the caller can fall
 * back to metric-derived batches for it. A proxy that accepts nothing or never
 * answers is given up on after a connect timeout and reported like an unreachable
 * one; once a stream is open it may stay quiet for as long as no request passes.
 */
import http from 'node:http';
import { IdentityIndex, keysOf, resourceKey, type ResourceKind, type ResourceRef } from './mesh-view.ts';
import { scrapeTargets, type Inventory, type ScrapeTarget } from './scrape-targets.ts';
import type { TapEvent } from './tap-events.ts';

/** A line longer than this is not a tap event: the connection is dropped rather than buffered. */
const MAX_LINE_BYTES = 64 * 1024;
/**
 * How long a proxy has to answer `/tap` with its status line: the same 2 s the
 * scraper gives `/metrics` (the admin port answers both at once when healthy).
 * Without it a proxy whose SYNs vanish holds the command for the kernel's
 * two-minute connect timeout, and one that accepts and never answers holds it forever.
 */
export const DEFAULT_TAP_CONNECT_TIMEOUT_MS = 2_000;

/** What to tap and what to keep; every filter is optional. */
export interface TapStreamFilter {
  /** Only the proxies of this resource (both directions, as `linkerd viz tap deploy/web`). */
  readonly resource?: ResourceRef;
  /** Only the proxies of pods in this namespace (ignored with `resource`, which has its own). */
  readonly namespace?: string;
  /** Only this method (case-insensitive). */
  readonly method?: string;
  /** Only paths starting with this. */
  readonly pathPrefix?: string;
}

/** Options of {@link openTapStreams}. */
export interface TapStreamOptions extends TapStreamFilter {
  readonly inventory: Inventory;
  /** Default 4191. */
  readonly adminPort?: number;
  /** How long each proxy has to answer (connect and status line). Default {@link DEFAULT_TAP_CONNECT_TIMEOUT_MS}. */
  readonly connectTimeoutMs?: number;
  readonly onEvent: (e: TapEvent) => void;
  /** A proxy whose stream is open (it answered 200). */
  readonly onOpen?: (target: ScrapeTarget) => void;
  /** A proxy whose admin port answered 404 (no `/tap`: an older proxy). */
  readonly onLegacy?: (target: ScrapeTarget) => void;
  /** A proxy that could not be tapped (refused, timed out, not 200), or whose stream ended. */
  readonly onError?: (target: ScrapeTarget, err: Error) => void;
}

/** Open tap connections. */
export interface TapStreams {
  /** The proxies tapped (or tried). */
  readonly targets: readonly ScrapeTarget[];
  /** Resolves once every proxy has answered (200, 404 or an error). */
  readonly ready: Promise<void>;
  close(): void;
}

/** The scrape targets a filter taps. Pure. */
export function tapTargets(inventory: Inventory, filter: TapStreamFilter, adminPort?: number): ScrapeTarget[] {
  const all = scrapeTargets(inventory, adminPort === undefined ? {} : { adminPort });
  const r = filter.resource;
  if (r !== undefined) {
    const key = resourceKey(r.namespace ?? filter.namespace ?? 'default', r.name, r.kind);
    return all.filter((t) => keysOf(t, r.kind).includes(key));
  }
  return filter.namespace === undefined ? all : all.filter((t) => t.namespace === filter.namespace);
}

/** One `/tap` line from `target` as a {@link TapEvent}, or undefined when the filter drops it. Pure. */
export function tapLineEvent(line: unknown, target: ScrapeTarget, ids: IdentityIndex, filter: TapStreamFilter): TapEvent | undefined {
  if (typeof line !== 'object' || line === null) return undefined;
  const l = line as Record<string, unknown>;
  const method = typeof l['method'] === 'string' ? l['method'] : '';
  const path = typeof l['path'] === 'string' ? l['path'] : '';
  if (filter.method !== undefined && method.toUpperCase() !== filter.method.toUpperCase()) return undefined;
  if (filter.pathPrefix !== undefined && !path.startsWith(filter.pathPrefix)) return undefined;
  const direction = l['direction'] === 'outbound' ? 'outbound' : 'inbound';
  const kind: ResourceKind = filter.resource?.kind ?? 'deployment';
  const self = keysOf(target, kind)[0] ?? target.key;
  const clientId = typeof l['clientId'] === 'string' ? l['clientId'] : undefined;
  const serverId = typeof l['serverId'] === 'string' ? l['serverId'] : undefined;
  const peer = direction === 'inbound' ? clientId : serverId;
  const other = peer === undefined ? '-' : ids.keyOf(peer, kind);
  const status = typeof l['status'] === 'number' ? l['status'] : 0;
  return {
    timeMs: typeof l['ts'] === 'number' ? l['ts'] : Date.now(),
    proxy: target.key, direction,
    src: direction === 'inbound' ? other : self,
    dst: direction === 'inbound' ? self : other,
    authority: typeof l['authority'] === 'string' ? l['authority'] : '',
    // As the proxy's metrics classify responses: 5xx (and the proxy's own errors) fail.
    statusCode: String(status), classification: status >= 500 || status === 0 ? 'failure' : 'success',
    tls: l['tls'] === true,
    ...(clientId === undefined ? {} : { clientId }),
    ...(serverId === undefined ? {} : { serverId }),
    count: 1, method, path,
    ...(typeof l['latencyMs'] === 'number' ? { latencyMs: l['latencyMs'] } : {}),
  };
}

/** Taps every proxy the filter selects and merges their streams into `onEvent`. */
export function openTapStreams(options: TapStreamOptions): TapStreams {
  const targets = tapTargets(options.inventory, options, options.adminPort);
  const ids = new IdentityIndex(options.inventory);
  const requests: http.ClientRequest[] = [];
  const timers: NodeJS.Timeout[] = [];
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_TAP_CONNECT_TIMEOUT_MS;
  let closed = false;
  const ready = Promise.all(targets.map((t) => new Promise<void>((resolve) => {
    let reported = false;
    // Once per proxy: a destroyed stream can fail on the request and the response both.
    const report = (err: Error): void => {
      if (reported || closed) return;
      reported = true;
      options.onError?.(t, err);
    };
    const fail = (err: Error): void => {
      clearTimeout(timer);
      resolve();
      report(err);
    };
    // Not http's `timeout` option: that is an idle timeout, and an open tap stream is idle whenever traffic is.
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${connectTimeoutMs} ms`)), connectTimeoutMs);
    const req = http.get(t.url.replace(/\/metrics$/, '/tap'), { agent: false }, (res) => {
      clearTimeout(timer);
      if (res.statusCode === 404) {
        res.resume();
        resolve();
        options.onLegacy?.(t);
        return;
      }
      if (res.statusCode !== 200) {
        res.resume();
        fail(new Error(`HTTP ${res.statusCode}`));
        return;
      }
      resolve();
      if (!closed) options.onOpen?.(t);
      res.setEncoding('utf8');
      let rest = '';
      res.on('data', (chunk: string) => {
        rest += chunk;
        let nl: number;
        while ((nl = rest.indexOf('\n')) >= 0) {
          const text = rest.slice(0, nl);
          rest = rest.slice(nl + 1);
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            continue;
          }
          const e = tapLineEvent(parsed, t, ids, options);
          if (e !== undefined && !closed) options.onEvent(e);
        }
        if (rest.length > MAX_LINE_BYTES) req.destroy(new Error(`a tap line longer than ${MAX_LINE_BYTES} bytes`));
      });
      res.on('error', report);
      res.on('end', () => report(new Error('the tap stream ended')));
    });
    req.on('error', fail);
    requests.push(req);
    timers.push(timer);
  }))).then(() => undefined);
  return {
    targets, ready,
    close: () => {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      for (const r of requests) r.destroy();
    },
  };
}
