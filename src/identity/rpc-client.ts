/**
 * A thin gRPC client for Certify over TLS: verifies the identity service's
 * certificate against the trust anchors and its identity name. Used by the
 * workload client, `weft identity certify` and the benchmark. Speaks gRPC over
 * node:http2 (src/grpc-client), so the sidecar loads no gRPC library.
 */
import { GrpcChannel, GrpcCode, grpcCodeName, GrpcStatusError } from '../grpc-client/index.ts';
import { WeftError } from '../errors/index.ts';
import { systemClock, type Clock } from './clock.ts';
import { CERTIFY_PATH, decodeCertifyResponse, encodeCertifyRequest, type CertifyRequest, type CertifyResponse } from './wire.ts';

/** A Certify call that failed; `grpcCode` is the gRPC status (14 UNAVAILABLE, 16 UNAUTHENTICATED, …). */
export class CertifyCallError extends WeftError {
  readonly grpcCode: number;

  constructor(grpcCode: number, details: string) {
    super('WEFT_ERR_IDENTITY_CERTIFY', `Certify failed with ${grpcCodeName(grpcCode)}: ${details}`);
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
  readonly #channel: GrpcChannel;
  readonly #timeoutMs: number;
  readonly #clock: Clock;

  constructor(opts: IdentityRpcClientOptions) {
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#clock = opts.clock ?? systemClock;
    // We dial an address but verify a name: the identity's, as Linkerd's proxy does.
    this.#channel = new GrpcChannel({ addr: opts.addr, serverName: opts.serverName, trustAnchorsPem: opts.trustAnchorsPem });
  }

  /** Calls Certify; rejects with {@link CertifyCallError}. */
  certify(request: CertifyRequest): Promise<CertifyResponse> {
    return new Promise((resolve, reject) => {
      const call = this.#channel.unary({ path: CERTIFY_PATH, message: encodeCertifyRequest(request), timeoutMs: this.#timeoutMs });
      // The deadline runs on our clock, so tests that move time move it too; grpc-timeout tells the server.
      const timer = this.#clock.setTimer(this.#timeoutMs, () => {
        // Reject first: the CANCELLED that cancel() produces then settles nothing.
        reject(new CertifyCallError(GrpcCode.DEADLINE_EXCEEDED, `no answer within ${this.#timeoutMs} ms`));
        call.cancel();
      });
      call.response.then((bytes) => {
        timer.cancel();
        try {
          resolve(decodeCertifyResponse(bytes));
        } catch (err) {
          reject(new CertifyCallError(GrpcCode.INTERNAL, `cannot read the response: ${(err as Error).message}`));
        }
      }, (err: unknown) => {
        timer.cancel();
        if (err instanceof GrpcStatusError) reject(new CertifyCallError(err.grpcCode, err.details));
        else reject(new CertifyCallError(GrpcCode.UNKNOWN, (err as Error).message));
      });
    });
  }

  /** Closes the channel. */
  close(): void {
    this.#channel.close();
  }
}
