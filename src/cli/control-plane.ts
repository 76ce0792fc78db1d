import type { Command } from 'commander';
import { startControlPlane } from '../control-plane/index.ts';
import { parseDuration } from '../pki/index.ts';
import { openCommandStore, stateDirOf, withStateDir } from './state-dir.ts';

/** `weft control-plane`: bootstrap, certificate controller and identity, until Ctrl-C. */
export function registerControlPlane(program: Command): void {
  withStateDir(program.command('control-plane'))
    .description('run the control plane: certificate controller, identity and destination (bootstraps an empty store)')
    .option('--identity-addr <host:port>', 'identity gRPC address', '127.0.0.1:8080')
    .option('--destination-addr <host:port>', 'destination gRPC address', '127.0.0.1:8086')
    .option('--admin-addr <host:port>', 'admin address for /ready, /live, /metrics', '127.0.0.1:9990')
    .option('--trust-domain <domain>', 'trust domain, on first start only', 'cluster.local')
    .option('--issuance-lifetime <duration>', 'workload certificate lifetime, on first start only', '24h')
    .option('--cluster-resource-namespace <ns>', 'namespace of ClusterIssuer CA Secrets', 'cert-manager')
    .action(async (opts: {
      identityAddr: string; destinationAddr: string; adminAddr: string; trustDomain: string; issuanceLifetime: string; clusterResourceNamespace: string;
    }, command: Command) => {
      const store = openCommandStore(command);
      const log = (line: string): void => { process.stderr.write(`${new Date().toISOString()} ${line}\n`); };
      try {
        const plane = await startControlPlane(store, {
          identityAddr: opts.identityAddr,
          destinationAddr: opts.destinationAddr,
          adminAddr: opts.adminAddr,
          clusterResourceNamespace: opts.clusterResourceNamespace,
          config: { trustDomain: opts.trustDomain, issuanceLifetimeMs: parseDuration(opts.issuanceLifetime) },
          log,
        });
        for (const line of plane.created) process.stdout.write(`${line}\n`);
        process.stdout.write(`Control plane running (state in ${stateDirOf(command)}):\n`);
        process.stdout.write(`  identity    ${plane.identity.address} (serving as ${plane.identity.serverName})\n`);
        process.stdout.write(`  destination ${plane.destination.address}\n`);
        process.stdout.write(`  admin       http://${plane.adminAddress}/ready\n`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        process.stdout.write('Stopping the control plane…\n');
        await plane.close();
      } finally {
        // Also after a failed start: an open store keeps its watches (and the process) alive.
        store.close();
      }
    });
}
