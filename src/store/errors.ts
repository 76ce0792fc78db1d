import { WeftError } from '../errors/index.ts';

/** Code of {@link ConflictError}. */
export const ERR_CONFLICT = 'WEFT_ERR_CONFLICT';
/** Code of {@link NotFoundError}. */
export const ERR_NOT_FOUND = 'WEFT_ERR_NOT_FOUND';
/** Code of {@link GoneError}. */
export const ERR_GONE = 'WEFT_ERR_GONE';

/**
 * A write carried a resourceVersion (or uid) that is no longer current: someone
 * else wrote first. Read the object again, re-apply your change, and retry.
 */
export class ConflictError extends WeftError {
  constructor(message: string) {
    super(ERR_CONFLICT, message);
    this.name = 'ConflictError';
  }
}

/** The object (or the namespace it would live in) does not exist. */
export class NotFoundError extends WeftError {
  constructor(message: string) {
    super(ERR_NOT_FOUND, message);
    this.name = 'NotFoundError';
  }
}

/**
 * A watch asked to start before the oldest change the store still keeps. As with
 * Kubernetes' 410 Gone, list again and watch from the list's resourceVersion.
 */
export class GoneError extends WeftError {
  constructor(message: string) {
    super(ERR_GONE, message);
    this.name = 'GoneError';
  }
}
