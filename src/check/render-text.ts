import type { CheckReport, CheckResult } from './check.ts';

/** Marks as `linkerd check` prints them, so the output reads the same to its users. */
const MARK = { ok: '✓', warning: '‼', error: '×' } as const;

/**
 * The report as `linkerd check` prints it: one block per category, a mark per check,
 * and under a failure its message and where the docs say what to do. An ok check's
 * detail is shown too: "rotates automatically; next renewal …" is why it passed.
 */
export function renderText(report: CheckReport): string {
  const lines: string[] = [];
  let category: string | undefined;
  for (const r of report.results) {
    if (r.category !== category) {
      if (category !== undefined) lines.push('');
      category = r.category;
      lines.push(r.category, '-'.repeat(r.category.length));
    }
    lines.push(`${MARK[r.outcome.kind]} ${r.description}`);
    lines.push(...detailLines(r));
  }
  if (report.stopped) {
    lines.push('', 'The remaining checks did not run: fix the error above first.');
  }
  lines.push('', `Status check results are ${MARK[overall(report)]}`);
  return lines.join('\n') + '\n';
}

function detailLines(r: CheckResult): string[] {
  if (r.outcome.kind === 'ok') return r.outcome.detail === undefined ? [] : indent(r.outcome.detail);
  return [...indent(r.outcome.message), `    see ${r.hint} for hints`];
}

function indent(text: string): string[] {
  return text.split('\n').map((l) => `    ${l}`);
}

/** The worst outcome of the report: what the last line shows. */
export function overall(report: CheckReport): 'ok' | 'warning' | 'error' {
  if (report.results.some((r) => r.outcome.kind === 'error')) return 'error';
  if (report.results.some((r) => r.outcome.kind === 'warning')) return 'warning';
  return 'ok';
}
