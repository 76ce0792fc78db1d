import { UsageError } from '../errors/index.ts';

/** One requirement of a label selector, as kubectl's `-l` parses it. */
export type LabelRequirement =
  | { readonly op: 'eq' | 'ne'; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists' | 'notexists'; readonly key: string };

/** A parsed selector: every requirement must hold (AND). Empty matches everything. */
export type LabelSelector = readonly LabelRequirement[];

const KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;

/**
 * Parses kubectl's selector syntax: `app=web`, `app==web`, `tier!=db`,
 * `env in (prod, staging)`, `env notin (dev)`, `release`, `!release`, joined by commas.
 */
export function parseLabelSelector(text: string): LabelSelector {
  const out: LabelRequirement[] = [];
  for (const part of splitTopLevel(text)) {
    const p = part.trim();
    if (p === '') continue;
    const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(p);
    if (set !== null) {
      const values = (set[3] as string).split(',').map((v) => v.trim()).filter((v) => v !== '');
      out.push({ op: set[2] as 'in' | 'notin', key: checkKey(set[1] as string, text), values });
      continue;
    }
    const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(p);
    if (cmp !== null) {
      out.push({ op: cmp[2] === '!=' ? 'ne' : 'eq', key: checkKey(cmp[1] as string, text), value: cmp[3] as string });
      continue;
    }
    if (p.startsWith('!')) {
      out.push({ op: 'notexists', key: checkKey(p.slice(1).trim(), text) });
      continue;
    }
    out.push({ op: 'exists', key: checkKey(p, text) });
  }
  return out;
}

/** True when `labels` satisfy every requirement of `selector`. */
export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'eq': return has && v === r.value;
      case 'ne': return !has || v !== r.value;
      case 'in': return has && r.values.includes(v as string);
      case 'notin': return !has || !r.values.includes(v as string);
      case 'exists': return has;
      case 'notexists': return !has;
    }
  });
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function checkKey(key: string, text: string): string {
  if (!KEY.test(key)) {
    throw new UsageError(`Use a label selector such as "app=web,tier in (front,back)": cannot read "${text}"`);
  }
  return key;
}
