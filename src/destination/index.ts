/**
 * weft destination: the discovery service that runs inside `weft control-plane`
 * and streams, per service address, its endpoints with their identity and
 * protocol hint (from Service, Endpoints and Pod resources); and the client the
 * proxy uses to watch an address. gRPC over mutual TLS (destination.proto).
 */
export { parseAuthority, type AuthorityOptions, type Target } from './authority.ts';
export {
  DestinationStreamError, startDestinationClient,
  type ClientTlsMaterial, type DestinationClient, type DestinationClientOptions, type DestinationView, type DestinationWatch,
} from './watch-client.ts';
export { addressKey } from './address-key.ts';
export { applyUpdate, diffResolutions } from './diff.ts';
export { inPortRanges, parsePortRanges, type PortRanges } from './port-ranges.ts';
export {
  DEFAULT_INBOUND_PORT, INBOUND_PORT_ANNOTATIONS, OPAQUE_PORTS_ANNOTATIONS, podFacts, resolveDestination,
  type ClusterState, type PodFacts, type Resolution, type ResolveOptions,
} from './resolve.ts';
export {
  DEFAULT_DESTINATION_ADDR, startDestinationService, type DestinationService, type DestinationServiceOptions,
} from './service.ts';
export { DESTINATION_SERVICE_ACCOUNT, destinationServiceName } from './service-name.ts';
export {
  decodeGetDestination, decodeUpdate, DestinationWireError, encodeGetDestination, encodeUpdate, GET_PATH, Protocol,
  type Endpoint, type GetDestination, type TcpAddress, type Update,
} from './wire.ts';
