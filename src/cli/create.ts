import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_NAMESPACE, SecretType, kindDefinition, qualifiedPlural, type KindDefinition, type ResourceInput } from '../api/index.ts';
import { UsageError } from '../errors/index.ts';
import { importPrivateKey, keyMatchesCertificate, parseCertificates } from '../pki/index.ts';
import { objectRef } from './resource-output.ts';
import { openCommandStore, withStateDir } from './state-dir.ts';

/**
 * `weft create namespace NAME`, `weft create secret tls NAME --cert --key`,
 * `weft create serviceaccount NAME`: kubectl's imperative creates. An object that
 * exists already is an error (use apply to update).
 */
export function registerCreate(program: Command): void {
  const create = program.command('create').description('create a namespace, TLS secret or service account');

  withStateDir(create.command('namespace').alias('ns'))
    .description('create a namespace')
    .argument('<name>', 'namespace name')
    .action(async (name: string, _opts: unknown, command: Command) => {
      await createOne(command, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    });

  const secret = create.command('secret').description('create a secret');
  withStateDir(secret.command('tls'))
    .description('create a kubernetes.io/tls secret from a PEM certificate and its key (as the trust anchor in the Linkerd docs)')
    .argument('<name>', 'secret name')
    .requiredOption('--cert <file>', 'PEM certificate (chain) file: tls.crt')
    .requiredOption('--key <file>', 'PEM private key file: tls.key')
    .option('-n, --namespace <ns>', 'namespace (default "default")')
    .action(async (name: string, opts: { cert: string; key: string; namespace?: string }, command: Command) => {
      const cert = readText(opts.cert, '--cert');
      const key = readText(opts.key, '--key');
      await checkKeyPair(cert, key, opts);
      await createOne(command, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: opts.namespace ?? DEFAULT_NAMESPACE },
        type: SecretType.TLS,
        data: { 'tls.crt': Buffer.from(cert).toString('base64'), 'tls.key': Buffer.from(key).toString('base64') },
      });
    });

  withStateDir(create.command('serviceaccount').alias('sa'))
    .description('create a service account')
    .argument('<name>', 'service account name')
    .option('-n, --namespace <ns>', 'namespace (default "default")')
    .action(async (name: string, opts: { namespace?: string }, command: Command) => {
      await createOne(command, {
        apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: opts.namespace ?? DEFAULT_NAMESPACE },
      });
    });
}

async function createOne(command: Command, object: ResourceInput & Record<string, unknown>): Promise<void> {
  const def = kindDefinition(object.kind) as KindDefinition;
  const store = openCommandStore(command);
  try {
    if ((await store.get(def.kind, object.metadata.name, object.metadata.namespace)) !== undefined) {
      process.stderr.write(`Error from server (AlreadyExists): ${qualifiedPlural(def)} "${object.metadata.name}" already exists: use weft apply -f to change it\n`);
      process.exitCode = 1;
      return;
    }
    await store.apply(object);
    process.stdout.write(`${objectRef(def, object.metadata.name)} created\n`);
  } finally {
    store.close();
  }
}

function readText(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`Give ${flag} a readable file: cannot read "${file}" (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Refuses a certificate and key that do not belong together, before anything is stored. */
async function checkKeyPair(certPem: string, keyPem: string, opts: { cert: string; key: string }): Promise<void> {
  const certs = parseCertificates(certPem);
  const { privateKey } = await importPrivateKey(keyPem);
  if (!(await keyMatchesCertificate(privateKey, certs[0] as (typeof certs)[number]))) {
    throw new UsageError(`Give the key of the certificate: "${opts.key}" does not match the first certificate in "${opts.cert}"`);
  }
}
