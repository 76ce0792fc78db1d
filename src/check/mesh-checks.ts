/**
 * `weft check`: the running mesh. Store, control plane, Certificates and identity
 * (anchors and issuer), in the order a failure upstream explains one downstream.
 */
import { conditionOf } from '../api/index.ts';
import { keyMatchesCertificate, verifyChain, type Certificate, type PublicKeyInfo } from '../pki/index.ts';
import { fail, ok, type Check, type CheckOutcome } from './check.ts';
import { durationText, timeText } from './format.ts';
import { hint } from './hint.ts';
import { httpGet } from './http-get.ts';
import { judgeExpiry } from './judge-expiry.ts';
import { renewalOf, type MeshContext } from './mesh-context.ts';

// An issuance normally completes within one controller pass (seconds); ten minutes
// without a result means it is waiting on something that will not come by itself.
const STUCK_ISSUING_MS = 600_000;

/** Category names, as headings of the text output. */
export const Category = {
  store: 'weft-store',
  controlPlane: 'weft-control-plane',
  certificates: 'weft-certificates',
  identity: 'weft-identity',
  dataPlane: 'weft-data-plane',
  pre: 'weft-pre',
} as const;

function label(cert: Certificate): string {
  return `"${cert.subject}"`;
}

function list(items: readonly string[]): string {
  return items.join('\n');
}

/** Trust anchors weft accepts: what Linkerd's proxies and Node's TLS verify. */
function anchorAlgorithmOk(k: PublicKeyInfo): boolean {
  if (k.kty === 'EC') return k.curve === 'P-256' || k.curve === 'P-384';
  if (k.kty === 'RSA') return k.size >= 2048;
  return false;
}

function keyText(k: PublicKeyInfo): string {
  return k.kty === 'EC' ? `ECDSA ${k.curve ?? '?'}` : k.kty === 'RSA' ? `RSA ${k.size}` : k.algorithm;
}

function validityProblem(cert: Certificate, now: Date, what: string): string | undefined {
  if (now < cert.notBefore) return `The ${what} ${label(cert)} is not valid before ${timeText(cert.notBefore)} (now ${timeText(now)}): check the clocks`;
  if (now > cert.notAfter) return `The ${what} ${label(cert)} expired at ${timeText(cert.notAfter)}`;
  return undefined;
}

/** The worst of several outcomes, messages of the same kind joined (ok details too, when all passed). */
export function worst(outcomes: readonly CheckOutcome[]): CheckOutcome {
  for (const kind of ['error', 'warning'] as const) {
    const bad = outcomes.filter((o) => o.kind === kind);
    if (bad.length > 0) return fail(kind, list(bad.map((o) => (o.kind === 'ok' ? '' : o.message))));
  }
  const details = outcomes.flatMap((o) => (o.kind === 'ok' && o.detail !== undefined ? [o.detail] : []));
  return ok(details.length === 0 ? undefined : list(details));
}

/** The checks of `weft check` on a running mesh; `thresholdMs` only shapes the descriptions. */
export function meshChecks(options: { expiryThresholdMs: number }): Check<MeshContext>[] {
  const threshold = durationText(options.expiryThresholdMs);
  return [
    {
      category: Category.store, description: 'store is reachable', hint: hint('store-reachable'), severity: 'error', fatal: true,
      async run(ctx) {
        const store = await ctx.store();
        await store.list('Namespace');
        return ok();
      },
    },
    {
      category: Category.store, description: 'control plane configuration is readable', hint: hint('store-config'), severity: 'error', fatal: true,
      async run(ctx) {
        const c = await ctx.config();
        return ok(`trust domain "${c.trustDomain}", control plane namespace "${c.controlPlaneNamespace}"`);
      },
    },
    {
      category: Category.store, description: 'resources reference each other consistently', hint: hint('store-references'), severity: 'error',
      async run(ctx) {
        const store = await ctx.store();
        const problems: string[] = [];
        for (const c of await ctx.certificates()) {
          const ns = c.metadata.namespace ?? 'default';
          const kind = c.spec.issuerRef.kind ?? 'Issuer';
          if (c.spec.issuerRef.group !== undefined && c.spec.issuerRef.group !== 'cert-manager.io') continue;
          const found = kind === 'ClusterIssuer'
            ? await store.get('ClusterIssuer', c.spec.issuerRef.name)
            : await store.get('Issuer', c.spec.issuerRef.name, ns);
          if (found === undefined) {
            problems.push(`Certificate "${ns}/${c.metadata.name}" names ${kind} "${c.spec.issuerRef.name}", which does not exist`);
          }
        }
        for (const i of (await store.list('Issuer')).items) {
          const ns = i.metadata.namespace ?? 'default';
          const name = i.spec.ca?.secretName;
          if (name !== undefined && (await store.get('Secret', name, ns)) === undefined) {
            problems.push(`Issuer "${ns}/${i.metadata.name}" signs with Secret "${ns}/${name}", which does not exist`);
          }
        }
        return problems.length === 0 ? ok() : fail('error', list(problems));
      },
    },
    {
      category: Category.controlPlane, description: 'control plane is running and ready', hint: hint('control-plane-ready'), severity: 'error',
      async run(ctx) {
        const problems: string[] = [];
        for (const addr of ctx.controlPlaneAdmin) {
          try {
            const r = await httpGet(addr, '/ready', ctx.timeoutMs);
            if (r.status !== 200) problems.push(`The control plane at ${addr} is not ready (HTTP ${r.status}): ${r.body.trim()}`);
          } catch (err) {
            problems.push(`Cannot reach the control plane: ${(err as Error).message}; start it with "weft up", or pass --control-plane-admin HOST:PORT`);
          }
        }
        return problems.length === 0 ? ok() : fail('error', list(problems));
      },
    },
    {
      category: Category.certificates, description: 'every Certificate is Ready', hint: hint('certificates-ready'), severity: 'error',
      async run(ctx) {
        const problems = (await ctx.certificates()).map(renewalOf).filter((r) => !r.ready)
          .map((r) => `Certificate "${r.certificate}" is not Ready: ${r.readyText}`);
        return problems.length === 0 ? ok() : fail('error', list(problems));
      },
    },
    {
      category: Category.certificates, description: 'every Issuer is Ready', hint: hint('issuers-ready'), severity: 'error',
      async run(ctx) {
        const store = await ctx.store();
        const problems: string[] = [];
        for (const kind of ['Issuer', 'ClusterIssuer'] as const) {
          for (const i of (await store.list(kind)).items) {
            const ready = conditionOf(i, 'Ready');
            if (ready?.status === 'True') continue;
            const ref = i.metadata.namespace === undefined ? i.metadata.name : `${i.metadata.namespace}/${i.metadata.name}`;
            problems.push(`${kind} "${ref}" is not Ready: ${ready === undefined ? 'no Ready condition yet' : `${ready.reason ?? ''}: ${ready.message ?? ''}`}`);
          }
        }
        return problems.length === 0 ? ok() : fail('error', list(problems));
      },
    },
    {
      category: Category.certificates, description: 'no Certificate is failing to issue', hint: hint('certificates-issuing'), severity: 'error',
      async run(ctx) {
        const now = ctx.now();
        const problems: string[] = [];
        for (const c of await ctx.certificates()) {
          const r = renewalOf(c);
          const issuing = conditionOf(c, 'Issuing');
          const since = issuing?.status === 'True' && issuing.lastTransitionTime !== undefined ? new Date(issuing.lastTransitionTime) : undefined;
          if (r.failedAttempts > 0) {
            problems.push(`Certificate "${r.certificate}" failed to issue ${r.failedAttempts} time(s)`
              + (r.lastFailureTime === undefined ? '' : `, last at ${timeText(r.lastFailureTime)}`)
              + (r.failureMessage === undefined ? '' : `: ${r.failureMessage}`));
          } else if (since !== undefined && now.getTime() - since.getTime() > STUCK_ISSUING_MS) {
            problems.push(`Certificate "${r.certificate}" has been issuing since ${timeText(since)} (${durationText(now.getTime() - since.getTime())}) `
              + `without a result: ${issuing?.message ?? ''}; look at its Issuer and at "weft describe certificate ${c.metadata.name} -n ${c.metadata.namespace ?? 'default'}"`);
          }
        }
        return problems.length === 0 ? ok() : fail('error', list(problems));
      },
    },
    {
      category: Category.certificates, description: 'CA Certificates renew early enough for what they sign', hint: hint('certificates-coverage'), severity: 'warning',
      async run(ctx) {
        const problems = (await ctx.certificates()).map(renewalOf).filter((r) => r.coverageProblem !== undefined)
          .map((r) => `Certificate "${r.certificate}": ${r.coverageProblem ?? ''}`);
        return problems.length === 0 ? ok() : fail('warning', list(problems));
      },
    },
    {
      category: Category.identity, description: 'trust anchors are readable', hint: hint('anchors-readable'), severity: 'error', fatal: true,
      async run(ctx) {
        const anchors = await ctx.anchors();
        return ok(`${anchors.length} trust anchor(s): ${anchors.map(label).join(', ')}`);
      },
    },
    {
      category: Category.identity, description: 'trust anchors use supported crypto algorithms', hint: hint('anchors-algorithm'), severity: 'error',
      async run(ctx) {
        const bad = (await ctx.anchors()).filter((a) => !anchorAlgorithmOk(a.publicKey));
        return bad.length === 0 ? ok() : fail('error', list(bad.map((a) =>
          `Trust anchor ${label(a)} uses ${keyText(a.publicKey)}: use ECDSA P-256 or P-384, or RSA of 2048 bits or more`)));
      },
    },
    {
      category: Category.identity, description: 'trust anchors are within their validity period', hint: hint('anchors-validity'), severity: 'error',
      async run(ctx) {
        const now = ctx.now();
        const problems = (await ctx.anchors()).flatMap((a) => validityProblem(a, now, 'trust anchor') ?? []);
        return problems.length === 0 ? ok() : fail('error', list(problems));
      },
    },
    {
      category: Category.identity, description: `trust anchors are valid for at least ${threshold}`, hint: hint('anchor-expiry'), severity: 'error',
      async run(ctx) {
        const now = ctx.now();
        const anchors = await ctx.anchors();
        // An anchor nothing chains to any more (the old one, after a rotation) only has to be removed.
        const issuer = await ctx.issuer().catch(() => undefined);
        const outcomes: CheckOutcome[] = [];
        for (const a of anchors) {
          const used = issuer === undefined || anchors.length === 1
            || verifyChain(issuer.certificate, { roots: [a], intermediates: issuer.chain.slice(1), at: now }).kind === 'valid';
          const judged = judgeExpiry({
            what: `trust anchor ${label(a)}`, notAfter: a.notAfter, now, thresholdMs: ctx.expiryThresholdMs,
            ...optional('managed', await ctx.managedRenewalOf(a)),
          });
          outcomes.push(judged.kind === 'error' && !used && now < a.notAfter
            ? fail('warning', `${judged.message}; the issuer no longer chains to it: remove it from the trust bundle once every proxy has the new one`)
            : judged);
        }
        return worst(outcomes);
      },
    },
    {
      category: Category.identity, description: 'issuer cert and key are readable', hint: hint('issuer-readable'), severity: 'error', fatal: true,
      async run(ctx) {
        const issuer = await ctx.issuer();
        return ok(`issuer ${label(issuer.certificate)} from Secret "${issuer.secretRef}"`);
      },
    },
    {
      category: Category.identity, description: 'issuer cert uses ECDSA P-256', hint: hint('issuer-algorithm'), severity: 'error',
      async run(ctx) {
        const { certificate: c } = await ctx.issuer();
        return c.publicKey.kty === 'EC' && c.publicKey.curve === 'P-256' ? ok()
          : fail('error', `The issuer ${label(c)} uses ${keyText(c.publicKey)}: proxies verify ECDSA P-256 issuers; re-issue it with privateKey.algorithm ECDSA, size 256`);
      },
    },
    {
      category: Category.identity, description: 'issuer cert is within its validity period', hint: hint('issuer-validity'), severity: 'error',
      async run(ctx) {
        const problem = validityProblem((await ctx.issuer()).certificate, ctx.now(), 'issuer');
        return problem === undefined ? ok() : fail('error', problem);
      },
    },
    {
      category: Category.identity, description: `issuer cert is valid for at least ${threshold}`, hint: hint('issuer-expiry'), severity: 'error',
      async run(ctx) {
        const issuer = await ctx.issuer();
        const config = await ctx.config();
        return judgeExpiry({
          what: `issuer ${label(issuer.certificate)}`, notAfter: issuer.certificate.notAfter, now: ctx.now(),
          thresholdMs: ctx.expiryThresholdMs, longestChildLifetimeMs: config.issuanceLifetimeMs,
          ...optional('managed', await ctx.managedRenewalOf(issuer.certificate)),
        });
      },
    },
    {
      category: Category.identity, description: 'issuer cert is issued by a trust anchor', hint: hint('issuer-trust'), severity: 'error',
      async run(ctx) {
        const issuer = await ctx.issuer();
        const verdict = verifyChain(issuer.certificate, { roots: await ctx.anchors(), intermediates: issuer.chain.slice(1), at: ctx.now() });
        return verdict.kind === 'valid' ? ok()
          : fail('error', `The issuer ${label(issuer.certificate)} does not chain to the trust anchors: ${verdict.reason}`);
      },
    },
    {
      category: Category.identity, description: 'issuer key matches the issuer cert', hint: hint('issuer-key'), severity: 'error',
      async run(ctx) {
        const issuer = await ctx.issuer();
        return await keyMatchesCertificate(issuer.privateKey, issuer.certificate) ? ok()
          : fail('error', `"${issuer.keyKey}" of Secret "${issuer.secretRef}" is not the key of the certificate in "${issuer.crtKey}"`);
      },
    },
  ];
}

/** `{key: value}` when value is defined, else `{}` (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
