/**
 * `weft check --pre`: can this machine run a mesh? Linux with network namespaces,
 * the capabilities, iptables and the backend `auto` will pick, NAT in the kernel,
 * a synchronised clock, a writable state directory and free control-plane ports.
 * Backend detection and capability reading are proxy-init's own functions, so the
 * check and `weft proxy-init` can never disagree.
 */
import { access, constants, mkdtemp, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  chooseBackend, effectiveCapabilities, gatherEvidence, missingCapabilities, type BackendChoice, type BackendEvidence, type Host,
} from '../proxy-init/index.ts';
import { fail, ok, type Check } from './check.ts';
import { hint } from './hint.ts';
import { blockingListener, listenerText, parseProcNetTcp, type Listener } from './listeners.ts';
import { Category } from './mesh-checks.ts';

/** A port the control plane will listen on. */
export interface PortNeed {
  readonly host: string;
  readonly port: number;
  /** Who needs it (`control-plane admin`). */
  readonly what: string;
}

function need(addr: string, what: string): PortNeed {
  const colon = addr.lastIndexOf(':');
  return { host: addr.slice(0, colon), port: Number(addr.slice(colon + 1)), what };
}

/**
 * The ports a control plane listening at these `host:port` addresses binds on the
 * host (the proxies' ports live inside pod namespaces). `weft check --pre` passes
 * the addresses `weft up` will use (the platform's `plannedControlPlaneAddresses`).
 */
export function controlPlanePorts(at: { readonly admin: string; readonly identity: string; readonly destination: string }): PortNeed[] {
  return [need(at.admin, 'control-plane admin'), need(at.identity, 'identity'), need(at.destination, 'destination')];
}

/** Options of {@link PreContext}. */
export interface PreContextOptions {
  /** The machine (proxy-init's Host; tests wrap the real one). */
  readonly host: Host;
  readonly stateDir: string;
  /** What the control plane will bind: {@link controlPlanePorts} of the platform's planned addresses. */
  readonly ports: readonly PortNeed[];
  /** Default `process.platform`. */
  readonly platform?: string;
}

/** What the `--pre` checks look at; evidence is gathered once. */
export class PreContext {
  readonly host: Host;
  readonly stateDir: string;
  readonly ports: readonly PortNeed[];
  readonly platform: string;
  #evidence: Promise<BackendEvidence> | undefined;

  constructor(options: PreContextOptions) {
    this.host = options.host;
    this.stateDir = options.stateDir;
    this.ports = options.ports;
    this.platform = options.platform ?? process.platform;
  }

  /** Both iptables backends' binaries and tables (read-only). */
  evidence(): Promise<BackendEvidence> {
    this.#evidence ??= gatherEvidence(this.host, false);
    return this.#evidence;
  }
}

function otherBackend(choice: BackendChoice): string {
  return choice.backend === 'nft' ? 'legacy' : 'nft';
}

/** The checks of `weft check --pre`. */
export function preChecks(): Check<PreContext>[] {
  return [
    {
      category: Category.pre, description: 'runs on Linux with network namespaces', hint: hint('pre-linux'), severity: 'error', fatal: true,
      async run(ctx) {
        if (ctx.platform !== 'linux') return fail('error', `Run weft on Linux: each pod is a network namespace, and this is "${ctx.platform}"`);
        if (!(await exists('/proc/self/ns/net'))) {
          return fail('error', 'Enable network namespaces (CONFIG_NET_NS): /proc/self/ns/net does not exist');
        }
        return ok();
      },
    },
    {
      category: Category.pre, description: 'has CAP_NET_ADMIN and CAP_NET_RAW', hint: hint('pre-capabilities'), severity: 'error',
      async run(ctx) {
        const missing = missingCapabilities(effectiveCapabilities(await ctx.host.processStatus()));
        if (missing.length === 0) return ok();
        return fail('error', `Grant ${missing.join(' and ')}: weft creates network namespaces and NAT rules. `
          + 'Run it as root (sudo), or give node the capabilities (setcap cap_net_admin,cap_net_raw+ep)');
      },
    },
    {
      category: Category.pre, description: 'iptables is installed', hint: hint('pre-iptables'), severity: 'error',
      async run(ctx) {
        const { binaries } = await ctx.evidence();
        if (binaries.legacy && binaries.nft) return ok();
        if (binaries.legacy || binaries.nft) return ok(`only iptables-${binaries.nft ? 'nft' : 'legacy'} is installed`);
        return fail('error', 'Install iptables: neither "iptables-nft" nor "iptables-legacy" is on the PATH (Debian/Ubuntu: apt-get install iptables)');
      },
    },
    {
      category: Category.pre, description: 'the iptables backend is known', hint: hint('pre-backend'), severity: 'error',
      async run(ctx) {
        let choice: BackendChoice;
        try {
          choice = chooseBackend(await ctx.evidence());
        } catch (err) {
          return fail('error', (err as Error).message);
        }
        const e = await ctx.evidence();
        const detail = `--backend auto picks ${choice.backend}: ${choice.reason}`
          + (e.binaries[otherBackend(choice) as 'nft' | 'legacy'] ? `; pass --backend ${otherBackend(choice)} to use the other` : '');
        if (e.tables.legacy.rules > 0 && e.tables.nft.rules > 0) {
          return fail('warning', `${detail}. Both backends hold rules: the kernel evaluates both NAT tables, in an order nobody chose`);
        }
        return ok(detail);
      },
    },
    {
      category: Category.pre, description: 'the kernel supports NAT', hint: hint('pre-nat'), severity: 'error',
      async run(ctx) {
        const e = await ctx.evidence();
        let backend: 'legacy' | 'nft';
        try {
          backend = chooseBackend(e).backend;
        } catch {
          return fail('error', 'Install iptables first: NAT support cannot be tested without it');
        }
        const t = e.tables[backend];
        return t.readable ? ok() : fail('error', `Load NAT support (modprobe iptable_nat / nf_nat): iptables-${backend}-save cannot read the tables: ${t.error ?? 'unknown error'}`);
      },
    },
    {
      category: Category.pre, description: 'the clock is synchronised', hint: hint('pre-clock'), severity: 'warning',
      async run(ctx) {
        const r = await ctx.host.run(['timedatectl', 'show', '--property=NTPSynchronized', '--value']);
        if (r.code === 0 && r.stdout.trim() === 'yes') return ok();
        if (r.code === 0) return fail('warning', 'Synchronise the clock (timedatectl set-ntp true): certificates are judged by it, and a skewed clock makes fresh ones "not yet valid"');
        return fail('warning', `Cannot tell whether the clock is synchronised (timedatectl: ${r.stderr.trim().split('\n')[0] ?? ''}): make sure NTP runs (chrony, systemd-timesyncd)`);
      },
    },
    {
      category: Category.pre, description: 'the state directory is writable', hint: hint('pre-state-dir'), severity: 'error',
      async run(ctx) {
        const problem = await writableProblem(ctx.stateDir);
        return problem === undefined ? ok(`state directory "${ctx.stateDir}"`) : fail('error', problem);
      },
    },
    {
      category: Category.pre, description: 'control-plane ports are free', hint: hint('pre-ports'), severity: 'error',
      async run(ctx) {
        const listeners = await listening(ctx);
        const busy: string[] = [];
        for (const p of ctx.ports) {
          const by = blockingListener(p.host, p.port, listeners);
          if (by !== undefined) busy.push(`Free ${p.host}:${p.port} (${p.what}): something already listens on "${listenerText(by)}"`);
        }
        const where = ctx.ports.map((p) => `${p.host}:${p.port}`).join(', ');
        return busy.length === 0 ? ok(`the control plane will listen on ${where}`) : fail('error', busy.join('\n'));
      },
    },
  ];
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/**
 * Writes and removes a file in `dir`; when `dir` does not exist yet, asks whether
 * its nearest existing parent lets us create it (`weft up` will). Leaves nothing.
 */
async function writableProblem(dir: string): Promise<string | undefined> {
  if (await exists(dir)) {
    try {
      const probe = await mkdtemp(join(dir, '.weft-check-'));
      await rm(probe, { recursive: true, force: true });
      return undefined;
    } catch (err) {
      return `Make "${dir}" writable for this user, or pass --state-dir: ${(err as Error).message}`;
    }
  }
  let parent = dirname(dir);
  while (!(await exists(parent)) && parent !== dirname(parent)) parent = dirname(parent);
  try {
    await access(parent, constants.W_OK | constants.X_OK);
    return undefined;
  } catch {
    return `Create "${dir}" or pass --state-dir: "${parent}" is not writable for this user`;
  }
}

/** Every listening TCP socket of the host's network namespace, IPv4 and IPv6. */
async function listening(ctx: PreContext): Promise<Listener[]> {
  const [v4, v6] = await Promise.all([ctx.host.readFile('/proc/net/tcp'), ctx.host.readFile('/proc/net/tcp6')]);
  if (v4 === undefined) throw new Error('Cannot read /proc/net/tcp: mount /proc to let the check see which ports are taken');
  return [...parseProcNetTcp(v4), ...parseProcNetTcp(v6 ?? '')];
}
