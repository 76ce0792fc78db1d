import { WeftError } from '../errors/index.ts';

/** One thing wrong with a resource: where (`spec.renewBefore`) and what. */
export interface Problem {
  /** Field path as kubectl prints it: `spec.dnsNames[0]`, `metadata.labels["a/b"]`. */
  readonly path: string;
  /** Lower-case, says what the field must be: `must be shorter than spec.duration (48h)`. */
  readonly message: string;
}

/** Stable code of {@link ValidationError}. */
export const ERR_INVALID = 'WEFT_ERR_INVALID';

/**
 * A resource was refused by its schema. Carries every problem, not only the first,
 * so a user fixes a manifest in one pass.
 */
export class ValidationError extends WeftError {
  /** Every problem found, in document order. */
  readonly problems: readonly Problem[];

  constructor(subject: string, problems: readonly Problem[]) {
    super(ERR_INVALID, `Fix ${subject}: ${problems.map(formatProblem).join('; ')}`);
    this.name = 'ValidationError';
    this.problems = problems;
  }
}

/** `spec.x: message`, or the message alone for a problem with the whole document. */
export function formatProblem(problem: Problem): string {
  return problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Joins path segments as kubectl does: dots for names, brackets for indices and odd keys. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}
