/**
 * `weft viz edges`: which resources talk to which, whether each edge is mTLS, and
 * the identities on both ends. An edge is seen from either end:
 *
 *   inbound  (the server's proxy): client_id names the caller   → secured when tls="true"
 *   outbound (the caller's proxy): server_id or the authority    → plain when tls="no_identity"
 *
 * Both views of one pair merge into one row. Edges are what the last scrape's
 * cumulative counters show (a long-lived gRPC connection opened an hour ago is still
 * an edge); rates and success come from the window. So does "secured", when the edge
 * carried traffic in the window: plain-text requests a caller sent before its peer was
 * known to discovery (at start-up) stay in its counters, but must not mark an edge
 * that is mTLS now as insecure forever. A connection still open counts as traffic
 * (a plain-text one opened long ago is still plain text). An edge idle in the window
 * is judged by all its counters.
 */
import type { Service } from '../api/index.ts';
import { addGolden, emptyGolden, goldenStats, type GoldenSums } from './golden-metrics.ts';
import { IdentityIndex, keysOf, podFacts, splitKey, type MeshData, type ResourceKind } from './mesh-view.ts';
import { counterIncrease, scrapesSince, seriesKey } from './counter-increase.ts';
import { namespaceOf, type Inventory } from './scrape-targets.ts';

/** Options of {@link edgeRows}. */
export interface EdgeQuery {
  readonly kind: ResourceKind;
  /** Only edges with an end in this namespace; default every namespace. */
  readonly namespace?: string;
  /** Window for rates; default one minute. */
  readonly windowMs?: number;
}

/** One edge. */
export interface EdgeRow {
  readonly srcNamespace: string;
  readonly src: string;
  readonly dstNamespace: string;
  readonly dst: string;
  /** Every connection and request seen on the edge was mutually authenticated. */
  readonly secured: boolean;
  readonly clientId?: string;
  readonly serverId?: string;
  /** Responses per second over the window and their success share (undefined without responses). */
  readonly rps: number;
  readonly successRate: number | undefined;
}

type Acc = { src: string; dst: string; secured: boolean; active: boolean; securedInWindow: boolean; clientId?: string; serverId?: string };

/** The resource keys an outbound authority (`web-svc.emojivoto.svc.cluster.local:80`, a name, or an IP) points at. */
export function authorityKeys(authority: string, fromNamespace: string, inventory: Inventory, kind: ResourceKind): string[] {
  const host = authority.replace(/^\[/, '').replace(/\](:\d+)?$/, '').replace(/:\d+$/, '');
  const parts = host.split('.');
  const byIp = inventory.pods.find((p) => p.status?.podIP === host);
  if (byIp !== undefined) return keysOf(podFacts(byIp, inventory), kind);
  let services: Service[] = inventory.services.filter((s) => s.spec.clusterIP === host);
  if (services.length === 0 && parts.length >= 1) {
    const ns = parts.length >= 2 && parts[1] !== 'svc' ? parts[1]! : fromNamespace;
    services = inventory.services.filter((s) => s.metadata.name === parts[0] && namespaceOf(s) === ns);
  }
  const out = new Set<string>();
  for (const svc of services) {
    if (kind === 'service') { out.add(`${namespaceOf(svc)}/${svc.metadata.name}`); continue; }
    for (const pod of inventory.pods) {
      const f = podFacts(pod, inventory);
      if (f.services.includes(svc.metadata.name) && f.namespace === namespaceOf(svc)) for (const k of keysOf(f, kind)) out.add(k);
    }
  }
  return [...out];
}

const CONN = new Set(['request_total', 'tcp_open_total']);

/** The edges between resources of `kind`, sorted by source then destination. Pure. */
export function edgeRows(data: MeshData, query: EdgeQuery): EdgeRow[] {
  const windowMs = query.windowMs ?? 60_000;
  const ids = new IdentityIndex(data.inventory);
  const edges = new Map<string, Acc>();
  const edge = (src: string, dst: string, secured: boolean, active: boolean): Acc => {
    const k = `${src}\u0000${dst}`;
    let e = edges.get(k);
    if (e === undefined) edges.set(k, (e = { src, dst, secured, active: false, securedInWindow: true }));
    else e.secured &&= secured;
    if (active) {
      e.active = true;
      e.securedInWindow &&= secured;
    }
    return e;
  };
  const inboundSums = new Map<string, GoldenSums>();
  const outboundSums = new Map<string, GoldenSums>();
  for (const h of data.histories) {
    const t = h.target;
    const latest = h.scrapes[h.scrapes.length - 1];
    if (latest === undefined) continue;
    const mine = keysOf(t, query.kind);
    const outboundDst = new Map<string, string[]>();
    const dstOf = (l: Readonly<Record<string, string>>): string[] => {
      const sid = l['server_id'];
      if (sid !== undefined) return [ids.keyOf(sid, query.kind)];
      const a = l['authority'];
      if (a === undefined) return [];
      let d = outboundDst.get(a);
      if (d === undefined) outboundDst.set(a, (d = authorityKeys(a, t.namespace, data.inventory, query.kind)));
      return d;
    };
    const scrapes = scrapesSince(h.scrapes, data.nowMs - windowMs);
    const grown = counterIncrease(scrapes, (s) => (CONN.has(s.name) ? seriesKey(s) : undefined));
    const open = new Set(latest.samples.filter((s) => s.name === 'tcp_open_connections' && s.value > 0).map((s) => seriesKey({ ...s, name: 'tcp_open_total' })));
    for (const s of latest.samples) {
      if (!CONN.has(s.name) || s.value <= 0) continue;
      const secured = s.labels['tls'] === 'true';
      const active = (grown.get(seriesKey(s)) ?? 0) > 0 || open.has(seriesKey(s));
      if (s.labels['direction'] === 'inbound') {
        const cid = s.labels['client_id'];
        // Plain-text callers carry no identity: the caller's own proxy (if any) reports the edge.
        if (cid === undefined) continue;
        for (const dst of mine) {
          const e = edge(ids.keyOf(cid, query.kind), dst, secured, active);
          e.clientId = cid;
          e.serverId = t.identity;
        }
      } else if (s.labels['direction'] === 'outbound') {
        for (const dst of dstOf(s.labels)) {
          for (const src of mine) {
            const e = edge(src, dst, secured, active);
            if (secured) {
              e.clientId ??= t.identity;
              if (s.labels['server_id'] !== undefined) e.serverId ??= s.labels['server_id'];
            }
          }
        }
      }
    }
    for (const dst of mine) {
      addGolden(inboundSums, scrapes, (l) => (l['direction'] === 'inbound' && l['client_id'] !== undefined ? `${ids.keyOf(l['client_id'], query.kind)}\u0000${dst}` : undefined));
    }
    for (const src of mine) {
      addGolden(outboundSums, scrapes, (l) => {
        if (l['direction'] !== 'outbound' || l['tls'] === 'true') return undefined;
        const d = dstOf(l)[0];
        return d === undefined ? undefined : `${src}\u0000${d}`;
      });
    }
  }
  const rows: EdgeRow[] = [];
  for (const [k, e] of edges) {
    const s = splitKey(e.src);
    const d = splitKey(e.dst);
    if (query.namespace !== undefined && s.namespace !== query.namespace && d.namespace !== query.namespace) continue;
    const g = goldenStats(inboundSums.get(k) ?? outboundSums.get(k) ?? emptyGolden());
    rows.push({
      srcNamespace: s.namespace, src: s.name, dstNamespace: d.namespace, dst: d.name, secured: e.active ? e.securedInWindow : e.secured,
      ...(e.clientId === undefined ? {} : { clientId: e.clientId }),
      ...(e.serverId === undefined ? {} : { serverId: e.serverId }),
      rps: g.rps, successRate: g.successRate,
    });
  }
  return rows.sort((a, b) => `${a.srcNamespace}/${a.src}`.localeCompare(`${b.srcNamespace}/${b.src}`) || `${a.dstNamespace}/${a.dst}`.localeCompare(`${b.dstNamespace}/${b.dst}`));
}
