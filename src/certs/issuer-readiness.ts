import type { ClusterIssuer, Issuer } from '../api/index.ts';
import { recordEvent } from '../store/index.ts';
import { setCondition } from './conditions.ts';
import { COMPONENT, type ControllerContext } from './context.ts';
import { checkIssuer, issuerConditionIs, issuerReadyCondition } from './issuers.ts';
import { writeStatusIfChanged } from './status-write.ts';

/**
 * The issuer controller: keeps each Issuer's and ClusterIssuer's Ready condition
 * true to its key pair (KeyPairVerified, ErrGetKeyPair, ErrInvalidKeyPair), and
 * records an Event when it changes.
 */
export async function processIssuer(ctx: ControllerContext, issuer: Issuer | ClusterIssuer): Promise<void> {
  const state = await checkIssuer(ctx, issuer);
  const want = issuerReadyCondition(state);
  if (issuerConditionIs(issuer, want)) return;
  const status = {
    ...issuer.status,
    conditions: setCondition(issuer.status?.conditions, {
      type: 'Ready', status: want.status, reason: want.reason, message: want.message,
      observedGeneration: issuer.metadata.generation ?? 1,
    }, ctx.now()),
  };
  await writeStatusIfChanged(ctx.store, issuer, status);
  await recordEvent(ctx.store, issuer, {
    type: want.status === 'True' ? 'Normal' : 'Warning',
    reason: want.reason,
    message: want.message === '' ? 'Issuer is ready' : want.message,
    component: COMPONENT,
  });
}
