/**
 * Port lists as Linkerd's annotations write them (`config.linkerd.io/opaque-ports:
 * "25,587,3306,4444-4450"`). Pure.
 */

/** Ports from a list annotation: inclusive ranges, plus the entries that were not ports. */
export interface PortRanges {
  readonly ranges: ReadonlyArray<readonly [number, number]>;
  /** Entries ignored because they are not a port or `low-high` range (for a warning). */
  readonly invalid: readonly string[];
}

function port(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * Parses `80,443,8000-8100` (spaces allowed). A bad entry is skipped and reported
 * in `invalid` rather than voiding the whole list: one typo must not turn every
 * other opaque port back into a detected one.
 */
export function parsePortRanges(text: string | undefined): PortRanges {
  const ranges: Array<[number, number]> = [];
  const invalid: string[] = [];
  for (const raw of (text ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const dash = entry.indexOf('-');
    const lo = port(dash < 0 ? entry : entry.slice(0, dash).trim());
    const hi = dash < 0 ? lo : port(entry.slice(dash + 1).trim());
    if (lo === undefined || hi === undefined || hi < lo) invalid.push(entry);
    else ranges.push([lo, hi]);
  }
  return { ranges, invalid };
}

/** Whether `p` falls in one of `ranges`. */
export function inPortRanges(ranges: PortRanges, p: number): boolean {
  return ranges.ranges.some(([lo, hi]) => p >= lo && p <= hi);
}
