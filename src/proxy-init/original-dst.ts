import type { Socket } from 'node:net';
import { nativeAddon, type NativeAddon } from '../native/index.ts';
import { ProxyInitError, ProxyInitErrorCode } from './errors.ts';

/** Where a redirected connection was going before iptables sent it to the proxy. */
export interface OriginalDestination {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

function loadAddon(): NativeAddon {
  try {
    return nativeAddon();
  } catch (err) {
    throw new ProxyInitError(ProxyInitErrorCode.originalDst, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/**
 * The original destination of a connection accepted by the proxy (SO_ORIGINAL_DST
 * for IPv4, IP6T_SO_ORIGINAL_DST for IPv6). For a connection that was not
 * redirected, this throws with code WEFT_ERR_PROXY_INIT_ORIGINAL_DST; the cause
 * carries the errno (ENOENT: no conntrack entry).
 */
export function originalDestination(socket: Socket): OriginalDestination {
  // Node keeps the descriptor on the internal TCPWrap handle; on Linux it is a
  // plain int there. There is no public API for it.
  const handle = (socket as unknown as { _handle?: { fd?: unknown } })._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new ProxyInitError(ProxyInitErrorCode.originalDst,
      'Ask for the original destination while the socket is open: it has no file descriptor (closed, or not a TCP socket)');
  }
  const native = loadAddon();
  let r: { address: string; port: number; family: number };
  try {
    r = native.getOriginalDst(fd);
  } catch (err) {
    throw new ProxyInitError(ProxyInitErrorCode.originalDst,
      `Redirect the connection with proxy-init first: the kernel has no original destination for it (${err instanceof Error ? err.message : String(err)})`,
      { cause: err });
  }
  return { address: r.address, port: r.port, family: r.family === 6 ? 6 : 4 };
}
