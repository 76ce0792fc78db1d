import type { Command } from 'commander';
import { UsageError } from '../errors/index.ts';
import { createServiceAccountToken } from '../identity/index.ts';
import { parseDuration } from '../pki/index.ts';
import { openCommandStore, withStateDir } from './state-dir.ts';

/**
 * `weft token create -n NS --service-account SA [--ttl D]`: prints a service-account
 * token the identity service accepts (embedded platform), as `kubectl create token`.
 */
export function registerToken(program: Command): void {
  const token = program.command('token').description('service-account tokens (embedded platform)');
  withStateDir(token.command('create'))
    .description('print a token for a service account that the identity service accepts')
    .requiredOption('-n, --namespace <ns>', 'namespace of the service account')
    .requiredOption('--service-account <name>', 'service account name')
    .option('--ttl <duration>', 'token lifetime, such as "1h" or "24h"', '1h')
    .option('--pod <name>', 'bind the token to a pod name')
    .action(async (opts: { namespace: string; serviceAccount: string; ttl: string; pod?: string }, command: Command) => {
      const ttlMs = parseDuration(opts.ttl);
      if (ttlMs < 1000) throw new UsageError(`Use a --ttl of at least "1s": "${opts.ttl}" is too short`);
      const store = openCommandStore(command);
      try {
        const jwt = await createServiceAccountToken(store, {
          namespace: opts.namespace, serviceAccount: opts.serviceAccount, ttlMs, now: Date.now(),
          ...(opts.pod === undefined ? {} : { podName: opts.pod }),
        });
        process.stdout.write(`${jwt}\n`);
      } finally {
        store.close();
      }
    });
}
