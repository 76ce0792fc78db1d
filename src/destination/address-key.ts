/**
 * Endpoint keys, in a file of their own so the client side (diff.ts) does not load
 * resolution and, with it, the resource schemas.
 */

/** `ip:port` (IPv6 bracketed): the key an endpoint is added and removed by. */
export function addressKey(a: { ip: string; port: number }): string {
  return a.ip.includes(':') ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`;
}
