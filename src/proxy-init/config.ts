import { isIP } from 'node:net';
import { UsageError } from '../errors/index.ts';
import { dedupePorts, type PortRange } from './ports.ts';

/** Which iptables flavour writes the rules: the legacy x_tables API or nf_tables. */
export type Backend = 'legacy' | 'nft';
/** IP version of a rule set: 4 (`iptables`) or 6 (`ip6tables`). */
export type IpFamily = 4 | 6;

/** Ports the proxy serves itself and must always reach directly: 4190 (control), 4191 (admin). */
export const ALWAYS_IGNORED_INBOUND_PORTS: readonly PortRange[] = [
  { from: 4190, to: 4190 },
  { from: 4191, to: 4191 },
];

/** The defaults Linkerd's proxy-init uses, so manifests written for it keep working. */
export const DEFAULTS = {
  proxyUid: 2102,
  inboundPort: 4143,
  outboundPort: 4140,
} as const;

/** What the user asked for, before `auto` is resolved against the namespace. */
export interface ProxyInitOptions {
  /** `auto` (default) detects the backend already in use. */
  readonly backend: Backend | 'auto';
  /** `auto` (default) adds IPv6 rules when the namespace has IPv6 enabled. */
  readonly ipv6: 'auto' | 'on' | 'off';
  /** The proxy's uid, whose traffic is never redirected (default 2102). */
  readonly proxyUid: number;
  /** The inbound proxy's port (default 4143). */
  readonly inboundPort: number;
  /** The outbound proxy's port (default 4140). */
  readonly outboundPort: number;
  /** Inbound ports left alone, in addition to 4190 and 4191. */
  readonly inboundPortsToIgnore: readonly PortRange[];
  /** Outbound destination ports left alone. */
  readonly outboundPortsToIgnore: readonly PortRange[];
  /** CIDRs left alone: inbound from them, outbound to them. IPv4 and IPv6 mixed. */
  readonly subnetsToIgnore: readonly string[];
}

/**
 * Everything the rule plan depends on, with `auto` already decided: the options'
 * ports, uid and ignores (4190 and 4191 added, duplicates dropped), plus the backend
 * and the families.
 */
export interface ProxyInitConfig extends Omit<ProxyInitOptions, 'backend' | 'ipv6'> {
  readonly backend: Backend;
  /** The families to write rules for, always including 4. */
  readonly families: readonly IpFamily[];
}

/** Options with every default filled in; override any field. */
export function proxyInitOptions(overrides: Partial<ProxyInitOptions> = {}): ProxyInitOptions {
  const options: ProxyInitOptions = {
    backend: 'auto',
    ipv6: 'auto',
    proxyUid: DEFAULTS.proxyUid,
    inboundPort: DEFAULTS.inboundPort,
    outboundPort: DEFAULTS.outboundPort,
    inboundPortsToIgnore: [],
    outboundPortsToIgnore: [],
    subnetsToIgnore: [],
    ...overrides,
  };
  validate(options);
  return options;
}

function validate(o: ProxyInitOptions): void {
  if (!Number.isInteger(o.proxyUid) || o.proxyUid < 0 || o.proxyUid > 0xfffffffe) {
    throw new UsageError(`Give --proxy-uid a numeric uid: got "${o.proxyUid}"`);
  }
  if (o.proxyUid === 0) {
    // Root's traffic would bypass the mesh entirely, and the proxy must not run as root.
    throw new UsageError('Run the proxy as a dedicated uid, not 0: --proxy-uid 0 would let every root process bypass the proxy');
  }
  if (o.inboundPort === o.outboundPort) {
    throw new UsageError(`Give --inbound-port and --outbound-port different ports: both are "${o.inboundPort}"`);
  }
  for (const s of o.subnetsToIgnore) subnetFamily(s);
}

/**
 * The family of a CIDR such as `10.0.0.0/8` or `fd00::/8`; a bare address counts
 * as a /32 or /128. Throws a UsageError naming the bad value.
 */
export function subnetFamily(cidr: string): IpFamily {
  const [address = '', prefix, extra] = cidr.split('/');
  const family = isIP(address);
  const max = family === 6 ? 128 : 32;
  const prefixOk = prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= max);
  if (family === 0 || !prefixOk || extra !== undefined) {
    throw new UsageError(`Give --subnets-to-ignore CIDRs such as "10.0.0.0/8" or "fd00::/8": got "${cidr}"`);
  }
  return family === 6 ? 6 : 4;
}

/** Decides the plan's config from options plus what detection found. */
export function resolveConfig(options: ProxyInitOptions, resolved: { backend: Backend; ipv6: boolean }): ProxyInitConfig {
  return {
    backend: resolved.backend,
    families: resolved.ipv6 ? [4, 6] : [4],
    proxyUid: options.proxyUid,
    inboundPort: options.inboundPort,
    outboundPort: options.outboundPort,
    inboundPortsToIgnore: dedupePorts([...ALWAYS_IGNORED_INBOUND_PORTS, ...options.inboundPortsToIgnore]),
    outboundPortsToIgnore: dedupePorts(options.outboundPortsToIgnore),
    subnetsToIgnore: [...new Set(options.subnetsToIgnore.map((s) => s.toLowerCase()))],
  };
}
