/**
 * proxy-init: transparent redirection of a namespace's TCP traffic through the
 * proxy (inbound → 4143, outbound → 4140), with legacy, nft and auto-detected
 * backends; and the original destination of a redirected connection.
 */
export { ALWAYS_IGNORED_INBOUND_PORTS, DEFAULTS, proxyInitOptions, resolveConfig, subnetFamily } from './config.ts';
export type { Backend, IpFamily, ProxyInitConfig, ProxyInitOptions } from './config.ts';
export { parsePort, parsePorts } from './ports.ts';
export type { PortRange } from './ports.ts';
export { INBOUND_CHAIN, OUTBOUND_CHAIN, iptablesBinary, iptablesPlan, renderPlan } from './plan.ts';
export type { PlanStep, RulePlan } from './plan.ts';
export { chooseBackend, gatherEvidence, parseSave } from './detect.ts';
export type { BackendChoice, BackendEvidence, TablesEvidence } from './detect.ts';
export { effectiveCapabilities, missingCapabilities } from './capabilities.ts';
export { systemHost } from './host.ts';
export type { Host, RunResult, SystemHostOptions } from './host.ts';
export { proxyInit } from './executor.ts';
export type { ProxyInitMode, ProxyInitReport, ProxyInitRunOptions } from './executor.ts';
export { ProxyInitError, ProxyInitErrorCode } from './errors.ts';
export { originalDestination } from './original-dst.ts';
export type { OriginalDestination } from './original-dst.ts';
