import { subnetFamily, type Backend, type IpFamily, type ProxyInitConfig } from './config.ts';
import { multiportChunks } from './ports.ts';

/** weft's chain for inbound TCP, jumped to from nat PREROUTING. */
export const INBOUND_CHAIN = 'WEFT_INBOUND';
/** weft's chain for outbound TCP, jumped to from nat OUTPUT. */
export const OUTBOUND_CHAIN = 'WEFT_OUTPUT';

/**
 * One command of a plan. With a `guard`, the command runs only when the guard
 * exits 0: that is how cleaning removes what is present and skips what is not.
 */
export interface PlanStep {
  readonly argv: readonly string[];
  readonly guard?: readonly string[];
}

/**
 * The exact commands proxy-init runs.
 *
 * ```
 *   clean ─▶ apply ─▶ done            (re-running: clean first, so chains are replaced)
 *              └─ a step fails ─▶ clean (rollback) ─▶ error
 *   --clean: clean only
 * ```
 */
export interface RulePlan {
  readonly backend: Backend;
  readonly families: readonly IpFamily[];
  /** Removes weft's jumps, then its chains, each only if present. */
  readonly clean: readonly PlanStep[];
  /** From a namespace without weft's chains: fills the chains, then hooks them in. */
  readonly apply: readonly PlanStep[];
}

/** The iptables binary writing `family`'s rules through `backend`. */
export function iptablesBinary(backend: Backend, family: IpFamily): string {
  return `${family === 6 ? 'ip6tables' : 'iptables'}-${backend}`;
}

/**
 * The rule plan: a pure function of its config.
 *
 * Both backends get the same iptables rules; `nft` writes them with iptables-nft
 * into nf_tables (table `ip nat` / `ip6 nat`), `legacy` with iptables-legacy into
 * x_tables. Writing iptables syntax for both (rather than a native nft ruleset)
 * keeps one plan to review and test, keeps the rules readable with the iptables
 * tools operators already use, and is what Linkerd's `iptablesMode` switches
 * between, so its users find the same rules.
 *
 * Order matters: the proxy's own uid and loopback are exempt before anything else
 * (otherwise the proxy's connections would loop back to itself), then the ignored
 * ports and subnets, then the REDIRECT. Chains are filled before the jumps are
 * added, so traffic never enters a half-built chain.
 */
export function iptablesPlan(config: ProxyInitConfig): RulePlan {
  const clean: PlanStep[] = [];
  const apply: PlanStep[] = [];
  for (const family of config.families) {
    const bin = iptablesBinary(config.backend, family);
    const nat = (...args: string[]): string[] => [bin, '-t', 'nat', ...args];
    const subnets = config.subnetsToIgnore.filter((s) => subnetFamily(s) === family);
    const inboundJump = ['PREROUTING', '-p', 'tcp', '-j', INBOUND_CHAIN];
    const outboundJump = ['OUTPUT', '-p', 'tcp', '-j', OUTBOUND_CHAIN];

    for (const jump of [inboundJump, outboundJump]) {
      clean.push({ guard: nat('-C', ...jump), argv: nat('-D', ...jump) });
    }
    for (const chain of [INBOUND_CHAIN, OUTBOUND_CHAIN]) {
      const exists = nat('-n', '-L', chain);
      clean.push({ guard: exists, argv: nat('-F', chain) });
      clean.push({ guard: exists, argv: nat('-X', chain) });
    }

    apply.push({ argv: nat('-N', INBOUND_CHAIN) });
    for (const ports of multiportChunks(config.inboundPortsToIgnore)) {
      apply.push({ argv: nat('-A', INBOUND_CHAIN, '-p', 'tcp', '-m', 'multiport', '--dports', ports, '-j', 'RETURN') });
    }
    for (const subnet of subnets) {
      apply.push({ argv: nat('-A', INBOUND_CHAIN, '-s', subnet, '-j', 'RETURN') });
    }
    apply.push({ argv: nat('-A', INBOUND_CHAIN, '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(config.inboundPort)) });

    apply.push({ argv: nat('-N', OUTBOUND_CHAIN) });
    apply.push({ argv: nat('-A', OUTBOUND_CHAIN, '-m', 'owner', '--uid-owner', String(config.proxyUid), '-j', 'RETURN') });
    apply.push({ argv: nat('-A', OUTBOUND_CHAIN, '-o', 'lo', '-j', 'RETURN') });
    for (const ports of multiportChunks(config.outboundPortsToIgnore)) {
      apply.push({ argv: nat('-A', OUTBOUND_CHAIN, '-p', 'tcp', '-m', 'multiport', '--dports', ports, '-j', 'RETURN') });
    }
    for (const subnet of subnets) {
      apply.push({ argv: nat('-A', OUTBOUND_CHAIN, '-d', subnet, '-j', 'RETURN') });
    }
    apply.push({ argv: nat('-A', OUTBOUND_CHAIN, '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(config.outboundPort)) });

    apply.push({ argv: nat('-A', ...inboundJump) });
    apply.push({ argv: nat('-A', ...outboundJump) });
  }
  return { backend: config.backend, families: config.families, clean, apply };
}

/**
 * Renders a plan as the shell script it is equivalent to (what `--dry-run`
 * prints): guards become `guard >/dev/null 2>&1 && command`.
 */
export function renderPlan(plan: RulePlan, mode: 'apply' | 'clean'): string {
  const families = plan.families.map((f) => `IPv${f}`).join(' and ');
  const lines = [`# weft proxy-init: backend ${plan.backend}, ${families}`];
  lines.push(mode === 'apply'
    ? '# 1. remove weft\'s chains from an earlier run, each only if present'
    : '# remove weft\'s chains, each only if present');
  for (const step of plan.clean) lines.push(renderStep(step));
  if (mode === 'apply') {
    lines.push('# 2. build the chains, then hook them into PREROUTING and OUTPUT');
    for (const step of plan.apply) lines.push(renderStep(step));
  }
  return `${lines.join('\n')}\n`;
}

function renderStep(step: PlanStep): string {
  const cmd = step.argv.map(shellQuote).join(' ');
  return step.guard ? `${step.guard.map(shellQuote).join(' ')} >/dev/null 2>&1 && ${cmd}` : cmd;
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}
