/**
 * The destination area's client door: what the sidecar proxy imports to watch
 * addresses. Nothing here loads the service side (the store, resource schemas,
 * resolution), which would cost every sidecar ~25 MB of memory (bench/README.md).
 * `index.ts` re-exports all of it for everyone else.
 */
export {
  DestinationStreamError, startDestinationClient,
  type ClientTlsMaterial, type DestinationClient, type DestinationClientOptions, type DestinationView, type DestinationWatch,
} from './watch-client.ts';
export { Protocol, type Endpoint, type TcpAddress, type Update } from './wire.ts';
