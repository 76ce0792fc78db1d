/**
 * A small promise-based client for one demo service, over a plaintext channel to
 * `host:port` (a Service DNS name in a pod: `/etc/hosts` resolves it, and the
 * sidecar upgrades the connection to mTLS without the client knowing).
 */
import { Client, credentials, Metadata, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';

/** How long one call may take before it fails with DEADLINE_EXCEEDED. */
export const DEFAULT_DEADLINE_MS = 5_000;

/**
 * Channel options. DNS TXT lookups for a service config are off: a pod may have no
 * DNS server at all (names come from /etc/hosts), and the lookup would only add
 * a timeout to the first call. Reconnect backoff is capped at 5 s (grpc-js: 120 s)
 * so traffic recovers within seconds once a restarted peer or proxy is back.
 */
const CHANNEL_OPTIONS = {
  'grpc.service_config_disable_resolution': 1,
  'grpc.initial_reconnect_backoff_ms': 500,
  'grpc.max_reconnect_backoff_ms': 5_000,
};

/** A unary-call client for one service definition. */
export class DemoGrpcClient {
  readonly #client: Client;
  readonly #definition: ServiceDefinition;
  readonly #deadlineMs: number;

  /**
   * @param target `host:port` of the service.
   * @param definition the service, from `serviceDefinitions()`.
   * @param opts `deadlineMs` defaults to {@link DEFAULT_DEADLINE_MS}.
   */
  constructor(target: string, definition: ServiceDefinition, opts: { deadlineMs?: number } = {}) {
    this.#client = new Client(target, credentials.createInsecure(), CHANNEL_OPTIONS);
    this.#definition = definition;
    this.#deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
  }

  /** Calls `method` with `request`; rejects with the call's `ServiceError` (it has a `code`). */
  call<Res>(method: string, request: object): Promise<Res> {
    const def = this.#definition[method];
    if (def === undefined) return Promise.reject(new Error(`Call a method of the service: "${method}" is not one`));
    return new Promise<Res>((resolve, reject) => {
      this.#client.makeUnaryRequest<object, Res>(
        def.path,
        (m) => def.requestSerialize(m),
        (b) => def.responseDeserialize(b) as Res,
        request,
        new Metadata(),
        { deadline: Date.now() + this.#deadlineMs },
        (err: ServiceError | null, res?: Res) => {
          if (err !== null) reject(err);
          else resolve(res as Res);
        },
      );
    });
  }

  /** Closes the channel; calls still in flight fail with CANCELLED. */
  close(): void {
    this.#client.close();
  }
}
