import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors/index.ts';
import {
  DEFAULT_IDENTITY_ADDR, identityConfigFrom, loadIssuer, startIdentityClient, TRUST_ROOTS_CONFIG_MAP, TRUST_ROOTS_KEY,
  WEFT_CONFIG_NAME, WEFT_CONFIG_NAMESPACE,
} from '../identity/index.ts';
import { fingerprint, parseCertificates, type Certificate } from '../pki/index.ts';
import { openCommandStore, withStateDir } from './state-dir.ts';

function readFile(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`Give ${flag} a readable file: cannot read "${path}"`);
  }
}

function line(cert: Certificate): string {
  return `${cert.subject}  serial ${cert.serialNumber}  ${cert.notBefore.toISOString()} → ${cert.notAfter.toISOString()}  sha256 ${fingerprint(cert).slice(0, 16)}…`;
}

/**
 * `weft identity certify …` obtains a certificate as a proxy would;
 * `weft identity inspect` shows the issuer and trust anchors identity uses.
 */
export function registerIdentity(program: Command): void {
  const identity = program.command('identity').description('debug workload identity: get a certificate, inspect the issuer');

  identity.command('certify')
    .description('obtain a certificate like a proxy does, and write key.pem, crt.pem (leaf) and chain.pem')
    .requiredOption('--identity <name>', 'identity to request: <sa>.<ns>.serviceaccount.identity.<cp-ns>.<trust-domain>')
    .requiredOption('--token <file>', 'service-account token file (weft token create)')
    .requiredOption('--anchors <file>', 'trust anchors PEM, to verify the identity service and the result')
    .requiredOption('--out <dir>', 'directory to write key.pem, crt.pem and chain.pem to')
    .option('--addr <host:port>', 'identity service address', DEFAULT_IDENTITY_ADDR)
    .option('--timeout <ms>', 'give up after this many milliseconds', '10000')
    .action(async (opts: { identity: string; token: string; anchors: string; out: string; addr: string; timeout: string }) => {
      readFile(opts.token, '--token');
      const anchorsPem = readFile(opts.anchors, '--anchors');
      try {
        parseCertificates(anchorsPem);
      } catch {
        throw new UsageError(`Give --anchors a PEM file of root certificates: "${opts.anchors}" holds none`);
      }
      const timeoutMs = Number(opts.timeout);
      const client = await startIdentityClient({
        addr: opts.addr, identity: opts.identity, tokenFile: opts.token, trustAnchorsPem: anchorsPem,
        timeoutMs, policy: { backoffBaseMs: 60_000, backoffMaxMs: 60_000 },
      });
      try {
        // One attempt: the client's first try. Its error (a gRPC status and message) is the answer.
        await new Promise<void>((resolve) => {
          const poll = setInterval(() => {
            if (client.ready() || client.lastError() !== undefined) {
              clearInterval(poll);
              resolve();
            }
          }, 20);
        });
        const m = client.current();
        if (m === undefined) throw new UsageError(`Check the token, identity and address: ${client.lastError()?.message ?? 'no certificate'}`);
        mkdirSync(opts.out, { recursive: true });
        const chain = m.certChainPem.slice(m.leaf.pem.length);
        writeFileSync(join(opts.out, 'key.pem'), m.keyPem, { mode: 0o600 });
        writeFileSync(join(opts.out, 'crt.pem'), m.leaf.pem);
        writeFileSync(join(opts.out, 'chain.pem'), chain);
        writeFileSync(join(opts.out, 'ca.pem'), anchorsPem);
        process.stdout.write(`Certificate for "${opts.identity}" valid until ${m.validUntil.toISOString()}\n`);
        process.stdout.write(`Wrote ${join(opts.out, 'key.pem')}, crt.pem, chain.pem and ca.pem\n`);
        process.stdout.write(`Check it: openssl verify -CAfile ${join(opts.out, 'ca.pem')} -untrusted ${join(opts.out, 'chain.pem')} ${join(opts.out, 'crt.pem')}\n`);
      } finally {
        client.close();
      }
    });

  withStateDir(identity.command('inspect'))
    .description('show the identity issuer and trust anchors in the store, and whether identity would accept them')
    .action(async (_opts: unknown, command: Command) => {
      const store = openCommandStore(command);
      try {
        const config = identityConfigFrom(await store.get('ConfigMap', WEFT_CONFIG_NAME, WEFT_CONFIG_NAMESPACE));
        const ns = config.controlPlaneNamespace;
        process.stdout.write(`Trust domain:       ${config.trustDomain}\nControl plane:      ${ns}\nIssuance lifetime:  ${config.issuanceLifetimeMs / 3_600_000}h (clock skew ${config.clockSkewMs / 1000}s)\n`);
        const bundle = (await store.get('ConfigMap', TRUST_ROOTS_CONFIG_MAP, ns))?.data?.[TRUST_ROOTS_KEY];
        const anchors = bundle === undefined ? [] : parseCertificates(bundle);
        process.stdout.write(`\nTrust anchors (ConfigMap ${ns}/${TRUST_ROOTS_CONFIG_MAP}): ${anchors.length === 0 ? 'none' : ''}\n`);
        for (const a of anchors) process.stdout.write(`  ${line(a)}\n`);
        const secret = await store.get('Secret', config.issuerSecretName, ns);
        process.stdout.write(`\nIssuer (Secret ${ns}/${config.issuerSecretName}, scheme ${config.issuerScheme}):\n`);
        const load = await loadIssuer(secret, anchors, new Date(), config.issuerScheme);
        if (load.kind === 'valid') {
          for (const c of load.issuer.chain) process.stdout.write(`  ${line(c)}\n`);
          process.stdout.write(`  status: valid, leaves capped at ${load.issuer.notAfter.toISOString()}\n`);
        } else {
          process.stdout.write(`  status: refused (${load.reason}): ${load.message}\n`);
          process.exitCode = 1;
        }
      } finally {
        store.close();
      }
    });
}
