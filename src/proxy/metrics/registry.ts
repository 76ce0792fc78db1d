/**
 * A hand-written Prometheus registry for the proxy's hot path.
 *
 * Chosen over prom-client by measurement (bench/metrics.ts): prom-client's
 * `counter.inc(labels)` hashes the label object on every call (about 0.3–1 µs with
 * six labels), while the proxy resolves a series once per route and then bumps a
 * number field (a few ns). Rendering is the slow, rare path.
 */

/** Renders `{a: 'x'}` as `a="x"` with Prometheus escaping; keys keep their order. */
export function labelString(labels: Record<string, string>): string {
  let out = '';
  for (const k in labels) {
    const v = labels[k]!;
    if (out !== '') out += ',';
    out += `${k}="${v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`;
  }
  return out;
}

/** One counter or gauge time series; bump `value` directly. */
export type Sample = { value: number };

/** Linkerd's `response_latency_ms` bucket bounds, so its dashboards work unchanged. */
export const LATENCY_BUCKETS_MS: readonly number[] = [
  1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000,
];

/** One histogram time series. */
export class HistogramSample {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  readonly #bounds: readonly number[];
  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length);
  }
  /** Records one observation. */
  observe(v: number): void {
    this.sum += v;
    this.count++;
    const b = this.#bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) { this.counts[i]!++; return; }
    }
  }
}

type Family = {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  series: Map<string, Sample | HistogramSample>;
  bounds?: readonly number[];
};

/** The set of metric families one proxy exposes on `/metrics`. */
export class Registry {
  readonly #families = new Map<string, Family>();

  #family(name: string, help: string, type: Family['type'], bounds?: readonly number[]): Family {
    let f = this.#families.get(name);
    if (f === undefined) {
      f = { name, help, type, series: new Map(), ...(bounds ? { bounds } : {}) };
      this.#families.set(name, f);
    }
    return f;
  }

  /** The counter series `name{labels}`; `labels` is a `labelString()`. Cache the result. */
  counter(name: string, help: string, labels: string): Sample {
    return this.#scalar(this.#family(name, help, 'counter'), labels);
  }

  /** The gauge series `name{labels}`. */
  gauge(name: string, help: string, labels: string): Sample {
    return this.#scalar(this.#family(name, help, 'gauge'), labels);
  }

  /** The histogram series `name{labels}` with `bounds` (default Linkerd's latency buckets). */
  histogram(name: string, help: string, labels: string, bounds: readonly number[] = LATENCY_BUCKETS_MS): HistogramSample {
    const f = this.#family(name, help, 'histogram', bounds);
    let s = f.series.get(labels);
    if (s === undefined) {
      s = new HistogramSample(bounds);
      f.series.set(labels, s);
    }
    return s as HistogramSample;
  }

  #scalar(f: Family, labels: string): Sample {
    let s = f.series.get(labels);
    if (s === undefined) {
      s = { value: 0 };
      f.series.set(labels, s);
    }
    return s as Sample;
  }

  /** The Prometheus text exposition (version 0.0.4) of every family. */
  render(): string {
    const out: string[] = [];
    for (const f of this.#families.values()) {
      out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
      for (const [labels, s] of f.series) {
        if (s instanceof HistogramSample) {
          const sep = labels === '' ? '' : ',';
          let cum = 0;
          for (let i = 0; i < s.counts.length; i++) {
            cum += s.counts[i]!;
            out.push(`${f.name}_bucket{${labels}${sep}le="${f.bounds![i]}"} ${cum}`);
          }
          out.push(`${f.name}_bucket{${labels}${sep}le="+Inf"} ${s.count}`);
          out.push(`${f.name}_sum{${labels}} ${s.sum}`, `${f.name}_count{${labels}} ${s.count}`);
        } else {
          out.push(labels === '' ? `${f.name} ${s.value}` : `${f.name}{${labels}} ${s.value}`);
        }
      }
    }
    return `${out.join('\n')}\n`;
  }
}
