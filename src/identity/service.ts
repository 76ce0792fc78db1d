/**
 * The identity service: gRPC `Certify` over TLS, the issuer kept fresh from the
 * store, and an admin handler with `/metrics`, `/ready` and `/live`.
 *
 *   store ──watch──▶ IssuerSource ──onChange──▶ ServingCertProvider (own TLS leaf)
 *                         │
 *   Certify ──▶ certify() ┴─▶ leaf + chain        admin: /metrics /ready /live
 */
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { experimental, Server, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { ResourceStore } from '../store/index.ts';
import { systemClock, type Clock } from './clock.ts';
import { certify, CertifyResult } from './certify.ts';
import { identityConfigFrom, WEFT_CONFIG_NAME, WEFT_CONFIG_NAMESPACE, type IdentityConfig } from './config.ts';
import { certifyServerMethod } from './grpc-service.ts';
import { IssuerSource } from './issuer-source.ts';
import { Counter, Gauge, renderMetrics } from './metrics.ts';
import { IDENTITY_SERVICE_ACCOUNT, identityServiceName } from './names.ts';
import { ServingCertProvider } from './serving-cert.ts';
import { storeTokenValidator } from './token-key.ts';
import type { TokenValidator } from './token.ts';
import { decodeCertifyRequest, WireError, type CertifyResponse } from './wire.ts';

/** Where the identity service listens by default (`--identity-addr`). */
export const DEFAULT_IDENTITY_ADDR = '127.0.0.1:8080';

/** Options of {@link startIdentityService}. */
export interface IdentityServiceOptions {
  /** gRPC listen address `host:port` (default `127.0.0.1:8080`; port 0 picks one). */
  readonly addr?: string;
  /** Admin HTTP listen address; default: no admin listener (mount {@link IdentityService.adminHandler} yourself). */
  readonly adminAddr?: string;
  /** Settings; default: read from ConfigMap `weft/weft-config`, defaults for what it lacks. */
  readonly config?: IdentityConfig;
  /** Token checks; default: the embedded platform's ES256 tokens from the store. */
  readonly validator?: TokenValidator;
  /** Default: the system clock. */
  readonly clock?: Clock;
}

/** A running identity service. */
export interface IdentityService {
  /** The bound gRPC address, `host:port`. */
  readonly address: string;
  /** The bound admin address, when `adminAddr` was given. */
  readonly adminAddress: string | undefined;
  /** The name on the service's TLS certificate; clients verify it. */
  readonly serverName: string;
  readonly config: IdentityConfig;
  readonly issuers: IssuerSource;
  /** True while a valid issuer is loaded (what `/ready` reports). */
  ready(): boolean;
  /** Resolves once a valid issuer is loaded and the service can serve TLS. */
  whenReady(): Promise<void>;
  /** Prometheus text of the service's metrics. */
  metrics(): string;
  /** Serves `/metrics`, `/ready` and `/live`; answers 404 to anything else. */
  adminHandler(req: IncomingMessage, res: ServerResponse): void;
  /** Stops listening, renewing and watching. */
  close(): Promise<void>;
}

/**
 * Starts the identity service over `store`: loads the issuer and trust anchors,
 * issues its own serving certificate and listens for Certify calls.
 */
export async function startIdentityService(store: ResourceStore, opts: IdentityServiceOptions = {}): Promise<IdentityService> {
  const clock = opts.clock ?? systemClock;
  const config = opts.config ?? identityConfigFrom(await store.get('ConfigMap', WEFT_CONFIG_NAME, WEFT_CONFIG_NAMESPACE));
  const validator = opts.validator ?? storeTokenValidator(store, { clock, skewMs: config.clockSkewMs });
  const requests = new Counter('identity_certify_requests_total', 'Certify requests by result.');
  for (const r of Object.values(CertifyResult)) requests.inc({ result: r }, 0);
  const servingExpiry = new Gauge('identity_serving_cert_expiration_timestamp_seconds', 'When the identity service\'s own TLS certificate expires.');
  const issuers = new IssuerSource({ store, config, clock });
  const provider = new ServingCertProvider({ issuers, config, clock, serviceAccount: IDENTITY_SERVICE_ACCOUNT });
  const now = (): Date => new Date(clock.now());
  const readyWaiters = new Set<() => void>();
  provider.onRenewed((leaf) => {
    servingExpiry.set(leaf.notAfter.getTime() / 1000);
    for (const w of readyWaiters) w();
    readyWaiters.clear();
  });
  await issuers.start();
  await provider.start();

  const server = new Server();
  server.addService({ certify: certifyServerMethod }, {
    certify: (call: ServerUnaryCall<Buffer, CertifyResponse>, callback: sendUnaryData<CertifyResponse>) => {
      let request;
      try {
        request = decodeCertifyRequest(call.request);
      } catch (err) {
        requests.inc({ result: CertifyResult.invalidRequest });
        callback({ code: status.INVALID_ARGUMENT, details: err instanceof WireError ? err.message : 'malformed request' });
        return;
      }
      void certify(request, { config, validator, issuer: (at) => issuers.current(at), now }).then((outcome) => {
        if (outcome.kind === 'issued') {
          requests.inc({ result: CertifyResult.ok });
          callback(null, outcome.response);
        } else {
          requests.inc({ result: outcome.result });
          callback({ code: outcome.code, details: outcome.message });
        }
      });
    },
  });
  // grpc-js declares this function's parameters in the opposite order to the
  // class it builds: the first argument is the identity (serving) certificate provider.
  const credentials = experimental.createCertificateProviderServerCredentials(provider, null, false);
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(opts.addr ?? DEFAULT_IDENTITY_ADDR, credentials, (err, p) => (err === null ? resolve(p) : reject(err)));
    });
  } catch (err) {
    // Nothing may keep running after a failed start: the caller has no handle to stop it.
    await provider.close();
    await issuers.close();
    throw err;
  }
  const host = (opts.addr ?? DEFAULT_IDENTITY_ADDR).replace(/:\d+$/, '');

  const isReady = (): boolean => issuers.current(now()) !== undefined && provider.leaf !== undefined;
  const metrics = (): string => renderMetrics([requests, issuers.expiry, issuers.reloads, servingExpiry]);
  const adminHandler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics());
    } else if (path === '/ready') {
      const ok = isReady();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'issuer not ready\n');
    } else if (path === '/live') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('live\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  };

  let admin: HttpServer | undefined;
  let adminAddress: string | undefined;
  if (opts.adminAddr !== undefined) {
    const m = /^(.*):(\d+)$/.exec(opts.adminAddr);
    const adminHost = m?.[1] ?? '127.0.0.1';
    const srv = createServer(adminHandler);
    admin = srv;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject).listen(Number(m?.[2] ?? 0), adminHost.replace(/^\[|\]$/g, ''), () => resolve());
    });
    adminAddress = `${adminHost}:${(srv.address() as AddressInfo).port}`;
  }

  return {
    address: `${host}:${port}`,
    adminAddress,
    serverName: identityServiceName(config),
    config,
    issuers,
    ready: isReady,
    whenReady: () => (isReady() ? Promise.resolve() : new Promise<void>((resolve) => readyWaiters.add(resolve))),
    metrics,
    adminHandler,
    async close() {
      await provider.close();
      await issuers.close();
      server.forceShutdown();
      if (admin !== undefined) await new Promise<void>((resolve) => (admin as HttpServer).close(() => resolve()));
    },
  };
}
