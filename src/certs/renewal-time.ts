/**
 * When a certificate should be renewed, as cert-manager computes it: from the
 * issued certificate's real lifetime (not the requested duration, which an issuer may
 * have shortened), truncated to the second.
 *
 *   notBefore ───────────── renewalTime ───── renewBefore ───── notAfter
 *
 * renewBefore is, in order: `spec.renewBefore`; else `spec.renewBeforePercentage` of
 * the lifetime; else a third of the lifetime. A renewBefore that is not shorter than
 * the lifetime would renew at once, forever: cert-manager falls back to a third then,
 * and so do we.
 */
export interface RenewalTimeOptions {
  /** `spec.renewBefore` in milliseconds. */
  renewBefore?: number | undefined;
  /** `spec.renewBeforePercentage`, 0–100 exclusive. */
  renewBeforePercentage?: number | undefined;
}

/** Computes the renewal time of a certificate valid from `notBefore` to `notAfter`. */
export function renewalTime(
  validity: { notBefore: Date; notAfter: Date },
  options: RenewalTimeOptions = {},
): Date {
  const lifetime = validity.notAfter.getTime() - validity.notBefore.getTime();
  let renewBefore = lifetime / 3;
  if (options.renewBefore !== undefined && options.renewBefore < lifetime) {
    renewBefore = options.renewBefore;
  } else if (options.renewBeforePercentage !== undefined && options.renewBefore === undefined) {
    renewBefore = (lifetime * options.renewBeforePercentage) / 100;
  }
  const at = validity.notAfter.getTime() - renewBefore;
  return new Date(Math.floor(at / 1000) * 1000);
}
