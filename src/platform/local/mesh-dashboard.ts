/**
 * The dashboard `weft up` runs beside the mesh: a collector scraping every meshed
 * proxy over the mesh's store, and the dashboard server on loopback.
 *
 *   weft up ─▶ collector (every 5 s, 30 min kept) ─▶ startDashboard ─▶ URL in mesh.json
 *                                   first page request ─▶ ensureWebBundle (vite, only if stale)
 *
 * The web bundle is built lazily, on the first page request and only when `web/dist`
 * is missing or older than its sources: a user who never opens the dashboard never
 * waits for (or spends CPU on) vite. The API answers from the first second.
 */
import { WeftError } from '../../errors/index.ts';
import type { ResourceStore } from '../../store/index.ts';
import { Collector, ensureWebBundle, startDashboard } from '../../viz/index.ts';

/** Where `weft up` serves its dashboard. */
export interface MeshDashboardOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /**
   * When the address is in use: false (an address the user chose) fails the start;
   * true (the default address, which another mesh may hold) logs and runs without.
   */
  readonly optional?: boolean;
}

/** A running mesh dashboard. */
export interface MeshDashboard {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Scrape period and history. 5 s makes the page feel live (it refreshes every 5 s);
 * 30 minutes at about 25 KB per scrape is ≈ 9 MB per proxy in the supervisor, half of
 * what `weft viz dashboard` keeps by default.
 */
const INTERVAL_MS = 5_000;
const RETENTION_MS = 30 * 60_000;

/** Starts the collector and the dashboard; resolves to undefined when an optional address is taken. */
export async function startMeshDashboard(store: ResourceStore, options: MeshDashboardOptions, log: (line: string) => void): Promise<MeshDashboard | undefined> {
  const collector = new Collector(store, { intervalMs: INTERVAL_MS, windowMs: RETENTION_MS });
  let dashboard;
  try {
    dashboard = await startDashboard({ store, collector, webDir: () => ensureWebBundle(), host: options.host, port: options.port });
  } catch (err) {
    const where = `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
    const inUse = (err as { code?: string }).code === 'EADDRINUSE';
    if (inUse && options.optional === true) {
      log(`dashboard: not started, ${where} is in use (pass --dashboard-addr 127.0.0.1:0 for a free port)`);
      return undefined;
    }
    throw new WeftError('WEFT_ERR_PLATFORM_DASHBOARD', `Pass another --dashboard-addr (or --no-dashboard): cannot listen on "${where}": ${inUse ? 'address in use' : (err as Error).message}`, { cause: err });
  }
  collector.start();
  return {
    url: dashboard.url,
    async close() {
      await dashboard.close();
      await collector.stop();
    },
  };
}
