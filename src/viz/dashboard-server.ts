/**
 * The dashboard's HTTP server: the built front-end, and a small JSON API over the
 * collector's recorded scrapes and the store. Live views poll the API; tap streams
 * Server-Sent Events after each scrape round. Every response carries a CSP that
 * forbids other origins, so the page never makes an external request.
 *
 *   GET /api/overview      topology: deployments with golden metrics, edges
 *   GET /api/stat          ?kind=deploy&ns=&window=60
 *   GET /api/edges         ?kind=deploy&ns=
 *   GET /api/workload      ?ns=&name=&kind=deploy  detail: stats, series, edges, pods
 *   GET /api/certificates  the trust chain and warnings
 *   GET /api/top           ?ns=&window=10
 *   GET /api/tap           ?ns=&resource=deploy/web&method=&path=  (text/event-stream)
 */
import { once } from 'node:events';
import { createReadStream, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import type { ResourceStore } from '../store/index.ts';
import { certificateChain, readChainInput } from './certificate-chain.ts';
import type { Collector } from './collector.ts';
import { edgeRows } from './edge-rows.ts';
import { keysOf, parseResourceKind, parseResourceRef, type MeshData } from './mesh-view.ts';
import { statRows } from './stat-rows.ts';
import { tapEvents, type TapEvent } from './tap-events.ts';
import { openTapStreams } from './tap-stream.ts';
import { topPaths } from './top-paths.ts';
import { proxyCertExpiry, workloadSeries } from './workload-series.ts';

/** Options of {@link startDashboard}; each field documents its default. */
export interface DashboardOptions {
  readonly store: ResourceStore;
  readonly collector: Collector;
  /**
   * The built front-end: its directory (`await ensureWebBundle()`), or a function that
   * builds it on the first page request (`() => ensureWebBundle()`), so a dashboard
   * nobody opens never pays for the build; the API answers meanwhile.
   */
  readonly webDir: string | (() => Promise<string>);
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 50750 (Linkerd's viz dashboard port); 0 picks a free one. */
  readonly port?: number;
}

/** A running dashboard. */
export interface Dashboard {
  /** `http://host:port/`. */
  readonly url: string;
  close(): Promise<void>;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json',
};

const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'";

function seconds(v: string | null, fallback: number): number {
  const n = Number(v);
  return v !== null && Number.isFinite(n) && n > 0 ? n * 1000 : fallback;
}

/** The API's answers: pure functions of the collector's data and the store. */
async function api(path: string, q: URLSearchParams, data: MeshData, store: ResourceStore, collector: Collector): Promise<unknown> {
  const ns = q.get('ns') || undefined;
  const windowMs = seconds(q.get('window'), 60_000);
  switch (path) {
    case '/api/overview': {
      const nodes = statRows(data, { kind: 'deployment', ...(ns === undefined ? {} : { namespace: ns }), windowMs });
      const edges = edgeRows(data, { kind: 'deployment', ...(ns === undefined ? {} : { namespace: ns }), windowMs });
      const namespaces = [...new Set(data.inventory.pods.map((p) => p.metadata.namespace ?? 'default'))].sort();
      const proxies = data.histories.map((h) => ({
        pod: h.target.key, lastScrapeMs: h.scrapes[h.scrapes.length - 1]?.timeMs ?? null, error: h.lastError?.message ?? null,
      }));
      return { nowMs: data.nowMs, intervalMs: collector.intervalMs, namespaces, nodes, edges, proxies };
    }
    case '/api/stat':
      return statRows(data, { kind: parseResourceKind(q.get('kind') ?? 'deploy'), ...(ns === undefined ? {} : { namespace: ns }), windowMs });
    case '/api/edges':
      return edgeRows(data, { kind: parseResourceKind(q.get('kind') ?? 'deploy'), ...(ns === undefined ? {} : { namespace: ns }), windowMs });
    case '/api/top':
      return topPaths(data, { ...(ns === undefined ? {} : { namespace: ns }), windowMs: seconds(q.get('window'), 10_000) });
    case '/api/workload': {
      const kind = parseResourceKind(q.get('kind') ?? 'deploy');
      const name = q.get('name') ?? '';
      const namespace = ns ?? 'default';
      const key = `${namespace}/${name}`;
      const [stat] = statRows(data, { kind, namespace, name, windowMs });
      const edges = edgeRows(data, { kind, namespace, windowMs }).filter((e) => `${e.srcNamespace}/${e.src}` === key || `${e.dstNamespace}/${e.dst}` === key);
      const expiry = proxyCertExpiry(data);
      const pods = data.histories.filter((h) => keysOf(h.target, kind).includes(key)).map((h) => ({
        pod: h.target.pod, ip: h.target.ip, identity: h.target.identity,
        certNotAfterMs: expiry.has(h.target.key) ? expiry.get(h.target.key)! * 1000 : null,
        lastScrapeMs: h.scrapes[h.scrapes.length - 1]?.timeMs ?? null, error: h.lastError?.message ?? null,
      }));
      return { nowMs: data.nowMs, stat: stat ?? null, series: workloadSeries(data, key, { kind, windowMs: seconds(q.get('range'), 3_600_000), stepMs: collector.intervalMs }), edges, pods };
    }
    case '/api/certificates': {
      const input = await readChainInput(store, data.inventory.identity.controlPlaneNamespace);
      const expiry = proxyCertExpiry(data);
      const proxies = data.histories.filter((h) => expiry.has(h.target.key))
        .map((h) => ({ pod: h.target.key, identity: h.target.identity, notAfterSeconds: expiry.get(h.target.key)! }));
      return certificateChain({ ...input, proxies }, data.nowMs);
    }
    default:
      return undefined;
  }
}

function serveTap(req: http.IncomingMessage, res: http.ServerResponse, q: URLSearchParams, collector: Collector): void {
  const ns = q.get('ns') || undefined;
  const r = q.get('resource');
  const resource = r === null || r === '' ? undefined : parseResourceRef(r, ns);
  const method = q.get('method') || undefined;
  const pathPrefix = q.get('path') || undefined;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'content-security-policy': CSP });
  res.write(': tap from the proxies\' /tap streams (metric batches per scrape round for proxies without one)\n\n');
  const send = (e: TapEvent): void => void res.write(`data: ${JSON.stringify(e)}\n\n`);
  const adminPort = collector.adminPort;
  const legacy = new Set<string>();
  const streams = openTapStreams({
    inventory: collector.inventory, onEvent: send,
    ...(adminPort === undefined ? {} : { adminPort }),
    ...(resource === undefined ? {} : { resource }),
    ...(ns === undefined ? {} : { namespace: ns }),
    ...(method === undefined ? {} : { method }),
    ...(pathPrefix === undefined ? {} : { pathPrefix }),
    onLegacy: (t) => legacy.add(t.key),
  });
  // Proxies older than /tap: batches from their scraped metrics, starting with the last round's, so a new viewer sees traffic at once.
  const latest = (d: MeshData): number => Math.max(0, ...d.histories.map((h) => h.scrapes[h.scrapes.length - 1]?.timeMs ?? 0));
  const previous = (d: MeshData): number => Math.max(0, ...d.histories.map((h) => h.scrapes[h.scrapes.length - 2]?.timeMs ?? 0));
  let since = previous(collector.data());
  const sendLegacy = (): void => {
    const data = collector.data();
    // Metric batches have no method or path: a filter on them keeps none.
    if (legacy.size > 0 && method === undefined && pathPrefix === undefined) {
      for (const e of tapEvents(data, { sinceMs: since, ...(resource === undefined ? {} : { resource }) })) {
        if (legacy.has(e.proxy) && (ns === undefined || e.src.startsWith(`${ns}/`) || e.dst.startsWith(`${ns}/`))) send(e);
      }
    }
    since = Math.max(since, latest(data));
  };
  void streams.ready.then(sendLegacy);
  const off = collector.onRound(sendLegacy);
  req.on('close', () => {
    off();
    streams.close();
  });
}

function serveStatic(webDir: string, path: string, res: http.ServerResponse): void {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // A malformed escape (`/%E0%A4%A`) is the client's mistake; thrown here it would end the process.
    res.writeHead(400).end('bad path\n');
    return;
  }
  const rel = normalize(decoded).replace(/^([/\\])+/, '');
  let file = join(webDir, rel);
  if (!file.startsWith(webDir + sep) && file !== webDir) {
    res.writeHead(403).end('forbidden\n');
    return;
  }
  // Client-side routes (#/… keeps most of them client-side anyway) fall back to the page.
  if (!existsSync(file) || statSync(file).isDirectory()) file = join(webDir, 'index.html');
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-security-policy': CSP,
    'cache-control': file.endsWith('index.html') ? 'no-cache' : 'max-age=3600',
  });
  // The bundle may be rebuilt (renamed away) under us: end the response, never the process.
  createReadStream(file).on('error', () => res.destroy()).pipe(res);
}

/** Starts the dashboard server; resolves once it listens. */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const { store, collector } = options;
  const lazy = options.webDir;
  let built: Promise<string> | undefined;
  // One build shared by concurrent requests; a failed one is retried by the next request.
  const webDir = (): Promise<string> => typeof lazy === 'string' ? Promise.resolve(lazy)
    : (built ??= lazy().catch((err: unknown) => { built = undefined; throw err; }));
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end('use GET\n');
      return;
    }
    if (url.pathname === '/api/tap') {
      try {
        serveTap(req, res, url.searchParams, collector);
      } catch (err) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (err as Error).message }));
      }
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      api(url.pathname, url.searchParams, collector.data(), store, collector).then((body) => {
        if (body === undefined) res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such endpoint"}');
        else res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
      }, (err: unknown) => {
        const status = (err as { code?: string }).code === 'WEFT_ERR_USAGE' ? 400 : 500;
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
      });
      return;
    }
    webDir().then((dir) => serveStatic(dir, url.pathname, res), (err: unknown) => {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end(`${err instanceof Error ? err.message : String(err)}\n`);
    });
  });
  server.listen(options.port ?? 50750, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : options.port;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
