/**
 * Which TCP sockets listen on this machine, read from `/proc/net/tcp` and
 * `/proc/net/tcp6`, and whether one of them stops a bind. The control plane binds
 * the bridge's gateway address, which does not exist before `weft up` creates the
 * bridge: a trial bind there fails with EADDRNOTAVAIL whatever listens, so the check
 * asks the kernel's table instead. Read-only.
 */
import { endianness } from 'node:os';

/** A listening socket: its local address (`0.0.0.0`, `::`, `10.244.7.1`) and port. */
export interface Listener {
  readonly address: string;
  readonly port: number;
}

/** `st` of a listening socket in /proc/net/tcp*. */
const TCP_LISTEN = '0A';

/** One 32-bit word of /proc's hex address: written in host byte order. */
function wordBytes(hex: string): number[] {
  const bytes = [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return endianness() === 'LE' ? bytes.reverse() : bytes;
}

function addressOf(hex: string): string {
  if (hex.length === 8) return wordBytes(hex).join('.');
  const bytes = [0, 8, 16, 24].flatMap((i) => wordBytes(hex.slice(i, i + 8)));
  // An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 address for binding purposes.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return normalAddress(groups.join(':'));
}

/** The canonical text of an address (`[::1]` and `0:0:0:0:0:0:0:1` both become `::1`). */
function normalAddress(address: string): string {
  const bare = address.replace(/^\[|\]$/g, '');
  if (!bare.includes(':')) return bare;
  try {
    return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return bare;
  }
}

/** The listening sockets in the text of `/proc/net/tcp` or `/proc/net/tcp6`. */
export function parseProcNetTcp(text: string): Listener[] {
  const out: Listener[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (local === undefined || fields[3] !== TCP_LISTEN) continue;
    const [hex, port] = local.split(':');
    if (hex === undefined || port === undefined || (hex.length !== 8 && hex.length !== 32)) continue;
    out.push({ address: addressOf(hex), port: parseInt(port, 16) });
  }
  return out;
}

/**
 * The listener that makes binding `host:port` fail with EADDRINUSE, if any: one on
 * that port at the same address or at a wildcard (`0.0.0.0`; `::`, which takes IPv4
 * too unless the socket is v6-only, and /proc does not say, so it counts). Linux
 * refuses such a bind even with SO_REUSEADDR while the other socket listens; a
 * listener on another specific address (127.0.0.1) does not stand in the way.
 */
export function blockingListener(host: string, port: number, listeners: readonly Listener[]): Listener | undefined {
  const want = normalAddress(host);
  const wildcard = want === '0.0.0.0' || want === '::';
  return listeners.find((l) => l.port === port && (wildcard || l.address === want || l.address === '0.0.0.0' || l.address === '::'));
}

/** `a.b.c.d:port` or `[v6]:port`. */
export function listenerText(l: Listener): string {
  return l.address.includes(':') ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`;
}
