import type { Command } from 'commander';
import { DEFAULT_NAMESPACE, resolveKind, type Resource } from '../api/index.ts';
import { UsageError } from '../errors/index.ts';
import { reportNotFound } from './not-found.ts';
import { outputFormat, renderObjects, renderTable } from './resource-output.ts';
import { openCommandStore, withStateDir } from './state-dir.ts';

/** `weft get KIND [NAME] [-n NS | -A] [-o wide|yaml|json] [-l SELECTOR]`, as kubectl get. */
export function registerGet(program: Command): void {
  withStateDir(program.command('get'))
    .description('list resources, or show one (kinds: certificate/cert, issuer, clusterissuer, secret, configmap/cm, namespace/ns, event/ev, certificaterequest/cr, serviceaccount/sa)')
    .argument('<kind>', 'resource type, e.g. certificates, cert, secret, ns')
    .argument('[name]', 'one resource by name')
    .option('-n, --namespace <ns>', 'namespace (default "default")')
    .option('-A, --all-namespaces', 'every namespace')
    .option('-o, --output <format>', 'wide, yaml or json')
    .option('-l, --selector <selector>', 'label selector: app=web, tier!=db, env in (a,b), !legacy')
    .action(async (kind: string, name: string | undefined, opts: {
      namespace?: string; allNamespaces?: boolean; output?: string; selector?: string;
    }, command: Command) => {
      const def = resolveKind(kind);
      const format = outputFormat(opts.output);
      if (typeof format === 'object') throw new UsageError(format.error);
      if (opts.allNamespaces === true && opts.namespace !== undefined) throw new UsageError('Use either -n or -A, not both');
      if (opts.allNamespaces === true && name !== undefined) throw new UsageError(`Use -n NS to get "${name}": -A lists, it does not name one`);
      const namespace = opts.namespace ?? DEFAULT_NAMESPACE;
      const store = openCommandStore(command);
      try {
        let items: Resource[];
        if (name !== undefined) {
          const one = await store.get(def.kind, name, namespace);
          if (one === undefined) return reportNotFound(def, name, namespace);
          items = [one];
        } else {
          items = (await store.list(def.kind, {
            ...(opts.allNamespaces === true || !def.namespaced ? {} : { namespace }),
            ...(opts.selector !== undefined ? { labelSelector: opts.selector } : {}),
          })).items;
        }
        if (format === 'yaml' || format === 'json') {
          process.stdout.write(renderObjects(items, format, name !== undefined));
          return;
        }
        if (items.length === 0) {
          const where = !def.namespaced ? '' : opts.allNamespaces === true ? '' : ` in ${namespace} namespace`;
          process.stderr.write(`No resources found${where}.\n`);
          return;
        }
        process.stdout.write(renderTable(def, items, { wide: format === 'wide', allNamespaces: opts.allNamespaces === true, now: store.now() }));
      } finally {
        store.close();
      }
    });
}
