import type { Check, CheckOutcome, CheckReport, CheckResult } from './check.ts';

/**
 * Runs `checks` in order against `ctx`. One check at a time: later checks reuse what
 * earlier ones loaded (the context memoises), and the output order is the list order.
 * A check that throws is an error with the thrown message: a bug in a check must
 * show up as a failure, never as a pass. A fatal check's error ends the run.
 */
export async function runChecks<C>(checks: readonly Check<C>[], ctx: C): Promise<CheckReport> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    let outcome: CheckOutcome;
    try {
      outcome = await check.run(ctx);
    } catch (err) {
      outcome = { kind: 'error', message: err instanceof Error ? err.message : String(err) };
    }
    // A check never reports worse than its declared severity.
    if (outcome.kind === 'error' && check.severity === 'warning') outcome = { ...outcome, kind: 'warning' };
    results.push({
      category: check.category,
      description: check.description,
      severity: check.severity,
      outcome,
      hint: outcome.kind !== 'ok' && outcome.hint !== undefined ? outcome.hint : check.hint,
    });
    if (outcome.kind === 'error' && check.fatal === true) return { results, stopped: true };
  }
  return { results, stopped: false };
}

/** What `--fail-on` accepts: fail on errors only (default), or on warnings too (CI). */
export type FailOn = 'error' | 'warning';

/** 0 when nothing failed at the `failOn` level, else 1. */
export function exitCodeOf(report: CheckReport, failOn: FailOn = 'error'): number {
  const failed = report.results.some((r) => r.outcome.kind === 'error' || (failOn === 'warning' && r.outcome.kind === 'warning'));
  return failed ? 1 : 0;
}
