import { conditionOf, type Certificate } from '../api/index.ts';
import { backoff } from './backoff.ts';
import { setCondition } from './conditions.ts';
import type { ControllerContext } from './context.ts';
import { gatherFacts } from './facts.ts';
import { PemCache } from './pem-cache.ts';
import { evaluate, issuancePolicies } from './policies.ts';
import { Reason } from './reasons.ts';
import { writeStatusIfChanged } from './status-write.ts';
import type { ResourceStore } from '../store/index.ts';

// Enough of a context to set a condition: the renew command runs without a controller.
function contextFor(store: ResourceStore): ControllerContext {
  return {
    store, now: () => store.now(), clusterResourceNamespace: '', clockSkew: 0, backoffInitial: 0, backoffMax: 0, pem: new PemCache(),
  };
}

/**
 * The trigger controller: decides whether a Certificate must be issued, and if so
 * sets its Issuing condition. Failed issuances back off (1h × 2^(n−1), capped); a
 * spec change since the failure skips the wait, as cert-manager does. Resolves to
 * when it wants to look at the Certificate again (renewal or end of backoff).
 */
export async function processTrigger(ctx: ControllerContext, key: { name: string; namespace: string }): Promise<Date | undefined> {
  const cert = await ctx.store.get('Certificate', key.name, key.namespace);
  if (cert === undefined) return undefined;
  if (conditionOf(cert, 'Issuing')?.status === 'True') return undefined;
  const facts = await gatherFacts(ctx, cert);
  const violation = evaluate(issuancePolicies, facts.input);
  if (violation === null) return facts.input.renewalTime;

  const retryAt = backoffUntil(ctx, cert);
  if (retryAt !== undefined && ctx.now().getTime() < retryAt.getTime()) return retryAt;

  await setIssuing(ctx, cert, violation.reason, violation.message);
  return undefined;
}

/** When a failed Certificate may be tried again, or undefined when it need not wait. */
function backoffUntil(ctx: ControllerContext, cert: Certificate): Date | undefined {
  const failures = cert.status?.failedIssuanceAttempts ?? 0;
  const last = cert.status?.lastFailureTime;
  if (failures <= 0 || last === undefined) return undefined;
  const failedGeneration = conditionOf(cert, 'Issuing')?.observedGeneration;
  // The spec changed since the failure: the user fixed something, try at once.
  if (failedGeneration !== undefined && (cert.metadata.generation ?? 0) > failedGeneration) return undefined;
  return new Date(Date.parse(last) + backoff(failures, { initial: ctx.backoffInitial, max: ctx.backoffMax }));
}

/** Sets Issuing=True (with why), which hands the Certificate to the issuing controller. */
async function setIssuing(ctx: ControllerContext, cert: Certificate, reason: string, message: string): Promise<void> {
  const status = {
    ...cert.status,
    conditions: setCondition(
      cert.status?.conditions,
      { type: 'Issuing', status: 'True', reason, message, observedGeneration: cert.metadata.generation ?? 1 },
      ctx.now(),
    ),
  };
  await writeStatusIfChanged(ctx.store, cert, status);
}

/**
 * Asks for an issuance now, whatever the renewal time and backoff say (`weft certs
 * renew`, like `cmctl renew`). Resolves false when already issuing.
 */
export async function requestRenewal(
  target: ControllerContext | ResourceStore,
  key: { name: string; namespace: string },
): Promise<boolean> {
  const ctx = 'store' in target ? target : contextFor(target);
  const cert = await ctx.store.get('Certificate', key.name, key.namespace);
  if (cert === undefined) return false;
  if (conditionOf(cert, 'Issuing')?.status === 'True') return false;
  const { failedIssuanceAttempts: _f, lastFailureTime: _l, ...rest } = cert.status ?? {};
  await setIssuing(ctx, { ...cert, status: rest }, Reason.ManuallyTriggered, 'Certificate re-issuance manually triggered');
  return true;
}
