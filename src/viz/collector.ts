/**
 * The scraper: on an interval, read the store's pods, scrape every meshed pod's
 * proxy admin `/metrics`, and record the result in a bounded {@link ScrapeHistory}.
 * Scrapes run in parallel, each with a timeout, so one stuck proxy delays nothing.
 *
 *   tick ──▶ readInventory(store) ──▶ scrapeTargets ──▶ GET /metrics (each, parallel) ──▶ history
 */
import http from 'node:http';
import type { ResourceStore } from '../store/index.ts';
import type { MeshData } from './mesh-view.ts';
import { parsePrometheusText } from './prometheus-text.ts';
import { ScrapeHistory, type ScrapeHistoryOptions } from './scrape-history.ts';
import { readInventory, scrapeTargets, type Inventory } from './scrape-targets.ts';

/** Options of {@link Collector}; each field documents its default. */
export interface CollectorOptions extends ScrapeHistoryOptions {
  /** Time between scrape rounds. Default 5 s (Linkerd's Prometheus scrapes every 10 s; a live dashboard wants faster). */
  readonly intervalMs?: number;
  /** Per-scrape timeout. Default 2 s. */
  readonly timeoutMs?: number;
  /** Every proxy's admin port. Default 4191. */
  readonly adminPort?: number;
  /** The clock. Default `Date.now`. */
  readonly now?: () => number;
}

/** A metrics page larger than this is refused: a proxy's is tens of KB; this bounds a broken one. */
const MAX_METRICS_BYTES = 8 * 1024 * 1024;

/** GETs `url` as text with a timeout; rejects on a non-200 status. */
export function fetchText(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`HTTP ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_METRICS_BYTES) req.destroy(new Error(`response larger than ${MAX_METRICS_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** Scrapes the mesh's proxies into a bounded history. */
export class Collector {
  readonly history: ScrapeHistory;
  readonly intervalMs: number;
  readonly #store: ResourceStore;
  readonly #timeoutMs: number;
  readonly #adminPort: number | undefined;
  readonly #now: () => number;
  readonly #listeners = new Set<() => void>();
  #inventory: Inventory = { pods: [], deployments: [], services: [], identity: { trustDomain: 'cluster.local', controlPlaneNamespace: 'weft' } };
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;

  constructor(store: ResourceStore, options: CollectorOptions = {}) {
    this.#store = store;
    this.history = new ScrapeHistory(options);
    this.intervalMs = options.intervalMs ?? 5_000;
    this.#timeoutMs = options.timeoutMs ?? 2_000;
    this.#adminPort = options.adminPort;
    this.#now = options.now ?? Date.now;
  }

  /** The proxies' admin port, when not the default. */
  get adminPort(): number | undefined {
    return this.#adminPort;
  }

  /** The store's view from the last round. */
  get inventory(): Inventory {
    return this.#inventory;
  }

  /** What the queries read, as of now. */
  data(): MeshData {
    return { inventory: this.#inventory, histories: this.history.histories(), nowMs: this.#now() };
  }

  /** One round: discover, scrape every target, record. Concurrent calls share the round in flight. */
  scrapeOnce(): Promise<void> {
    this.#round ??= this.#scrape().finally(() => { this.#round = undefined; });
    return this.#round;
  }

  async #scrape(): Promise<void> {
    this.#inventory = await readInventory(this.#store);
    const targets = scrapeTargets(this.#inventory, this.#adminPort === undefined ? {} : { adminPort: this.#adminPort });
    this.history.retain(new Set(targets.map((t) => t.key)));
    await Promise.all(targets.map(async (t) => {
      const started = this.#now();
      try {
        const samples = parsePrometheusText(await fetchText(t.url, this.#timeoutMs));
        // Samples that carry their own timestamp (recorded fixtures, a federating source) are placed at it.
        const stamped = samples.find((s) => s.timeMs !== undefined)?.timeMs;
        this.history.record(t, { timeMs: stamped ?? started, samples });
      } catch (err) {
        this.history.fail(t, started, err instanceof Error ? err.message : String(err));
      }
    }));
    for (const l of this.#listeners) l();
  }

  /** Calls `listener` after every round; returns the unsubscribe function. */
  onRound(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Scrapes now and then every interval until {@link stop}. */
  start(): void {
    if (this.#timer !== undefined) return;
    const tick = (): void => { this.scrapeOnce().catch(() => { /* the next round retries; failures are per target */ }); };
    tick();
    this.#timer = setInterval(tick, this.intervalMs);
  }

  /** Stops the interval and waits for the round in flight. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#round?.catch(() => {});
  }
}
