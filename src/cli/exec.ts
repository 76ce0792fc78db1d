import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_NAMESPACE, type Pod } from '../api/index.ts';
import { UsageError } from '../errors/index.ts';
import { commandPath, DEPLOYMENT_LABEL, NETNS_ANNOTATION } from '../platform/index.ts';
import type { ResourceStore } from '../store/index.ts';
import { openCommandStore, withStateDir } from './state-dir.ts';

/** `weft exec POD|deploy/NAME -n NS -- CMD…`: runs a command inside a pod's network namespace. */
export function registerExec(program: Command): void {
  withStateDir(program.command('exec'))
    .description('run a command inside a pod\'s network namespace (sees its /etc/hosts and Service addresses)')
    .argument('<pod>', 'pod name, or deploy/NAME for one of its ready pods')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('-n, --namespace <ns>', 'namespace of the pod', DEFAULT_NAMESPACE)
    .action(async (target: string, argv: string[], opts: { namespace: string }, command: Command) => {
      const store = openCommandStore(command);
      let pod: Pod;
      try {
        pod = await findPod(store, target, opts.namespace);
      } finally {
        store.close();
      }
      const netns = pod.metadata.annotations?.[NETNS_ANNOTATION];
      if (netns === undefined || pod.status?.podIP === undefined) {
        throw new UsageError(`Wait for pod "${pod.metadata.name}" to start (weft get pods -n ${opts.namespace}): it has no network namespace yet`);
      }
      const path = [dirname(process.execPath), commandPath()].join(':');
      const child = spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: 'inherit', env: { ...process.env, PATH: path } });
      process.exitCode = await new Promise<number>((res) => {
        child.once('error', () => res(127));
        child.once('exit', (code, signal) => res(code ?? (signal === null ? 1 : 128)));
      });
    });
}

async function findPod(store: ResourceStore, target: string, namespace: string): Promise<Pod> {
  const m = /^(?:deploy|deployment|deployments|deployment\.apps)\/(.+)$/.exec(target);
  if (m === null) {
    const pod = await store.get('Pod', target.replace(/^pods?\//, ''), namespace);
    if (pod === undefined) throw new UsageError(`Name a pod that exists (weft get pods -n ${namespace}): "${target}" is not in namespace "${namespace}"`);
    return pod;
  }
  const name = m[1] ?? '';
  const pods = (await store.list('Pod', { namespace, labelSelector: `${DEPLOYMENT_LABEL}=${name}` })).items;
  const ready = pods.find((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) ?? pods[0];
  if (ready === undefined) throw new UsageError(`Name a deployment with running pods (weft get deploy -n ${namespace}): "${name}" has none in namespace "${namespace}"`);
  return ready;
}
