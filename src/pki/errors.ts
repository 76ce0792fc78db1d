import { WeftError } from '../errors/index.ts';

/**
 * Stable codes of the PKI's deliberate failures. Callers (the CLI, controllers)
 * match on these, never on messages.
 */
export const PkiErrorCode = {
  /** Input is not PEM/DER of the expected kind, or is damaged. */
  badPem: 'WEFT_ERR_PKI_BAD_PEM',
  /** An encrypted key was given with a wrong password (or none). */
  badPassword: 'WEFT_ERR_PKI_BAD_PASSWORD',
  /** A key of a kind or size weft does not make or accept. */
  badKey: 'WEFT_ERR_PKI_BAD_KEY',
  /** Options that cannot make a valid certificate (dates, SANs, path length). */
  badRequest: 'WEFT_ERR_PKI_BAD_REQUEST',
} as const;

/** One of the {@link PkiErrorCode} values. */
export type PkiErrorCode = (typeof PkiErrorCode)[keyof typeof PkiErrorCode];

/** A deliberate PKI failure; `code` is one of {@link PkiErrorCode}. */
export class PkiError extends WeftError {
  constructor(code: PkiErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'PkiError';
  }
}
