/**
 * A plaintext gRPC server for one demo service: bind, report the bound address,
 * and a graceful stop. Plaintext on purpose: in the mesh the sidecar adds mTLS,
 * and the demo exists to show that the workload itself never touches TLS.
 */
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';

/** Where a demo server listens. Port 0 picks a free port (tests). */
export type ListenOptions = {
  /** Address to bind; `0.0.0.0` in a pod so the sidecar and Service reach it. */
  host: string;
  port: number;
};

/** A running server: its bound address and a stop that lets calls in flight finish. */
export type RunningServer = {
  readonly host: string;
  readonly port: number;
  /** Stops accepting, waits up to `graceMs` for calls in flight, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
};

/** How long a stop waits for calls in flight by default: well inside Kubernetes' 30 s grace period. */
export const DEFAULT_GRACE_MS = 5_000;

/** Starts a gRPC server for `service` and resolves once it listens. */
export async function startGrpcServer(
  service: { definition: ServiceDefinition; implementation: UntypedServiceImplementation },
  listen: ListenOptions,
): Promise<RunningServer> {
  const server = new Server();
  server.addService(service.definition, service.implementation);
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${listen.port}`, ServerCredentials.createInsecure(), (err, bound) => {
      if (err !== null) reject(err);
      else resolve(bound);
    });
  });
  let closing: Promise<void> | undefined;
  return {
    host: listen.host,
    port,
    close(graceMs = DEFAULT_GRACE_MS) {
      closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      return closing;
    },
  };
}
