/**
 * weft's control plane assembled: the controllers and services that watch the
 * store (certificate controller, identity; later destination), started together.
 * `weft control-plane` runs it on its own; `weft up` runs it with the platform.
 */
export { ERR_CONTROL_PLANE_START, startControlPlane, type ControlPlane, type ControlPlaneOptions } from './control-plane.ts';
