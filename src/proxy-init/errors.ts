import { WeftError } from '../errors/index.ts';

/**
 * Stable codes of proxy-init's failures. Each names what is missing, so a caller
 * (or a health check) can say what to fix without parsing the message.
 */
export const ProxyInitErrorCode = {
  /** The process lacks CAP_NET_ADMIN and/or CAP_NET_RAW. */
  capabilities: 'WEFT_ERR_PROXY_INIT_CAPABILITIES',
  /** An iptables binary for the chosen backend is not installed. */
  missingBinary: 'WEFT_ERR_PROXY_INIT_MISSING_BINARY',
  /** The kernel (or a sandbox around it) refuses the chosen backend's nat table. */
  kernel: 'WEFT_ERR_PROXY_INIT_KERNEL',
  /** A rule failed half-way; what was applied has been rolled back. */
  apply: 'WEFT_ERR_PROXY_INIT_APPLY',
  /** The native addon for SO_ORIGINAL_DST is missing or the socket has no original destination. */
  originalDst: 'WEFT_ERR_PROXY_INIT_ORIGINAL_DST',
} as const;

/** One of {@link ProxyInitErrorCode}'s values. */
export type ProxyInitErrorCode = (typeof ProxyInitErrorCode)[keyof typeof ProxyInitErrorCode];

/** A deliberate proxy-init failure: the message names the missing piece and the fix. */
export class ProxyInitError extends WeftError {
  constructor(code: ProxyInitErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ProxyInitError';
  }
}
