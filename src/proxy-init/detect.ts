import type { Backend } from './config.ts';
import { ProxyInitError, ProxyInitErrorCode } from './errors.ts';
import type { Host } from './host.ts';
import { INBOUND_CHAIN, OUTBOUND_CHAIN } from './plan.ts';

/** What one backend's tables hold in this namespace (IPv4 and IPv6 together). */
export interface TablesEvidence {
  /** Whether `iptables-<backend>-save` could read the tables at all. */
  readonly readable: boolean;
  /** `-A` lines: rules anyone (kube-proxy, Docker, an earlier weft) put there. */
  readonly rules: number;
  /** Whether weft's chains are among them. */
  readonly weft: boolean;
  /** The save command's complaint when it could not read. */
  readonly error?: string;
}

/** Everything auto-detection looks at, gathered first so the decision stays pure. */
export interface BackendEvidence {
  /** Whether `iptables-legacy` / `iptables-nft` is installed. */
  readonly binaries: Readonly<Record<Backend, boolean>>;
  readonly tables: Readonly<Record<Backend, TablesEvidence>>;
}

/** The backend auto-detection picked, and why, in words for the operator. */
export interface BackendChoice {
  readonly backend: Backend;
  readonly reason: string;
}

const BACKENDS: readonly Backend[] = ['legacy', 'nft'];

/** Counts rules and spots weft's chains in `iptables-save` output. */
export function parseSave(text: string): { rules: number; weft: boolean } {
  let rules = 0;
  let weft = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('-A ')) rules += 1;
    if (line.startsWith(`:${INBOUND_CHAIN} `) || line.startsWith(`:${OUTBOUND_CHAIN} `)) weft = true;
  }
  return { rules, weft };
}

/**
 * Picks the backend the namespace already uses. In order:
 * 1. only one backend's binary is installed → that one;
 * 2. weft's chains from an earlier run are in one backend → that one (re-runs replace, never duplicate);
 * 3. one backend holds rules and the other none → that one: two backends in one
 *    namespace means two NAT tables evaluated in an order nobody chose;
 * 4. both hold rules → the one with more (Kubernetes' iptables-wrapper heuristic);
 * 5. neither holds rules → nft when the kernel's nf_tables answers (the default of
 *    current distributions), else legacy.
 */
export function chooseBackend(e: BackendEvidence): BackendChoice {
  const installed = BACKENDS.filter((b) => e.binaries[b]);
  const [only] = installed;
  if (only === undefined) {
    throw new ProxyInitError(ProxyInitErrorCode.missingBinary,
      'Install iptables: neither "iptables-nft" nor "iptables-legacy" is on the PATH (Debian/Ubuntu: apt-get install iptables; Alpine: apk add iptables iptables-legacy)');
  }
  if (installed.length === 1) {
    const other = only === 'nft' ? 'legacy' : 'nft';
    return { backend: only, reason: `only iptables-${only} is installed (no iptables-${other})` };
  }
  const { legacy, nft } = e.tables;
  if (legacy.weft !== nft.weft) {
    const b: Backend = legacy.weft ? 'legacy' : 'nft';
    return { backend: b, reason: `weft's chains from an earlier run are in the ${b} tables` };
  }
  if (legacy.rules > 0 && nft.rules === 0) {
    return { backend: 'legacy', reason: `the legacy tables hold ${legacy.rules} rule(s) and the nft tables none` };
  }
  if (nft.rules > 0 && legacy.rules === 0) {
    return { backend: 'nft', reason: `the nft tables hold ${nft.rules} rule(s) and the legacy tables none` };
  }
  if (legacy.rules > 0 && nft.rules > 0) {
    const b: Backend = legacy.rules > nft.rules ? 'legacy' : 'nft';
    return {
      backend: b,
      reason: `both hold rules (legacy ${legacy.rules}, nft ${nft.rules}); ${b} holds more, so it is the one in use`,
    };
  }
  if (nft.readable) {
    return { backend: 'nft', reason: 'no rules in either backend yet and the kernel supports nf_tables' };
  }
  return {
    backend: 'legacy',
    reason: `no rules in either backend yet and nf_tables does not answer (${nft.error ?? 'unreadable'})`,
  };
}

/** Reads both backends' tables (read-only: the `-save` tools create nothing). */
export async function gatherEvidence(host: Host, withIpv6: boolean): Promise<BackendEvidence> {
  const binaries = {
    legacy: (await host.findBinary('iptables-legacy')) !== undefined,
    nft: (await host.findBinary('iptables-nft')) !== undefined,
  };
  const tables = { legacy: await readTables(host, 'legacy', binaries.legacy, withIpv6), nft: await readTables(host, 'nft', binaries.nft, withIpv6) };
  return { binaries, tables };
}

async function readTables(host: Host, backend: Backend, installed: boolean, withIpv6: boolean): Promise<TablesEvidence> {
  if (!installed) return { readable: false, rules: 0, weft: false, error: `iptables-${backend} is not installed` };
  const v4 = await host.run([`iptables-${backend}-save`]);
  if (v4.code !== 0) return { readable: false, rules: 0, weft: false, error: v4.stderr.trim() };
  let { rules, weft } = parseSave(v4.stdout);
  if (withIpv6 && (await host.findBinary(`ip6tables-${backend}-save`)) !== undefined) {
    const v6 = await host.run([`ip6tables-${backend}-save`]);
    if (v6.code === 0) {
      const p = parseSave(v6.stdout);
      rules += p.rules;
      weft ||= p.weft;
    }
  }
  return { readable: true, rules, weft };
}
