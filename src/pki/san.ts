import { isIP } from 'node:net';
import { PkiError, PkiErrorCode } from './errors.ts';

/** A subject alternative name: what a certificate vouches for. */
export interface San {
  /** `dns` name, `ip` address, `uri` (such as `spiffe://…`) or `email` address. */
  readonly type: 'dns' | 'ip' | 'uri' | 'email';
  /** The name as written (IP addresses in their canonical text form). */
  readonly value: string;
}

// A URI has a scheme followed by ':' (RFC 3986 §3.1); DNS names and IPs never do,
// except IPv6 addresses, which isIP catches first.
const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * Recognises a SAN by its form, as step does for `--san`: an IP address, else a URI
 * (has a scheme), else an email address (has an `@`), else a DNS name.
 */
export function parseSan(text: string): San {
  const value = text.trim();
  if (value === '') throw new PkiError(PkiErrorCode.badRequest, 'Give --san a value: an empty SAN names nothing');
  if (isIP(value) !== 0) return { type: 'ip', value: canonicalIp(value) };
  if (URI_SCHEME.test(value)) return { type: 'uri', value };
  if (value.includes('@')) return { type: 'email', value };
  if (!/^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/.test(value)) {
    throw new PkiError(PkiErrorCode.badRequest, `Use a DNS name, IP address, URI or email for --san: cannot read "${value}"`);
  }
  return { type: 'dns', value };
}

/** The canonical text form of an IP address (`::ffff:…` and zero runs as node prints them). */
export function canonicalIp(text: string): string {
  if (isIP(text) === 4) return text.split('.').map((p) => String(Number(p))).join('.');
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

/**
 * Does `host` match one of `sans`? IPs match IP SANs; names match DNS SANs, case
 * insensitive, where `*.example.com` covers exactly one label (RFC 6125 §6.4.3).
 */
export function hostMatchesSans(host: string, sans: readonly San[]): boolean {
  if (isIP(host) !== 0) {
    const ip = canonicalIp(host);
    return sans.some((s) => s.type === 'ip' && s.value === ip);
  }
  const name = host.toLowerCase().replace(/\.$/, '');
  return sans.some((s) => {
    if (s.type !== 'dns') return false;
    const pattern = s.value.toLowerCase().replace(/\.$/, '');
    if (!pattern.startsWith('*.')) return pattern === name;
    const dot = name.indexOf('.');
    return dot > 0 && name.slice(dot + 1) === pattern.slice(2);
  });
}
