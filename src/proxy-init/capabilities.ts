/** Linux capability numbers (include/uapi/linux/capability.h). */
export const CAP_NET_ADMIN = 12;
/** Needed by iptables-legacy, which talks to the kernel through a raw socket. */
export const CAP_NET_RAW = 13;

/** The capabilities proxy-init needs, by name and bit. */
export const REQUIRED_CAPABILITIES = [
  { name: 'CAP_NET_ADMIN', bit: CAP_NET_ADMIN },
  { name: 'CAP_NET_RAW', bit: CAP_NET_RAW },
] as const;

/**
 * The effective capability set from the text of `/proc/<pid>/status` (`CapEff:`
 * line, hexadecimal). Returns 0n when the line is missing: assume nothing.
 */
export function effectiveCapabilities(status: string): bigint {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status);
  return m?.[1] !== undefined ? BigInt(`0x${m[1]}`) : 0n;
}

/** Names of the required capabilities absent from `capEff`, in a stable order. */
export function missingCapabilities(capEff: bigint): string[] {
  return REQUIRED_CAPABILITIES.filter((c) => (capEff & (1n << BigInt(c.bit))) === 0n).map((c) => c.name);
}
