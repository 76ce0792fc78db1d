/**
 * The destination service's identity: its ServiceAccount and the name its serving
 * certificate carries (`weft-destination.<cp-ns>.serviceaccount.identity.<cp-ns>.<td>`),
 * which clients verify. The certificate itself is identity's ServingCertProvider.
 */
import { identityName, type IdentityDomain } from '../identity/client.ts';

/** The destination service's ServiceAccount, in the control-plane namespace. */
export const DESTINATION_SERVICE_ACCOUNT = 'weft-destination';

/** The name the destination service's certificate carries, and clients verify. */
export function destinationServiceName(domain: IdentityDomain): string {
  return identityName({ namespace: domain.controlPlaneNamespace, serviceAccount: DESTINATION_SERVICE_ACCOUNT }, domain);
}
