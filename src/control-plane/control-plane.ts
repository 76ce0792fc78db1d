import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { CertificateController } from '../certs/index.ts';
import { WeftError } from '../errors/index.ts';
import { startDestinationService, type DestinationService } from '../destination/index.ts';
import {
  bootstrapControlPlane, identityConfigFrom, startIdentityService, WEFT_CONFIG_NAME, WEFT_CONFIG_NAMESPACE,
  type IdentityConfig, type IdentityService,
} from '../identity/index.ts';
import type { ResourceStore } from '../store/index.ts';

/** Options of {@link startControlPlane}; each field documents its default. */
export interface ControlPlaneOptions {
  /** Identity gRPC address. Default `127.0.0.1:8080`. */
  readonly identityAddr?: string;
  /** Destination gRPC address. Default `127.0.0.1:8086`. */
  readonly destinationAddr?: string;
  /** Admin HTTP address (`/ready`, `/live`, `/metrics`). Default `127.0.0.1:9990`; port 0 picks one. */
  readonly adminAddr?: string;
  /** Settings written at bootstrap into `weft-config` (ignored once it exists). */
  readonly config?: Partial<IdentityConfig>;
  /** The identity issuer Certificate's duration and renewBefore at bootstrap (default 48h and 25h, as in the article). */
  readonly issuer?: { readonly duration?: string; readonly renewBefore?: string };
  /** Namespace of ClusterIssuer CA Secrets. Default `cert-manager`. */
  readonly clusterResourceNamespace?: string;
  /** Told about every reconcile error and state change, one line each. Default: nothing. */
  readonly log?: (line: string) => void;
}

/** Code of the error {@link startControlPlane} throws when a service cannot start (everything started is stopped). */
export const ERR_CONTROL_PLANE_START = 'WEFT_ERR_CONTROL_PLANE_START';

/** A running control plane. */
export interface ControlPlane {
  /** What the bootstrap created on an empty store (one sentence each). */
  readonly created: readonly string[];
  readonly identity: IdentityService;
  readonly destination: DestinationService;
  /** The bound admin address, `host:port`. */
  readonly adminAddress: string;
  /** Stops everything, waiting for in-flight work. */
  close(): Promise<void>;
}

/**
 * Starts weft's control plane over a store: bootstrap (trust anchor, issuer
 * Certificate, config — only on an empty store), the certificate controller, the
 * identity service and the destination service, with one admin endpoint.
 *
 *   store ──▶ bootstrap ──▶ certificate controller ──▶ issuer Secret ──▶ identity (hot reload)
 *     └──────────────── Services, Endpoints, Pods ──────────────────────▶ destination
 */
export async function startControlPlane(store: ResourceStore, options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const log = options.log ?? (() => {});
  const boot = await bootstrapControlPlane(store, {
    ...(options.config === undefined ? {} : { config: options.config }),
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
  });
  const abort = new AbortController();
  const controller = new CertificateController(store, {
    ...(options.clusterResourceNamespace !== undefined ? { clusterResourceNamespace: options.clusterResourceNamespace } : {}),
    // The identity service signs workload certificates from the issuer Secret: tell
    // the controller their lifetime, so RenewalCoverage checks the issuer against it.
    extraChildLifetime: async (namespace, secretName) => {
      const config = identityConfigFrom(await store.get('ConfigMap', WEFT_CONFIG_NAME, WEFT_CONFIG_NAMESPACE));
      return namespace === config.controlPlaneNamespace && secretName === config.issuerSecretName
        ? config.issuanceLifetimeMs
        : undefined;
    },
    onError: (err, object) => log(`certificate controller: ${object}: ${err instanceof Error ? err.message : String(err)}`),
  });
  // The first pass issues the identity issuer before identity starts looking for it.
  await controller.reconcileAll();
  const running = controller.run(abort.signal);

  // What has started, so that close() and a failed start stop the same things:
  // a start that fails half-way must not leave the controller's loop running (it
  // would keep the process alive after the error was reported).
  const started: { identity?: IdentityService; destination?: DestinationService; admin?: Server } = {};
  const stop = async (): Promise<void> => {
    abort.abort();
    if (started.admin !== undefined) await closeServer(started.admin);
    // Destination uses identity's issuer source: stop it first.
    await started.destination?.close();
    await started.identity?.close();
    await running;
  };
  const identityAddr = options.identityAddr ?? '127.0.0.1:8080';
  const destinationAddr = options.destinationAddr ?? '127.0.0.1:8086';
  const adminAddr = options.adminAddr ?? '127.0.0.1:9990';
  let step = `identity address "${identityAddr}"`;
  try {
    const identity = await startIdentityService(store, { addr: identityAddr });
    started.identity = identity;
    step = `destination address "${destinationAddr}"`;
    // Destination shares identity's watch of the issuer and anchors for its own TLS.
    const destination = await startDestinationService(store, {
      addr: destinationAddr,
      issuers: identity.issuers,
      config: identity.config,
      log: (line) => log(`destination: ${line}`),
    });
    started.destination = destination;
    step = `admin address "${adminAddr}"`;
    const admin = createServer((req, res) => {
      if (req.url === '/live') {
        res.writeHead(200).end('live\n');
      } else {
        identity.adminHandler(req, res);
      }
    });
    started.admin = admin;
    const [host, port] = splitHostPort(adminAddr);
    admin.listen(port, host);
    await once(admin, 'listening');
    const bound = admin.address();
    const adminAddress = typeof bound === 'object' && bound !== null ? `${host}:${bound.port}` : `${host}:${port}`;
    return { created: boot.created, identity, destination, adminAddress, close: stop };
  } catch (err) {
    await stop();
    throw new WeftError(
      ERR_CONTROL_PLANE_START,
      `Check the ${step} (is another process using it?): ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

function splitHostPort(addr: string): [string, number] {
  const at = addr.lastIndexOf(':');
  return [addr.slice(0, at).replace(/^\[|\]$/g, ''), Number(addr.slice(at + 1))];
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
