/**
 * Discovery from a static table, until the destination client (src/destination)
 * streams the same information. Each entry maps a target authority to endpoints and
 * the identity each endpoint must present:
 *
 *   web.default:8080=127.0.0.3:4143#web.default.serviceaccount.identity.weft.cluster.local
 *   db:5432=10.0.0.7:5432                       (no identity: not meshed, plain text)
 *
 * A meshed endpoint's address is its proxy's inbound listener; the authority's port
 * travels in the transport header and names the application port behind it. An
 * authority missing from the table is reached directly, in plain text.
 */
import { UsageError } from '../../errors/index.ts';

/** One place to send traffic for an authority. */
export type Endpoint = {
  host: string;
  port: number;
  /** The identity the endpoint must present; undefined: not meshed (plain text). */
  identity: string | undefined;
};

/** Where an authority's traffic goes. */
export type Destination = {
  /** Normalised `host:port`. */
  authority: string;
  /** The application port at the destination (the authority's port). */
  port: number;
  endpoints: readonly Endpoint[];
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

/** Parses one `AUTHORITY=HOST:PORT[#IDENTITY][,HOST:PORT[#IDENTITY]…]` entry. */
export function parseDestinationEntry(entry: string): Destination {
  const eq = entry.indexOf('=');
  const bad = (why: string): UsageError =>
    new UsageError(`Write the destination "${entry}" as AUTHORITY=HOST:PORT[#IDENTITY][,…]: ${why}`);
  if (eq < 0) throw bad('missing "="');
  const target = normalizeAuthority(entry.slice(0, eq), 80);
  if (target === undefined) throw bad('the authority is not host:port');
  const endpoints = entry.slice(eq + 1).split(',').map((spec) => {
    const hash = spec.indexOf('#');
    const addr = normalizeAuthority(hash < 0 ? spec : spec.slice(0, hash), 0);
    if (addr === undefined || addr.port === 0) throw bad(`endpoint "${spec}" is not host:port`);
    const identity = hash < 0 ? undefined : spec.slice(hash + 1).trim();
    if (identity === '') throw bad(`endpoint "${spec}" has an empty identity`);
    return { host: addr.host, port: addr.port, identity };
  });
  return { authority: target.authority, port: target.port, endpoints };
}

/** A fixed authority → endpoints table. */
export class StaticDiscovery {
  readonly #table = new Map<string, Destination>();

  /** `entries` in `parseDestinationEntry` syntax; throws `UsageError` on a bad one. */
  constructor(entries: readonly string[]) {
    for (const e of entries) {
      const d = parseDestinationEntry(e);
      this.#table.set(d.authority, d);
    }
  }

  /** The destination for `authority` (`host[:port]`, port defaulting to `defaultPort`). */
  lookup(authority: string, defaultPort: number): Destination | undefined {
    const a = normalizeAuthority(authority, defaultPort);
    if (a === undefined) return undefined;
    return this.#table.get(a.authority) ?? { authority: a.authority, port: a.port, endpoints: [{ host: a.host, port: a.port, identity: undefined }] };
  }
}
