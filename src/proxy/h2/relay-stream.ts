/**
 * One request as the HTTP/2 relay carries it: a stream on the downstream connection
 * joined to a stream on the upstream one, with the state of each direction. Kept
 * small and flat: it is the only object the relay makes per request.
 */
import type { RouteStats } from '../metrics/index.ts';
import type { H2Connection } from './connection.ts';
import { STREAM_WINDOW } from './connection.ts';

/** Bytes of the buffer small payloads waiting behind others are copied into. */
const TAIL_BYTES = 16 * 1024;

/** `b` in memory of its own. */
function copyOf(b: Buffer): Buffer {
  const c = Buffer.allocUnsafeSlow(b.length);
  b.copy(c);
  return c;
}

/** One direction of a stream: bytes from its source connection on their way to its target. */
export class StreamHalf {
  /** DATA payloads received and not yet sent on (the target's windows were closed). */
  queue: Buffer[] = [];
  queued = 0;
  /** The source sent END_STREAM. */
  ended = false;
  /** END_STREAM went out to the target. */
  endSent = false;
  /** Trailers to send after the queue, with END_STREAM. */
  trailers: string[] | undefined = undefined;
  /** What the target lets us send on this stream. */
  sendWindow = 0;
  /** What the source may still send on this stream (what we advertised, less what came). */
  recvWindow = STREAM_WINDOW;
  /** Bytes handed on whose credit has not yet gone back to the source. */
  credit = 0;
  #tail: Buffer | undefined = undefined;
  #tailUsed = 0;

  /**
   * Queues a DATA payload, a view into its socket read. The first waits as it is (it
   * is usually sent on at once); one that waits behind others is copied, small ones
   * together into one buffer, so a small frame does not keep its whole read alive: a
   * peer mixing 1-byte DATA frames with frames that cost no window could otherwise
   * make the proxy hold far more than the windows it granted.
   */
  push(payload: Buffer): void {
    const q = this.queue;
    const n = payload.length;
    this.queued += n;
    if (q.length === 0) {
      q.push(payload);
      return;
    }
    const last = q[q.length - 1]!;
    const tail = this.#tail;
    if (tail !== undefined && last.buffer === tail.buffer && last.byteOffset + last.length === tail.byteOffset + this.#tailUsed && this.#tailUsed + n <= tail.length) {
      payload.copy(tail, this.#tailUsed);
      this.#tailUsed += n;
      q[q.length - 1] = tail.subarray(last.byteOffset - tail.byteOffset, this.#tailUsed);
    } else if (n <= TAIL_BYTES / 2) {
      const t = Buffer.allocUnsafeSlow(TAIL_BYTES);
      payload.copy(t);
      this.#tail = t;
      this.#tailUsed = n;
      q.push(t.subarray(0, n));
    } else {
      q.push(copyOf(payload));
    }
  }

  /** The payload at the head of a queue that has to wait: copied when it is a small part of its read. */
  hold(): void {
    const first = this.queue[0];
    if (first !== undefined && first.buffer.byteLength > 2 * first.length + 4096 && first.buffer !== this.#tail?.buffer) this.queue[0] = copyOf(first);
  }

  /** Drops what is queued (its credit is the caller's to give back). */
  clear(): void {
    this.queue = [];
    this.queued = 0;
    this.#tail = undefined;
  }
}

/** A request relayed from a downstream stream to an upstream stream. */
export class RelayStream {
  readonly down: H2Connection;
  readonly downId: number;
  /** The upstream connection once routed; its stream id once opened there (0 before). */
  up: H2Connection | undefined = undefined;
  upId = 0;
  /** Request direction (downstream → upstream) and response direction (upstream → downstream). */
  readonly req = new StreamHalf();
  readonly res = new StreamHalf();
  /** The request header block to send upstream, kept until the response head for a retry. */
  requestFields: string[] | undefined = undefined;
  /** Where it is routed (:authority, else host). */
  authority = '';
  /** Request DATA went upstream: sending it again could repeat it. */
  bodySent = false;
  /** Sent again once already, on another upstream connection. */
  retried = false;
  /** Fields either side sent as never indexed, sent on so by every header block of the stream. */
  neverIndexed: string[] | undefined = undefined;
  /** The final response head went downstream (by the upstream or by the proxy). */
  responded = false;
  /** The downstream stream was reset (by the client or by us): nothing more goes down. */
  downReset = false;
  /** The upstream stream is gone (reset, or its connection closed): nothing more goes up. */
  upClosed = false;
  done = false;
  /** For metrics and tap. */
  readonly started: number;
  readonly method: string;
  readonly path: string;
  stats: RouteStats | undefined = undefined;
  status = 0;
  grpcStatus: string | undefined = undefined;
  latency = 0;
  /** The request's content-length (-1: none), and the body bytes seen, to catch a mismatch. */
  contentLength = -1;
  bodyBytes = 0;

  constructor(down: H2Connection, downId: number, method: string, path: string, started: number) {
    this.down = down;
    this.downId = downId;
    this.method = method;
    this.path = path;
    this.started = started;
  }
}
