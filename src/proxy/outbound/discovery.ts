/**
 * The seam between the outbound stage and whoever knows where an authority leads:
 * a static table (`StaticDiscovery`) or the destination service's live stream
 * (`DestinationDiscovery`). The outbound stage holds one `DestinationHandle` per
 * authority and asks it for the current `Destination` on every request; a new
 * `Destination` object means the set changed (compared by identity, so the
 * per-request cost is one call and one comparison).
 */

/** How the destination service says to treat traffic to an endpoint. */
export type ProtocolHint = 'unknown' | 'opaque' | 'http1' | 'http2';

/** One place to send traffic for an authority. */
export type Endpoint = {
  /** Address to connect to: the application, or (meshed) its proxy's inbound listener. */
  host: string;
  /** Port to connect to (meshed: the proxy's inbound port, 4143 by default). */
  port: number;
  /** The identity the endpoint must present; undefined: not meshed (plain text). */
  identity: string | undefined;
  /** The application's port behind a meshed endpoint's proxy: sent in the transport header. */
  targetPort: number;
  /** Protocol hint; `opaque` skips detection. */
  protocol: ProtocolHint;
};

/** Where an authority's traffic goes. */
export type Destination = {
  /** Normalised `host:port`. */
  authority: string;
  /** The authority's port. */
  port: number;
  endpoints: readonly Endpoint[];
  /** With no endpoints: why (becomes the 503's `l5d-proxy-error`). */
  reason?: string;
};

/** A live view of one authority's destination. */
export type DestinationHandle = {
  /** The current destination; undefined while the first answer is pending. Cheap: called per request. */
  current(): Destination | undefined;
  /** Calls `cb` once a destination is known (at once when it already is). */
  whenKnown(cb: (d: Destination) => void): void;
};

/** Resolves authorities to live destinations. */
export type Discovery = {
  /** A handle for `authority` (`host[:port]`, port defaulting to `defaultPort`); undefined when it is not host:port. */
  resolve(authority: string, defaultPort: number): DestinationHandle | undefined;
  /** Empty when discovery works; otherwise why not (for `/ready`). */
  notReadyReasons(): string[];
  /** Stops every watch. */
  close(): void;
};

/** Normalises `host[:port]` to lower-case `host:port` (default `defaultPort`). */
export function normalizeAuthority(authority: string, defaultPort: number): { host: string; port: number; authority: string } | undefined {
  const a = authority.trim().toLowerCase();
  if (a === '') return undefined;
  let host = a;
  let port = defaultPort;
  const close = a.lastIndexOf(']');
  const colon = a.lastIndexOf(':');
  if (colon > close) {
    port = Number(a.slice(colon + 1));
    host = a.slice(0, colon);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port, authority: `${host.includes(':') ? `[${host}]` : host}:${port}` };
}

/** The destination of an authority nobody knows: the address itself, plain text. */
export function passthrough(host: string, port: number, authority: string): Destination {
  return { authority, port, endpoints: [{ host, port, identity: undefined, targetPort: port, protocol: 'unknown' }] };
}

/** A handle whose destination never changes. */
export function fixedHandle(d: Destination): DestinationHandle {
  return { current: () => d, whenKnown: (cb) => cb(d) };
}
