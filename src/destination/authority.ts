/**
 * What a proxy asks about: a Service by its DNS name, or an IP (transparent mode,
 * where the proxy only has the connection's original destination). Pure.
 */
import { isIP } from 'node:net';

/** The outcome of {@link parseAuthority}. */
export type Target =
  /** A Service, by name. */
  | { readonly kind: 'service'; readonly namespace: string; readonly name: string; readonly port: number }
  /** An IP: a Service's ClusterIP or a pod's IP. */
  | { readonly kind: 'ip'; readonly ip: string; readonly port: number }
  /** A name outside the cluster's domain: not ours to answer. */
  | { readonly kind: 'external'; readonly host: string; readonly port: number }
  /** Not `host:port` at all. */
  | { readonly kind: 'invalid'; readonly message: string };

/** Options of {@link parseAuthority}. */
export interface AuthorityOptions {
  /** The cluster's DNS domain (default `cluster.local`). */
  readonly clusterDomain?: string;
  /** The asking pod's namespace: lets `name:port` resolve as Kubernetes DNS search does. */
  readonly contextNamespace?: string;
}

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Reads `name.ns.svc.<cluster-domain>:port`, `name.ns.svc:port`, `name.ns:port`,
 * `name:port` (with a context namespace), `ip:port` or `[ipv6]:port`. Names are
 * case-insensitive and may end with a dot. The port is required: a proxy always
 * knows it.
 */
export function parseAuthority(authority: string, opts: AuthorityOptions = {}): Target {
  const text = authority.trim().toLowerCase();
  const colon = text.lastIndexOf(':');
  if (colon <= 0 || colon < text.lastIndexOf(']')) {
    return { kind: 'invalid', message: `Send the authority as host:port: "${authority}" has no port` };
  }
  const portText = text.slice(colon + 1);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    return { kind: 'invalid', message: `Send the authority with a port from 1 to 65535: "${authority}"` };
  }
  let host = text.slice(0, colon);
  if (host.includes(':') && !host.startsWith('[')) {
    return { kind: 'invalid', message: `Send an IPv6 address in brackets with a port, as "[fd00::1]:80": "${authority}"` };
  }
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) return { kind: 'invalid', message: `Send a valid IPv6 address in brackets: "${authority}"` };
  }
  if (isIP(host) !== 0) return { kind: 'ip', ip: host, port };
  if (host.endsWith('.')) host = host.slice(0, -1);
  const domain = (opts.clusterDomain ?? 'cluster.local').toLowerCase();
  const labels = host.split('.');
  if (labels.some((l) => !LABEL.test(l))) return { kind: 'invalid', message: `Send a valid DNS name: "${authority}"` };
  let rest: string[];
  if (host.endsWith(`.svc.${domain}`)) rest = host.slice(0, -`.svc.${domain}`.length).split('.');
  else if (host.endsWith('.svc')) rest = labels.slice(0, -1);
  else if (labels.length <= 2) rest = labels;
  else return { kind: 'external', host, port };
  if (rest.length === 2) return { kind: 'service', name: rest[0] as string, namespace: rest[1] as string, port };
  if (rest.length === 1 && opts.contextNamespace !== undefined) {
    return { kind: 'service', name: rest[0] as string, namespace: opts.contextNamespace, port };
  }
  return { kind: 'external', host, port };
}
