/**
 * Reads the Prometheus text exposition format (version 0.0.4), as every weft
 * proxy's and control plane's `/metrics` serves it. Only what queries need: sample
 * name, labels, value and the optional timestamp; `# HELP`/`# TYPE` lines are skipped
 * because the `_bucket`/`_count`/`_sum` suffixes already say what a sample is.
 */

/** One sample line: `name{labels} value [timestampMs]`. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** The line's own timestamp (ms since the epoch), when it carries one. */
  readonly timeMs?: number;
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/**
 * Parses a whole exposition. Lines it cannot read are skipped rather than failing
 * the scrape: one odd series must not hide a proxy's other metrics from the dashboard.
 */
export function parsePrometheusText(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const s = parseLine(line);
    if (s !== undefined) out.push(s);
  }
  return out;
}

function parseLine(line: string): MetricSample | undefined {
  let i = 0;
  while (i < line.length && /[a-zA-Z0-9_:]/.test(line[i]!)) i++;
  const name = line.slice(0, i);
  if (name === '') return undefined;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++;
      if (line[i] === '}') { i++; break; }
      const eq = line.indexOf('=', i);
      if (eq < 0 || line[eq + 1] !== '"') return undefined;
      const key = line.slice(i, eq).trim();
      let j = eq + 2;
      let value = '';
      while (j < line.length && line[j] !== '"') {
        if (line[j] === '\\') { value += line.slice(j, j + 2); j += 2; } else { value += line[j]; j++; }
      }
      if (j >= line.length) return undefined;
      labels[key] = unescape(value);
      i = j + 1;
    }
  }
  const rest = line.slice(i).trim().split(/\s+/);
  const value = parseValue(rest[0] ?? '');
  if (rest[0] === undefined || rest[0] === '' || Number.isNaN(value) && rest[0] !== 'NaN') return undefined;
  const ts = rest[1] === undefined ? undefined : Number(rest[1]);
  return ts === undefined || !Number.isFinite(ts) ? { name, labels, value } : { name, labels, value, timeMs: ts };
}
