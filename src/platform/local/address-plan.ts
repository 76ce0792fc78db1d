/**
 * Addresses of one mesh. Pods get 10.244.N.2–254 on a /24 whose .1 is the bridge
 * (the host); Services get virtual IPs from 10.96.N.0/24, which exist only in the
 * DNAT rules inside pod namespaces. N is chosen per mesh so meshes side by side do
 * not overlap; nothing outside these ranges is ever addressed.
 */
import type { MeshRecord } from './mesh-record.ts';
import { meshNames } from './names.ts';

export interface AddressPlan {
  /** The third octet N. */
  readonly index: number;
  /** `10.244.N.0/24`. */
  readonly podCidr: string;
  /** `10.244.N.1`: the bridge, where the control plane listens for pods. */
  readonly gateway: string;
  /** `10.96.N.0/24`. */
  readonly serviceCidr: string;
  podIp(host: number): string;
  serviceIp(host: number): string;
}

/** The plan for third octet `index`. */
export function addressPlan(index: number): AddressPlan {
  if (!Number.isInteger(index) || index < 0 || index > 255) throw new RangeError(`address index ${index} outside 0-255`);
  return {
    index,
    podCidr: `10.244.${index}.0/24`,
    gateway: `10.244.${index}.1`,
    serviceCidr: `10.96.${index}.0/24`,
    podIp: (h) => `10.244.${index}.${h}`,
    serviceIp: (h) => `10.96.${index}.${h}`,
  };
}

/**
 * Picks the third octet: `preferred` (from the mesh id, or the last run's) unless
 * an address on the host already uses 10.244.N or 10.96.N; then the next free one.
 * Returns undefined when all 256 are taken.
 */
export function chooseAddressIndex(preferred: number, hostAddresses: readonly string[]): number | undefined {
  const used = new Set<number>();
  for (const a of hostAddresses) {
    const m = /^10\.(244|96)\.(\d+)\./.exec(a);
    if (m !== null) used.add(Number(m[2]));
  }
  for (let i = 0; i < 256; i++) {
    const n = (preferred + i) % 256;
    if (!used.has(n)) return n;
  }
  return undefined;
}

/**
 * The plan `weft up` takes for the mesh of `stateDir`: the last run's octet (from
 * its `record`), else one derived from the mesh id, moved on past ranges in use.
 * Addresses in the last run's own range do not count as in use: `weft up` removes
 * that run's leftovers before it chooses, and `weft check --pre` must predict the
 * same choice. Undefined when all 256 ranges are taken.
 */
export function meshAddressPlan(stateDir: string, record: MeshRecord | undefined, hostAddresses: readonly string[]): AddressPlan | undefined {
  const own = record === undefined ? [] : [`10.244.${record.addressIndex}.`, `10.96.${record.addressIndex}.`];
  const others = hostAddresses.filter((a) => !own.some((prefix) => a.startsWith(prefix)));
  const index = chooseAddressIndex(record?.addressIndex ?? parseInt(meshNames(stateDir).id.slice(0, 2), 16), others);
  return index === undefined ? undefined : addressPlan(index);
}

/** The lowest host number in 2..254 not in `taken`, or undefined when the /24 is full. */
export function nextFree(taken: ReadonlySet<number>, from = 2): number | undefined {
  for (let h = from; h <= 254; h++) if (!taken.has(h)) return h;
  return undefined;
}
