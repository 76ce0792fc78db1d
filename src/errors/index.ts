/**
 * The base of every deliberate failure in weft. Callers match on `code`, never on
 * the message, so messages can improve without breaking anyone.
 */
export class WeftError extends Error {
  /** Stable identifier such as `WEFT_ERR_BAD_INPUT`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WeftError';
    this.code = code;
  }
}

/** The user gave us something we cannot use: a bad flag, file, or resource. */
export class UsageError extends WeftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('WEFT_ERR_USAGE', message, options);
    this.name = 'UsageError';
  }
}

/**
 * Code of a check that ran and found a problem (`weft pki verify` on an invalid
 * chain): the CLI exits 1 for it, as for a failed `weft check`, not 2 as for a mistake.
 */
export const ERR_CHECK_FAILED = 'WEFT_ERR_CHECK_FAILED';
