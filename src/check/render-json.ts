import type { CheckReport } from './check.ts';
import { overall } from './render-text.ts';

/** One check in `-o json`. */
export interface CheckJson {
  readonly description: string;
  readonly hint: string;
  readonly severity: 'error' | 'warning';
  /** `success`, `warning` or `error`, as `linkerd check -o json`. */
  readonly result: 'success' | 'warning' | 'error';
  /** The failure's message (absent on success). */
  readonly error?: string;
  /** What a passing check wants known (absent when none). */
  readonly detail?: string;
}

/** The whole of `weft check -o json`: linkerd's shape (success, categories[].checks[]) plus `status` and `stopped`. */
export interface ReportJson {
  readonly success: boolean;
  readonly status: 'ok' | 'warning' | 'error';
  readonly stopped: boolean;
  readonly categories: ReadonlyArray<{ readonly categoryName: string; readonly checks: readonly CheckJson[] }>;
}

/** The report as a JSON document shaped like `linkerd check -o json`, so scripts written for it keep working. */
export function reportJson(report: CheckReport): ReportJson {
  const categories: Array<{ categoryName: string; checks: CheckJson[] }> = [];
  for (const r of report.results) {
    let cat = categories.at(-1);
    if (cat === undefined || cat.categoryName !== r.category) {
      cat = { categoryName: r.category, checks: [] };
      categories.push(cat);
    }
    const o = r.outcome;
    cat.checks.push({
      description: r.description,
      hint: r.hint,
      severity: r.severity,
      result: o.kind === 'ok' ? 'success' : o.kind,
      ...(o.kind === 'ok' ? (o.detail === undefined ? {} : { detail: o.detail }) : { error: o.message }),
    });
  }
  const status = overall(report);
  return { success: status !== 'error', status, stopped: report.stopped, categories };
}

/** {@link reportJson} as text, two-space indented, with a final newline. */
export function renderJson(report: CheckReport): string {
  return JSON.stringify(reportJson(report), null, 2) + '\n';
}
