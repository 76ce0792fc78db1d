/**
 * How check messages write times and durations: RFC 3339 to the second (what
 * `weft get` and Kubernetes show) and short durations an operator reads at a glance.
 */

/** RFC 3339 at second precision: `2026-11-29T02:00:00Z`. */
export function timeText(at: Date): string {
  return new Date(Math.floor(at.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** `60d`, `3d4h`, `25h`, `1h30m`, `45m`, `30s`: days from 3 days up, hours below, never more than two units. */
export function durationText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d >= 3) return h > 0 ? `${d}d${h}h` : `${d}d`;
  const hours = Math.floor(s / 3600);
  if (hours > 0) return m > 0 ? `${hours}h${m}m` : `${hours}h`;
  if (m > 0) return sec > 0 ? `${m}m${sec}s` : `${m}m`;
  return `${sec}s`;
}
