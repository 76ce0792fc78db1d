import { formatDuration } from '../pki/index.ts';

/**
 * weft's lifetime check for a CA certificate: the longest-lived certificate it signs
 * must fit between the CA's renewal and its expiry. Otherwise what it signs just
 * before it renews is cut short (weft clamps it; cert-manager would let it outlive
 * its CA). The article's issuer renews 25h before expiry for 24h leaves: covered.
 *
 * Returns null when covered (or nothing is known to be signed), else the warning.
 */
export function renewalCoverageProblem(
  ca: { notAfter: Date; renewalTime: Date },
  longestChildLifetime: number | undefined,
): string | null {
  if (longestChildLifetime === undefined) return null;
  const margin = ca.notAfter.getTime() - ca.renewalTime.getTime();
  if (margin >= longestChildLifetime) return null;
  return `This CA renews ${formatDuration(margin)} before it expires, but certificates it signs live up to `
    + `${formatDuration(longestChildLifetime)}: those signed just before it renews will be cut short. `
    + `Set spec.renewBefore to at least ${formatDuration(longestChildLifetime)}`;
}
