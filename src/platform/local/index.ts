/**
 * The embedded single-machine platform: each pod a network namespace on a bridge,
 * with its address, /etc/hosts, service variables, projected token, proxy-init
 * rules and proxy; Services as virtual IPs (DNAT inside each pod); Endpoints kept
 * from ready pods; containers restarted with backoff. `weft up` / `weft down`.
 */
export {
  cleanupMesh, DEPLOYMENT_LABEL, INJECT_ANNOTATION, NETNS_ANNOTATION, plannedControlPlaneAddresses, startLocalPlatform,
  type LocalPlatform, type LocalPlatformOptions,
} from './platform.ts';
export {
  ADMIN_PORT, controlPlaneAddresses, DESTINATION_PORT, IDENTITY_PORT, type ControlPlaneAddresses,
} from './control-plane-addresses.ts';
export {
  buildStrippedEntry, PROXY_BUILD_CACHE, PROXY_BUILD_LINKS, PROXY_SOURCE_ENTRY, proxyEntry, writeStripped,
  type BuildStrippedOptions, type ProxyEntryOptions, type StrippedBuild, type WriteStrippedOptions,
} from './proxy-build.ts';
export { LocalPod, PROXY_CONTAINER, PROXY_NODE_FLAGS, PROXY_UID } from './local-pod.ts';
export { platformDir, readMeshRecord, type MeshRecord } from './mesh-record.ts';
export { startMeshDashboard, type MeshDashboard, type MeshDashboardOptions } from './mesh-dashboard.ts';
export { meshNames, type MeshNames } from './names.ts';
export { checkPlatformPrivileges, ERR_PLATFORM_PRIVILEGES } from './privileges.ts';
export { hostsFile, type HostsFileOptions } from './hosts-file.ts';
export { serviceEnv } from './service-env.ts';
export { serviceRulesRestore, SERVICES_CHAIN, EGRESS_CHAIN, type ServiceRoute } from './service-rules.ts';
export { addressPlan, chooseAddressIndex, meshAddressPlan, type AddressPlan } from './address-plan.ts';
export { restartDelay, type RestartBackoffOptions } from './backoff.ts';
export { commandPath } from './run-command.ts';
export { rotationSettings, type RotationFlags, type RotationSettings } from './rotation-settings.ts';
