import { stringify } from 'yaml';
import { qualifiedSingular, type KindDefinition, type Resource } from '../api/index.ts';

/** Output formats of `weft get -o`. */
export type OutputFormat = 'table' | 'wide' | 'yaml' | 'json';

/** Reads `-o`; undefined means a table. */
export function outputFormat(text: string | undefined): OutputFormat | { error: string } {
  if (text === undefined) return 'table';
  if (text === 'wide' || text === 'yaml' || text === 'json') return text;
  return { error: `Use -o wide, -o yaml or -o json: "${text}" is not a format weft prints` };
}

/**
 * A kubectl-style table: columns padded to their widest cell plus three spaces
 * (kubectl's tabwriter padding), NAMESPACE first when listing every namespace.
 */
export function renderTable(def: KindDefinition, items: readonly Resource[], opts: { wide: boolean; allNamespaces: boolean; now: Date }): string {
  const columns = def.columns.filter((c) => opts.wide || c.wide !== true);
  const headers: string[] = [];
  if (opts.allNamespaces && def.namespaced) headers.push('NAMESPACE');
  if (def.hideNameColumn !== true) headers.push('NAME');
  headers.push(...columns.map((c) => c.header));
  const rows = items.map((o) => {
    const row: string[] = [];
    if (opts.allNamespaces && def.namespaced) row.push(o.metadata.namespace ?? '');
    if (def.hideNameColumn !== true) row.push(o.metadata.name);
    row.push(...columns.map((c) => c.value(o, opts.now)));
    return row;
  });
  return alignColumns([headers, ...rows]);
}

/** Pads every column but the last to its widest cell plus three spaces. */
export function alignColumns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3))).join('').trimEnd())
    .join('\n') + '\n';
}

/** One object, or a `kind: List` of many, as YAML (1.1, as kubectl reads it) or JSON. */
export function renderObjects(items: readonly Resource[], format: 'yaml' | 'json', single: boolean): string {
  const value = single ? items[0] : { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } };
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value, { version: '1.1' });
}

/** kubectl's describe key names: `dnsNames` → `Dns Names`, `isCA` → `Is CA`. */
export function humanize(key: string): string {
  if (key === 'uid') return 'UID';
  const spaced = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/** A nested value as describe prints it: `Key:  value`, lists and maps indented by two. */
export function describeValue(value: unknown, indent: number): string {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    return value.map((item) => {
      if (typeof item === 'object' && item !== null) {
        const body = describeValue(item, indent + 2);
        return `${pad}-\n${body}`;
      }
      return `${pad}${String(item)}\n`;
    }).join('');
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    const width = Math.max(0, ...entries.filter(([, v]) => !isNested(v)).map(([k]) => humanize(k).length + 1));
    return entries.map(([k, v]) => {
      const label = `${humanize(k)}:`;
      if (isNested(v)) return `${pad}${label}\n${describeValue(v, indent + 2)}`;
      return `${pad}${label.padEnd(width + 2)}${String(v)}\n`;
    }).join('');
  }
  return `${pad}${String(value)}\n`;
}

function isNested(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0);
}

/** `certificate.cert-manager.io/name`, as kubectl prints applied objects. */
export function objectRef(def: KindDefinition, name: string): string {
  return `${qualifiedSingular(def)}/${name}`;
}
