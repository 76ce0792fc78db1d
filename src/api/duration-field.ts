import { z } from 'zod';
import { parseDuration } from '../pki/index.ts';

/** Milliseconds of a Go duration, or null when `text` is not one. */
export function tryParseDuration(text: unknown): number | null {
  if (typeof text !== 'string') return null;
  try {
    return parseDuration(text);
  } catch {
    return null;
  }
}

/** A Go duration field (`48h`, `2160h0m0s`), read by the same parser the controllers use. */
export const durationField = z.string().refine((t) => tryParseDuration(t) !== null, {
  error: 'must be a duration such as "48h", "30m" or "1h30m"',
});
