import { fail, ok, type CheckOutcome } from './check.ts';
import { durationText, timeText } from './format.ts';

/** The automatic renewal of a certificate, as its cert-manager Certificate reports it. */
export interface ManagedRenewal {
  /** `namespace/name` of the Certificate. */
  readonly certificate: string;
  /** status.renewalTime; undefined when the controller has not scheduled one. */
  readonly renewalTime: Date | undefined;
  /** The Ready condition is True. */
  readonly ready: boolean;
  /** The Ready condition's reason and message, to quote when not Ready. */
  readonly readyText: string;
  /** status.failedIssuanceAttempts (0 when absent). */
  readonly failedAttempts: number;
  /** status.lastFailureTime. */
  readonly lastFailureTime: Date | undefined;
  /** The Issuing condition's message, when issuance is failing. */
  readonly failureMessage: string | undefined;
  /** The RenewalCoverage condition's message when it is False. */
  readonly coverageProblem: string | undefined;
}

/** Inputs of {@link judgeExpiry}. */
export interface ExpiryInput {
  /** What is judged, as the message names it (`issuer certificate "CN=…"`). */
  readonly what: string;
  readonly notAfter: Date;
  readonly now: Date;
  /** An unmanaged certificate expiring within this is an error (`--expiry-threshold`, default 60d). */
  readonly thresholdMs: number;
  /** Set when a Certificate renews it automatically. */
  readonly managed?: ManagedRenewal;
  /** The longest lifetime of what it signs (workload certificates: 24h); its renewal must leave that much. */
  readonly longestChildLifetimeMs?: number;
  /** How late a renewal may be before it counts as overdue. Default 10 min: the controller passes every 30 s. */
  readonly overdueAfterMs?: number;
}

/**
 * Rotation-aware expiry, the decision behind the "valid for at least" checks:
 *
 *   expired ─────────────────────────────────────────────▶ error
 *   managed by a renewing Certificate
 *     ├ renewal failing / not Ready / overdue / too late for children ─▶ warning
 *     └ otherwise ─▶ ok "rotates automatically; next renewal T, D before expiry"
 *   unmanaged, expiring within the threshold ──────────────▶ error (nothing will renew it)
 *   unmanaged, later ─────────────────────────────────────▶ ok
 *
 * An issuer that cert-manager renews every day is not "about to expire" (Linkerd's
 * false alarm); an anchor nobody renews is an outage on a date, so it is an error.
 */
export function judgeExpiry(input: ExpiryInput): CheckOutcome {
  const { what, notAfter, now } = input;
  const left = notAfter.getTime() - now.getTime();
  if (left <= 0) return fail('error', `The ${what} expired at ${timeText(notAfter)}`);
  const m = input.managed;
  if (m !== undefined && m.renewalTime !== undefined) {
    const problems: string[] = [];
    if (m.failedAttempts > 0) {
      problems.push(`its renewal is failing: Certificate "${m.certificate}" failed ${m.failedAttempts} time(s)`
        + (m.lastFailureTime === undefined ? '' : `, last at ${timeText(m.lastFailureTime)}`)
        + (m.failureMessage === undefined ? '' : ` (${m.failureMessage})`));
    } else if (!m.ready) {
      problems.push(`Certificate "${m.certificate}" is not Ready: ${m.readyText}`);
    }
    const overdue = now.getTime() - m.renewalTime.getTime();
    if (m.failedAttempts === 0 && overdue > (input.overdueAfterMs ?? 600_000)) {
      problems.push(`its renewal was due at ${timeText(m.renewalTime)} and has not happened (is the certificate controller running, and is its Issuer Ready?)`);
    }
    const margin = notAfter.getTime() - m.renewalTime.getTime();
    if (m.coverageProblem !== undefined) {
      problems.push(m.coverageProblem);
    } else if (input.longestChildLifetimeMs !== undefined && margin < input.longestChildLifetimeMs) {
      problems.push(`it renews ${durationText(margin)} before it expires, but certificates it signs live ${durationText(input.longestChildLifetimeMs)}: `
        + `set spec.renewBefore of Certificate "${m.certificate}" to at least ${durationText(input.longestChildLifetimeMs)}`);
    }
    if (problems.length > 0) {
      return fail('warning', `The ${what} rotates automatically, but ${problems.join('; ')}. It expires at ${timeText(notAfter)} (in ${durationText(left)})`);
    }
    return ok(`${capitalised(what)} rotates automatically; next renewal ${timeText(m.renewalTime)}, ${durationText(margin)} before expiry`);
  }
  if (left < input.thresholdMs) {
    return fail('error', `The ${what} expires at ${timeText(notAfter)} (in ${durationText(left)}), within the ${durationText(input.thresholdMs)} threshold, `
      + 'and nothing renews it automatically');
  }
  return ok();
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
