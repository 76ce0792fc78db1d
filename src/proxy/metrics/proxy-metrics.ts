/**
 * The proxy's metric families, with Linkerd's names and labels so existing
 * dashboards and `linkerd viz`-style queries work:
 *
 *   request_total, response_total, response_latency_ms    per HTTP request
 *   tcp_open_total, tcp_close_total, tcp_open_connections,
 *   tcp_read_bytes_total, tcp_write_bytes_total            per connection
 *   protocol_detect_total                                   per accepted connection
 *   identity_cert_expiration_timestamp_seconds              per certificate change
 *
 * Callers resolve a `RouteStats`/`TcpStats` once per connection or route and bump it
 * per request; nothing on the per-request path builds a label string.
 */
import { labelString, Registry, type HistogramSample, type Sample } from './registry.ts';
import { Tap } from './tap.ts';

/** Which side of the pod a connection or request crosses. */
export type Direction = 'inbound' | 'outbound';
/** `true`: mutually authenticated; `no_identity`: plain text (peer not meshed or not verified). */
export type TlsLabel = 'true' | 'no_identity';
/** Which end of a proxied connection: the accepted one (`src`) or the one the proxy opened (`dst`). */
export type Peer = 'src' | 'dst';

/** Per-connection counters for one label set. */
export class TcpStats {
  readonly #opened: Sample;
  readonly #closed: Sample;
  readonly #open: Sample;
  readonly #read: Sample;
  readonly #written: Sample;
  readonly #total: Sample;
  constructor(r: Registry, labels: string, total: Sample) {
    this.#total = total;
    this.#opened = r.counter('tcp_open_total', 'Total count of opened connections', labels);
    this.#closed = r.counter('tcp_close_total', 'Total count of closed connections', labels);
    this.#open = r.gauge('tcp_open_connections', 'Number of currently-open connections', labels);
    this.#read = r.counter('tcp_read_bytes_total', 'Total count of bytes read from peers', labels);
    this.#written = r.counter('tcp_write_bytes_total', 'Total count of bytes written to peers', labels);
  }
  /** Counts a connection opening. */
  open(): void {
    this.#opened.value++;
    this.#open.value++;
    this.#total.value++;
  }
  /** Counts a connection closing with its byte totals (read once, at close: no per-chunk cost). */
  close(bytesRead: number, bytesWritten: number): void {
    this.#closed.value++;
    this.#open.value--;
    this.#total.value--;
    this.#read.value += bytesRead;
    this.#written.value += bytesWritten;
  }
}

type StatusSeries = { responses: Sample; latency: HistogramSample };

/** What a route's tap events say besides the request's own method, path and status. */
export type TapRoute = { tap: Tap; direction: Direction; authority: string; tls: TlsLabel; peerId: string | undefined };

/** Per-request counters for one route (direction, authority, tls, peer identity). */
export class RouteStats {
  readonly #r: Registry;
  readonly #labels: string;
  readonly #requests: Sample;
  readonly #byStatus = new Map<number, StatusSeries>();
  // Most responses on a route share one status: skip the map for a repeat.
  #lastKey = -1;
  #last: StatusSeries | undefined;
  readonly #tap: TapRoute | undefined;
  constructor(r: Registry, labels: string, tap?: TapRoute) {
    this.#r = r;
    this.#labels = labels;
    this.#tap = tap;
    this.#requests = r.counter('request_total', 'Total count of HTTP requests', labels);
  }
  /** Counts a request whose head has been forwarded (once per request, however many attempts it takes). */
  request(): void {
    this.#requests.value++;
  }
  /**
   * The request counted here moved to `to` before any response (a retry on another
   * endpoint after a stale pooled connection): request_total stays where it was
   * counted, only per-endpoint load (see EndpointLoad) follows the request.
   */
  moveTo(to: RouteStats): void {
    void to;
  }
  /**
   * Counts a finished response; `status` 0 means no response (an error). `method` and
   * `path` only feed the tap (read only when someone is tapping).
   */
  response(status: number, failure: boolean, latencyMs: number, method = '', path = ''): void {
    const key = status * 2 + (failure ? 1 : 0);
    let s = key === this.#lastKey ? this.#last : this.#byStatus.get(key);
    if (s === undefined) {
      const labels = `${this.#labels},status_code="${status}",classification="${failure ? 'failure' : 'success'}"`;
      s = {
        responses: this.#r.counter('response_total', 'Total count of HTTP responses', labels),
        latency: this.#r.histogram('response_latency_ms', 'Elapsed times between a request\'s headers being received and its response\'s headers being sent', labels.slice(0, labels.lastIndexOf(',classification'))),
      };
      this.#byStatus.set(key, s);
    }
    this.#lastKey = key;
    this.#last = s;
    s.responses.value++;
    s.latency.observe(latencyMs);
    const t = this.#tap;
    // The only per-request tap cost when nobody taps: this size check.
    if (t !== undefined && t.tap.size !== 0) this.#emit(t, status, latencyMs, method, path);
  }

  #emit(t: TapRoute, status: number, latencyMs: number, method: string, path: string): void {
    const local = t.tap.localIdentity();
    const client = t.direction === 'inbound' ? t.peerId : local;
    const server = t.direction === 'inbound' ? local : t.peerId;
    t.tap.emit({
      ts: Date.now(), direction: t.direction, authority: t.authority, method, path, status,
      latencyMs: Math.round(latencyMs * 1000) / 1000, tls: t.tls === 'true',
      ...(client === undefined ? {} : { clientId: client }), ...(server === undefined ? {} : { serverId: server }),
    });
  }
}

/** All of one proxy's metrics. */
export class ProxyMetrics {
  /** The registry `/metrics` renders. */
  readonly registry = new Registry();
  /** The live request stream `/tap` serves. */
  readonly tap = new Tap();
  readonly #routes = new Map<string, RouteStats>();
  readonly #tcp = new Map<string, TcpStats>();
  readonly #detect = new Map<string, Sample>();
  readonly #openTotal: Sample = { value: 0 };

  /** Stats for requests on one route; cache the result per connection. */
  route(direction: Direction, authority: string, tls: TlsLabel, peerId: string | undefined): RouteStats {
    const idKey = direction === 'inbound' ? 'client_id' : 'server_id';
    const labels: Record<string, string> = { direction, authority, tls };
    if (peerId !== undefined) labels[idKey] = peerId;
    const ls = labelString(labels);
    let s = this.#routes.get(ls);
    if (s === undefined) {
      s = new RouteStats(this.registry, ls, { tap: this.tap, direction, authority, tls, peerId });
      this.#routes.set(ls, s);
    }
    return s;
  }

  /** Stats for connections with these labels. */
  tcp(direction: Direction, peer: Peer, tls: TlsLabel, peerId?: string): TcpStats {
    const labels: Record<string, string> = { direction, peer, tls };
    if (peerId !== undefined) labels[direction === 'inbound' ? 'client_id' : 'server_id'] = peerId;
    const ls = labelString(labels);
    let s = this.#tcp.get(ls);
    if (s === undefined) {
      s = new TcpStats(this.registry, ls, this.#openTotal);
      this.#tcp.set(ls, s);
    }
    return s;
  }

  /** Counts one accepted connection's detection outcome. */
  detected(direction: Direction, outcome: string): void {
    const ls = `direction="${direction}",outcome="${outcome}"`;
    let s = this.#detect.get(ls);
    if (s === undefined) {
      s = this.registry.counter('protocol_detect_total', 'Total count of accepted connections by protocol detection outcome', ls);
      this.#detect.set(ls, s);
    }
    s.value++;
  }

  /** Records when the current workload certificate expires. */
  certExpiry(unixSeconds: number): void {
    this.registry.gauge('identity_cert_expiration_timestamp_seconds', 'Time when this proxy\'s current mTLS identity certificate will expire (in seconds since the UNIX epoch)', '').value = unixSeconds;
  }

  /** Total of `tcp_open_connections` over every label set (tests wait for it to reach 0). */
  openConnections(): number {
    return this.#openTotal.value;
  }
}
