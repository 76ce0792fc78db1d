/**
 * The proxy's live request stream (`GET /tap` on the admin port): one JSON line per
 * finished HTTP request, to whoever is subscribed.
 *
 * Zero cost when nobody taps: the request path checks `tap.size !== 0` and builds
 * nothing otherwise. A slow reader never holds memory or back-pressures traffic:
 * past `maxBufferedBytes` queued on its socket, its events are dropped and counted.
 */

/** One finished request as `/tap` streams it. */
export type TapEvent = {
  /** Unix milliseconds when the response head was seen (or the request failed). */
  ts: number;
  direction: 'inbound' | 'outbound';
  authority: string;
  method: string;
  path: string;
  /** 0 never appears: a request without a response is reported with the proxy's error status. */
  status: number;
  latencyMs: number;
  /** True for a mutually authenticated hop. */
  tls: boolean;
  clientId?: string;
  serverId?: string;
};

/** Where a subscriber's lines go: a socket or anything with the same two members. */
export type TapSink = { write(line: string): unknown; readonly writableLength: number };

/** Bytes queued for one subscriber before its events are dropped. */
export const TAP_MAX_BUFFERED_BYTES = 256 * 1024;

type Subscriber = { sink: TapSink; dropped: number };

/** The subscribers of one proxy's tap. */
export class Tap {
  readonly #subs = new Set<Subscriber>();
  readonly #max: number;
  /** The identity this proxy presents (the server of inbound requests, the client of outbound ones). */
  localIdentity: () => string | undefined = () => undefined;
  /** Events dropped for slow readers, over every subscriber so far. */
  dropped = 0;
  /** Events built and offered, over every subscriber so far (tests check it stays 0 untapped). */
  emitted = 0;

  constructor(options: { maxBufferedBytes?: number } = {}) {
    this.#max = options.maxBufferedBytes ?? TAP_MAX_BUFFERED_BYTES;
  }

  /** Subscribers now; the request path checks this before building an event. */
  get size(): number {
    return this.#subs.size;
  }

  /** Starts streaming to `sink`; call the result to stop. */
  subscribe(sink: TapSink): () => void {
    const s: Subscriber = { sink, dropped: 0 };
    this.#subs.add(s);
    return () => void this.#subs.delete(s);
  }

  /** Sends one event to every subscriber that is keeping up. */
  emit(e: TapEvent): void {
    this.emitted++;
    const line = `${JSON.stringify(e)}\n`;
    for (const s of this.#subs) {
      if (s.sink.writableLength > this.#max) {
        s.dropped++;
        this.dropped++;
        continue;
      }
      s.sink.write(line);
    }
  }
}
