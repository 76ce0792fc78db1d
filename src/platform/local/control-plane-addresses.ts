/**
 * Where the embedded platform's control plane listens: on the bridge's gateway
 * address (the pods reach it there), at Linkerd's ports. `weft up` binds these and
 * `weft check --pre` probes them, so both read them from here.
 */
import { type AddressPlan } from './address-plan.ts';

/** The identity service's port on the bridge address (Linkerd's 8080). */
export const IDENTITY_PORT = 8080;
/** The destination service's port on the bridge address (Linkerd's 8086). */
export const DESTINATION_PORT = 8086;
/** The control plane's admin port on the bridge address (`/ready`, `/metrics`; Linkerd's 9990). */
export const ADMIN_PORT = 9990;

/** The `host:port` addresses the control plane of one mesh listens on. */
export interface ControlPlaneAddresses {
  readonly identity: string;
  readonly destination: string;
  readonly admin: string;
}

/** The control plane's listen addresses for `plan`: its gateway at the three ports. */
export function controlPlaneAddresses(plan: AddressPlan): ControlPlaneAddresses {
  return {
    identity: `${plan.gateway}:${IDENTITY_PORT}`,
    destination: `${plan.gateway}:${DESTINATION_PORT}`,
    admin: `${plan.gateway}:${ADMIN_PORT}`,
  };
}
