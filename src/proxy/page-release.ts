import { readFileSync } from 'node:fs';
import { releaseUnusedPages, type ReleasedPages } from '../native/index.ts';
import type { Logger } from './log.ts';

/** A running {@link startPageRelease}. */
export interface PageRelease {
  /** Stops the schedule (the timer is unref'd, so it never keeps the process alive). */
  stop(): void;
}

/**
 * How far the mapped file pages may grow after a release before the next one. A
 * busy proxy maps this much again within an interval (its hot code and the kernel's
 * fault-around neighbours: 20+ MB), so it releases every interval and its RSS stays
 * at what one interval uses; an idle or lightly used one stays below it and does no
 * work.
 */
export const PAGE_RELEASE_GROWTH_BYTES = 4 * 1024 * 1024;

/** Failures that say "not now" rather than "never": the schedule goes on. */
const TRANSIENT = new Set(['EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN']);

/** Resident file-backed bytes of this process (RssFile: its mapped files' pages). */
export function residentFileBytes(): number {
  const m = /RssFile:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

/**
 * Gives back the pages the proxy touched but no longer uses (src/native's
 * releaseUnusedPages): above all the ~50 MB of the node binary that start-up
 * touched, of which a busy proxy uses a few MB, and that RSS counts in full in
 * every sidecar.
 *
 * Once at start, then only when needed: every `intervalMs` it reads RssFile (a few
 * µs), and when the mapped files grew more than {@link PAGE_RELEASE_GROWTH_BYTES}
 * since the last release ended, it releases again. A busy proxy does so every
 * interval, so its peak is what one interval maps, not everything it ever ran (a
 * renewal, a reconnect, the compilers warming up); an idle one does no work. A
 * release costs 3–9 ms on the thread pool, then the minor faults of the pages used
 * again, about a millisecond (docs/proxy.md, Memory).
 *
 * A failure (the addon not built, a kernel that refuses) only costs that memory:
 * it is logged once as a warning and the schedule stops.
 */
export function startPageRelease(options: {
  intervalMs: number;
  logger: Logger;
  /** Injected by tests; the addon's release by default. */
  release?: () => Promise<ReleasedPages>;
  /** Injected by tests; {@link residentFileBytes} by default. */
  residentFileBytes?: () => number;
}): PageRelease {
  const release = options.release ?? releaseUnusedPages;
  const resident = options.residentFileBytes ?? residentFileBytes;
  const log = options.logger;
  let timer: NodeJS.Timeout | undefined;
  let first = true;
  let running = false;
  /** RssFile when the last release ended; undefined until it could be read. */
  let afterRelease: number | undefined;
  const readResident = (): number | undefined => {
    try {
      return resident();
    } catch {
      return undefined; // /proc unreadable right now (out of descriptors): read again later
    }
  };
  let stopped = false;
  const failed = (err: unknown): void => {
    if (stopped) return;
    // Out of descriptors or memory right now (a connection flood): try again later.
    if (TRANSIENT.has((err as { code?: unknown }).code as string)) {
      log.debug('unused pages not released this time', { error: err instanceof Error ? err.message : String(err) });
      return;
    }
    log.warn('unused pages not released; RSS stays 20-30 MB higher (see docs/proxy.md, Memory)', { error: err instanceof Error ? err.message : String(err) });
    clearInterval(timer);
    timer = undefined;
  };
  const run = (): void => {
    running = true;
    let pending: Promise<ReleasedPages>;
    try {
      pending = release();
    } catch (err) {
      running = false;
      failed(err);
      return;
    }
    pending.then((r) => {
      running = false;
      afterRelease = readResident();
      if (stopped) return;
      const fields = { mappings: r.mappings, mb: Math.round(r.fileBytes / 1e5) / 10 };
      if (first) log.info('unused pages released', fields);
      else log.debug('unused pages released', fields);
      first = false;
    }, (err: unknown) => {
      running = false;
      failed(err);
    });
  };
  const tick = (): void => {
    // A release still running (a slow machine, a very short interval) is not doubled.
    if (running) return;
    const now = readResident();
    if (now === undefined) return;
    if (afterRelease === undefined) afterRelease = now;
    else if (now > afterRelease + PAGE_RELEASE_GROWTH_BYTES) run();
  };
  timer = setInterval(tick, options.intervalMs);
  timer.unref();
  run();
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
      timer = undefined;
    },
  };
}
