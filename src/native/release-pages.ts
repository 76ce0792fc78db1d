import { nativeAddon } from './addon.ts';

/** What {@link releaseUnusedPages} gave back. */
export interface ReleasedPages {
  /** Read-only file mappings that were released. */
  readonly mappings: number;
  /** Bytes those mappings had resident before (RSS they stopped counting). */
  readonly fileBytes: number;
}

/**
 * Gives back the pages this process has touched but may not touch again.
 * - Its mapped files' pages, above all the `node` binary's: start-up code, the
 *   compilers' first work, and the kernel's fault-around neighbours of every page
 *   touched. RSS falls by what was released; each page used again comes back on its
 *   next touch from the page cache (a minor fault, no I/O), where the file stays
 *   cached once for every process that maps it. Only private read-only mappings
 *   without copy-on-write copies are touched, so nothing the process wrote is lost
 *   (native/src/release_pages.c says why that is safe).
 * - glibc's free heap pages (`malloc_trim(0)`).
 *
 * It runs on libuv's thread pool: reading /proc/self/smaps and unmapping take 3–9 ms
 * that the event loop does not wait for. Linux only; throws a WeftError when the
 * addon cannot be loaded, and rejects with the errno's name as `code` if the
 * kernel refuses.
 */
export function releaseUnusedPages(): Promise<ReleasedPages> {
  return nativeAddon().releaseUnusedPages();
}
