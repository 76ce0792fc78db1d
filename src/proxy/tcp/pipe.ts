/**
 * Joins two sockets byte for byte (opaque TCP), propagating half-close and tearing
 * both down when either fails.
 */
import type { Duplex } from 'node:stream';

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
  a.pipe(b);
  b.pipe(a);
}
