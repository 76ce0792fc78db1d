/**
 * `weft viz stat|edges|top|tap|dashboard`: the mesh's traffic and certificates, as
 * `linkerd viz` shows them. Without `--dashboard URL`, a command scrapes the
 * proxies itself: twice, `-t` apart (default 2s), and reports what happened between
 * the two scrapes. With it, it asks a running dashboard, whose history covers `-t`
 * (default 1m).
 */
import type { Command } from 'commander';
import { UsageError } from '../errors/index.ts';
import { parseDuration } from '../pki/index.ts';
import type { SqliteStore } from '../store/index.ts';
import {
  Collector, DEFAULT_DASHBOARD_ADDRESS, edgeRows, ensureWebBundle, LiveTop, openTapStreams, parseDashboardAddress, parseResourceKind, parseResourceRef, readInventory, startDashboard, statRows,
  type EdgeRow, type LiveTopRow, type StatQuery, type StatRow, type TapEvent, type TapStreamFilter,
} from '../viz/index.ts';
import { alignColumns } from './resource-output.ts';
import { openCommandStore, withStateDir } from './state-dir.ts';

type Common = { namespace?: string; allNamespaces?: boolean; window?: string; output?: string; dashboard?: string; adminPort?: string };

function fmtPercent(v: number | undefined): string {
  return v === undefined ? '-' : `${(v * 100).toFixed(2)}%`;
}
function fmtRps(v: number, any: boolean): string {
  return any ? `${v.toFixed(1)}rps` : '-';
}
function fmtMs(v: number | undefined): string {
  return v === undefined ? '-' : `${Math.round(v)}ms`;
}

function output(text: string | undefined): 'table' | 'json' {
  if (text === undefined || text === 'table' || text === 'wide') return 'table';
  if (text === 'json') return 'json';
  throw new UsageError(`Use -o table or -o json: got "${text}"`);
}

function port(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`Use a port between 1 and 65535 for --admin-port: got "${text}"`);
  return n;
}

function namespaceOf(opts: Common): string | undefined {
  if (opts.allNamespaces === true && opts.namespace !== undefined) throw new UsageError('Use either -n or -A, not both');
  return opts.allNamespaces === true ? undefined : (opts.namespace ?? 'default');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Scrapes every proxy twice, `sampleMs` apart; the caller closes the store. */
async function sampleLocally(command: Command, opts: Common, sampleMs: number): Promise<{ collector: Collector; store: SqliteStore }> {
  const store = openCommandStore(command);
  const adminPort = port(opts.adminPort);
  const collector = new Collector(store, { windowMs: 3_600_000, ...(adminPort === undefined ? {} : { adminPort }) });
  try {
    await collector.scrapeOnce();
    await sleep(sampleMs);
    await collector.scrapeOnce();
  } catch (err) {
    store.close();
    throw err;
  }
  return { collector, store };
}

async function fromDashboard<T>(base: string, path: string, params: Record<string, string | undefined>): Promise<T> {
  const url = new URL(path, base.endsWith('/') ? base : `${base}/`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new UsageError(`Start the dashboard or fix --dashboard "${base}": ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
  }
  const body = await res.json() as T & { error?: string };
  if (!res.ok) throw new UsageError(`Fix the query: the dashboard answered "${body.error ?? res.status}"`);
  return body;
}

/** `stat` as a table: NAME MESHED SUCCESS RPS LATENCY_P50 LATENCY_P95 LATENCY_P99 TCP_CONN (NAMESPACE first with -A). */
export function renderStat(rows: readonly StatRow[], allNamespaces: boolean): string {
  const head = ['NAME', 'MESHED', 'SUCCESS', 'RPS', 'LATENCY_P50', 'LATENCY_P95', 'LATENCY_P99', 'TCP_CONN'];
  const body = rows.map((r) => [
    r.name, `${r.meshedPods}/${r.totalPods}`, fmtPercent(r.successRate), fmtRps(r.rps, r.responses > 0),
    fmtMs(r.p50), fmtMs(r.p95), fmtMs(r.p99), String(r.tcpConnections),
  ]);
  return alignColumns(allNamespaces ? [['NAMESPACE', ...head], ...body.map((b, i) => [rows[i]!.namespace, ...b])] : [head, ...body]);
}

/** `edges` as a table: SRC DST SRC_NS DST_NS SECURED CLIENT_ID SERVER_ID. */
export function renderEdges(rows: readonly EdgeRow[]): string {
  return alignColumns([
    ['SRC', 'DST', 'SRC_NS', 'DST_NS', 'SECURED', 'CLIENT_ID', 'SERVER_ID'],
    ...rows.map((e) => [e.src, e.dst, e.srcNamespace, e.dstNamespace, e.secured ? '√' : '×', e.clientId ?? '-', e.serverId ?? '-']),
  ]);
}

/** `top` as a table, busiest first. */
export function renderLiveTop(rows: readonly LiveTopRow[]): string {
  return alignColumns([
    ['AUTHORITY', 'METHOD', 'PATH', 'COUNT', 'RPS', 'SUCCESS', 'LATENCY_MIN', 'LATENCY_MAX'],
    ...rows.map((r) => [r.authority, r.method, r.path, String(r.count), fmtRps(r.rps, true), fmtPercent(r.successRate), fmtMs(r.minMs), fmtMs(r.maxMs)]),
  ]);
}

/** One tap event as a line, in the spirit of `linkerd viz tap`. */
export function renderTapEvent(e: TapEvent): string {
  return `rsp proxy=${e.direction === 'inbound' ? 'in ' : 'out'} src=${e.src} dst=${e.dst} tls=${e.tls} :method=${e.method ?? '-'} :authority=${e.authority} `
    + `:path=${e.path ?? '-'} :status=${e.statusCode} latency=${e.latencyMs ?? '-'}ms time=${new Date(e.timeMs).toISOString()}\n`;
}

function common(c: Command): Command {
  return withStateDir(c)
    .option('-n, --namespace <ns>', 'namespace (default "default")')
    .option('-A, --all-namespaces', 'every namespace')
    .option('-t, --window <duration>', 'time window: how long to sample the proxies (default 2s), or with --dashboard how far back (default 1m)')
    .option('-o, --output <format>', 'table or json')
    .option('--dashboard <url>', 'ask a running dashboard (weft viz dashboard) instead of scraping the proxies')
    .option('--admin-port <port>', 'the proxies\' admin port (default 4191)');
}

function windowOf(opts: Common): number {
  return parseDuration(opts.window ?? (opts.dashboard === undefined ? '2s' : '1m'));
}

/** Registers `weft viz`. */
export function registerViz(program: Command): void {
  const viz = program.command('viz').description('see the mesh: traffic, edges, live requests and the certificate dashboard');

  common(viz.command('stat'))
    .description('success rate, requests/s, latency and TCP connections per resource (kinds: deploy, po, ns, svc)')
    .argument('<kind>', 'deploy, po, ns or svc')
    .argument('[name]', 'one resource by name')
    .option('--from <resource>', 'only traffic from this resource, e.g. deploy/vote-bot')
    .option('--to <resource>', 'only traffic to this resource (the rows are its callers), e.g. deploy/voting')
    .action(async (kindText: string, name: string | undefined, opts: Common & { from?: string; to?: string }, command: Command) => {
      const kind = parseResourceKind(kindText);
      const format = output(opts.output);
      const namespace = namespaceOf(opts);
      const windowMs = windowOf(opts);
      const query: StatQuery = {
        kind, windowMs,
        ...(namespace === undefined ? {} : { namespace }),
        ...(name === undefined ? {} : { name }),
        ...(opts.from === undefined ? {} : { from: parseResourceRef(opts.from, namespace) }),
        ...(opts.to === undefined ? {} : { to: parseResourceRef(opts.to, namespace) }),
      };
      let rows: StatRow[];
      if (opts.dashboard !== undefined) {
        if (query.from !== undefined || query.to !== undefined) throw new UsageError('Use --from and --to without --dashboard: the dashboard API does not take them yet');
        rows = await fromDashboard<StatRow[]>(opts.dashboard, 'api/stat', { kind: kindText, ns: namespace, window: String(windowMs / 1000) });
        if (name !== undefined) rows = rows.filter((r) => r.name === name);
      } else {
        const { collector, store } = await sampleLocally(command, opts, windowMs);
        try {
          rows = statRows(collector.data(), { ...query, windowMs: Number.MAX_SAFE_INTEGER });
        } finally {
          store.close();
        }
      }
      if (format === 'json') process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else if (rows.length === 0) process.stderr.write(`No resources found${namespace === undefined ? '' : ` in ${namespace} namespace`}.\n`);
      else process.stdout.write(renderStat(rows, namespace === undefined));
    });

  common(viz.command('edges'))
    .description('which resources talk to which, whether each edge is mTLS, and the identities at both ends')
    .argument('<kind>', 'deploy, po, ns or svc')
    .action(async (kindText: string, opts: Common, command: Command) => {
      const kind = parseResourceKind(kindText);
      const format = output(opts.output);
      const namespace = namespaceOf(opts);
      const windowMs = windowOf(opts);
      let rows: EdgeRow[];
      if (opts.dashboard !== undefined) {
        rows = await fromDashboard<EdgeRow[]>(opts.dashboard, 'api/edges', { kind: kindText, ns: namespace, window: String(windowMs / 1000) });
      } else {
        const { collector, store } = await sampleLocally(command, opts, windowMs);
        try {
          rows = edgeRows(collector.data(), { kind, ...(namespace === undefined ? {} : { namespace }), windowMs: Number.MAX_SAFE_INTEGER });
        } finally {
          store.close();
        }
      }
      if (format === 'json') process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else if (rows.length === 0) process.stderr.write(`No edges found${namespace === undefined ? '' : ` in ${namespace} namespace`}.\n`);
      else process.stdout.write(renderEdges(rows));
    });

  withStateDir(viz.command('top'))
    .description('a live table of the busiest paths (authority, method, path), from the proxies\' tap streams')
    .argument('[resource]', 'only the proxies of this resource, e.g. deploy/web')
    .option('-n, --namespace <ns>', 'only proxies in this namespace (default: every namespace; with a resource, its namespace, default "default")')
    .option('--method <method>', 'only this HTTP method')
    .option('--path <prefix>', 'only paths with this prefix')
    .option('-t, --window <duration>', 'how far back each refresh counts (default 10s)')
    .option('--interval <duration>', 'refresh period (default 2s)')
    .option('--count <n>', 'stop after this many refreshes (default: until Ctrl-C)')
    .option('--admin-port <port>', 'the proxies\' admin port (default 4191)')
    .action(async (resourceText: string | undefined, opts: TapOpts & { window?: string; interval?: string }, command: Command) => {
      const filter = tapFilter(resourceText, opts);
      const intervalMs = parseDuration(opts.interval ?? '2s');
      const windowMs = parseDuration(opts.window ?? '10s');
      const count = positive(opts.count, '--count') ?? Infinity;
      const top = new LiveTop(windowMs);
      let refreshes = 0;
      await tapLive(command, filter, opts.adminPort, (e) => top.add(e), (stop) => {
        const timer = setInterval(() => {
          const rows = top.rows(Date.now());
          if (process.stdout.isTTY) process.stdout.write('\x1b[H\x1b[2J');
          process.stdout.write(rows.length === 0 ? '(no requests yet)\n' : renderLiveTop(rows));
          if (++refreshes >= count) stop();
        }, intervalMs);
        return () => clearInterval(timer);
      });
    });

  withStateDir(viz.command('tap'))
    .description('stream the requests proxies answer, one line each, from the proxies\' tap streams (filters: a resource, a namespace, method, path)')
    .argument('[resource]', 'only the proxies of this resource (both directions), e.g. deploy/web')
    .option('-n, --namespace <ns>', 'only proxies in this namespace (default: every namespace; with a resource, its namespace, default "default")')
    .option('--method <method>', 'only this HTTP method')
    .option('--path <prefix>', 'only paths with this prefix')
    .option('-o, --output <format>', 'table (one line per request) or json (one object per line)')
    .option('--count <n>', 'stop after this many requests (default: until Ctrl-C)')
    .option('--duration <duration>', 'stop after this long (default: until Ctrl-C)')
    .option('--admin-port <port>', 'the proxies\' admin port (default 4191)')
    .action(async (resourceText: string | undefined, opts: TapOpts & { output?: string; duration?: string }, command: Command) => {
      const format = output(opts.output);
      const filter = tapFilter(resourceText, opts);
      const count = positive(opts.count, '--count') ?? Infinity;
      const durationMs = opts.duration === undefined ? undefined : parseDuration(opts.duration);
      let printed = 0;
      let stopNow = (): void => {};
      await tapLive(command, filter, opts.adminPort, (e) => {
        if (printed >= count) return;
        process.stdout.write(format === 'json' ? `${JSON.stringify(e)}\n` : renderTapEvent(e));
        if (++printed >= count) stopNow();
      }, (stop) => {
        stopNow = stop;
        const timer = durationMs === undefined ? undefined : setTimeout(stop, durationMs);
        return () => clearTimeout(timer);
      });
    });

  withStateDir(viz.command('dashboard'))
    .description('serve the web dashboard (topology, workloads, certificates, live tap) and print its URL')
    .option('--address <host:port>', 'where to listen (default 127.0.0.1:50750; port 0 picks a free one)')
    .option('--interval <duration>', 'how often to scrape the proxies (default 5s)')
    .option('--retention <duration>', 'how much history to keep in memory (default 1h)')
    .option('--admin-port <port>', 'the proxies\' admin port (default 4191)')
    .action(async (opts: { address?: string; interval?: string; retention?: string; adminPort?: string }, command: Command) => {
      const { host, port: listenPort } = parseDashboardAddress(opts.address ?? DEFAULT_DASHBOARD_ADDRESS);
      const adminPort = port(opts.adminPort);
      const webDir = await ensureWebBundle();
      const store = openCommandStore(command);
      const collector = new Collector(store, {
        intervalMs: parseDuration(opts.interval ?? '5s'),
        windowMs: parseDuration(opts.retention ?? '1h'),
        ...(adminPort === undefined ? {} : { adminPort }),
      });
      collector.start();
      let dashboard;
      try {
        dashboard = await startDashboard({ store, collector, webDir, host, port: listenPort });
      } catch (err) {
        await collector.stop();
        store.close();
        if ((err as { code?: string }).code !== 'EADDRINUSE') throw err;
        throw new UsageError(`Open http://${host.includes(':') ? `[${host}]` : host}:${listenPort}/ if weft up serves the dashboard there, or pass --address HOST:PORT (port 0 picks a free one): the address is in use`);
      }
      process.stdout.write(`weft dashboard: ${dashboard.url}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await dashboard.close();
      await collector.stop();
      store.close();
    });
}

type TapOpts = { namespace?: string; method?: string; path?: string; count?: string; adminPort?: string };

function positive(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`Use a positive whole number for ${flag}: got "${text}"`);
  return n;
}

function tapFilter(resourceText: string | undefined, opts: TapOpts): TapStreamFilter {
  const resource = resourceText === undefined ? undefined : parseResourceRef(resourceText, opts.namespace ?? 'default');
  return {
    ...(resource === undefined ? {} : { resource }),
    ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }),
    ...(opts.method === undefined ? {} : { method: opts.method }),
    ...(opts.path === undefined ? {} : { pathPrefix: opts.path }),
  };
}

/**
 * Taps the proxies `filter` selects until `schedule`'s stop is called, Ctrl-C, or
 * every stream has ended. A proxy without `/tap` (404: older than it), or that cannot
 * be reached or does not answer within the connect timeout, is named on stderr; when
 * no proxy could be tapped at all the command says so and exits 1.
 */
async function tapLive(command: Command, filter: TapStreamFilter, adminPortText: string | undefined, onEvent: (e: TapEvent) => void,
  schedule: (stop: () => void) => () => void): Promise<void> {
  const adminPort = port(adminPortText);
  const store = openCommandStore(command);
  let inventory;
  try {
    inventory = await readInventory(store);
  } finally {
    store.close();
  }
  let stop = (): void => {};
  const done = new Promise<void>((resolve) => { stop = resolve; });
  let open = 0;
  let opened = 0;
  let failed = 0;
  const ended = (): void => { if (--open === 0) stop(); };
  const streams = openTapStreams({
    ...filter, inventory, ...(adminPort === undefined ? {} : { adminPort }), onEvent,
    onLegacy: (t) => {
      process.stderr.write(`weft: upgrade the proxy of ${t.key}: its admin port has no /tap (try weft viz stat for its metrics)\n`);
      ended();
    },
    onOpen: () => { opened++; },
    onError: (t, err) => {
      failed++;
      process.stderr.write(`weft: cannot tap ${t.key} at ${t.ip}: ${err.message}\n`);
      ended();
    },
  });
  open = streams.targets.length;
  if (open === 0) {
    streams.close();
    const where = filter.resource !== undefined ? `"${filter.resource.kind}/${filter.resource.name}"` : filter.namespace !== undefined ? `namespace "${filter.namespace}"` : 'the store';
    throw new UsageError(`Check the resource and namespace: no meshed pod with an IP in ${where}`);
  }
  const unschedule = schedule(stop);
  const onSignal = (): void => stop();
  process.once('SIGINT', onSignal);
  try {
    await done;
  } finally {
    process.off('SIGINT', onSignal);
    unschedule();
    streams.close();
  }
  if (opened === 0 && failed > 0) {
    process.stderr.write(`weft: tapped nothing: no proxy answered (${streams.targets.length} tried, see above)\n`);
    process.exitCode = 1;
  }
}
