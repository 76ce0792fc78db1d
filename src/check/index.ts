/**
 * `weft check`: health checks declared as data ({@link Check}), one runner
 * ({@link runChecks}), and renderers for text (✓ ‼ × as `linkerd check`) and JSON.
 * Rotation-aware: a certificate that renews on its own is judged by its renewal
 * schedule, not by how close its expiry is. Reads everything, changes nothing.
 */
export { fail, ok, type Check, type CheckOutcome, type CheckReport, type CheckResult, type Severity } from './check.ts';
export { durationText, timeText } from './format.ts';
export { DOCS, hint } from './hint.ts';
export { judgeExpiry, type ExpiryInput, type ManagedRenewal } from './judge-expiry.ts';
export { Category, meshChecks } from './mesh-checks.ts';
export {
  DEFAULT_CONTROL_PLANE_ADMIN, DEFAULT_EXPIRY_THRESHOLD_MS, MeshContext, renewalOf,
  type IssuerMaterial, type MeshContextOptions,
} from './mesh-context.ts';
export { metricValue } from './metric-value.ts';
export { renderJson, reportJson, type CheckJson, type ReportJson } from './render-json.ts';
export { overall, renderText } from './render-text.ts';
export { exitCodeOf, runChecks, type FailOn } from './run-checks.ts';
export { DataPlaneContext, type DataPlaneContextOptions, type ProxyObservation } from './data-plane-context.ts';
export { EXPIRY_METRIC, proxyChecks } from './proxy-checks.ts';
export {
  parseProxyTarget, PROXY_ADMIN_ANNOTATION, PROXY_ADMIN_PORT, PROXY_INBOUND_PORT, proxyTargetsFromPods,
  type PodLike, type ProxyTarget,
} from './proxy-target.ts';
export { controlPlanePorts, PreContext, preChecks, type PortNeed, type PreContextOptions } from './pre-checks.ts';
export { blockingListener, parseProcNetTcp, type Listener } from './listeners.ts';
export { probeMeshTls, type TlsProbe } from './tls-probe.ts';
