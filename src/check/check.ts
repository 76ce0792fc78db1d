/**
 * A health check is data: where it belongs, what it promises, where its docs are,
 * how bad a failure is, and a function that looks. Running and rendering live
 * elsewhere (run-checks.ts, render-*.ts), so the same checks print as text or JSON.
 */

/** How bad a failed check is: an error fails `weft check`, a warning only with `--fail-on warning`. */
export type Severity = 'error' | 'warning';

/** What one check found. `detail` on success says something the operator should know (e.g. when a rotation is due). */
export type CheckOutcome =
  | { readonly kind: 'ok'; readonly detail?: string }
  | { readonly kind: 'warning' | 'error'; readonly message: string; readonly hint?: string };

/** One health check, run against a context `C` that the CLI (or a test) builds. */
export interface Check<C> {
  /** Heading the check is grouped under (`weft-identity`). */
  readonly category: string;
  /** What passing means, as a sentence fragment (`issuer cert is issued by a trust anchor`). */
  readonly description: string;
  /** Docs anchor explaining what to do when it fails (`docs/check.md#issuer-trust`). */
  readonly hint: string;
  /** The worst outcome this check reports; a run may report less (a warning from an error check). */
  readonly severity: Severity;
  /** When it fails with an error, later checks cannot mean anything: the run stops (as `linkerd check`). */
  readonly fatal?: boolean;
  /** Looks. Throwing counts as an error outcome carrying the thrown message. */
  run(ctx: C): Promise<CheckOutcome>;
}

/** The result of one check as renderers see it. */
export interface CheckResult {
  readonly category: string;
  readonly description: string;
  readonly severity: Severity;
  readonly outcome: CheckOutcome;
  /** The docs anchor to show: the outcome's own hint, else the check's. */
  readonly hint: string;
}

/** Everything a run found, in run order. */
export interface CheckReport {
  readonly results: readonly CheckResult[];
  /** True when a fatal check failed and the run stopped there. */
  readonly stopped: boolean;
}

/** The ok outcome, with an optional detail line. */
export function ok(detail?: string): CheckOutcome {
  return detail === undefined ? { kind: 'ok' } : { kind: 'ok', detail };
}

/** A failed outcome; `hint` overrides the check's docs anchor for this failure. */
export function fail(kind: 'warning' | 'error', message: string, hint?: string): CheckOutcome {
  return hint === undefined ? { kind, message } : { kind, message, hint };
}
