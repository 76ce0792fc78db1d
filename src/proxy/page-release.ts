import { releaseUnusedPages, type ReleasedPages } from '../native/index.ts';
import type { Logger } from './log.ts';

/** A running {@link startPageRelease}. */
export interface PageRelease {
  /** Stops the schedule (the timer is unref'd, so it never keeps the process alive). */
  stop(): void;
}

/**
 * Gives back, at once and then every `intervalMs`, the pages the proxy touched but
 * no longer uses (src/native's releaseUnusedPages): above all the ~50 MB of the
 * node binary that start-up touched, of which a busy proxy uses a few MB, and that
 * RSS counts in full in every sidecar. Repeating it keeps RSS at what the last
 * interval used, not at every code path the process ever ran (a renewal, a
 * reconnect, the compilers warming up). A release costs a few ms: the minor faults
 * of the pages used again (docs/proxy.md, Memory).
 *
 * A failure (the addon not built, a kernel that refuses) only costs that memory:
 * it is logged once as a warning and the schedule stops.
 */
export function startPageRelease(options: {
  intervalMs: number;
  logger: Logger;
  /** Injected by tests; the addon's release by default. */
  release?: () => Promise<ReleasedPages>;
}): PageRelease {
  const release = options.release ?? releaseUnusedPages;
  const log = options.logger;
  let timer: NodeJS.Timeout | undefined;
  let first = true;
  let running = false;
  const failed = (err: unknown): void => {
    log.warn('unused pages not released; RSS stays 20-30 MB higher (see docs/proxy.md, Memory)', { error: err instanceof Error ? err.message : String(err) });
    clearInterval(timer);
    timer = undefined;
  };
  const run = (): void => {
    // A release still running (a slow machine, a very short interval) is not doubled.
    if (running) return;
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
      const fields = { mappings: r.mappings, mb: Math.round(r.fileBytes / 1e5) / 10 };
      if (first) log.info('unused pages released', fields);
      else log.debug('unused pages released', fields);
      first = false;
    }, (err: unknown) => {
      running = false;
      failed(err);
    });
  };
  timer = setInterval(run, options.intervalMs);
  timer.unref();
  run();
  return { stop: () => { clearInterval(timer); timer = undefined; } };
}
