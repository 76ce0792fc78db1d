import { createHash } from 'node:crypto';

/**
 * Every kernel object one mesh creates carries its mesh id, derived from the state
 * directory: two meshes (two test files, two users) never collide, and the next
 * `weft up` on the same state directory recognises a crashed run's leftovers.
 */
export interface MeshNames {
  /** Six hex characters. */
  readonly id: string;
  /** The Linux bridge, `wbr<id>` (interface names are at most 15 characters). */
  readonly bridge: string;
  /** Prefix of every network namespace of this mesh. */
  readonly netnsPrefix: string;
  /** Network namespace of the pod with sequence number `n`. */
  netns(n: number): string;
  /** Host side of that pod's veth pair. */
  hostVeth(n: number): string;
  /** iptables comment marking the host rules of this mesh. */
  readonly ruleComment: string;
}

/** The names of the mesh whose state lives in `stateDir` (an absolute path). */
export function meshNames(stateDir: string): MeshNames {
  const id = createHash('sha256').update(stateDir).digest('hex').slice(0, 6);
  return {
    id,
    bridge: `wbr${id}`,
    netnsPrefix: `weft-${id}-`,
    netns: (n) => `weft-${id}-${n}`,
    // 2 + 6 + 1 + up to 5 digits = 14 ≤ IFNAMSIZ-1.
    hostVeth: (n) => `wv${id}-${n}`,
    ruleComment: `weft mesh ${id}`,
  };
}
