import type { Command } from 'commander';
import { DEFAULT_NAMESPACE, formatProblem, validateResource, type KindDefinition, type Resource } from '../api/index.ts';
import { UsageError } from '../errors/index.ts';
import { documentLabel, readManifests } from './manifests.ts';
import { objectRef } from './resource-output.ts';
import { openCommandStore, withStateDir } from './state-dir.ts';

/**
 * `weft apply -f FILE|DIR|-`: creates or updates resources from manifests, as
 * `kubectl apply`. Every document is checked first (schema, namespace, -n); if any
 * is wrong, every problem is printed and nothing is stored.
 */
export function registerApply(program: Command): void {
  withStateDir(program.command('apply'))
    .description('create or update resources from YAML or JSON manifests (multi-document; a directory; - for stdin)')
    .requiredOption('-f, --filename <path...>', 'manifest file, directory, or - for stdin (repeatable)')
    .option('-n, --namespace <ns>', 'namespace for documents that name none (default "default")')
    .action(async (opts: { filename: string[]; namespace?: string }, command: Command) => {
      const { documents, errors } = readManifests(opts.filename);
      const problems = errors.map((e) => `${e.source}: document ${e.index}: ${e.message}`);
      const valid: Array<{ resource: Resource; definition: KindDefinition; label: string }> = [];
      for (const doc of documents) {
        const where = `${doc.source}: document ${doc.index} (${documentLabel(doc.value)})`;
        const v = validateResource(withNamespace(doc.value, opts.namespace));
        if (!v.ok) {
          problems.push(...v.problems.map((p) => `${where}: ${formatProblem(p)}`));
          continue;
        }
        const ns = v.resource.metadata.namespace;
        if (v.definition.namespaced && opts.namespace !== undefined && ns !== opts.namespace) {
          problems.push(`${where}: metadata.namespace: is "${ns}" but -n says "${opts.namespace}": make them agree`);
          continue;
        }
        valid.push({ ...v, label: where });
      }
      if (documents.length === 0 && errors.length === 0) throw new UsageError(`Give manifests with at least one resource: ${opts.filename.join(', ')} holds none`);

      const store = openCommandStore(command);
      try {
        // A namespace counts when it exists or when this apply creates it.
        const creating = new Set(valid.filter((v) => v.definition.kind === 'Namespace').map((v) => v.resource.metadata.name));
        for (const v of valid) {
          const ns = v.resource.metadata.namespace;
          if (!v.definition.namespaced || ns === undefined || creating.has(ns)) continue;
          if ((await store.get('Namespace', ns)) === undefined) {
            problems.push(`${v.label}: metadata.namespace: namespace "${ns}" not found: create it first (weft create namespace ${ns}) or add it to the manifests`);
          }
        }
        if (problems.length > 0) {
          process.stderr.write(`${problems.join('\n')}\n`);
          throw new UsageError(`Fix the ${problems.length} problem(s) above and apply again: nothing was applied`);
        }
        // Namespaces first, so the objects in them find them; otherwise file order.
        const ordered = [...valid.filter((v) => v.definition.kind === 'Namespace'), ...valid.filter((v) => v.definition.kind !== 'Namespace')];
        for (const v of ordered) {
          const { outcome } = await store.apply(v.resource);
          process.stdout.write(`${objectRef(v.definition, v.resource.metadata.name)} ${outcome}\n`);
        }
      } finally {
        store.close();
      }
    });
}

/** Fills metadata.namespace from -n (or "default") when a document names none, as kubectl does. */
function withNamespace(value: unknown, namespace: string | undefined): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const v = value as { metadata?: unknown };
  if (typeof v.metadata !== 'object' || v.metadata === null) return value;
  const m = v.metadata as { namespace?: unknown };
  if (m.namespace !== undefined) return value;
  return { ...v, metadata: { ...m, namespace: namespace ?? DEFAULT_NAMESPACE } };
}
