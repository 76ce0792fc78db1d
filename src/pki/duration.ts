import { UsageError } from '../errors/index.ts';

// Units as Go's time.ParseDuration knows them: step and cert-manager both take Go
// durations ("87600h", "2160h0m0s", "1h30m"), so ours must read exactly those.
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/**
 * Parses a Go duration (`48h`, `25h`, `1h30m`, `90s`, `2160h0m0s`) into milliseconds.
 * Negative durations start with `-`. Throws a UsageError naming the bad text.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  let sign = 1;
  let rest = trimmed;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw badDuration(text);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < rest.length) {
    const at = PART.lastIndex;
    const m = PART.exec(rest);
    if (m === null || m.index !== at) throw badDuration(text);
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  return sign * total;
}

/** Formats milliseconds as a Go duration, as cert-manager prints them (`48h0m0s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = rest / 1000;
  if (h > 0) return `${sign}${h}h${m}m${s}s`;
  if (m > 0) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}

function badDuration(text: string): UsageError {
  return new UsageError(
    `Use a duration like "48h", "30m" or "1h30m": cannot read "${text}"`,
  );
}
