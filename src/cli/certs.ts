import type { Command } from 'commander';
import { conditionOf, DEFAULT_NAMESPACE, resolveKind, type Certificate, type CertificateRequest, type Event } from '../api/index.ts';
import { Annotation, requestRenewal } from '../certs/index.ts';
import { describeCertificate, parseCertificates } from '../pki/index.ts';
import { UsageError } from '../errors/index.ts';
import { reportNotFound } from './not-found.ts';
import { openCommandStore, withStateDir } from './state-dir.ts';

/** `weft certs status|renew|inspect`: cert-manager's `cmctl` for weft. */
export function registerCerts(program: Command): void {
  const certs = program.command('certs').description('inspect and renew certificates managed by the certificate controller');

  withStateDir(certs.command('status'))
    .description('show a Certificate: conditions, validity, renewal time, issuer, last request, events')
    .argument('<name>', 'Certificate name')
    .option('-n, --namespace <ns>', 'namespace', DEFAULT_NAMESPACE)
    .action(async (name: string, opts: { namespace: string }, command: Command) => {
      const store = openCommandStore(command);
      try {
        const cert = await store.get('Certificate', name, opts.namespace);
        if (cert === undefined) return reportNotFound(resolveKind('certificate'), name, opts.namespace);
        // The latest by revision, not by name: "x-10" sorts before "x-9".
        const revision = (r: CertificateRequest): number => Number(r.metadata.annotations?.[Annotation.certificateRevision] ?? 0);
        const latest = (await store.list('CertificateRequest', { namespace: opts.namespace })).items
          .filter((r) => r.metadata.annotations?.[Annotation.certificateName] === name)
          .reduce<CertificateRequest | undefined>((a, r) => (a === undefined || revision(r) > revision(a) ? r : a), undefined);
        const events = (await store.list('Event', { namespace: opts.namespace })).items
          .filter((e) => e.involvedObject.kind === 'Certificate' && e.involvedObject.name === name);
        process.stdout.write(statusText(cert, latest, events, store.now()));
      } finally {
        store.close();
      }
    });

  withStateDir(certs.command('renew'))
    .description('re-issue a Certificate now, whatever its renewal time (like cmctl renew)')
    .argument('[name]', 'Certificate name')
    .option('-n, --namespace <ns>', 'namespace', DEFAULT_NAMESPACE)
    .option('--all', 'every Certificate (in -n NS, or all namespaces with -A)')
    .option('-A, --all-namespaces', 'with --all: in every namespace')
    .action(async (name: string | undefined, opts: { namespace: string; all?: boolean; allNamespaces?: boolean }, command: Command) => {
      if ((name === undefined) === (opts.all !== true)) {
        throw new UsageError('Give a Certificate name or --all (not both): weft certs renew NAME -n NS');
      }
      const store = openCommandStore(command);
      try {
        const targets = opts.all === true
          ? (await store.list('Certificate', opts.allNamespaces === true ? {} : { namespace: opts.namespace })).items
          : [await store.get('Certificate', name as string, opts.namespace)].filter((c) => c !== undefined);
        if (targets.length === 0 && name !== undefined) return reportNotFound(resolveKind('certificate'), name, opts.namespace);
        for (const cert of targets) {
          const ns = cert.metadata.namespace ?? DEFAULT_NAMESPACE;
          const asked = await requestRenewal(store, { name: cert.metadata.name, namespace: ns });
          process.stdout.write(asked
            ? `Manually triggered issuance of Certificate ${ns}/${cert.metadata.name}\n`
            : `Certificate ${ns}/${cert.metadata.name} is already being issued\n`);
        }
      } finally {
        store.close();
      }
    });

  withStateDir(certs.command('inspect'))
    .description('show the certificates in a Secret (tls.crt chain and ca.crt)')
    .argument('<what>', '"secret"')
    .argument('<name>', 'Secret name')
    .option('-n, --namespace <ns>', 'namespace', DEFAULT_NAMESPACE)
    .action(async (what: string, name: string, opts: { namespace: string }, command: Command) => {
      if (what !== 'secret') throw new UsageError(`Use "weft certs inspect secret NAME": cannot inspect "${what}"`);
      const store = openCommandStore(command);
      try {
        const secret = await store.get('Secret', name, opts.namespace);
        if (secret === undefined) return reportNotFound(resolveKind('secret'), name, opts.namespace);
        for (const key of ['tls.crt', 'ca.crt']) {
          const value = secret.data?.[key];
          if (value === undefined || value === '') continue;
          const certsIn = parseCertificates(Buffer.from(value, 'base64').toString('utf8'));
          certsIn.forEach((c, i) => {
            process.stdout.write(`== ${key} [${i}]\n${describeCertificate(c)}\n`);
          });
        }
      } finally {
        store.close();
      }
    });
}

function statusText(cert: Certificate, request: { metadata: { name: string }; status?: { conditions?: unknown } } | undefined, events: Event[], now: Date): string {
  const s = cert.status ?? {};
  const lines = [`Name: ${cert.metadata.name}`, `Namespace: ${cert.metadata.namespace ?? DEFAULT_NAMESPACE}`];
  lines.push(`Created at: ${cert.metadata.creationTimestamp ?? ''}`);
  lines.push('Conditions:');
  for (const c of s.conditions ?? []) {
    lines.push(`  ${c.type}: ${c.status}, Reason: ${c.reason ?? ''}, Message: ${c.message ?? ''}`);
  }
  lines.push(`DNS Names:${(cert.spec.dnsNames ?? []).map((d) => `\n- ${d}`).join('')}`);
  lines.push(`Issuer:\n  Name: ${cert.spec.issuerRef.name}\n  Kind: ${cert.spec.issuerRef.kind ?? 'Issuer'}`);
  lines.push(`Secret:\n  Name: ${cert.spec.secretName}`);
  lines.push(`Not Before: ${s.notBefore ?? '<none>'}`);
  lines.push(`Not After: ${s.notAfter ?? '<none>'}`);
  lines.push(`Renewal Time: ${s.renewalTime ?? '<none>'}${s.renewalTime !== undefined ? ` (${relative(Date.parse(s.renewalTime) - now.getTime())})` : ''}`);
  lines.push(`Revision: ${s.revision ?? '<none>'}`);
  if (s.failedIssuanceAttempts !== undefined) {
    lines.push(`Failed issuance attempts: ${s.failedIssuanceAttempts} (last at ${s.lastFailureTime ?? '?'})`);
  }
  if (request !== undefined) {
    const ready = conditionOf(request, 'Ready');
    lines.push(`CertificateRequest:\n  Name: ${request.metadata.name}\n  Ready: ${ready?.status ?? 'Unknown'}, Reason: ${ready?.reason ?? ''}, Message: ${ready?.message ?? ''}`);
  } else {
    lines.push('No CertificateRequest found for this Certificate');
  }
  lines.push('Events:');
  if (events.length === 0) lines.push('  <none>');
  for (const e of events) lines.push(`  ${e.type}\t${e.reason}\t${e.message}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}`);
  return `${lines.join('\n')}\n`;
}

function relative(ms: number): string {
  const abs = Math.abs(ms);
  const h = Math.floor(abs / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const text = h > 0 ? `${h}h${m}m` : `${m}m`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}
