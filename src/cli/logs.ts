import { createReadStream, existsSync, statSync, watch } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_NAMESPACE } from '../api/index.ts';
import { UsageError } from '../errors/index.ts';
import { LocalPod, platformDir, PROXY_CONTAINER } from '../platform/index.ts';
import { openCommandStore, stateDirOf, withStateDir } from './state-dir.ts';

/** `weft logs POD [-c CONTAINER] [-f]`: a container's output, from the files the platform writes. */
export function registerLogs(program: Command): void {
  withStateDir(program.command('logs'))
    .description(`print a container's logs (-c ${PROXY_CONTAINER} for the proxy)`)
    .argument('<pod>', 'pod name')
    .option('-n, --namespace <ns>', 'namespace of the pod', DEFAULT_NAMESPACE)
    .option('-c, --container <name>', 'container (default: the only or first one)')
    .option('-f, --follow', 'keep printing what is written')
    .action(async (podName: string, opts: { namespace: string; container?: string; follow?: boolean }, command: Command) => {
      const store = openCommandStore(command);
      const pod = await store.get('Pod', podName, opts.namespace).finally(() => store.close());
      if (pod === undefined) throw new UsageError(`Name a pod that exists (weft get pods -n ${opts.namespace}): "${podName}" is not in namespace "${opts.namespace}"`);
      const names = [...pod.spec.containers.map((c) => c.name), ...(pod.status?.meshed === true ? [PROXY_CONTAINER] : [])];
      const container = opts.container ?? names[0] ?? '';
      if (!names.includes(container)) throw new UsageError(`Choose one of the containers of pod "${podName}" with -c: ${names.join(', ')}`);
      const file = LocalPod.logFile(join(platformDir(resolve(stateDirOf(command))), 'pods', `${opts.namespace}_${podName}`), container);
      if (!existsSync(file)) throw new UsageError(`Wait for pod "${podName}" to start: container "${container}" has no logs yet`);
      let offset = await copy(file, 0);
      if (opts.follow !== true) return;
      await new Promise<void>((res) => {
        const watcher = watch(file, () => void copy(file, offset).then((o) => { offset = o; }));
        const end = (): void => { watcher.close(); res(); };
        process.once('SIGINT', end);
        process.once('SIGTERM', end);
        watcher.once('error', end);
      });
    });
}

/** Prints `file` from `from` to its current end; resolves to the new offset. */
function copy(file: string, from: number): Promise<number> {
  const size = statSync(file).size;
  if (size <= from) return Promise.resolve(size < from ? 0 : from);
  return new Promise((res, rej) => {
    const s = createReadStream(file, { start: from, end: size - 1 });
    s.on('data', (chunk) => process.stdout.write(chunk));
    s.once('end', () => res(size));
    s.once('error', rej);
  });
}
