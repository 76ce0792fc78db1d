/**
 * `weft check`: is the mesh healthy, and will it stay so? `--pre` before `weft up`,
 * the running mesh by default, `--proxy` adds every meshed pod's proxy. Text
 * (✓ ‼ ×, as `linkerd check`) or `-o json`; exit 1 when a check fails (`--fail-on
 * warning` for CI, so an expiry warning cannot slip through as exit 0).
 */
import { Command, Option } from 'commander';
import {
  controlPlanePorts, DataPlaneContext, DEFAULT_CONTROL_PLANE_ADMIN, exitCodeOf, meshChecks, parseProxyTarget, PreContext,
  preChecks, proxyChecks, renderJson, renderText, runChecks, type Check, type CheckReport, type FailOn,
} from '../check/index.ts';
import { UsageError } from '../errors/index.ts';
import { parseDuration, parseTimeOrDuration } from '../pki/index.ts';
import { plannedControlPlaneAddresses, readMeshRecord } from '../platform/index.ts';
import { systemHost } from '../proxy-init/index.ts';
import { stateDirOf, withStateDir } from './state-dir.ts';

interface CheckFlags {
  pre?: boolean;
  proxy?: boolean;
  namespace?: string;
  output: string;
  failOn: string;
  expiryThreshold: string;
  controlPlaneAdmin: string[];
  proxyAdmin: string[];
  timeout: string;
  at?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `Nd` (days) as well as Go durations: thresholds are spoken in days. */
function durationFlag(text: string, flag: string): number {
  const days = /^(\d+)d$/.exec(text.trim());
  if (days !== null) return Number(days[1]) * 86_400_000;
  try {
    const ms = parseDuration(text);
    if (ms > 0) return ms;
  } catch {
    // fall through to the usage message
  }
  throw new UsageError(`Use a positive duration such as "60d" or "720h" for ${flag}: cannot read "${text}"`);
}

/** Registers `weft check`. */
export function registerCheck(program: Command): void {
  withStateDir(program.command('check'))
    .description('check that the mesh is healthy and that its certificates will keep rotating (see docs/check.md)')
    .option('--pre', 'check this machine before "weft up": capabilities, iptables, clock, state directory, ports')
    .option('--proxy', 'also check every meshed pod\'s proxy: ready, certificate, trust bundle, renewal')
    .option('-n, --namespace <ns>', 'with --proxy: only pods of this namespace')
    .option('-o, --output <format>', 'text or json', 'text')
    .option('--fail-on <level>', 'exit 1 on "error" (default) or also on "warning"', 'error')
    .option('--expiry-threshold <duration>', 'an anchor or issuer that nothing renews fails when it expires within this', '60d')
    .option('--control-plane-admin <host:port>', `control-plane admin address whose /ready must answer (repeatable; default: the running mesh's, else ${DEFAULT_CONTROL_PLANE_ADMIN})`, collect, [])
    .option('--proxy-admin <[ns/pod=]host:port[,inbound-port]>', 'with --proxy: a proxy to check besides the pods in the store (repeatable)', collect, [])
    .option('--timeout <duration>', 'deadline of each probe', '2s')
    .addOption(new Option('--at <time>', 'judge as if it were this time (RFC 3339 or a duration from now); for tests').hideHelp())
    .action(async (flags: CheckFlags, command: Command) => {
      if (flags.output !== 'text' && flags.output !== 'json') throw new UsageError(`Use -o text or -o json: got "${flags.output}"`);
      if (flags.failOn !== 'error' && flags.failOn !== 'warning') throw new UsageError(`Use --fail-on error or --fail-on warning: got "${flags.failOn}"`);
      if (flags.pre === true && flags.proxy === true) throw new UsageError('Use --pre or --proxy, not both: --pre is for before "weft up"');
      if (flags.namespace !== undefined && flags.proxy !== true) throw new UsageError('Use -n with --proxy: it selects which pods\' proxies to check');
      const expiryThresholdMs = durationFlag(flags.expiryThreshold, '--expiry-threshold');
      const timeoutMs = durationFlag(flags.timeout, '--timeout');
      const at = flags.at === undefined ? undefined : parseTimeOrDuration(flags.at, { now: new Date(), flag: '--at' });
      const proxyTargets = flags.proxyAdmin.map(parseProxyTarget);
      const stateDir = stateDirOf(command);

      let report: CheckReport;
      if (flags.pre === true) {
        // The ports weft up will bind: its bridge's gateway address, chosen as weft up chooses it.
        const ports = controlPlanePorts(await plannedControlPlaneAddresses(stateDir));
        report = await runChecks(preChecks(), new PreContext({ host: systemHost(), stateDir, ports }));
      } else {
        const ctx = new DataPlaneContext({
          stateDir, expiryThresholdMs, timeoutMs, proxyTargets,
          // The embedded platform records where its control plane's admin listens (on the pod bridge's gateway).
          controlPlaneAdmin: flags.controlPlaneAdmin.length > 0 ? flags.controlPlaneAdmin
            : [readMeshRecord(stateDir)?.controlPlane?.admin ?? DEFAULT_CONTROL_PLANE_ADMIN],
          ...(at === undefined ? {} : { now: () => at }),
          ...(flags.namespace === undefined ? {} : { namespace: flags.namespace }),
        });
        const checks: Check<DataPlaneContext>[] = [...meshChecks({ expiryThresholdMs }), ...(flags.proxy === true ? proxyChecks() : [])];
        try {
          report = await runChecks(checks, ctx);
        } finally {
          ctx.close();
        }
      }
      process.stdout.write(flags.output === 'json' ? renderJson(report) : renderText(report));
      const code = exitCodeOf(report, flags.failOn as FailOn);
      if (code !== 0) process.exitCode = code;
    });
}
