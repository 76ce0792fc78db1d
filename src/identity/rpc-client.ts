/**
 * A thin gRPC client for Certify over TLS: verifies the identity service's
 * certificate against the trust anchors and its identity name. Used by the
 * workload client, `weft identity certify` and the benchmark.
 */
import { ChannelCredentials, Client, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { WeftError } from '../errors/index.ts';
import { systemClock, type Clock } from './clock.ts';
import { CERTIFY_PATH, certifyClientCodec } from './grpc-service.ts';
import type { CertifyRequest, CertifyResponse } from './wire.ts';

/** A Certify call that failed; `grpcCode` is the gRPC status (`status.UNAUTHENTICATED`, …). */
export class CertifyCallError extends WeftError {
  readonly grpcCode: status;

  constructor(grpcCode: status, details: string) {
    super('WEFT_ERR_IDENTITY_CERTIFY', `Certify failed with ${status[grpcCode] ?? grpcCode}: ${details}`);
    this.name = 'CertifyCallError';
    this.grpcCode = grpcCode;
  }
}

/** Options of {@link IdentityRpcClient}. */
export interface IdentityRpcClientOptions {
  /** `host:port` of the identity service. */
  readonly addr: string;
  /** The name the service's certificate must carry. */
  readonly serverName: string;
  /** PEM bundle of trust anchors. */
  readonly trustAnchorsPem: string;
  /** Deadline per call, ms (default 10 000), timed on `clock`. */
  readonly timeoutMs?: number;
  readonly clock?: Clock;
}

/** One gRPC channel to the identity service. */
export class IdentityRpcClient {
  readonly #client: Client;
  readonly #timeoutMs: number;
  readonly #clock: Clock;

  constructor(opts: IdentityRpcClientOptions) {
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#clock = opts.clock ?? systemClock;
    this.#client = new Client(opts.addr, ChannelCredentials.createSsl(Buffer.from(opts.trustAnchorsPem)), {
      // We dial an address but verify a name: the identity's, as Linkerd's proxy does.
      'grpc.ssl_target_name_override': opts.serverName,
      'grpc.default_authority': opts.serverName,
    });
  }

  /** Calls Certify; rejects with {@link CertifyCallError}. */
  certify(request: CertifyRequest): Promise<CertifyResponse> {
    return new Promise((resolve, reject) => {
      // The deadline runs on our clock, not grpc's, so tests that move time move it too.
      const call = this.#client.makeUnaryRequest(CERTIFY_PATH, certifyClientCodec.serialize, certifyClientCodec.deserialize,
        request, new Metadata(), {}, (err: ServiceError | null, response?: CertifyResponse) => {
          timer.cancel();
          if (err !== null || response === undefined) reject(new CertifyCallError(err?.code ?? status.UNKNOWN, err?.details ?? 'no response'));
          else resolve(response);
        });
      const timer = this.#clock.setTimer(this.#timeoutMs, () => {
        // Reject first: the CANCELLED that cancel() produces then settles nothing.
        reject(new CertifyCallError(status.DEADLINE_EXCEEDED, `no answer within ${this.#timeoutMs} ms`));
        call.cancel();
      });
    });
  }

  /** Closes the channel. */
  close(): void {
    this.#client.close();
  }
}
