import { parseDuration } from '../pki/index.ts';
import { DEFAULT_CERTIFICATE_DURATION_MS, type Certificate } from '../api/index.ts';
import { recordEvent } from '../store/index.ts';
import { conditionOf } from '../api/index.ts';
import { removeCondition, setCondition } from './conditions.ts';
import { COMPONENT, type ControllerContext } from './context.ts';
import { gatherFacts, validityStatus } from './facts.ts';
import { evaluate, readinessPolicies } from './policies.ts';
import { Reason } from './reasons.ts';
import { renewalCoverageProblem } from './renewal-coverage.ts';
import { Annotation } from './request-names.ts';
import { writeStatusIfChanged } from './status-write.ts';

/** Condition type of weft's lifetime check on CA Certificates. */
export const RENEWAL_COVERAGE = 'RenewalCoverage';

/**
 * Lifetimes of what a CA signs that the certificate controller cannot see in the
 * store (the identity service's workload certificates), by CA Secret.
 */
export type ExtraChildLifetime = (namespace: string, secretName: string) => Promise<number | undefined>;

/**
 * The readiness controller: sets Ready from the same checks the trigger uses
 * (a certificate being renewed stays Ready until it expires), the validity fields
 * of the status, and weft's RenewalCoverage check on CA certificates.
 */
export async function processReadiness(
  ctx: ControllerContext,
  key: { name: string; namespace: string },
  extraChildLifetime?: ExtraChildLifetime,
): Promise<void> {
  const cert = await ctx.store.get('Certificate', key.name, key.namespace);
  if (cert === undefined) return;
  const facts = await gatherFacts(ctx, cert);
  const violation = evaluate(readinessPolicies, facts.input);
  const now = ctx.now();
  const leaf = facts.chain[0];
  const clamped = facts.secret?.metadata.annotations?.[Annotation.clampedToIssuer];
  let conditions = setCondition(cert.status?.conditions, violation === null
    ? {
        type: 'Ready', status: 'True', reason: Reason.Ready,
        message: 'Certificate is up to date and has not expired'
          + (clamped !== undefined ? `; its notAfter was clamped to its issuer's, ${clamped}` : ''),
        observedGeneration: cert.metadata.generation ?? 1,
      }
    : {
        type: 'Ready', status: 'False', reason: violation.reason, message: violation.message,
        observedGeneration: cert.metadata.generation ?? 1,
      }, now);

  let coverageProblem: string | null = null;
  if (cert.spec.isCA === true && leaf !== undefined && facts.input.renewalTime !== undefined) {
    const longest = await longestChildLifetime(ctx, cert, extraChildLifetime);
    coverageProblem = renewalCoverageProblem({ notAfter: leaf.notAfter, renewalTime: facts.input.renewalTime }, longest);
    conditions = coverageProblem === null
      ? (longest === undefined ? removeCondition(conditions, RENEWAL_COVERAGE) : setCondition(conditions, {
          type: RENEWAL_COVERAGE, status: 'True', reason: 'Covered',
          message: 'The CA renews early enough for everything it signs',
        }, now))
      : setCondition(conditions, { type: RENEWAL_COVERAGE, status: 'False', reason: Reason.LifetimeRisk, message: coverageProblem }, now);
  }

  const status = {
    ...cert.status,
    conditions,
    ...validityStatus(cert, leaf),
  };
  const wasCovered = conditionOf(cert, RENEWAL_COVERAGE)?.status !== 'False';
  if (await writeStatusIfChanged(ctx.store, cert, status) && coverageProblem !== null && wasCovered) {
    await recordEvent(ctx.store, cert, { type: 'Warning', reason: Reason.LifetimeRisk, message: coverageProblem, component: COMPONENT });
  }
}

/** The longest lifetime among certificates issued from this CA's Secret. */
async function longestChildLifetime(
  ctx: ControllerContext,
  ca: Certificate,
  extra: ExtraChildLifetime | undefined,
): Promise<number | undefined> {
  const namespace = ca.metadata.namespace ?? 'default';
  const issuerNames = new Set<string>();
  for (const issuer of (await ctx.store.list('Issuer', { namespace })).items) {
    if (issuer.spec.ca?.secretName === ca.spec.secretName) issuerNames.add(`Issuer/${namespace}/${issuer.metadata.name}`);
  }
  if (namespace === ctx.clusterResourceNamespace) {
    for (const issuer of (await ctx.store.list('ClusterIssuer')).items) {
      if (issuer.spec.ca?.secretName === ca.spec.secretName) issuerNames.add(`ClusterIssuer//${issuer.metadata.name}`);
    }
  }
  let longest = extra === undefined ? undefined : await extra(namespace, ca.spec.secretName);
  for (const child of (await ctx.store.list('Certificate')).items) {
    const kind = child.spec.issuerRef.kind ?? 'Issuer';
    const key = kind === 'ClusterIssuer'
      ? `ClusterIssuer//${child.spec.issuerRef.name}`
      : `Issuer/${child.metadata.namespace ?? 'default'}/${child.spec.issuerRef.name}`;
    if (!issuerNames.has(key)) continue;
    const lifetime = child.spec.duration !== undefined ? parseDuration(child.spec.duration) : DEFAULT_CERTIFICATE_DURATION_MS;
    longest = Math.max(longest ?? 0, lifetime);
  }
  return longest;
}
