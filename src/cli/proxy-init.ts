import { Command, Option } from 'commander';
import { UsageError } from '../errors/index.ts';
import {
  DEFAULTS,
  parsePort,
  parsePorts,
  proxyInit,
  proxyInitOptions,
  systemHost,
  type ProxyInitMode,
  type ProxyInitReport,
} from '../proxy-init/index.ts';

interface Flags {
  backend: 'auto' | 'legacy' | 'nft';
  ipv6: 'auto' | 'on' | 'off';
  proxyUid: string;
  inboundPort: string;
  outboundPort: string;
  inboundPortsToIgnore: string[];
  outboundPortsToIgnore: string[];
  subnetsToIgnore: string[];
  dryRun?: boolean;
  clean?: boolean;
  netns?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `weft proxy-init`: redirect a namespace's TCP traffic through its proxy. */
export function registerProxyInit(program: Command): void {
  program.command('proxy-init')
    .description('redirect this network namespace\'s TCP traffic through the proxy (inbound → 4143, outbound → 4140)')
    .addOption(new Option('--backend <backend>', 'iptables backend; auto detects the one in use').choices(['auto', 'legacy', 'nft']).default('auto'))
    .option('--proxy-uid <uid>', 'uid of the proxy, whose traffic is never redirected', String(DEFAULTS.proxyUid))
    .option('--inbound-port <port>', 'port of the inbound proxy', String(DEFAULTS.inboundPort))
    .option('--outbound-port <port>', 'port of the outbound proxy', String(DEFAULTS.outboundPort))
    .option('--inbound-ports-to-ignore <ports>', 'inbound ports not redirected, e.g. 22,8000-8100 (4190 and 4191 always are)', collect, [])
    .option('--outbound-ports-to-ignore <ports>', 'outbound destination ports not redirected, e.g. 3306,5432', collect, [])
    .option('--subnets-to-ignore <cidrs>', 'CIDRs not redirected: inbound from them, outbound to them', collect, [])
    .addOption(new Option('--ipv6 <mode>', 'IPv6 rules: auto adds them when the namespace has IPv6').choices(['auto', 'on', 'off']).default('auto'))
    .option('--dry-run', 'print the exact commands instead of running them')
    .option('--clean', 'remove weft\'s chains instead of adding them')
    .option('--netns <name>', 'run in the named network namespace (default: the current one, e.g. under ip netns exec)')
    .action(async (flags: Flags) => {
      const uid = /^\d+$/.test(flags.proxyUid) ? Number(flags.proxyUid) : NaN;
      if (!Number.isInteger(uid)) throw new UsageError(`Give --proxy-uid a numeric uid: got "${flags.proxyUid}"`);
      const options = proxyInitOptions({
        backend: flags.backend,
        ipv6: flags.ipv6,
        proxyUid: uid,
        inboundPort: parsePort(flags.inboundPort, '--inbound-port'),
        outboundPort: parsePort(flags.outboundPort, '--outbound-port'),
        inboundPortsToIgnore: parsePorts(flags.inboundPortsToIgnore, '--inbound-ports-to-ignore'),
        outboundPortsToIgnore: parsePorts(flags.outboundPortsToIgnore, '--outbound-ports-to-ignore'),
        subnetsToIgnore: flags.subnetsToIgnore.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean),
      });
      const mode: ProxyInitMode = flags.dryRun ? (flags.clean ? 'dry-run-clean' : 'dry-run') : (flags.clean ? 'clean' : 'apply');
      const host = systemHost(flags.netns !== undefined ? { netns: flags.netns } : {});
      const report = await proxyInit(options, { mode, host });
      process.stdout.write(render(report));
    });
}

function render(r: ProxyInitReport): string {
  const families = r.families.map((f) => `IPv${f}`).join(' and ');
  const head = `weft proxy-init: backend ${r.backend} (${r.reason})`;
  const notes = r.notes.map((n) => `note: ${n}\n`).join('');
  if (r.mode === 'dry-run' || r.mode === 'dry-run-clean') {
    return `# backend ${r.backend}: ${r.reason}\n${r.notes.map((n) => `# note: ${n}\n`).join('')}${r.script}`;
  }
  const what = r.mode === 'clean'
    ? `removed weft's chains for ${families} (${r.ran.length} command(s) ran)`
    : `redirecting ${families} TCP: inbound → ${portOf(r, 'inbound')}, outbound → ${portOf(r, 'outbound')} (${r.ran.length} command(s) ran)`;
  return `${head}\n${notes}weft proxy-init: ${what}\n`;
}

function portOf(r: ProxyInitReport, direction: 'inbound' | 'outbound'): string {
  const chain = direction === 'inbound' ? 'WEFT_INBOUND' : 'WEFT_OUTPUT';
  const redirect = r.plan.apply.find((s) => s.argv.includes(chain) && s.argv.includes('REDIRECT'));
  return redirect?.argv.at(-1) ?? '?';
}
