import type { Command } from 'commander';
import { DEFAULT_NAMESPACE, ageOf, resolveKind, type Event, type Resource } from '../api/index.ts';
import { reportNotFound } from './not-found.ts';
import { alignColumns, describeValue } from './resource-output.ts';
import { openCommandStore, withStateDir } from './state-dir.ts';

/** `weft describe KIND NAME [-n NS]`: the object in kubectl's describe layout, with its recent Events. */
export function registerDescribe(program: Command): void {
  withStateDir(program.command('describe'))
    .description('show one resource in detail, with the events about it')
    .argument('<kind>', 'resource type, e.g. certificate, issuer, secret')
    .argument('<name>', 'resource name')
    .option('-n, --namespace <ns>', 'namespace (default "default")')
    .action(async (kind: string, name: string, opts: { namespace?: string }, command: Command) => {
      const def = resolveKind(kind);
      const namespace = opts.namespace ?? DEFAULT_NAMESPACE;
      const store = openCommandStore(command);
      try {
        const object = await store.get(def.kind, name, namespace);
        if (object === undefined) return reportNotFound(def, name, namespace);
        const events = (await store.list('Event', { namespace: object.metadata.namespace ?? DEFAULT_NAMESPACE })).items
          .filter((e) => about(e, object))
          .sort((a, b) => String(a.lastTimestamp).localeCompare(String(b.lastTimestamp)));
        process.stdout.write(describe(object, events, store.now()));
      } finally {
        store.close();
      }
    });
}

function about(e: Event, o: Resource): boolean {
  const ref = e.involvedObject;
  if (ref.uid !== undefined && o.metadata.uid !== undefined) return ref.uid === o.metadata.uid;
  return ref.kind === o.kind && ref.name === o.metadata.name;
}

function mapText(m: Record<string, string> | undefined, indent: number): string {
  const entries = Object.entries(m ?? {});
  if (entries.length === 0) return '<none>';
  return entries.map(([k, v], i) => `${i === 0 ? '' : ' '.repeat(indent)}${k}=${v}`).join('\n');
}

function describe(o: Resource, events: readonly Event[], now: Date): string {
  const header: Array<[string, string]> = [['Name:', o.metadata.name]];
  if (o.metadata.namespace !== undefined) header.push(['Namespace:', o.metadata.namespace]);
  header.push(['Labels:', mapText(o.metadata.labels, 14)], ['Annotations:', mapText(o.metadata.annotations, 14)]);
  let out = header.map(([k, v]) => `${k.padEnd(14)}${v}\n`).join('');
  const { apiVersion, kind, metadata, status, ...body } = o;
  if (kind === 'Secret') {
    // Never print secret bytes: sizes only, as kubectl.
    out += `\nType:  ${String(body.type ?? 'Opaque')}\n\nData\n====\n`;
    for (const [k, v] of Object.entries((body.data as Record<string, string> | undefined) ?? {})) {
      out += `${k}:  ${Buffer.from(v, 'base64').length} bytes\n`;
    }
  } else {
    out += `API Version:  ${apiVersion}\nKind:         ${kind}\n`;
    const meta: Record<string, unknown> = {
      creationTimestamp: metadata.creationTimestamp,
      generation: metadata.generation,
      resourceVersion: metadata.resourceVersion,
      uid: metadata.uid,
    };
    if (metadata.ownerReferences !== undefined) meta.ownerReferences = metadata.ownerReferences;
    out += `Metadata:\n${describeValue(meta, 2)}`;
    for (const [k, v] of Object.entries(body)) out += typeof v === 'object' && v !== null ? `${capital(k)}:\n${describeValue(v, 2)}` : `${capital(k)}:  ${String(v)}\n`;
    if (status !== undefined) out += `Status:\n${describeValue(status, 2)}`;
  }
  if (events.length === 0) return `${out}Events:  <none>\n`;
  const rows = events.map((e) => [
    e.type ?? '', e.reason ?? '', `${ageOf(e.lastTimestamp, now)}${(e.count ?? 1) > 1 ? ` (x${e.count} over ${ageOf(e.firstTimestamp, now)})` : ''}`,
    e.source?.component ?? e.reportingComponent ?? '', e.message ?? '',
  ]);
  const table = alignColumns([['Type', 'Reason', 'Age', 'From', 'Message'], ['----', '------', '----', '----', '-------'], ...rows]);
  return `${out}Events:\n${table.split('\n').filter((l) => l !== '').map((l) => `  ${l}`).join('\n')}\n`;
}

function capital(k: string): string {
  return k.charAt(0).toUpperCase() + k.slice(1);
}
