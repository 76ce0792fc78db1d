/**
 * Joins two sockets byte for byte (opaque TCP), propagating half-close and tearing
 * both down when either fails.
 *
 * Each direction reads with `readFast` (a shared read buffer, no Readable machinery;
 * see fast-read.ts) when the source is a socket with a native handle, else with a
 * `data` listener; either way it writes straight into the other socket and stops
 * reading while that socket's write buffer is over its high-water mark, resuming on
 * 'drain' (so a slow reader on one side bounds what the proxy holds for it). Bytes are
 * not counted per chunk: `tcp_*_bytes_total` come from the sockets' own counters at
 * close.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { directWriteSupported, writeDirect } from './direct-write.ts';
import { readFast } from './fast-read.ts';
import type { Opener } from './pool.ts';

/**
 * Forwards `from` → `to` until `from` ends (then half-closes `to`), and starts reading.
 * The fast path copies each chunk out of the shared read buffer: the write may be
 * queued (and a TCP write may be partial), and a queued write keeps referring to the
 * bytes it was given.
 */
function forward(from: Duplex, to: Duplex): void {
  const onDrain = (): void => {
    from.resume();
  };
  // Plain TCP targets take writes straight to their handle while nothing is queued.
  const direct = to instanceof net.Socket && directWriteSupported();
  const onDirectWritten = (err: Error | null): void => {
    if (err === null) from.resume();
  };
  const fast = readFast(from, (buf, n) => {
    const copy = Buffer.allocUnsafe(n);
    buf.copy(copy, 0, 0, n);
    if (direct) {
      const r = writeDirect(to, copy, onDirectWritten);
      if (r === 'done') return true;
      if (r === 'pending') return false;
    }
    return to.write(copy);
  });
  if (!fast) {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) from.pause();
    });
    from.resume();
  }
  to.on('drain', onDrain);
  from.once('end', () => {
    to.removeListener('drain', onDrain);
    to.end();
  });
}

/** Pipes `a` ⇄ `b`; `initial` (bytes already read from `a`) goes to `b` first. `done` runs once both are closed. */
export function pipeSockets(a: Duplex, b: Duplex, initial?: Buffer, done?: () => void): void {
  if (initial !== undefined && initial.length > 0) b.write(initial);
  let closed = 0;
  const onClose = (): void => {
    if (++closed === 2) done?.();
  };
  const fail = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', fail);
  b.on('error', fail);
  a.once('close', () => { onClose(); if (!b.writableEnded) b.destroy(); });
  b.once('close', () => { onClose(); if (!a.writableEnded) a.destroy(); });
  forward(a, b);
  forward(b, a);
}

/**
 * Opens an upstream with `open` and pipes `socket` ⇄ it (`initial` first). When the
 * upstream cannot be opened, `socket` is destroyed after `onFailure` hears why; when
 * the client left while the upstream was opening, the upstream is closed.
 */
export function pipeWhenOpen(
  socket: Duplex,
  initial: Buffer | undefined,
  open: Opener,
  onFailure: (err: Error | null) => void,
): void {
  open((err, up) => {
    if (err !== null || up === undefined) {
      onFailure(err);
      socket.destroy();
      return;
    }
    if (socket.destroyed) {
      up.destroy();
      return;
    }
    pipeSockets(socket, up, initial);
  });
}
