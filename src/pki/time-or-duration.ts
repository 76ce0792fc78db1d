import { PkiError, PkiErrorCode } from './errors.ts';
import { parseDuration } from './duration.ts';

// RFC 3339: date, 'T' (or space), time with optional fraction, and a zone.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Options of {@link parseTimeOrDuration}. */
export interface TimeOrDurationOptions {
  /** What a duration is relative to. */
  readonly now: Date;
  /** The flag named in the error message. Default `the time`. */
  readonly flag?: string;
}

/**
 * Reads a time flag as step does (`--not-before`, `--not-after`): either a Go
 * duration relative to `now` (`87600h`, `-5m`) or an RFC 3339 time
 * (`2030-01-01T00:00:00Z`). Throws a PkiError naming the flag and the bad text.
 */
export function parseTimeOrDuration(text: string, opts: TimeOrDurationOptions): Date {
  const { now, flag = 'the time' } = opts;
  const trimmed = text.trim();
  if (RFC3339.test(trimmed)) {
    const ms = Date.parse(trimmed);
    if (!Number.isNaN(ms)) return new Date(ms);
  }
  let offset: number;
  try {
    offset = parseDuration(trimmed);
  } catch {
    throw new PkiError(
      PkiErrorCode.badRequest,
      `Use a duration like "24h" or an RFC 3339 time like "2030-01-01T00:00:00Z" for ${flag}: cannot read "${text}"`,
    );
  }
  return new Date(now.getTime() + offset);
}
