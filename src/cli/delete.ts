import type { Command } from 'commander';
import { DEFAULT_NAMESPACE, kindDefinition, qualifiedSingular, resolveKind, type KindDefinition } from '../api/index.ts';
import { UsageError } from '../errors/index.ts';
import type { ResourceStore } from '../store/index.ts';
import { documentLabel, readManifests } from './manifests.ts';
import { reportNotFound } from './not-found.ts';
import { objectRef } from './resource-output.ts';
import { openCommandStore, withStateDir } from './state-dir.ts';

/**
 * `weft delete KIND NAME [-n NS]` or `weft delete -f FILE`. Deleting an object
 * deletes what it owns; deleting a namespace deletes what is in it.
 */
export function registerDelete(program: Command): void {
  withStateDir(program.command('delete'))
    .description('delete resources by name or from manifests (owned objects and namespace contents go with them)')
    .argument('[kind]', 'resource type, e.g. certificate, secret, ns')
    .argument('[names...]', 'resource names')
    .option('-n, --namespace <ns>', 'namespace (default "default")')
    .option('-f, --filename <path...>', 'delete what these manifests name')
    .option('--ignore-not-found', 'a missing object is not an error')
    .action(async (kind: string | undefined, names: string[], opts: {
      namespace?: string; filename?: string[]; ignoreNotFound?: boolean;
    }, command: Command) => {
      const targets: Array<{ def: KindDefinition; name: string; namespace: string }> = [];
      if (opts.filename !== undefined) {
        if (kind !== undefined) throw new UsageError('Use either -f FILE or KIND NAME, not both');
        const { documents, errors } = readManifests(opts.filename);
        const problems = errors.map((e) => `${e.source}: document ${e.index}: ${e.message}`);
        for (const d of documents) {
          const v = d.value as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
          const def = typeof v?.kind === 'string' ? kindDefinition(v.kind) : undefined;
          const name = v?.metadata?.name;
          if (def === undefined || typeof name !== 'string') {
            problems.push(`${d.source}: document ${d.index} (${documentLabel(d.value)}): needs a known kind and metadata.name`);
            continue;
          }
          const ns = typeof v?.metadata?.namespace === 'string' ? v.metadata.namespace : opts.namespace ?? DEFAULT_NAMESPACE;
          targets.push({ def, name, namespace: ns });
        }
        if (problems.length > 0) {
          process.stderr.write(`${problems.join('\n')}\n`);
          throw new UsageError(`Fix the ${problems.length} problem(s) above and delete again: nothing was deleted`);
        }
      } else {
        if (kind === undefined || names.length === 0) throw new UsageError('Name what to delete: weft delete KIND NAME [-n NS], or weft delete -f FILE');
        const def = resolveKind(kind);
        for (const name of names) targets.push({ def, name, namespace: opts.namespace ?? DEFAULT_NAMESPACE });
      }
      const store = openCommandStore(command);
      try {
        for (const t of targets) await deleteOne(store, t, opts.ignoreNotFound === true);
      } finally {
        store.close();
      }
    });
}

async function deleteOne(store: ResourceStore, t: { def: KindDefinition; name: string; namespace: string }, ignoreNotFound: boolean): Promise<void> {
  const deleted = await store.delete(t.def.kind, t.name, t.namespace);
  if (deleted.length === 0) {
    if (!ignoreNotFound) reportNotFound(t.def, t.name, t.namespace);
    return;
  }
  process.stdout.write(`${qualifiedSingular(t.def)} "${t.name}" deleted\n`);
  for (const o of deleted.slice(1)) {
    const def = kindDefinition(o.kind) as KindDefinition;
    process.stdout.write(`  ${objectRef(def, o.metadata.name)} deleted with it\n`);
  }
}
