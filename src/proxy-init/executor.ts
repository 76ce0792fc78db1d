import { effectiveCapabilities, missingCapabilities } from './capabilities.ts';
import { resolveConfig, type Backend, type IpFamily, type ProxyInitOptions } from './config.ts';
import { chooseBackend, gatherEvidence } from './detect.ts';
import { ProxyInitError, ProxyInitErrorCode } from './errors.ts';
import { systemHost, type Host } from './host.ts';
import { iptablesBinary, iptablesPlan, renderPlan, type PlanStep, type RulePlan } from './plan.ts';

/** What proxy-init was asked to do. */
export type ProxyInitMode = 'apply' | 'clean' | 'dry-run' | 'dry-run-clean';

/** Options of {@link proxyInit}. */
export interface ProxyInitRunOptions {
  /** Default `apply`. */
  readonly mode?: ProxyInitMode;
  /** Default: the real machine, current namespace. */
  readonly host?: Host;
}

/** What proxy-init did (or, for a dry run, would do), for the CLI to print. */
export interface ProxyInitReport {
  readonly mode: ProxyInitMode;
  readonly backend: Backend;
  /** Why this backend: `chosen with --backend` or auto-detection's reason. */
  readonly reason: string;
  readonly families: readonly IpFamily[];
  /** Things worth telling: IPv6 skipped and why, chains also left in the other backend. */
  readonly notes: readonly string[];
  readonly plan: RulePlan;
  /** The commands that ran (guards that failed excluded), in order. */
  readonly ran: readonly (readonly string[])[];
  /** For dry runs: the exact script that would run. */
  readonly script: string;
}

/**
 * Sets up (or with `mode: 'clean'` removes) transparent redirection in the current
 * namespace. Checks everything it needs before touching anything; a failure half
 * way rolls back what it applied.
 *
 * A dry run with an explicit backend and `--ipv6 on|off` touches nothing and needs
 * no privileges; with `auto` it reads the tables (which needs CAP_NET_ADMIN).
 */
export async function proxyInit(options: ProxyInitOptions, run: ProxyInitRunOptions = {}): Promise<ProxyInitReport> {
  const mode = run.mode ?? 'apply';
  const host = run.host ?? systemHost();
  const dry = mode === 'dry-run' || mode === 'dry-run-clean';
  const cleaning = mode === 'clean' || mode === 'dry-run-clean';
  const notes: string[] = [];

  // Reading the tables (auto) needs CAP_NET_ADMIN; printing a fixed plan does not.
  if (!dry || options.backend === 'auto') await checkCapabilities(host);

  const ipv6Wanted = dry && options.ipv6 !== 'auto'
    ? options.ipv6 === 'on'
    : await namespaceWantsIpv6(host, options.ipv6, notes);

  let backend: Backend;
  let reason: string;
  if (options.backend === 'auto') {
    const evidence = await gatherEvidence(host, ipv6Wanted);
    ({ backend, reason } = chooseBackend(evidence));
    const other: Backend = backend === 'nft' ? 'legacy' : 'nft';
    if (evidence.tables[other].weft) {
      notes.push(`weft's chains are also in the ${other} tables: remove them with --backend ${other} --clean`);
    }
  } else {
    backend = options.backend;
    reason = 'chosen with --backend';
  }

  let ipv6 = ipv6Wanted;
  if (!dry) {
    await checkBinary(host, iptablesBinary(backend, 4), backend);
    await checkKernel(host, backend, 4);
    if (ipv6) ipv6 = await ipv6Usable(host, backend, options.ipv6, notes);
  }

  const plan = iptablesPlan(resolveConfig(options, { backend, ipv6 }));
  const script = renderPlan(plan, cleaning ? 'clean' : 'apply');
  const ran: string[][] = [];
  const report = { mode, backend, reason, families: plan.families, notes, plan, ran, script };
  if (dry) return report;

  await runSteps(host, plan.clean, ran);
  if (cleaning) return report;

  for (const step of plan.apply) {
    const r = await host.run(step.argv);
    if (r.code === 0) {
      ran.push([...step.argv]);
      continue;
    }
    const rollback = await runSteps(host, plan.clean, ran).then(() => 'rolled back what was applied', (err: unknown) =>
      `rollback failed too (${err instanceof Error ? err.message : String(err)}): run weft proxy-init --clean --backend ${backend}`);
    throw new ProxyInitError(ProxyInitErrorCode.apply,
      `Cannot apply rule "${step.argv.join(' ')}" (${rollback}): ${explain(r.stderr)}`);
  }
  return report;
}

/** Runs guarded steps: each only when its guard succeeds. Throws on a failing step. */
async function runSteps(host: Host, steps: readonly PlanStep[], ran: string[][]): Promise<void> {
  for (const step of steps) {
    if (step.guard !== undefined && (await host.run(step.guard)).code !== 0) continue;
    const r = await host.run(step.argv);
    if (r.code !== 0) {
      throw new ProxyInitError(ProxyInitErrorCode.apply, `Cannot remove weft's rules with "${step.argv.join(' ')}": ${explain(r.stderr)}`);
    }
    ran.push([...step.argv]);
  }
}

async function checkCapabilities(host: Host): Promise<void> {
  const capEff = effectiveCapabilities(await host.processStatus());
  const missing = missingCapabilities(capEff);
  if (missing.length === 0) return;
  throw new ProxyInitError(ProxyInitErrorCode.capabilities,
    `Grant ${missing.join(' and ')} to weft proxy-init: it rewrites the namespace's NAT table and this process lacks ${missing.length > 1 ? 'them' : 'it'} `
    + `(CapEff 0x${capEff.toString(16)}). Run it as root, or in a pod add securityContext.capabilities.add ["NET_ADMIN", "NET_RAW"]; nothing was changed`);
}

async function checkBinary(host: Host, binary: string, backend: Backend): Promise<void> {
  if ((await host.findBinary(binary)) !== undefined) return;
  const other = backend === 'nft' ? 'legacy' : 'nft';
  throw new ProxyInitError(ProxyInitErrorCode.missingBinary,
    `Install "${binary}" for --backend ${backend}: it is not on the PATH (Debian/Ubuntu: apt-get install iptables), or use --backend ${other}`);
}

/** Asks the chosen backend to read its nat table: the cheapest proof the kernel side works. */
async function checkKernel(host: Host, backend: Backend, family: IpFamily): Promise<string | undefined> {
  const bin = iptablesBinary(backend, family);
  const r = await host.run([bin, '-t', 'nat', '-n', '-L']);
  if (r.code === 0) return undefined;
  const message = kernelMessage(backend, family, r.stderr);
  if (family === 6) return message;
  throw new ProxyInitError(ProxyInitErrorCode.kernel, message);
}

function kernelMessage(backend: Backend, family: IpFamily, stderr: string): string {
  const other = backend === 'nft' ? 'legacy' : 'nft';
  const ip = family === 6 ? 'ip6' : 'ip';
  if (/permission denied|operation not permitted/i.test(stderr)) {
    return `Allow netfilter in this sandbox: the kernel refused ${iptablesBinary(backend, family)} although this process has CAP_NET_ADMIN and CAP_NET_RAW `
      + '(a seccomp profile, AppArmor/SELinux policy or a user namespace blocks it); run proxy-init privileged for this step';
  }
  if (backend === 'nft') {
    return `Load nf_tables (modprobe nf_tables nft_chain_nat), or use --backend ${other}: the kernel does not offer the ${ip} nat table through nf_tables (${firstLine(stderr)})`;
  }
  return `Load the legacy nat table (modprobe ${ip}table_nat), or use --backend ${other}: the kernel does not offer it (${firstLine(stderr)})`;
}

/** Whether the namespace has IPv6 at all: the sysctl exists and IPv6 is not disabled. */
async function namespaceWantsIpv6(host: Host, mode: ProxyInitOptions['ipv6'], notes: string[]): Promise<boolean> {
  if (mode === 'off') return false;
  const disabled = (await host.readFile('/proc/sys/net/ipv6/conf/all/disable_ipv6'))?.trim();
  const enabled = disabled === '0';
  if (mode === 'on' && !enabled) {
    throw new ProxyInitError(ProxyInitErrorCode.kernel,
      `Enable IPv6 in this namespace (sysctl net.ipv6.conf.all.disable_ipv6=0), or use --ipv6 auto: --ipv6 on was given but IPv6 is ${disabled === undefined ? 'not in this kernel' : 'disabled'}`);
  }
  if (!enabled) notes.push(`IPv6 rules skipped: IPv6 is ${disabled === undefined ? 'not in this kernel' : 'disabled in this namespace'}`);
  return enabled;
}

/** Whether ip6tables of the chosen backend works here; with `--ipv6 auto` a failure only skips IPv6. */
async function ipv6Usable(host: Host, backend: Backend, mode: ProxyInitOptions['ipv6'], notes: string[]): Promise<boolean> {
  const bin = iptablesBinary(backend, 6);
  let problem: string | undefined;
  if ((await host.findBinary(bin)) === undefined) {
    problem = `Install "${bin}" (Debian/Ubuntu: apt-get install iptables): it is not on the PATH`;
  } else {
    problem = await checkKernel(host, backend, 6);
  }
  if (problem === undefined) return true;
  if (mode === 'on') throw new ProxyInitError(ProxyInitErrorCode.kernel, `${problem}; or use --ipv6 off`);
  notes.push(`IPv6 rules skipped: ${problem}`);
  return false;
}

/** Re-words the two errors the article's author met; anything else is passed on. */
function explain(stderr: string): string {
  const line = firstLine(stderr);
  if (/you must be root|permission denied/i.test(line)) {
    return `the kernel refused it despite CAP_NET_ADMIN (a sandbox blocks netfilter): ${line}`;
  }
  return line || 'no error output';
}

function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#')) ?? '';
}
