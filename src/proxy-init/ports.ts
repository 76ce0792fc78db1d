import { UsageError } from '../errors/index.ts';

/** A TCP port or an inclusive range of them (`from === to` for a single port). */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/**
 * Parses a port list as operators write it: `"25,587, 3306"`, ranges as `1000-2000`
 * (Linkerd's spelling) or `1000:2000` (iptables'). Several flags may each carry a
 * list, hence the array input.
 */
export function parsePorts(lists: readonly string[], flag: string): PortRange[] {
  const out: PortRange[] = [];
  for (const list of lists) {
    for (const raw of list.split(',')) {
      const item = raw.trim();
      if (item === '') continue;
      const m = /^(\d+)(?:[-:](\d+))?$/.exec(item);
      const from = m ? Number(m[1]) : NaN;
      const to = m?.[2] !== undefined ? Number(m[2]) : from;
      if (!m || !validPort(from) || !validPort(to) || to < from) {
        throw new UsageError(`Give ${flag} ports between 1 and 65535, ranges as "1000-2000": got "${item}"`);
      }
      out.push({ from, to });
    }
  }
  return out;
}

/** Parses one port flag such as `--inbound-port`. */
export function parsePort(value: string, flag: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!validPort(n)) throw new UsageError(`Give ${flag} a port between 1 and 65535: got "${value}"`);
  return n;
}

function validPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/**
 * Drops exact duplicates, keeping first-seen order, so a port given twice (or the
 * always-ignored 4190 given again) does not become a second match.
 */
export function dedupePorts(ports: readonly PortRange[]): PortRange[] {
  const seen = new Set<string>();
  return ports.filter((p) => {
    const key = `${p.from}:${p.to}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The xt_multiport match takes at most 15 ports, a range counting as two; longer
 * lists become several rules. Returns each rule's `--dports` value.
 */
export function multiportChunks(ports: readonly PortRange[]): string[] {
  const MAX_SLOTS = 15;
  const chunks: string[] = [];
  let current: string[] = [];
  let used = 0;
  for (const p of ports) {
    const cost = p.from === p.to ? 1 : 2;
    if (used + cost > MAX_SLOTS) {
      chunks.push(current.join(','));
      current = [];
      used = 0;
    }
    current.push(p.from === p.to ? String(p.from) : `${p.from}:${p.to}`);
    used += cost;
  }
  if (current.length > 0) chunks.push(current.join(','));
  return chunks;
}
