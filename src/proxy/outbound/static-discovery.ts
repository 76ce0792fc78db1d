/**
 * Discovery from a static table (`--dst`), for running without the destination
 * service and for tests. Each entry maps a target authority to endpoints and the
 * identity each endpoint must present:
 *
 *   web.default:8080=127.0.0.3:4143#web.default.serviceaccount.identity.weft.cluster.local
 *   db:5432=10.0.0.7:5432                       (no identity: not meshed, plain text)
 *
 * A meshed endpoint's address is its proxy's inbound listener; the authority's port
 * travels in the transport header and names the application port behind it. An
 * authority missing from the table is reached directly, in plain text.
 */
import { UsageError } from '../../errors/index.ts';
import { fixedHandle, normalizeAuthority, passthrough, type Destination, type DestinationHandle, type Discovery } from './discovery.ts';

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
    return { host: addr.host, port: addr.port, identity, targetPort: identity === undefined ? addr.port : target.port, protocol: 'unknown' as const };
  });
  return { authority: target.authority, port: target.port, endpoints };
}

/** A fixed authority → endpoints table. */
export class StaticDiscovery implements Discovery {
  readonly #table = new Map<string, DestinationHandle>();

  /** `entries` in `parseDestinationEntry` syntax; throws `UsageError` on a bad one. */
  constructor(entries: readonly string[]) {
    for (const e of entries) {
      const d = parseDestinationEntry(e);
      this.#table.set(d.authority, fixedHandle(d));
    }
  }

  /** The destination for `authority` (`host[:port]`, port defaulting to `defaultPort`). */
  lookup(authority: string, defaultPort: number): Destination | undefined {
    return this.resolve(authority, defaultPort)?.current();
  }

  resolve(authority: string, defaultPort: number): DestinationHandle | undefined {
    const a = normalizeAuthority(authority, defaultPort);
    if (a === undefined) return undefined;
    return this.#table.get(a.authority) ?? fixedHandle(passthrough(a.host, a.port, a.authority));
  }

  notReadyReasons(): string[] {
    return [];
  }

  close(): void {}
}
