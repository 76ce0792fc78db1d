import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressPlan } from './address-plan.ts';
import type { MeshNames } from './names.ts';
import { mustRun, runCommand } from './run-command.ts';
import { EGRESS_CHAIN, SERVICES_CHAIN } from './service-rules.ts';

/** Where `ip netns exec` finds per-namespace files to bind-mount over /etc. */
export const NETNS_ETC = '/etc/netns';

/** iptables flavour used inside pod namespaces (and passed to proxy-init, so both agree). */
export type RulesBackend = 'legacy' | 'nft';

/** The backend `iptables` on this host is: nf_tables or legacy. */
export async function hostRulesBackend(): Promise<RulesBackend> {
  const r = await runCommand(['iptables', '--version']);
  return /legacy/.test(r.stdout) ? 'legacy' : 'nft';
}

/**
 * Creates the mesh's bridge with the gateway address, and a host FORWARD rule so
 * pod-to-pod traffic crossing the bridge is accepted even on a host whose FORWARD
 * policy drops (br_netfilter passes bridged packets through it).
 */
export async function createBridge(names: MeshNames, plan: AddressPlan): Promise<void> {
  await mustRun(['ip', 'link', 'add', names.bridge, 'type', 'bridge']);
  await mustRun(['ip', 'addr', 'add', `${plan.gateway}/24`, 'dev', names.bridge]);
  await mustRun(['ip', 'link', 'set', names.bridge, 'up']);
  await mustRun(['iptables', '-I', 'FORWARD', '-i', names.bridge, '-o', names.bridge, '-m', 'comment', '--comment', names.ruleComment, '-j', 'ACCEPT']);
}

/** One pod's network, as created. */
export interface PodNetwork {
  readonly netns: string;
  readonly hostVeth: string;
  readonly ip: string;
}

/**
 * A namespace with `lo` up, `eth0` (the peer of a veth on the bridge) holding
 * `ip`/24, a default route via the bridge, and the two weft chains hooked into
 * OUTPUT (services after any proxy-init chain: see {@link hookServiceChains}).
 */
export async function createPodNetwork(names: MeshNames, plan: AddressPlan, seq: number, ip: string): Promise<PodNetwork> {
  const netns = names.netns(seq);
  const hostVeth = names.hostVeth(seq);
  const peer = `wp${names.id}-${seq}`;
  await mustRun(['ip', 'netns', 'add', netns]);
  await mustRun(['ip', 'link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', peer, 'netns', netns]);
  await mustRun(['ip', 'link', 'set', hostVeth, 'master', names.bridge, 'up']);
  await mustRun(['ip', '-n', netns, 'link', 'set', peer, 'name', 'eth0']);
  await mustRun(['ip', '-n', netns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
  await mustRun(['ip', '-n', netns, 'link', 'set', 'eth0', 'up']);
  await mustRun(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
  await mustRun(['ip', '-n', netns, 'route', 'add', 'default', 'via', plan.gateway]);
  return { netns, hostVeth, ip };
}

/**
 * Creates the (empty) services and egress chains and jumps to them from OUTPUT.
 * Called after proxy-init, so in a meshed pod OUTPUT runs WEFT_OUTPUT first: the
 * proxy's redirect sees the ClusterIP as the original destination, and only the
 * proxy's own connections (uid 2102, returned by WEFT_OUTPUT) are translated here.
 */
export async function hookServiceChains(netns: string, backend: RulesBackend): Promise<void> {
  const bin = `iptables-${backend}`;
  const ex = ['ip', 'netns', 'exec', netns, bin];
  await mustRun([...ex, '-t', 'nat', '-N', SERVICES_CHAIN]);
  await mustRun([...ex, '-t', 'nat', '-A', 'OUTPUT', '-j', SERVICES_CHAIN]);
  await mustRun([...ex, '-t', 'filter', '-N', EGRESS_CHAIN]);
  await mustRun([...ex, '-t', 'filter', '-A', 'OUTPUT', '-j', EGRESS_CHAIN]);
}

/** Replaces both chains' rules in one `iptables-restore --noflush`. */
export async function restoreServiceRules(netns: string, backend: RulesBackend, text: string): Promise<void> {
  await mustRun(['ip', 'netns', 'exec', netns, `iptables-${backend}-restore`, '--noflush'], { input: text });
}

/**
 * Writes `/etc/netns/<ns>/hosts`. In place (same inode), because `ip netns exec`
 * bind-mounted the file into running containers: a new file would not be seen.
 */
export async function writeNetnsHosts(netns: string, text: string): Promise<void> {
  const dir = join(NETNS_ETC, netns);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'hosts'), text, { mode: 0o644 });
}

/**
 * Removes a namespace and everything in it: kills every process inside (`ip netns
 * pids`, which also finds a crashed supervisor's orphans), deletes the namespace
 * (which deletes the veth pair) and its /etc/netns directory. Idempotent.
 */
export async function deletePodNetwork(netns: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pids = (await runCommand(['ip', 'netns', 'pids', netns])).stdout.split(/\s+/).filter((p) => /^\d+$/.test(p)).map(Number);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await runCommand(['ip', 'netns', 'del', netns]);
  await rm(join(NETNS_ETC, netns), { recursive: true, force: true });
}

/** Namespaces on this host that belong to the mesh (by prefix). */
export async function listMeshNamespaces(names: MeshNames): Promise<string[]> {
  const out = (await runCommand(['ip', 'netns', 'list'])).stdout;
  return out.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(names.netnsPrefix));
}

/**
 * Removes everything of the mesh from the host: its namespaces (and their
 * processes and veths), leftover host veths, the bridge, and its FORWARD rules.
 * Works from names alone, so it cleans up after a crash whatever the record says.
 */
export async function teardownMesh(names: MeshNames, extraNetns: readonly string[] = []): Promise<void> {
  const all = new Set([...extraNetns, ...(await listMeshNamespaces(names))]);
  await Promise.all([...all].map((ns) => deletePodNetwork(ns)));
  const links = (await runCommand(['ip', '-o', 'link', 'show'])).stdout;
  for (const m of links.matchAll(/^\d+:\s+([^:@\s]+)/gm)) {
    const name = m[1] ?? '';
    if (name.startsWith(`wv${names.id}-`)) await runCommand(['ip', 'link', 'del', name]);
  }
  await runCommand(['ip', 'link', 'del', names.bridge]);
  const rule = ['FORWARD', '-i', names.bridge, '-o', names.bridge, '-m', 'comment', '--comment', names.ruleComment, '-j', 'ACCEPT'];
  for (let i = 0; i < 10 && (await runCommand(['iptables', '-C', ...rule])).code === 0; i++) {
    await runCommand(['iptables', '-D', ...rule]);
  }
}

/** IPv4 addresses configured on the host, for choosing a free range. */
export async function hostAddresses(): Promise<string[]> {
  const out = (await runCommand(['ip', '-4', '-o', 'addr', 'show'])).stdout;
  return [...out.matchAll(/inet (\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1] ?? '');
}
