/**
 * Where the dashboard listens: `HOST:PORT` (IPv6 as `[::1]:PORT`), shared by
 * `weft viz dashboard --address` and `weft up --dashboard-addr`.
 */
import { UsageError } from '../errors/index.ts';

/** Linkerd's viz dashboard port, on loopback only: the dashboard has no authentication. */
export const DEFAULT_DASHBOARD_ADDRESS = '127.0.0.1:50750';

/** Parses `HOST:PORT`; port 0 asks for a free one. `flag` names the option in the message. */
export function parseDashboardAddress(text: string, flag = '--address'): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:[\]]+):(\d+)$/.exec(text.trim());
  const port = Number(m?.[2]);
  if (m === null || port > 65535) throw new UsageError(`Use HOST:PORT for ${flag}, e.g. "${DEFAULT_DASHBOARD_ADDRESS}" (port 0 picks a free one): got "${text}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}
