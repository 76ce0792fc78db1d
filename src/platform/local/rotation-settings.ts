import { MIN_CERTIFICATE_DURATION_MS, MIN_RENEW_BEFORE_MS } from '../../api/index.ts';
import { UsageError } from '../../errors/index.ts';
import { formatDuration, parseDuration } from '../../pki/index.ts';

/** What `weft up` was asked to shorten (Go-style durations, as the flags give them). */
export interface RotationFlags {
  readonly issuerDuration?: string;
  readonly issuerRenewBefore?: string;
  readonly issuanceLifetime?: string;
}

/** The same, checked: what the bootstrap writes into the issuer Certificate and `weft-config`. */
export interface RotationSettings {
  readonly issuer?: { duration?: string; renewBefore?: string };
  readonly issuanceLifetimeMs?: number;
  /** Advice that does not stop the mesh (e.g. leaves that outlive the issuer's renewal). */
  readonly warnings: readonly string[];
}

/**
 * Checks `weft up`'s rotation flags before anything starts, with cert-manager's
 * limits (Certificate duration at least 1h, renewBefore at least 5m and shorter
 * than the duration), so a typo is a one-line usage error rather than an issuer
 * Certificate the controller refuses. Unset flags keep the article's defaults
 * (issuer 48h renewing 25h before expiry, workload certificates 24h).
 */
export function rotationSettings(flags: RotationFlags): RotationSettings {
  const ms = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    let n: number;
    try {
      n = parseDuration(v);
    } catch {
      throw new UsageError(`Set ${flag} to a duration such as "1h" or "5m30s": got "${v}"`);
    }
    if (n <= 0) throw new UsageError(`Set ${flag} to a positive duration: got "${v}"`);
    return n;
  };
  const duration = ms('--issuer-duration', flags.issuerDuration);
  const renewBefore = ms('--issuer-renew-before', flags.issuerRenewBefore);
  const lifetime = ms('--issuance-lifetime', flags.issuanceLifetime);
  if (duration !== undefined && duration < MIN_CERTIFICATE_DURATION_MS) {
    throw new UsageError(`Set --issuer-duration to at least 1h (cert-manager's minimum for a Certificate): got "${flags.issuerDuration ?? ''}"`);
  }
  if (renewBefore !== undefined && renewBefore < MIN_RENEW_BEFORE_MS) {
    throw new UsageError(`Set --issuer-renew-before to at least 5m: got "${flags.issuerRenewBefore ?? ''}"`);
  }
  const effective = duration ?? 48 * 3_600_000;
  if (renewBefore !== undefined && renewBefore >= effective) {
    throw new UsageError(`Set --issuer-renew-before shorter than the issuer's duration (${formatDuration(effective)}): got "${flags.issuerRenewBefore ?? ''}"`);
  }
  if (duration !== undefined && renewBefore === undefined && 25 * 3_600_000 >= duration) {
    throw new UsageError('Set --issuer-renew-before too: the default (25h) is not shorter than --issuer-duration');
  }
  const warnings: string[] = [];
  const margin = renewBefore ?? 25 * 3_600_000;
  if (lifetime !== undefined && lifetime > margin) {
    warnings.push(`workload certificates (${formatDuration(lifetime)}) outlive the issuer's renewBefore (${formatDuration(margin)}): those issued just before a rotation are cut short`);
  }
  const issuer = {
    ...(flags.issuerDuration === undefined ? {} : { duration: flags.issuerDuration }),
    ...(flags.issuerRenewBefore === undefined ? {} : { renewBefore: flags.issuerRenewBefore }),
  };
  return {
    ...(Object.keys(issuer).length === 0 ? {} : { issuer }),
    ...(lifetime === undefined ? {} : { issuanceLifetimeMs: lifetime }),
    warnings,
  };
}
