/**
 * The destination service: `weft.destination.v1.Destination/Get` over mutual TLS.
 * Each call names an address; the stream answers with its endpoint set, then
 * every change, as the store's Services, Endpoints and Pods change.
 *
 *   store ──watch──▶ ClusterView ──onChange──▶ every stream: resolve ─▶ diff ─▶ write
 *                                                 ▲
 *   Get(authority) ──▶ mTLS client identity? ──▶ parse ──▶ first resolve ─▶ snapshot
 */
import { experimental, Server, status, type ServerWritableStream } from '@grpc/grpc-js';
import {
  identityConfigFrom, IssuerSource, parseIdentityName, ServingCertProvider, systemClock, WEFT_CONFIG_NAME, WEFT_CONFIG_NAMESPACE,
  type Clock, type IdentityConfig,
} from '../identity/index.ts';
import type { ResourceStore } from '../store/index.ts';
import { parseAuthority } from './authority.ts';
import { ClusterView } from './cluster-view.ts';
import { diffResolutions } from './diff.ts';
import { getServerMethod } from './grpc-service.ts';
import { resolveDestination, type Resolution } from './resolve.ts';
import { DESTINATION_SERVICE_ACCOUNT, destinationServiceName } from './service-name.ts';
import { decodeGetDestination, DestinationWireError, type Update } from './wire.ts';

/** Where the destination service listens by default (`--destination-addr`), as Linkerd's port. */
export const DEFAULT_DESTINATION_ADDR = '127.0.0.1:8086';

/** Options of {@link startDestinationService}. */
export interface DestinationServiceOptions {
  /** gRPC listen address `host:port` (default `127.0.0.1:8086`; port 0 picks one). */
  readonly addr?: string;
  /** Settings (trust domain, control-plane namespace, lifetimes); default: read from ConfigMap `weft/weft-config`. */
  readonly config?: IdentityConfig;
  /**
   * The issuer and trust anchors to take the serving certificate from and verify
   * clients against. Pass the identity service's (`identity.issuers`) to share one
   * watch; default: the service follows the store itself.
   */
  readonly issuers?: IssuerSource;
  /** The cluster's DNS domain in service names (default `cluster.local`). */
  readonly clusterDomain?: string;
  /** Told about refused clients and bad requests, one line each. Default: nothing. */
  readonly log?: (line: string) => void;
  /** Default: the system clock. */
  readonly clock?: Clock;
}

/** A running destination service. */
export interface DestinationService {
  /** The bound address, `host:port`. */
  readonly address: string;
  /** The name on the service's certificate; clients verify it. */
  readonly serverName: string;
  /** Open Get streams, for `/ready`, metrics and tests. */
  streams(): number;
  /** Stops listening and watching; open streams end with UNAVAILABLE. */
  close(): Promise<void>;
}

interface Stream {
  sent: Resolution | undefined;
  refresh(): void;
}

// The one JSON field the context token carries that discovery uses.
function contextNamespace(token: string): string | undefined {
  if (token === '') return undefined;
  try {
    const ns = (JSON.parse(token) as { ns?: unknown }).ns;
    return typeof ns === 'string' && ns !== '' ? ns : undefined;
  } catch {
    return undefined;
  }
}

/** The workload identity in a verified client certificate's DNS SAN, or undefined. */
function clientIdentity(call: ServerWritableStream<Buffer, Update>, config: IdentityConfig): string | undefined {
  const cert = call.getAuthContext().sslPeerCertificate;
  const sans = (cert?.subjectaltname ?? '').split(', ').filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
  return sans.find((name) => parseIdentityName(name, config) !== null);
}

/**
 * Starts the destination service over `store`: follows Services, Endpoints and
 * Pods, serves TLS with its own workload certificate, and requires clients to
 * present a workload certificate that chains to the trust anchors.
 */
export async function startDestinationService(store: ResourceStore, opts: DestinationServiceOptions = {}): Promise<DestinationService> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? (() => {});
  const config = opts.config ?? identityConfigFrom(await store.get('ConfigMap', WEFT_CONFIG_NAME, WEFT_CONFIG_NAMESPACE));
  const ownIssuers = opts.issuers === undefined ? new IssuerSource({ store, config, clock }) : undefined;
  const issuers = opts.issuers ?? (ownIssuers as IssuerSource);
  await ownIssuers?.start();
  const tls = new ServingCertProvider({ issuers, config, clock, serviceAccount: DESTINATION_SERVICE_ACCOUNT });
  await tls.start();
  const view = new ClusterView(store);
  await view.start();

  const streams = new Set<Stream>();
  const unsubscribe = view.onChange(() => {
    for (const s of streams) s.refresh();
  });

  const server = new Server();
  server.addService({ get: getServerMethod }, {
    get: (call: ServerWritableStream<Buffer, Update>) => {
      // Defence in depth: TLS already required a certificate from our anchors; it must also name a workload.
      const client = clientIdentity(call, config);
      if (client === undefined) {
        log(`destination: refused ${call.getPeer()}: no workload identity in its certificate`);
        call.emit('error', { code: status.UNAUTHENTICATED, details: 'Present a workload certificate from the identity service' });
        return;
      }
      let request;
      try {
        request = decodeGetDestination(call.request);
      } catch (err) {
        call.emit('error', { code: status.INVALID_ARGUMENT, details: err instanceof DestinationWireError ? err.message : 'malformed request' });
        return;
      }
      const target = parseAuthority(request.authority, {
        ...(opts.clusterDomain === undefined ? {} : { clusterDomain: opts.clusterDomain }),
        ...withNamespace(contextNamespace(request.contextToken)),
      });
      if (target.kind === 'invalid') {
        log(`destination: ${client}: ${target.message}`);
        call.emit('error', { code: status.INVALID_ARGUMENT, details: target.message });
        return;
      }
      const stream: Stream = {
        sent: undefined,
        refresh() {
          const next = resolveDestination(target, view, { domain: config });
          for (const u of diffResolutions(stream.sent, next)) call.write(u);
          stream.sent = next;
        },
      };
      streams.add(stream);
      const end = (): void => {
        streams.delete(stream);
      };
      call.on('cancelled', end);
      call.on('close', end);
      call.on('error', end);
      stream.refresh();
    },
  });

  const credentials = experimental.createCertificateProviderServerCredentials(tls, tls, true);
  const addr = opts.addr ?? DEFAULT_DESTINATION_ADDR;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(addr, credentials, (err, p) => (err === null ? resolve(p) : reject(err)));
  });
  const host = addr.replace(/:\d+$/, '');

  return {
    address: `${host}:${port}`,
    serverName: destinationServiceName(config),
    streams: () => streams.size,
    async close() {
      unsubscribe();
      server.forceShutdown();
      streams.clear();
      await view.close();
      await tls.close();
      await ownIssuers?.close();
    },
  };
}

function withNamespace(ns: string | undefined): { contextNamespace?: string } {
  return ns === undefined ? {} : { contextNamespace: ns };
}
