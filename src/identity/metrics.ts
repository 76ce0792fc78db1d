/**
 * A few Prometheus metrics in text exposition format. Small on purpose: identity
 * has five series families, so a registry library (prom-client) would be more code
 * to load than this file.
 */

type Labels = Readonly<Record<string, string>>;

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  return `{${entries.map(([k, v]) => `${k}="${esc(v)}"`).join(',')}}`;
}

/** A metric family: one name, HELP and TYPE, and values by label set. */
class Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  protected readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(name: string, help: string, type: 'counter' | 'gauge') {
    this.name = name;
    this.help = help;
    this.type = type;
  }

  protected entry(labels: Labels): { labels: Labels; value: number } {
    const key = labelText(labels);
    let e = this.values.get(key);
    if (e === undefined) {
      e = { labels, value: 0 };
      this.values.set(key, e);
    }
    return e;
  }

  /** The value for `labels` (0 when never touched). */
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }

  /** Prometheus text for this family. */
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${value}`);
    return lines.join('\n') + '\n';
  }
}

/** A monotonically increasing count. */
export class Counter extends Family {
  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }

  /** Adds one (or `by`). */
  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels).value += by;
  }
}

/** A value that goes up and down. */
export class Gauge extends Family {
  constructor(name: string, help: string) {
    super(name, help, 'gauge');
  }

  /** Sets the value. */
  set(value: number, labels: Labels = {}): void {
    this.entry(labels).value = value;
  }
}

/** Renders several families as one exposition. */
export function renderMetrics(families: ReadonlyArray<Counter | Gauge>): string {
  return families.map((f) => f.render()).join('');
}
