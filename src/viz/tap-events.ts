/**
 * `weft viz tap` from scraped metrics: between two scrapes of a proxy, each
 * response_total series that grew becomes one event — "12 responses 500 failure
 * from web to voting-svc". The fallback for proxies whose admin port has no `/tap`
 * (older proxies): an event is a batch per scrape interval, with no method or path.
 */
import type { MetricSample } from './prometheus-text.ts';
import { seriesKey } from './counter-increase.ts';
import { IdentityIndex, keysOf, splitKey, type MeshData, type ResourceKind, type ResourceRef } from './mesh-view.ts';

/** A batch of like responses one proxy saw between two scrapes. */
export interface TapEvent {
  /** The later scrape's time. */
  readonly timeMs: number;
  /** `namespace/pod` of the proxy that saw them. */
  readonly proxy: string;
  readonly direction: 'inbound' | 'outbound';
  /** Caller and callee as `namespace/deployment` (or `namespace/pod` without one); `-` when unknown. */
  readonly src: string;
  readonly dst: string;
  readonly authority: string;
  readonly statusCode: string;
  readonly classification: string;
  readonly tls: boolean;
  readonly clientId?: string;
  readonly serverId?: string;
  /** How many responses (1 for an event from a proxy's `/tap` stream). */
  readonly count: number;
  /** Request method and path (with its query); only events from a proxy's `/tap` stream have them. */
  readonly method?: string;
  readonly path?: string;
  readonly latencyMs?: number;
}

/** Filters of {@link tapEvents}. */
export interface TapFilter {
  /** Only events with this resource at either end. */
  readonly resource?: ResourceRef;
  /** Only events after this time (exclusive). */
  readonly sinceMs?: number;
  /** Only this direction; default inbound (each request once, seen by the callee). */
  readonly direction?: 'inbound' | 'outbound';
}

function increases(a: readonly MetricSample[], b: readonly MetricSample[]): Array<{ s: MetricSample; n: number }> {
  const before = new Map<string, number>();
  for (const s of a) if (s.name === 'response_total') before.set(seriesKey(s), s.value);
  const out: Array<{ s: MetricSample; n: number }> = [];
  for (const s of b) {
    if (s.name !== 'response_total') continue;
    const prev = before.get(seriesKey(s)) ?? 0;
    const n = s.value >= prev ? s.value - prev : s.value;
    if (n > 0) out.push({ s, n });
  }
  return out;
}

/** The events in the recorded scrapes, oldest first. Pure. */
export function tapEvents(data: MeshData, filter: TapFilter = {}): TapEvent[] {
  const ids = new IdentityIndex(data.inventory);
  const direction = filter.direction ?? 'inbound';
  const name = (key: string): string => key;
  const kind: ResourceKind = filter.resource?.kind ?? 'deployment';
  const wanted = filter.resource === undefined ? undefined : `${filter.resource.namespace ?? 'default'}/${filter.resource.name}`;
  const out: TapEvent[] = [];
  for (const h of data.histories) {
    const t = h.target;
    const self = keysOf(t, kind)[0] ?? `${t.namespace}/${t.pod}`;
    for (let i = 1; i < h.scrapes.length; i++) {
      const b = h.scrapes[i]!;
      if (filter.sinceMs !== undefined && b.timeMs <= filter.sinceMs) continue;
      for (const { s, n } of increases(h.scrapes[i - 1]!.samples, b.samples)) {
        const l = s.labels;
        if (l['direction'] !== direction) continue;
        const peer = direction === 'inbound' ? l['client_id'] : l['server_id'];
        const other = peer === undefined ? '-' : ids.keyOf(peer, kind);
        const src = direction === 'inbound' ? other : self;
        const dst = direction === 'inbound' ? self : other;
        if (wanted !== undefined && src !== wanted && dst !== wanted) continue;
        out.push({
          timeMs: b.timeMs, proxy: t.key, direction, src: name(src), dst: name(dst),
          authority: l['authority'] ?? '', statusCode: l['status_code'] ?? '', classification: l['classification'] ?? '',
          tls: l['tls'] === 'true',
          ...(direction === 'inbound' ? { ...(peer === undefined ? {} : { clientId: peer }), serverId: t.identity } : { clientId: t.identity, ...(peer === undefined ? {} : { serverId: peer }) }),
          count: n,
        });
      }
    }
  }
  return out.sort((a, b) => a.timeMs - b.timeMs || a.proxy.localeCompare(b.proxy));
}

/** `ns/name` → `name` when in `namespace`, for compact display. */
export function shortName(key: string, namespace: string | undefined): string {
  const { namespace: ns, name } = splitKey(key);
  return ns === namespace ? name : key;
}
